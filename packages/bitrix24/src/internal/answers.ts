/**
 * The usual answers of the message methods, read without a Schema walk: the
 * same values `Time` and `MessagesSuccess` decode (their known fields only,
 * each of its type), for the shapes a portal sends; every other shape goes to
 * Schema, which judges it and names what is wrong. Every read is bounded: a
 * fixed set of fields, a level or two deep, as many items as messages sent.
 *
 * @internal
 */
import { Option, Schema } from "effect"
import { type ResultItem, Time } from "../Bitrix24Schemas.ts"

const decodeTime = Schema.decodeUnknownOption(Time)

/** The most keys a `result` read without Schema may have. */
const MAX_SUCCESS_KEYS = 16

const TIME_NUMBERS = ["start", "finish", "duration", "processing", "operating_reset_at", "operating"] as const
const TIME_STRINGS = ["date_start", "date_finish"] as const

const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * An answer's `time`, as `Time` decodes it (its known fields, each of its
 * type; none when one has another type), read without Schema for the usual
 * object of numbers and dates.
 */
export const readTime = (value: unknown): Time | undefined => {
  if (!isPlainRecord(value)) return Option.getOrUndefined(decodeTime(value))
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
  if (!isPlainRecord(value) || typeof value.SUCCESS !== "boolean") return undefined
  const item: Record<string, unknown> = {}
  if ("user" in value) {
    if (value.user !== null && !isIdValue(value.user)) return undefined
    item.user = value.user
  }
  if ("message" in value) {
    const message = value.message
    if (!isPlainRecord(message)) return undefined
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
    if (!isPlainRecord(chat)) return undefined
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
  if (!isPlainRecord(result) || result.SUCCESS !== true) return undefined
  // Another spelling of SUCCESS beside it (which `lowerKeys` may read first), or a crowd of keys: Schema's turn.
  let keys = 0
  for (const key in result) {
    keys += 1
    if (keys > MAX_SUCCESS_KEYS || (key !== "SUCCESS" && key.toLowerCase() === "success")) return undefined
  }
  const data = result.DATA
  if (!isPlainRecord(data)) return undefined
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
