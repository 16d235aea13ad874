/**
 * What the relay does with each accepted event, from the inbox: a customer's
 * message or edit in Telegram goes to Bitrix24; an operator's message in
 * Bitrix24 goes to Telegram (then `imconnector.send.status.delivery` names
 * the Telegram message, which is what makes the portal raise later update and
 * delete events for it), an operator's edit becomes an edit in Telegram, a
 * deletion a `deleteMessage` within Telegram's delete window. An edit the
 * relay itself made, coming back as an event (an echo), is recorded and not
 * relayed. Each step can be replayed after a crash: what was already done is
 * looked up first (the outbox's id map and journal, the links).
 */
import type { Bitrix24Client } from "@reword/bitrix24"
import type { EditError, InboundEvent } from "@reword/core"
import type { Outbox, OutboxError } from "@reword/outbox"
import type { TelegramClient } from "@reword/telegram"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import * as TextMapping from "../TextMapping.ts"
import * as Inbox from "./inbox.ts"
import type { Settings } from "./options.ts"

export interface Deps {
  readonly sql: SqlClient.SqlClient
  readonly tables: Inbox.Tables
  readonly settings: Settings
  readonly outbox: Outbox.Service
  readonly telegram: TelegramClient.Service
  readonly bitrix24: Bitrix24Client.Service
  readonly now: () => number
}

export interface Outcome {
  readonly state: "relayed" | "echo" | "ignored"
  readonly outcome: string
}

const relayed = (outcome: string): Outcome => ({ state: "relayed", outcome })
const ignored = (outcome: string): Outcome => ({ state: "ignored", outcome })

/** The source label of the outbox version an event made: replays find it in the journal. */
export const sourceOf = (event: InboundEvent.InboundEvent): string =>
  `relay:${Inbox.hashOf(event.eventId).slice(0, 24)}`

/** Telegram's chat id of an external chat id `tg:<id>`. */
const telegramChatOf = (externalChatId: string): number | undefined => {
  const match = /^tg:(-?\d{1,16})$/.exec(externalChatId)
  return match === null ? undefined : Number(match[1])
}

/** Telegram's chat and message of an external message id `tg:<chat>:<message>`. */
const telegramMessageOf = (externalMessageId: string) => {
  const match = /^tg:(-?\d{1,16}):(\d{1,16})$/.exec(externalMessageId)
  return match === null ? undefined : { chatId: Number(match[1]), messageId: Number(match[2]) }
}

/** A side's key of a message, for the own-writes table. */
const sideKey = (provider: string, externalMessageId: string) => `${provider}:${externalMessageId}`

/**
 * Submits an edit to one side through the outbox, once: a replay finds the version its event made. The
 * outbox delivers it (retried, the newest edit of a message winning over older ones not yet delivered).
 */
const submitOnce = (
  d: Deps,
  event: InboundEvent.InboundEvent,
  provider: "bitrix24" | "telegram",
  externalMessageId: string,
  text: string
) =>
  Effect.gen(function* () {
    const source = sourceOf(event)
    const history = yield* d.outbox.history(externalMessageId, { provider })
    if (history === undefined) return ignored(`the outbox holds no ${provider} message ${externalMessageId}`)
    yield* Inbox.rememberOwn(d.sql, d.tables, sideKey(provider, externalMessageId), text, d.now())
    if (history.versions.some((version) => version.source === source)) return relayed("already submitted")
    const receipt = yield* d.outbox.submit({ provider, ids: { externalMessageId }, text, source })
    return relayed(`submitted to ${provider === "telegram" ? "Telegram" : "Bitrix24"} as version ${receipt.version}`)
  })

/** An operator's edit of a message the relay sent to Telegram: submitted to Telegram through the outbox. */
const operatorEdited = (d: Deps, event: InboundEvent.MessageEdited) =>
  Effect.gen(function* () {
    const link = yield* Inbox.linkByExternal(d.sql, d.tables, event.ids.externalMessageId)
    if (telegramMessageOf(event.ids.externalMessageId) === undefined || link === undefined) {
      return ignored("not a message the relay sent to Telegram")
    }
    const text = TextMapping.toTelegram(TextMapping.fromBitrix24(event.text), { sign: d.settings.sign })
    return yield* submitOnce(d, event, "telegram", event.ids.externalMessageId, text)
  })

/** Whether an edit event reports a text the relay itself wrote there, within the echo window. */
const isEcho = (d: Deps, event: InboundEvent.MessageEdited) =>
  Inbox.isOwn(
    d.sql,
    d.tables,
    sideKey(event.provider, event.ids.externalMessageId),
    event.text,
    d.settings.echoWindowMs,
    d.now()
  )

