/**
 * What the hand-made-answer tests share: a token, an editor and a client whose
 * `fetch` answers what a test says (no network at all), never retrying unless
 * asked, without the client-side limiter unless asked.
 */
import type { MessageEditor } from "@reword/core"
import { Telegram, TelegramClient } from "@reword/telegram"
import { Effect, Redacted } from "effect"

export const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
export const SECRET_PART = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
export const settings = { botToken: Redacted.make(TOKEN) }

/** Every rendering of the token a leak could take. */
export const tokenForms = (token: string = TOKEN): ReadonlyArray<string> => {
  const secret = token.slice(token.indexOf(":") + 1)
  return [
    token,
    secret,
    encodeURIComponent(token),
    Buffer.from(token).toString("base64"),
    Buffer.from(secret).toString("base64"),
    Buffer.from(token).toString("base64url")
  ]
}

/** An answer: a status, a body (an object is sent as JSON), headers. */
export interface Canned {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** A `fetch` that answers each request with the next canned answer (the last one again when they run out). */
export const answering = (...answers: ReadonlyArray<Canned>) => {
  const seen: Array<{ readonly url: string; readonly body: unknown }> = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init)
    const text = await request.text()
    seen.push({ url: request.url, body: text.length === 0 ? undefined : JSON.parse(text) })
    const answer = answers[Math.min(seen.length, answers.length) - 1] ?? { status: 200, body: { ok: true } }
    const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? "")
    const type = typeof answer.body === "string" ? "text/html" : "application/json"
    return new Response(body, { status: answer.status, headers: { "content-type": type, ...answer.headers } })
  }
  return { fetch: fetch as typeof globalThis.fetch, seen }
}

/** A successful edit's answer for message `messageId` in chat `chatId`. */
export const editedAnswer = (chatId: number, messageId: number, text: string): Canned => ({
  status: 200,
  body: {
    ok: true,
    result: {
      message_id: messageId,
      from: { id: 123456789, is_bot: true, first_name: "Bot" },
      chat: { id: chatId, type: "private" },
      date: 1_760_000_000,
      edit_date: 1_760_000_100,
      text
    }
  }
})

/** A Bot API error answer. */
export const errorAnswer = (status: number, description: string, parameters?: object): Canned => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters === undefined ? {} : { parameters }) },
  ...(status === 429 && parameters !== undefined && "retry_after" in parameters
    ? { headers: { "retry-after": String(parameters.retry_after) } }
    : {})
})

export const ids = { providerChatId: 42, providerMessageId: 7 }

/** An editor whose requests `fetch` answers. */
export const makeEditor = (
  fetch: typeof globalThis.fetch,
  options: Telegram.Options = {}
): Effect.Effect<MessageEditor.Service> =>
  Effect.orDie(Telegram.make(settings, { retry: { maxAttempts: 1 }, limits: false, transport: { fetch }, ...options }))

/** A client whose requests `fetch` answers. */
export const makeClient = (fetch: typeof globalThis.fetch): Effect.Effect<TelegramClient.Service> =>
  Effect.orDie(TelegramClient.make(settings, { limits: false, transport: { fetch } }))
