/**
 * The operator's side of a sandbox portal's open line, and the connector
 * events it raises (FACTS.md, "Events"): an operator's new message posts
 * `ONIMCONNECTORMESSAGEADD` to the bound handler; `imconnector.send.status.
 * delivery` stores the external ids on the message (`CONNECTOR_MID`), only
 * while it is still being sent; an edit or a deletion posts
 * `ONIMCONNECTORMESSAGEUPDATE` / `...DELETE` only for a message that carries
 * them, as the portal does. With the echo mode on (older self-hosted modules),
 * `imconnector.update.messages` on a message raises an update event too.
 * Events are posted once, never again, whatever the handler answers; each
 * delivery is logged.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { isRecord, listOf, lowerKeys, type Params, param, textOf } from "./params.ts"

/** An operator's message, as the portal holds it. */
export interface OperatorMessage {
  readonly imMessageId: number
  readonly imChatId: number
  readonly connector: string
  readonly line: number
  /** The external chat (the customer's conversation). */
  readonly chatId: string
  readonly operator: { readonly id: number; readonly name: string }
  /** The text as stored (BB-code, the signature included). */
  text: string
  /** The external ids `imconnector.send.status.delivery` stored (`CONNECTOR_MID`). */
  externalIds: ReadonlyArray<string>
  /** Whether it is still "being sent" (until the first delivery status). */
  sending: boolean
  deleted: boolean
  readonly history: Array<string>
}

/** One event the portal posted: its name, the handler's answer (or the error), and the fields. */
export interface PostedEvent {
  readonly event: string
  readonly fields: Readonly<Record<string, string>>
  readonly status: number | undefined
  readonly error: string | undefined
}

export interface OperatorOptions {
  readonly memberId: string
  readonly applicationToken: string
  readonly domain: string
  readonly now: () => number
}

/** The connector events a portal raises. */
export const CONNECTOR_EVENTS = ["ONIMCONNECTORMESSAGEADD", "ONIMCONNECTORMESSAGEUPDATE", "ONIMCONNECTORMESSAGEDELETE"]

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/