/** A customer's new message in Telegram: sent into the open line, and recorded in the outbox's id map. */
const customerAdded = (d: Deps, event: InboundEvent.MessageAdded) =>
  Effect.gen(function* () {
    const ids = event.ids
    if ((yield* d.outbox.history(ids.externalMessageId, { provider: "bitrix24" })) !== undefined) {
      return relayed("already in Bitrix24")
    }
    const author = event.author?.id ?? ids.externalChatId
    const answer = yield* d.bitrix24.sendMessages({
      messages: [
        {
          user: { id: `tg-user:${author}`, ...(event.author?.name === undefined ? {} : { name: event.author.name }) },
          message: {
            id: ids.externalMessageId,
            text: TextMapping.toBitrix24({ text: event.text }),
            ...(event.occurredAt === undefined ? {} : { date: Math.floor(event.occurredAt / 1000) })
          },
          chat: { id: ids.externalChatId }
        }
      ]
    })
    const item = answer.items[0] as { readonly SUCCESS?: unknown } | undefined
    if (item?.SUCCESS !== true) return yield* Effect.fail(new Error("Bitrix24 did not take the message"))
    yield* d.outbox.record({
      provider: "bitrix24",
      ids: {
        externalMessageId: ids.externalMessageId,
        externalChatId: ids.externalChatId,
        externalAuthorId: `tg-user:${author}`
      }
    })
    return relayed("sent to Bitrix24")
  })

/** An operator's new message: sent to Telegram, linked, recorded, its delivery confirmed to Bitrix24. */
const operatorAdded = (d: Deps, event: InboundEvent.MessageAdded) =>
  Effect.gen(function* () {
    const chatId = telegramChatOf(event.ids.externalChatId)
    if (chatId === undefined) return ignored(`chat ${event.ids.externalChatId} is not a Telegram chat of the relay`)
    const b24Key = `${event.account}:${event.ids.providerMessageId ?? event.ids.externalMessageId}`
    const linked = yield* Inbox.linkOf(d.sql, d.tables, b24Key)
    let externalMessageId = linked?.externalMessageId
    const text = TextMapping.toTelegram(TextMapping.fromBitrix24(event.text), { sign: d.settings.sign })
    if (externalMessageId === undefined) {
      // Not idempotent in Telegram: a crash between this send and the link below sends it again on replay.
      const sent = yield* d.telegram.sendMessage({ chatId, text })
      externalMessageId = `tg:${sent.chat.id}:${sent.message_id}`
      yield* Inbox.link(d.sql, d.tables, b24Key, externalMessageId, d.now())
    }
    yield* Inbox.rememberOwn(d.sql, d.tables, sideKey("telegram", externalMessageId), text, d.now())
    // In the outbox's id map (recording again completes it): the operator's edits go through the outbox.
    const target = telegramMessageOf(externalMessageId)
    yield* d.outbox.record({
      provider: "telegram",
      ids: {
        externalMessageId,
        externalChatId: event.ids.externalChatId,
        providerChatId: String(target?.chatId ?? chatId),
        providerMessageId: String(target?.messageId ?? "")
      }
    })
    yield* d.bitrix24.call("imconnector.send.status.delivery", {
      CONNECTOR: d.bitrix24.target.connector,
      LINE: d.bitrix24.target.line,
      MESSAGES: [
        {
          im: { chat_id: event.ids.providerChatId, message_id: event.ids.providerMessageId },
          message: { id: [externalMessageId], date: Math.floor(d.now() / 1000) },
          chat: { id: event.ids.externalChatId }
        }
      ]
    })
    return relayed(`sent to Telegram as ${externalMessageId}, delivery confirmed`)
  })

/** An operator's deletion: `deleteMessage` within Telegram's window (a capability checked before the call). */
const operatorDeleted = (d: Deps, event: InboundEvent.MessageDeleted) =>
  Effect.gen(function* () {
    const target = telegramMessageOf(event.ids.externalMessageId)
    const link = yield* Inbox.linkByExternal(d.sql, d.tables, event.ids.externalMessageId)
    if (target === undefined || link === undefined) return ignored("not a message the relay sent to Telegram")
    if (d.now() - link.sentAt > d.settings.deleteWindowMs) {
      return ignored("past Telegram's delete window (48 hours): the message stays")
    }
    const deleted = yield* Effect.result(d.telegram.deleteMessage(target))
    if (deleted._tag === "Failure") {
      // Telegram answers 400 "message to delete not found" for a message already gone: done.
      const reason = deleted.failure.reason
      if (reason._tag === "NotFound" || (reason._tag === "Rejected" && /not found/i.test(reason.message))) {
        return relayed("already deleted in Telegram")
      }
      return yield* Effect.fail(deleted.failure)
    }
    return relayed("deleted in Telegram")
  })

/** One event, relayed to the other side (or recorded as an echo, or ignored with why). */
export const relay = (
  d: Deps,
  event: InboundEvent.InboundEvent
): Effect.Effect<
  Outcome,
  EditError.EditError | OutboxError.NotFound | OutboxError.StorageError | SqlError.SqlError | Error
> =>
  Effect.gen(function* () {
    if (event._tag === "MessageEdited" && (yield* isEcho(d, event))) {
      return { state: "echo", outcome: "an edit the relay made itself: not relayed back" } satisfies Outcome
    }
    if (event.provider === "telegram") {
      switch (event._tag) {
        case "MessageAdded":
          return yield* customerAdded(d, event)
        case "MessageEdited":
          return yield* submitOnce(
            d,
            event,
            "bitrix24",
            event.ids.externalMessageId,
            TextMapping.toBitrix24({ text: event.text })
          )
        case "MessageDeleted":
          return ignored("deletions in Telegram are not relayed")
      }
    }
    switch (event._tag) {
      case "MessageAdded":
        return yield* operatorAdded(d, event)
      case "MessageEdited":
        return yield* operatorEdited(d, event)
      case "MessageDeleted":
        return yield* operatorDeleted(d, event)
    }
  })
