/**
 * The updates Telegram posts to a bot's webhook, verified and decoded once at
 * the edge: a `POST`, the `X-Telegram-Bot-Api-Secret-Token` header compared
 * in constant time with the secret given to `setWebhook`, a body bounded in
 * size and depth, then the `Update` through its Schema (unknown fields
 * ignored). {@link toInbound} turns an update into core's neutral inbound
 * events: `message` / `business_message` into `MessageAdded`,
 * `edited_message` / `edited_business_message` into `MessageEdited`,
 * `deleted_business_messages` into `MessageDeleted`; any other update is
 * acknowledged and carries nothing. `update_id` is the de-duplication key:
 * Telegram delivers at least once.
 *
 * @since 0.3.0
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { InboundEvent } from "@reword/core"
import { Refusal } from "@reword/core/adapter"
import { Redacted, Result, Schema } from "effect"
import { Update } from "./TelegramSchemas.ts"

/**
 * Why an update request was refused: not a `POST` (`WrongMethod`), no or a
 * wrong secret header (`Forbidden`), too large (`TooLarge`), nested too deep
 * (`TooDeep`), not JSON (`Malformed`), not an update (`Unsupported`).
 *
 * @since 0.3.0
 */
export type RefusalReason = Refusal.Reason

/**
 * An update request refused. Never carries the secret nor the body.
 *
 * @since 0.3.0
 */
export class UpdateRefused extends Refusal.Class("UpdateRefused", "Telegram update") {}

const headerOf = (request: Pick<InboundEvent.HttpRequest, "headers">, name: string): string | undefined => {
  const wanted = name.toLowerCase()
  const values = new Set<string>()
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue
    for (const one of typeof value === "string" ? [value] : value) values.add(one)
  }
  return values.size === 1 ? values.values().next().value : undefined
}

const refused = (problem: RefusalReason, description: string) => new UpdateRefused({ problem, description })

/**
 * How large an update may be: 1 MiB and 32 levels by default.
 *
 * @since 0.3.0
 */
export interface Limits {
  readonly maxBytes?: number | undefined
  readonly maxDepth?: number | undefined
}

/**
 * The default limits.
 *
 * @since 0.3.0
 */
export const DEFAULT_LIMITS = { maxBytes: 1_048_576, maxDepth: 32 } as const

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * Whether a presented secret header is the webhook's secret, in constant time
 * (both hashed to SHA-256 first, so their lengths never differ).
 *
 * @since 0.3.0
 */
export const secretMatches = (given: string | undefined, secret: Redacted.Redacted<string>): boolean =>
  given !== undefined && timingSafeEqual(digest(given), digest(Redacted.value(secret)))

/** The deepest nesting of a JSON text, read without parsing it (strings skipped), stopping past `max`. */
const jsonDepth = (text: string, max: number): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max) return depth
      deepest = Math.max(deepest, depth)
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

const decodeUpdateSchema = Schema.decodeUnknownResult(Update)

/**
 * Decodes an update's body (JSON), bounded, or refuses it: what the webhook
 * posts, and each item of a `getUpdates` answer (pass it as JSON text).
 *
 * @since 0.3.0
 */
export const decodeUpdate = (body: string | Uint8Array, limits: Limits = {}): Result.Result<Update, UpdateRefused> => {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength
  if (size > maxBytes) return Result.fail(refused("TooLarge", `the body is larger than ${maxBytes} bytes`))
  const text = typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: false }).decode(body)
  if (jsonDepth(text, maxDepth) > maxDepth) {
    return Result.fail(refused("TooDeep", `the body is nested deeper than ${maxDepth} levels`))
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return Result.fail(refused("Malformed", "the body is not valid JSON"))
  }
  const update = decodeUpdateSchema(parsed, { errors: "first" })
  return Result.isFailure(update)
    ? Result.fail(refused("Unsupported", "the body is not a Telegram update (update_id)"))
    : Result.succeed(update.success)
}

/**
 * What {@link verifyUpdate} checks a request against: the webhook's secret
 * (`secret_token` of `setWebhook`), and the limits.
 *
 * @since 0.3.0
 */
