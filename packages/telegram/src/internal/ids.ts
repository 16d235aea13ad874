/**
 * Telegram's ids as reword takes them: a chat id (an integer, possibly
 * negative, as a number or as text, or a channel's `@username`) and a message
 * id (a positive integer, as a number or as digits), or an inline message's
 * id (text, for a message sent in inline mode: it stands for both).
 */
import { Result } from "effect"

export const CHAT_ID_RULE =
  "must be a Telegram chat id: an integer (negative for groups and channels), or a channel's @username"
export const MESSAGE_ID_RULE = "must be a Telegram message id: a positive integer (as a number or as digits)"

const DIGITS = /^-?[0-9]{1,16}$/
const USERNAME = /^@[A-Za-z][A-Za-z0-9_]{3,31}$/

/** A chat id: a number (a numeric text becomes one), or an `@username` as it is. */
export const parseChatId = (value: unknown): Result.Result<number | string, string> => {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value !== 0 ? Result.succeed(value) : Result.fail(CHAT_ID_RULE)
  }
  if (typeof value !== "string") return Result.fail(CHAT_ID_RULE)
  const text = value.trim()
  if (USERNAME.test(text)) return Result.succeed(text)
  if (!DIGITS.test(text)) return Result.fail(CHAT_ID_RULE)
  const id = Number(text)
  return Number.isSafeInteger(id) && id !== 0 ? Result.succeed(id) : Result.fail(CHAT_ID_RULE)
}

/** A message id: a positive safe integer, as a number or as digits. */
export const parseMessageId = (value: unknown): Result.Result<number, string> => {
  const id =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^[0-9]{1,16}$/.test(value.trim())
        ? Number(value.trim())
        : Number.NaN
  return Number.isSafeInteger(id) && id > 0 ? Result.succeed(id) : Result.fail(MESSAGE_ID_RULE)
}

export const INLINE_MESSAGE_ID_RULE =
  "must be a Telegram inline message id: the text Telegram gave (letters, digits, -, _, and base64's +, / and =)"

const INLINE = /^[A-Za-z0-9_\-+/=]{1,512}$/

/** An inline message's id (`inline_message_id`): the text Telegram gave, as it is. */
export const parseInlineMessageId = (value: unknown): Result.Result<string, string> =>
  typeof value === "string" && INLINE.test(value) ? Result.succeed(value) : Result.fail(INLINE_MESSAGE_ID_RULE)

/** The most characters of a text, and of a caption, Telegram takes (counted after entity parsing). */
export const MAX_TEXT = 4096
export const MAX_CAPTION = 1024

/** Characters as Telegram counts them: code points. */
export const lengthOf = (text: string): number => {
  let count = 0
  for (const _ of text) count += 1
  return count
}
