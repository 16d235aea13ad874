/**
 * The connector's message events (`ONIMCONNECTORMESSAGEADD`, `...UPDATE`,
 * `...DELETE`) read from an event's `data`, tolerant of what varies in the
 * field (FACTS.md of the provider): the list under `MESSAGES` or, in older
 * documentation, `DATA`; `message.id` as a string or as a list (PHP-style, an
 * object with numeric keys); every scalar a string; empty lists missing.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { InboundEvent } from "@reword/core"
import { Redacted } from "effect"
import { listOf } from "./body.ts"

/** One message of a connector event. */
export interface ConnectorMessage {
  /** Bitrix24's chat id (`im.chat_id`): `imconnector.send.status.delivery` needs it. */
  readonly imChatId: string | undefined
  /** Bitrix24's message id (`im.message_id`). */
  readonly imMessageId: string | undefined
  /** The external message ids the portal holds for the message (update, delete); empty for an add. */
  readonly externalIds: ReadonlyArray<string>
  /** The external chat id (`chat.id`): the id the app used when sending into the line. */
  readonly chatId: string
  /** The text (BB-code), for add and update. */
  readonly text: string | undefined
  /** The operator's Bitrix24 user id, where given. */
  readonly userId: string | undefined
  /** The operator's name (`user.name` and `user.last_name`), where given. */
  readonly userName: string | undefined
}

export type Kind = "add" | "update" | "delete"

/** The event names (upper case) and what each is. */
export const KINDS: Readonly<Record<string, Kind>> = {
  ONIMCONNECTORMESSAGEADD: "add",
  ONIMCONNECTORMESSAGEUPDATE: "update",
  ONIMCONNECTORMESSAGEDELETE: "delete"
}

const MAX_ID = 256
const MAX_TEXT = 65_536

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

const scalarOf = (value: unknown, max: number): string | undefined => {
  const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined
  return text === undefined || text.length === 0 || text.length > max ? undefined : text
}

/** `message.id` as a list: a string, a number, or a list of them. */
const idsOf = (value: unknown): ReadonlyArray<string> | undefined => {
  const single = scalarOf(value, MAX_ID)
  if (single !== undefined) return [single]
  if (value === undefined) return []
  const list = listOf(value)
  if (list === undefined) return undefined
  const ids = list.map((id) => scalarOf(id, MAX_ID))
  return ids.every((id): id is string => id !== undefined) ? ids : undefined
}

/** A key of `data`, matched case-insensitively (the server upper-cases top-level keys). */
const field = (data: Readonly<Record<string, unknown>>, name: string): unknown => {
  const key = Object.keys(data).find((k) => k.toUpperCase() === name)
  return key === undefined ? undefined : data[key]
}

const nameOf = (user: unknown): string | undefined => {
  if (!isRecord(user)) return undefined
  const parts = [scalarOf(user.name, 128), scalarOf(user.last_name, 128)].filter((p) => p !== undefined)
  return parts.length === 0 ? undefined : parts.join(" ")
}

/** One `MESSAGES[i]`, or why it is not one. */
const messageOf = (kind: Kind, item: unknown, index: number): ConnectorMessage | string => {
  if (!isRecord(item)) return `MESSAGES[${index}] is not a message`
  const im = isRecord(item.im) ? item.im : {}
  const message = isRecord(item.message) ? item.message : undefined
  const chat = isRecord(item.chat) ? item.chat : undefined
  const chatId = scalarOf(chat?.id, MAX_ID)
  if (message === undefined || chatId === undefined) return `MESSAGES[${index}] has no message or no chat.id`
  const externalIds = idsOf(message.id)
  if (externalIds === undefined) return `MESSAGES[${index}].message.id is not an id nor a list of ids`
  const text = typeof message.text === "string" ? message.text : undefined
  if (text !== undefined && text.length > MAX_TEXT) return `MESSAGES[${index}].message.text is too long`
  if (kind !== "delete" && text === undefined) return `MESSAGES[${index}].message.text is missing`
  if (kind !== "add" && externalIds.length === 0) return `MESSAGES[${index}].message.id is missing`
  const imMessageId = scalarOf(im.message_id, MAX_ID)
  if (kind === "add" && imMessageId === undefined) return `MESSAGES[${index}].im.message_id is missing`
  return {
    imChatId: scalarOf(im.chat_id, MAX_ID),
    imMessageId,
    externalIds,
    chatId,
    text,
    userId: scalarOf(message.user_id, MAX_ID) ?? (isRecord(item.user) ? scalarOf(item.user.id, MAX_ID) : undefined),
    userName: nameOf(item.user)
  }
}

