import type { Bitrix24Config } from "@reword/bitrix24"
import { Redacted } from "effect"

export const PORTAL = "https://acme.bitrix24.test"
export const OAUTH = "https://oauth.bitrix.test"
export const UPDATE_PATH = "/rest/imconnector.update.messages"
export const SEND_PATH = "/rest/imconnector.send.messages"
export const DELETE_PATH = "/rest/imconnector.delete.messages"
export const TOKEN_PATH = "/oauth/token/"

export const ACCESS = "access-token-0001-aaaa"
export const REFRESH = "refresh-token-0001-bbbb"
export const SECRET = "client-secret-0001-cccc"
export const NEW_ACCESS = "access-token-0002-dddd"
export const NEW_REFRESH = "refresh-token-0002-eeee"

export const settings = (overrides: Partial<Bitrix24Config.Settings> = {}): Bitrix24Config.Settings => ({
  portalUrl: new URL(`${PORTAL}/`),
  accessToken: Redacted.make(ACCESS),
  refreshToken: Redacted.make(REFRESH),
  clientId: "local.app.0001",
  clientSecret: Redacted.make(SECRET),
  oauthUrl: new URL(OAUTH),
  connector: "reword_test",
  line: 7,
  allowInsecureLoopback: false,
  ...overrides
})

/** Small and deterministic: nothing waits seconds. */
export const fastRetry = { maxAttempts: 3, initialDelay: 1, maxDelay: 5, maxElapsed: 1_000, jitter: false } as const

export const time = (extra: Record<string, unknown> = {}) => ({
  start: 1773322669,
  finish: 1773322669.3,
  duration: 0.3,
  processing: 0,
  date_start: "2026-03-12T16:37:49+02:00",
  date_finish: "2026-03-12T16:37:49+02:00",
  operating_reset_at: 1773323269,
  operating: 0,
  ...extra
})

export interface SentItem {
  readonly user: { readonly id: string } & Record<string, unknown>
  readonly message: { readonly id: string } & Record<string, unknown>
  readonly chat: { readonly id: string } & Record<string, unknown>
}

/** The portal's echo of a message, as a real portal shapes it. */
export const okItem = (item: SentItem, user: string | number = "585") => ({
  user,
  message: { id: item.message.id, date: {}, text: item.message.text },
  chat: {
    id: item.chat.id,
    name: item.chat.name ?? "",
    description: item.chat.url === undefined ? "" : `Link to the original post: ${item.chat.url}`
  },
  SUCCESS: true
})

export const failedItem = (item: SentItem, errors: ReadonlyArray<string>) => ({
  user: "585",
  message: { id: item.message.id, date: {}, text: item.message.text },
  chat: { id: item.chat.id },
  SUCCESS: false,
  ERRORS: errors
})

export const success = (items: ReadonlyArray<unknown>, timeExtra: Record<string, unknown> = {}) => ({
  result: { SUCCESS: true, DATA: { RESULT: items } },
  time: time(timeExtra)
})

export interface RequestBody {
  readonly CONNECTOR: string
  readonly LINE: number
  readonly MESSAGES: ReadonlyArray<SentItem>
  readonly auth: string
}

export const request = (n: number, overrides: Record<string, unknown> = {}) => ({
  ids: { externalMessageId: `m-${n}`, externalChatId: "chat-1", externalAuthorId: "user-1" },
  text: `text ${n}`,
  ...overrides
})

/**
 * nock 15 calls a reply function with one argument, the Fetch `Request` (a
 * function of two parameters is taken for a callback-style one).
 */
export const bodyOf = async (request: Request): Promise<RequestBody> => (await request.clone().json()) as RequestBody
