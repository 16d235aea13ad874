/**
 * Acquire's message ids are positive integers. Anything else is refused before
 * a request is built, so no id can add a path segment, a query or a host.
 */
import { Result } from "effect"

const DIGITS_ONLY = /^[0-9]{1,16}$/

/** What an id must be, for a person. */
export const ID_RULE = "must be Acquire's own message id: a positive integer such as 8288"

/**
 * Reads a message id given as a number or as a string of ASCII digits only (no
 * sign, space, dot, slash or percent sign).
 */
export const parseMessageId = (value: unknown): Result.Result<number, string> => {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value > 0 ? Result.succeed(value) : Result.fail(ID_RULE)
  }
  if (typeof value === "string" && DIGITS_ONLY.test(value)) {
    const id = Number(value)
    return Number.isSafeInteger(id) && id > 0 ? Result.succeed(id) : Result.fail(ID_RULE)
  }
  return Result.fail(ID_RULE)
}
