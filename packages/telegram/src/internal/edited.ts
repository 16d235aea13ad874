/**
 * What an edit answers, and the editor's fast read of the usual answer: the
 * fields an edit needs (`result.message_id`, `result.chat.id`,
 * `result.edit_date`, `result.text`, `result.caption`), read directly from
 * the parsed JSON without decoding the rest of the message.
 *
 * It accepts only what `MessageAnswer` (the Schema) accepts, and reads each
 * field as the Schema does; anything else answers `undefined`, and the caller
 * decodes the answer with the Schema instead, which finds the same result, or
 * the reason. It reads a few properties and never walks the answer, so its
 * cost does not grow with the answer.
 */
import type { TelegramMessage } from "../TelegramSchemas.ts"

/** An edit's outcome. */
export interface Edited {
  /** The chat's numeric id, as answered (`undefined` when not answered, for a chat named by `@username`). */
  readonly chatId: number | undefined
  /** The message's id, as answered (`undefined` for an inline message: Telegram answers `true`). */
  readonly messageId: number | undefined
  readonly text?: string | undefined
  readonly caption?: string | undefined
  /** When Telegram says it was edited (Unix seconds). */
  readonly editDate?: number | undefined
  /** `false` when Telegram answered `message is not modified`: the message already was what was asked. */
  readonly modified: boolean
}

const isPlainObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A plain object's own property, or `undefined`. */
const own = (record: object, key: string): unknown =>
  Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined

const isId = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value)

/** The fields of `{ "ok": true, "result": { "message_id", "chat": { "id" }, ... } }`, or `undefined`. */
export const read = (json: unknown): Edited | undefined => {
  try {
    if (!isPlainObject(json) || own(json, "ok") !== true) return undefined
    const result = own(json, "result")
    if (!isPlainObject(result)) return undefined
    const messageId = own(result, "message_id")
    const chat = own(result, "chat")
    if (!isId(messageId) || !isPlainObject(chat)) return undefined
    const chatId = own(chat, "id")
    if (!isId(chatId)) return undefined
    // Lenient fields: a value of another type is left out, as the Schema leaves it out.
    const text = own(result, "text")
    const caption = own(result, "caption")
    const editDate = own(result, "edit_date")
    return {
      chatId,
      messageId,
      ...(typeof text === "string" ? { text } : {}),
      ...(typeof caption === "string" ? { caption } : {}),
      ...(Number.isInteger(editDate) ? { editDate: editDate as number } : {}),
      modified: true
    }
  } catch {
    // A value no JSON parser makes (a throwing getter, a Proxy): the Schema judges it.
    return undefined
  }
}

/** The outcome of an edit from a decoded message. */
export const fromMessage = (message: TelegramMessage): Edited => ({
  chatId: message.chat.id,
  messageId: message.message_id,
  ...(message.text === undefined ? {} : { text: message.text }),
  ...(message.caption === undefined ? {} : { caption: message.caption }),
  ...(message.edit_date === undefined ? {} : { editDate: message.edit_date }),
  modified: true
})
