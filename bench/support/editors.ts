/**
 * reword editors and hand-written ky calls against a sandbox, built the same
 * way in every benchmark.
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24, type Bitrix24MessageEditor, RateLimiter } from "@reword/bitrix24"
import { type MessageEditor, Provider } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { Telegram } from "@reword/telegram"
import { Effect } from "effect"
import ky from "./ky.ts"

/** A limiter that never waits: for measuring the code, not the limit. */
export const unlimited = (): RateLimiter.Service => RateLimiter.make({ bucket: { drainPerSecond: 1e9, capacity: 1e9 } })

/** The ids and new text of one edit. */
export interface Edit {
  readonly ids: {
    readonly externalMessageId: string
    readonly externalChatId: string
    readonly externalAuthorId: string
    readonly providerMessageId?: number | undefined
    readonly providerChatId?: number | undefined
  }
  readonly text: string
}

/** Acquire's settings, read from a sandbox's environment as an app reads its own. */
export const acquireSettings = (env: Readonly<Record<string, string>>) =>
  Effect.runPromise(Provider.readSettings(Acquire.provider, Provider.fromEnv(env)))

/** Bitrix24's settings, read from a sandbox's environment. */
export const bitrix24Settings = (env: Readonly<Record<string, string>>) =>
  Effect.runPromise(Provider.readSettings(Bitrix24.provider, Provider.fromEnv(env)))

/** The Acquire editor (Effect API). */
export const acquireEditor = async (
  env: Readonly<Record<string, string>>,
  options: { readonly concurrency?: number } = {}
): Promise<MessageEditor.Service> => {
  const settings = await acquireSettings(env)
  return Effect.runPromise(Acquire.make(settings, options))
}

/** The Bitrix24 editor (Effect API) with a given limiter. */
export const bitrix24Editor = async (
  env: Readonly<Record<string, string>>,
  options: Bitrix24.Options
): Promise<Bitrix24MessageEditor.Service> => {
  const settings = await bitrix24Settings(env)
  return Effect.runPromise(Bitrix24.make(settings, options))
}

/**
 * Bitrix24's descriptor, with the limiter given: `createEditor` (the Promise
 * API) takes descriptors, and the neutral options have no limiter, so the
 * benchmark wraps the adapter's own descriptor.
 */
export const bitrix24Descriptor = (limiter: () => RateLimiter.Service) =>
  ProviderKit.describe({
    ...Bitrix24.provider,
    make: (settings, options) => Bitrix24.make(settings, { ...options, rateLimiter: limiter() })
  })

/**
 * The edit as an app would write it by hand with ky: `POST
 * /crm/messenger/chat/message/{id}` with the Bearer key and the JSON body the
 * adapter sends, and the JSON answer parsed. ky's defaults otherwise (its own
 * 10 s timeout, no retry of a POST).
 */
export const acquireKy = (env: Readonly<Record<string, string>>) => {
  const base = env.ACQUIRE_BASE_URL
  const headers = { authorization: `Bearer ${env.ACQUIRE_API_KEY}`, accept: "application/json" }
  return async (edit: Edit): Promise<void> => {
    const answer = await ky
      .post(`${base}/crm/messenger/chat/message/${edit.ids.providerMessageId}`, {
        headers,
        json: { message: { type: "message", message: edit.text } }
      })
      .json<{ readonly data?: { readonly id?: unknown } }>()
    if (answer.data?.id === undefined) throw new Error(`Acquire answered no message: ${JSON.stringify(answer)}`)
  }
}

/** One `imconnector.update.messages` item, as the adapter builds it. */
const bitrix24Item = (edit: Edit, now: number) => ({
  user: { id: edit.ids.externalAuthorId },
  message: { id: edit.ids.externalMessageId, date: now, text: edit.text },
  chat: { id: edit.ids.externalChatId }
})

/** The body of `imconnector.update.messages` for some edits, `auth` included, as the adapter sends it. */
export const bitrix24Body = (env: Readonly<Record<string, string>>, edits: ReadonlyArray<Edit>) => {
  const now = Math.floor(Date.now() / 1000)
  return {
    CONNECTOR: env.BITRIX24_CONNECTOR,
    LINE: Number(env.BITRIX24_LINE),
    MESSAGES: edits.map((edit) => bitrix24Item(edit, now)),
    auth: env.BITRIX24_ACCESS_TOKEN
  }
}

/**
 * One edit as an app would write it by hand with ky: `POST
 * /rest/imconnector.update.messages` with `auth` in the JSON body, one message,
 * and the JSON answer parsed.
 */
export const bitrix24Ky = (env: Readonly<Record<string, string>>) => {
  const url = `${env.BITRIX24_PORTAL_URL}/rest/imconnector.update.messages`
  const headers = { accept: "application/json" }
  return async (edit: Edit): Promise<void> => {
    const answer = await ky
      .post(url, { headers, json: bitrix24Body(env, [edit]) })
      .json<{ readonly result?: { readonly SUCCESS?: boolean } }>()
    if (answer.result?.SUCCESS !== true) throw new Error(`Bitrix24 answered no success: ${JSON.stringify(answer)}`)
  }
}

/** Telegram's settings, read from a sandbox's environment. */
export const telegramSettings = (env: Readonly<Record<string, string>>) =>
  Effect.runPromise(Provider.readSettings(Telegram.provider, Provider.fromEnv(env)))

/** The Telegram editor (Effect API). */
export const telegramEditor = async (
  env: Readonly<Record<string, string>>,
  options: Telegram.Options = {}
): Promise<MessageEditor.Service> => {
  const settings = await telegramSettings(env)
  return Effect.runPromise(Telegram.make(settings, options))
}

/** The body of `editMessageText` for an edit, as the adapter sends it. */
export const telegramBody = (edit: Edit) => ({
  chat_id: edit.ids.providerChatId,
  message_id: edit.ids.providerMessageId,
  text: edit.text
})

/**
 * One edit as an app would write it by hand with ky: `POST
 * /bot<token>/editMessageText` with the JSON body the adapter sends, and the
 * JSON answer parsed (`ok` checked).
 */
export const telegramKy = (env: Readonly<Record<string, string>>) => {
  const url = `${env.TELEGRAM_API_URL}/bot${env.TELEGRAM_BOT_TOKEN}/editMessageText`
  const headers = { accept: "application/json" }
  return async (edit: Edit): Promise<void> => {
    const answer = await ky.post(url, { headers, json: telegramBody(edit) }).json<{ readonly ok?: boolean }>()
    if (answer.ok !== true) throw new Error(`Telegram answered no success: ${JSON.stringify(answer)}`)
  }
}

/** Runs a full GC when `--expose-gc` is on, so that each measured block starts from the same heap. */
export const collectGarbage = (): void => {
  ;(globalThis as { gc?: () => void }).gc?.()
}
