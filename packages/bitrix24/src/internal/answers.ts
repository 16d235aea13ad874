/**
 * The usual answers of the message methods, read without a Schema walk: the
 * same values `Time` and `MessagesSuccess` decode (their known fields only,
 * each of its type), for the shapes a portal sends; every other shape goes to
 * Schema, which judges it and names what is wrong. Every read is bounded: a
 * fixed set of fields, a level or two deep, as many items as messages sent.
 *
 * @internal
 */
import type { EditError } from "@reword/core"
import { type HttpTransport, Untrusted } from "@reword/core/adapter"
import { Effect, Option, Predicate, Schema } from "effect"
import { lowerKeys, malformedResult, oldFormReason } from "./errors.ts"
import { type MessagesResponse, MessagesSuccess, type ResultItem, Time } from "./schemas.ts"

const decodeTime = Schema.decodeUnknownOption(Time)

/** The most keys a `result` read without Schema may have. */
const MAX_SUCCESS_KEYS = 16

const TIME_NUMBERS = ["start", "finish", "duration", "processing", "operating_reset_at", "operating"] as const
const TIME_STRINGS = ["date_start", "date_finish"] as const

/**
 * An answer's `time`, as `Time` decodes it (its known fields, each of its
 * type; none when one has another type), read without Schema for the usual
 * object of numbers and dates.
 */
export const readTime = (value: unknown): Time | undefined => {
  if (!Untrusted.isRecord(value)) return Option.getOrUndefined(decodeTime(value))
  const time: Record<string, number | string> = {}
  for (const key of TIME_NUMBERS) {
    if (!(key in value)) continue
    const field = value[key]
    if (typeof field !== "number") return Option.getOrUndefined(decodeTime(value))
    time[key] = field
  }
  for (const key of TIME_STRINGS) {
    if (!(key in value)) continue
    const field = value[key]
    if (typeof field !== "string") return Option.getOrUndefined(decodeTime(value))
    time[key] = field
  }
  return time as Time
}

const isIdValue = (value: unknown): value is string | number => typeof value === "string" || typeof value === "number"
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === "string"

/**
 * One result item as `ResultItem` decodes it (its known fields only), for
 * the usual shapes; `undefined` for anything Schema should judge. Bounded:
 * it reads a fixed set of fields, a level deep.
 */
const readResultItem = (value: unknown): ResultItem | undefined => {
  if (!Untrusted.isRecord(value) || typeof value.SUCCESS !== "boolean") return undefined
  const item: Record<string, unknown> = {}
  if ("user" in value) {
    if (value.user !== null && !isIdValue(value.user)) return undefined
    item.user = value.user
  }
  if ("message" in value) {
    const message = value.message
    if (!Untrusted.isRecord(message)) return undefined
    const read: Record<string, unknown> = {}
    if ("id" in message) {
      if (!isIdValue(message.id)) return undefined
      read.id = message.id
    }
    if ("date" in message) read.date = message.date
    if ("text" in message) {
      if (!isTextOrNull(message.text)) return undefined
      read.text = message.text
    }
    if ("files" in message) read.files = message.files
    item.message = read
  }
  if ("chat" in value) {
    const chat = value.chat
    if (!Untrusted.isRecord(chat)) return undefined
    const read: Record<string, unknown> = {}
    if ("id" in chat) {
      if (!isIdValue(chat.id)) return undefined
      read.id = chat.id
    }
    if ("name" in chat) {
      if (!isTextOrNull(chat.name)) return undefined
      read.name = chat.name
    }
    if ("description" in chat) {
      if (!isTextOrNull(chat.description)) return undefined
      read.description = chat.description
    }
    item.chat = read
  }
  if ("extra" in value) item.extra = value.extra
  if ("session" in value) item.session = value.session
  item.SUCCESS = value.SUCCESS
  if ("ERRORS" in value) item.ERRORS = value.ERRORS
  return item as ResultItem
}

/**
 * `result` of a message method as `MessagesSuccess` decodes it, when it is
 * the documented `{ SUCCESS: true, DATA: { RESULT } }` with one usual item
 * per message sent; `undefined` otherwise (Schema then judges it, and names
 * what is wrong).
 */
export const readSuccess = (result: unknown, expected: number): ReadonlyArray<ResultItem> | undefined => {
  if (!Untrusted.isRecord(result) || result.SUCCESS !== true) return undefined
  // Another spelling of SUCCESS beside it (which `lowerKeys` may read first), or a crowd of keys: Schema's turn.
  let keys = 0
  for (const key in result) {
    keys += 1
    if (keys > MAX_SUCCESS_KEYS || (key !== "SUCCESS" && key.toLowerCase() === "success")) return undefined
  }
  const data = result.DATA
  if (!Untrusted.isRecord(data)) return undefined
  const list = data.RESULT
  if (!Array.isArray(list) || list.length !== expected) return undefined
  const items: Array<ResultItem> = []
  for (const value of list) {
    const item = readResultItem(value)
    if (item === undefined) return undefined
    items.push(item)
  }
  return items
}

/**
 * A successful REST answer: its `result` (not yet read) and `time`.
 */
export interface Answer {
  readonly result: unknown
  readonly time: Time | undefined
  readonly response: HttpTransport.HttpResponse
}

/**
 * The usual answer (JSON, a status under 300, `result` and no `error`): its
 * `result` and `time`, read without a Schema walk; `undefined` for anything
 * else, which `./errors.ts` (`refusal`) judges.
 */
export const readAnswer = (response: HttpTransport.HttpResponse): Answer | undefined => {
  const envelope = response.isJson && response.status < 300 ? lowerKeys(response.json) : undefined
  if (envelope === undefined || !("result" in envelope)) return undefined
  const code = envelope.error
  if (Predicate.isString(code) && code.length > 0) return undefined
  return { result: envelope.result, time: readTime(envelope.time), response }
}

const decodeSuccess = Schema.decodeUnknownEffect(MessagesSuccess)

/**
 * Reads the `result` of a message method: the old refusal form (HTTP 200,
 * `SUCCESS: false`) becomes the call's reason; otherwise one item per message.
 */
export const readMessages = (
  answer: Answer,
  expected: number
): Effect.Effect<MessagesResponse, EditError.EditErrorReason> => {
  const { result, response } = answer
  // The usual answer, read without a Schema walk; Schema judges every other.
  const items = readSuccess(result, expected)
  if (items !== undefined) return Effect.succeed({ items, time: answer.time })
  const refused = oldFormReason(result, response)
  if (refused !== undefined) return Effect.fail(refused)
  return decodeSuccess(result, { onExcessProperty: "ignore" }).pipe(
    Effect.mapError((error) =>
      malformedResult(
        response,
        `the portal's result is not the documented { SUCCESS, DATA: { RESULT } } (${error.message})`
      )
    ),
    Effect.flatMap((decoded) =>
      decoded.DATA.RESULT.length === expected
        ? Effect.succeed({ items: decoded.DATA.RESULT, time: answer.time })
        : Effect.fail(
            malformedResult(
              response,
              `the portal answered ${decoded.DATA.RESULT.length} result items for ${expected} messages`
            )
          )
    )
  )
}