export const make = (options: OperatorOptions) => {
  const messages = new Map<number, OperatorMessage>()
  const posted: Array<PostedEvent> = []
  const inFlight = new Set<Promise<void>>()
  /** Bitrix24's ids of the customers' messages, made up the first time an echo names one. */
  const customerIds = new Map<string, number>()
  /** The handler of each event (upper case): `bind` sets all three, `event.bind` one. */
  const handlers = new Map<string, string>()
  let echo = false
  let signature = true
  let nextId = 90_001

  const post = (event: string, data: Record<string, string>) => {
    const fields = {
      event,
      event_handler_id: "557",
      ...data,
      ts: String(Math.floor(options.now() / 1000)),
      "auth[domain]": options.domain,
      "auth[member_id]": options.memberId,
      "auth[application_token]": options.applicationToken,
      "auth[status]": "L"
    }
    const target = handlers.get(event)
    if (target === undefined) {
      posted.push({ event, fields, status: undefined, error: "no handler bound" })
      return
    }
    const sent = fetch(target, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(30_000)
    })
      .then(async (response) => {
        await response.arrayBuffer()
        posted.push({ event, fields, status: response.status, error: undefined })
      })
      .catch((error: unknown) => {
        posted.push({ event, fields, status: undefined, error: String(error) })
      })
    inFlight.add(sent)
    void sent.finally(() => inFlight.delete(sent))
  }

  const messageFields = (message: OperatorMessage, ids: "list" | string | undefined) => ({
    "data[CONNECTOR]": message.connector,
    "data[LINE]": String(message.line),
    "data[MESSAGES][0][im][chat_id]": String(message.imChatId),
    "data[MESSAGES][0][im][message_id]": String(message.imMessageId),
    "data[MESSAGES][0][chat][id]": message.chatId,
    ...(ids === "list"
      ? Object.fromEntries(message.externalIds.map((id, i) => [`data[MESSAGES][0][message][id][${i}]`, id]))
      : ids === undefined
        ? {}
        : { "data[MESSAGES][0][message][id]": ids })
  })

  const find = (imMessageId: number): OperatorMessage => {
    const message = messages.get(imMessageId)
    if (message === undefined || message.deleted) throw new Error(`The portal has no message ${imMessageId}`)
    return message
  }

  return {
    messages,
    posted,
    bind: (url: string) => {
      if (!LOOPBACK.test(new URL(url).hostname))
        throw new TypeError("the sandbox posts events to a loopback address only")
      for (const event of CONNECTOR_EVENTS) handlers.set(event, url)
    },
    /** `event.bind` of one event: its first handler is the one posted to. */
    bindEvent: (event: string, url: string) => {
      if (!handlers.has(event)) handlers.set(event, url)
    },
    /** `event.unbind`: the next handler bound, or none. */
    unbindEvent: (event: string, next: string | undefined) => {
      if (next === undefined) handlers.delete(event)
      else handlers.set(event, next)
    },
    setEcho: (on: boolean) => {
      echo = on
    },
    setSignature: (on: boolean) => {
      signature = on
    },
    /** Waits until every event posted so far was answered (or failed). */
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
    send: (input: {
      readonly connector: string
      readonly line: number
      readonly chatId: string
      readonly imChatId: number
      readonly text: string
      readonly operator: { readonly id: number; readonly name: string }
    }): OperatorMessage => {
      const text = signature ? `[b]${input.operator.name}:[/b][br]${input.text}` : input.text
      const message: OperatorMessage = {
        ...input,
        imMessageId: nextId++,
        text,
        externalIds: [],
        sending: true,
        deleted: false,
        history: [text]
      }
      messages.set(message.imMessageId, message)
      post("ONIMCONNECTORMESSAGEADD", {
        ...messageFields(message, undefined),
        "data[MESSAGES][0][message][user_id]": String(input.operator.id),
        "data[MESSAGES][0][message][text]": text,
        "data[MESSAGES][0][user][id]": String(input.operator.id),
        "data[MESSAGES][0][user][name]": input.operator.name
      })
      return message
    },
    edit: (imMessageId: number, newText: string): OperatorMessage => {
      const message = find(imMessageId)
      message.text = signature ? `[b]${message.operator.name}:[/b][br]${newText}` : newText
      message.history.push(message.text)
      // Only a message that carries the connector's ids raises the event.
      if (message.externalIds.length > 0) {
        post("ONIMCONNECTORMESSAGEUPDATE", {
          ...messageFields(message, "list"),
          "data[MESSAGES][0][message][text]": message.text
        })
      }
      return message
    },
    remove: (imMessageId: number): OperatorMessage => {
      const message = find(imMessageId)
      message.deleted = true
      message.externalIds.forEach((id, i) => {
        const fields = messageFields(message, id)
        post(
          "ONIMCONNECTORMESSAGEDELETE",
          Object.fromEntries(
            Object.entries(fields).map(([k, v]) => [k.replace("[MESSAGES][0]", `[MESSAGES][${i}]`), v])
          )
        )
      })
      return message
    },
    /** `imconnector.send.status.delivery`: stores the external ids of each message still being sent. */
    statusDelivery: (params: Params): SandboxServer.SandboxAnswer["body"] => {
      const items = (listOf(param(params, "MESSAGES")) ?? []).map(lowerKeys)
      const result = items.map((item) => {
        if (!isRecord(item) || !isRecord(item.im) || !isRecord(item.message)) return false
        const id = Number(textOf(item.im.message_id))
        const message = messages.get(id)
        const ids = (listOf(item.message.id) ?? []).flatMap((one) => {
          const text = textOf(one)
          return text === undefined ? [] : [text]
        })
        if (message === undefined || ids.length === 0) return false
        if (message.sending) {
          message.externalIds = ids
          message.sending = false
        }
        return true
      })
      return { result: { SUCCESS: true, DATA: { RESULT: result } } }
    },
    /** After `imconnector.update.messages` changed a customer message: the echo, when on. */
    updated: (input: {
      readonly connector: string
      readonly line: number
      readonly chatId: string
      readonly messageId: string
      readonly imChatId: number
      readonly text: string | undefined
    }) => {
      if (!echo || input.text === undefined) return
      const key = `${input.connector}\u0000${input.line}\u0000${input.chatId}\u0000${input.messageId}`
      const imMessageId = customerIds.get(key) ?? nextId++
      customerIds.set(key, imMessageId)
      post("ONIMCONNECTORMESSAGEUPDATE", {
        "data[CONNECTOR]": input.connector,
        "data[LINE]": String(input.line),
        "data[MESSAGES][0][im][chat_id]": String(input.imChatId),
        "data[MESSAGES][0][im][message_id]": String(imMessageId),
        "data[MESSAGES][0][message][id][0]": input.messageId,
        "data[MESSAGES][0][message][text]": input.text,
        "data[MESSAGES][0][chat][id]": input.chatId
      })
    }
  }
}

export type Operator = ReturnType<typeof make>
