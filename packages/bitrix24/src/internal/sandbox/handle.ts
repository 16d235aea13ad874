/**
 * What `Bitrix24Sandbox.start` hands back: the running portal's address, its
 * settings in each form an app takes them, seeding, inspection and the
 * switches a test turns (expiry, lines, poison).
 *
 * @since 0.1.0
 */
import { SandboxServer } from "@reword/core/sandbox"
import { Redacted } from "effect"
import * as Bitrix24Config from "../../Bitrix24Config.ts"
import type { Environment, PlainSettings, Sandbox } from "../../Bitrix24Sandbox.ts"
import type * as Operating from "./operating.ts"
import type { Resolved } from "./options.ts"
import * as Portal from "./portal.ts"
import type * as Tokens from "./tokens.ts"

/** A running sandbox's parts. */
export interface Parts {
  readonly resolved: Resolved
  readonly url: string
  readonly server: SandboxServer.SandboxServer
  readonly stop: () => Promise<void>
  readonly portal: Portal.Portal
  readonly tokens: Tokens.Tokens
  readonly operating: Operating.Operating
  /** Whether a call is refused past the operating-time limit. */
  readonly enforceOperating: boolean
}

/** The settings object of an environment: each setting's value under its key. */
const plainOf = (env: Readonly<Record<string, string | undefined>>): PlainSettings => ({
  provider: "bitrix24",
  bitrix24: Object.fromEntries(
    Bitrix24Config.settings.flatMap((setting) => {
      const value = env[setting.env]
      return value === undefined ? [] : [[setting.key, value]]
    })
  )
})

const environmentOf = ({ resolved: r, url }: Parts): Environment => ({
  REWORD_PROVIDER: "bitrix24",
  BITRIX24_PORTAL_URL: url,
  BITRIX24_ACCESS_TOKEN: r.accessToken,
  BITRIX24_REFRESH_TOKEN: r.refreshToken,
  BITRIX24_CLIENT_ID: r.clientId,
  BITRIX24_CLIENT_SECRET: r.clientSecret,
  BITRIX24_OAUTH_URL: url,
  BITRIX24_CONNECTOR: r.connector,
  BITRIX24_LINE: String(r.line),
  BITRIX24_ALLOW_INSECURE_LOOPBACK: "true"
})

const settingsOf = ({ resolved: r, url }: Parts): Sandbox["settings"] => ({
  portalUrl: new URL(`${url}/`),
  accessToken: Redacted.make(r.accessToken),
  refreshToken: Redacted.make(r.refreshToken),
  clientId: r.clientId,
  clientSecret: Redacted.make(r.clientSecret),
  oauthUrl: new URL(url),
  connector: r.connector,
  line: r.line,
  allowInsecureLoopback: true
})

const messageOf =
  ({ portal, resolved }: Parts): Sandbox["message"] =>
  (chatId, messageId, where = {}) =>
    portal.messages.get(
      portal.messageKey(where.connector ?? resolved.connector, where.line ?? resolved.line, chatId, messageId)
    )

const seederOf = (parts: Parts, message: Sandbox["message"]): Sandbox["seedMessage"] => {
  const seed = SandboxServer.makeSeeder()
  return async (text, ids = {}) => {
    const relayed = seed(text, ids)
    const existing = message(relayed.externalChatId, relayed.externalMessageId)
    if (existing !== undefined && !existing.deleted) {
      throw new Error(`The sandbox already has message ${relayed.externalMessageId} in chat ${relayed.externalChatId}`)
    }
    parts.portal.store({
      connector: parts.resolved.connector,
      line: parts.resolved.line,
      chatId: relayed.externalChatId,
      messageId: relayed.externalMessageId,
      authorId: relayed.externalAuthorId,
      text,
      files: [],
      date: Math.floor(Date.now() / 1000)
    })
    return relayed
  }
}

const inspectorOf =
  (message: Sandbox["message"]): Sandbox["inspect"] =>
  (ids) => {
    const chatId = ids?.externalChatId
    const messageId = ids?.externalMessageId
    if (typeof chatId !== "string" || typeof messageId !== "string") return undefined
    const found = message(chatId, messageId)
    return found === undefined || found.deleted ? undefined : { text: found.text, history: [...found.history] }
  }

const poisonerOf =
  ({ portal }: Parts): Sandbox["poisonMessage"] =>
  (externalMessageId, refusal = {}) => {
    const status = refusal.status ?? 400
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new TypeError("refusal.status must be an HTTP status from 200 to 599")
    }
    portal.poison(
      externalMessageId,
      Portal.failure(
        status,
        refusal.error ?? "ERROR_ARGUMENT",
        refusal.description ?? "The incorrect structure of a message inside MESSAGES parameter"
      )
    )
  }

/** The sandbox a test holds, over its running parts. */
export const sandboxOf = (parts: Parts): Sandbox => {
  const { resolved: r, url, portal, tokens, operating } = parts
  const env = environmentOf(parts)
  const message = messageOf(parts)
  return {
    provider: "bitrix24",
    url,
    restUrl: `${url}/rest/`,
    accessToken: r.accessToken,
    refreshToken: r.refreshToken,
    clientId: r.clientId,
    clientSecret: r.clientSecret,
    connector: r.connector,
    line: r.line,
    env,
    settings: settingsOf(parts),
    plainSettings: () => plainOf(env),
    server: parts.server,
    tokens: () => tokens.current(),
    expireAccessToken: tokens.expireAll,
    refreshes: tokens.refreshes,
    limitHits: () => portal.errors("QUERY_LIMIT_EXCEEDED"),
    errorAnswers: portal.errors,
    calls: portal.calls,
    operating: (method) => {
      const at = r.clock()
      const key = method.toLowerCase()
      const snapshot = operating.snapshot(key, at)
      return { ...snapshot, blocked: parts.enforceOperating && operating.blocked(key, at) }
    },
    lines: () => [...portal.lines.values()],
    addLine: (lineConnector, lineId, lineOptions = {}) =>
      portal.setLine(lineConnector, lineId, lineOptions.active ?? true),
    setLineActive: portal.setLine,
    users: () => [...portal.users.values()],
    messages: () => [...portal.messages.values()],
    message,
    seedMessage: seederOf(parts, message),
    inspect: inspectorOf(message),
    poisonMessage: poisonerOf(parts),
    curePoison: (externalMessageId) => portal.cure(externalMessageId),
    stop: parts.stop
  }
}