/** The event's `data`: connector, line and messages, or why it is not a connector event. */
export const dataOf = (
  kind: Kind,
  data: Readonly<Record<string, unknown>> | undefined
):
  | { readonly connector: string; readonly line: number; readonly messages: ReadonlyArray<ConnectorMessage> }
  | string => {
  if (data === undefined) return "the event has no data"
  const connector = scalarOf(field(data, "CONNECTOR"), 128)
  const lineText = scalarOf(field(data, "LINE"), 20)
  const line = lineText !== undefined && /^\d{1,15}$/.test(lineText) ? Number(lineText) : undefined
  if (connector === undefined || line === undefined) return "data.CONNECTOR or data.LINE is missing or not valid"
  const list = listOf(field(data, "MESSAGES") ?? field(data, "DATA"))
  if (list === undefined || list.length === 0) return "data.MESSAGES is missing or not a list"
  const messages: Array<ConnectorMessage> = []
  for (const [index, item] of list.entries()) {
    const message = messageOf(kind, item, index)
    if (typeof message === "string") return message
    messages.push(message)
  }
  return { connector, line, messages }
}

/**
 * What the stored `application_token` of a portal is: the token itself, or
 * its hex SHA-256 (as `@reword/tenants` keeps it).
 */
export type ExpectedToken = { readonly token: Redacted.Redacted<string> } | { readonly sha256: string }

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * Whether `given` is the expected token, compared in constant time: both
 * sides as SHA-256 digests (32 bytes each, so the lengths are always equal).
 */
export const tokenMatches = (given: Redacted.Redacted<string>, expected: ExpectedToken | undefined): boolean => {
  if (expected === undefined) return false
  const want =
    "token" in expected
      ? digest(Redacted.value(expected.token))
      : /^[0-9a-f]{64}$/i.test(expected.sha256)
        ? Buffer.from(expected.sha256, "hex")
        : undefined
  if (want === undefined) return false
  return timingSafeEqual(digest(Redacted.value(given)), want)
}

/** The hex SHA-256 of a text (a dedupe key's part). */
export const sha256Hex = (text: string): string => digest(text).toString("hex")

/** The neutral ids of one message of a connector event. */
const inboundIdsOf = (message: ConnectorMessage, externalMessageId: string): InboundEvent.InboundIds => ({
  externalChatId: message.chatId,
  externalMessageId,
  ...(message.imChatId === undefined ? {} : { providerChatId: message.imChatId }),
  ...(message.imMessageId === undefined ? {} : { providerMessageId: message.imMessageId })
})

/** What {@link inboundOf} reads of a connector event. */
export interface ConnectorEventLike {
  readonly _tag: "ConnectorMessageAdd" | "ConnectorMessageUpdate" | "ConnectorMessageDelete"
  readonly memberId: string
  readonly ts: number | undefined
  readonly messages: ReadonlyArray<ConnectorMessage>
}

/** The neutral inbound events of a connector event (see `Events.toInbound`). */
export const inboundOf = (event: ConnectorEventLike): ReadonlyArray<InboundEvent.InboundEvent> =>
  event.messages.flatMap((message): ReadonlyArray<InboundEvent.InboundEvent> => {
    const common = {
      provider: "bitrix24",
      account: event.memberId,
      ...(event.ts === undefined ? {} : { occurredAt: event.ts * 1000 })
    }
    const author =
      message.userId === undefined
        ? {}
        : { author: { id: message.userId, ...(message.userName === undefined ? {} : { name: message.userName }) } }
    const key = (kind: string, id: string, text: string) =>
      `bitrix24:${event.memberId}:${kind}:${id}:${sha256Hex(text).slice(0, 32)}`
    switch (event._tag) {
      case "ConnectorMessageAdd": {
        const id = message.imMessageId ?? ""
        const text = message.text ?? ""
        return [
          {
            _tag: "MessageAdded",
            ...common,
            ids: inboundIdsOf(message, id),
            text,
            eventId: key("add", id, text),
            ...author
          }
        ]
      }
      case "ConnectorMessageUpdate": {
        const id = message.externalIds[0] ?? ""
        const text = message.text ?? ""
        return [
          {
            _tag: "MessageEdited",
            ...common,
            ids: inboundIdsOf(message, id),
            text,
            eventId: key("update", `${message.imMessageId ?? ""}/${id}`, text),
            ...author
          }
        ]
      }
      default:
        return message.externalIds.map((id) => ({
          _tag: "MessageDeleted" as const,
          ...common,
          ids: inboundIdsOf(message, id),
          eventId: key("delete", `${message.imMessageId ?? ""}/${id}`, "")
        }))
    }
  })

/**
 * A header's value, by its name in any case; `undefined` when missing, or
 * when given several times with different values (ambiguous: a proof such
 * as a secret header must not be one of two).
 */
export const headerOf = (request: Pick<InboundEvent.HttpRequest, "headers">, name: string): string | undefined => {
  const wanted = name.toLowerCase()
  const values = new Set<string>()
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue
    for (const one of typeof value === "string" ? [value] : value) values.add(one)
  }
  return values.size === 1 ? values.values().next().value : undefined
}