export interface Verification extends Limits {
  readonly secretToken: Redacted.Redacted<string>
}

/**
 * From an HTTP request to a verified update, or an {@link UpdateRefused}: a
 * `POST`, the secret header (constant time), then the body.
 *
 * @example
 * ```ts
 * import { Updates } from "@reword/telegram/updates"
 * import { Redacted, Result } from "effect"
 *
 * const secretToken = Redacted.make("s3cret-webhook-token")
 * const request = {
 *   method: "POST",
 *   headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "s3cret-webhook-token" },
 *   body: JSON.stringify({
 *     update_id: 901,
 *     edited_message: { message_id: 7, chat: { id: 42, type: "private" }, date: 1, edit_date: 2, text: "Meet at 10." }
 *   })
 * }
 * const update = Updates.verifyUpdate(request, { secretToken })
 * if (Result.isSuccess(update)) {
 *   const [event] = Updates.toInbound(update.success, "6000000001")
 *   console.log(event?._tag, event?.ids.externalMessageId, event?.eventId) // MessageEdited tg:42:7 telegram:6000000001:901
 * }
 * ```
 *
 * @since 0.3.0
 */
export const verifyUpdate = (
  request: InboundEvent.HttpRequest,
  verification: Verification
): Result.Result<Update, UpdateRefused> => {
  if (request.method.toUpperCase() !== "POST") {
    return Result.fail(refused("WrongMethod", "Telegram posts updates: the method must be POST"))
  }
  const given = headerOf(request, "x-telegram-bot-api-secret-token")
  if (!secretMatches(given, verification.secretToken)) {
    return Result.fail(refused("Forbidden", "the X-Telegram-Bot-Api-Secret-Token header is missing or wrong"))
  }
  return decodeUpdate(request.body, verification)
}

/**
 * The app's id of a Telegram chat: `tg:<chat id>`.
 *
 * @since 0.3.0
 */
export const externalChatId = (chatId: number): string => `tg:${chatId}`

/**
 * The app's id of a Telegram message: `tg:<chat id>:<message id>` (a message
 * id is unique only inside its chat).
 *
 * @since 0.3.0
 */
export const externalMessageId = (chatId: number, messageId: number): string => `tg:${chatId}:${messageId}`

type Message = NonNullable<Update["message"]>

const idsOf = (chatId: number, messageId: number): InboundEvent.InboundIds => ({
  externalChatId: externalChatId(chatId),
  externalMessageId: externalMessageId(chatId, messageId),
  providerChatId: String(chatId),
  providerMessageId: String(messageId)
})

const authorOf = (message: Message) => {
  const from = message.from
  if (from === undefined) return {}
  const name = [from.first_name, from.last_name].filter((part) => part !== undefined).join(" ")
  return { author: { id: String(from.id), ...(name === "" ? {} : { name: name.slice(0, 256) }) } }
}

/**
 * The neutral inbound events of an update (none for an update that carries no
 * text message event). `account` names the bot (its id); `eventId` is
 * `telegram:<account>:<update_id>`.
 *
 * @since 0.3.0
 */
export const toInbound = (update: Update, account: string): ReadonlyArray<InboundEvent.InboundEvent> => {
  const common = { provider: "telegram", account, eventId: `telegram:${account}:${update.update_id}` }
  const added = update.message ?? update.business_message
  const edited = update.edited_message ?? update.edited_business_message
  const message = edited ?? added
  if (message !== undefined) {
    const text = message.text ?? message.caption
    if (text === undefined) return []
    const seconds = edited === undefined ? message.date : (message.edit_date ?? message.date)
    return [
      {
        _tag: edited === undefined ? "MessageAdded" : "MessageEdited",
        ...common,
        ids: idsOf(message.chat.id, message.message_id),
        text,
        ...(seconds === undefined ? {} : { occurredAt: seconds * 1000 }),
        ...authorOf(message)
      }
    ]
  }
  const deleted = update.deleted_business_messages
  if (deleted === undefined) return []
  return deleted.message_ids.map((id) => ({
    _tag: "MessageDeleted" as const,
    ...common,
    eventId: `${common.eventId}:${id}`,
    ids: idsOf(deleted.chat.id, id)
  }))
}
