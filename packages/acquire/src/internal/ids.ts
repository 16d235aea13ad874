/**
 * Acquire's ids (messages, cases, contacts) are positive integers. Anything else
 * is refused before a request is built, so no id can add a path segment, a
 * query or a host.
 */
import { Result } from "effect"

const DIGITS_ONLY = /^[0-9]{1,16}$/

/** What a message id must be, for a person. */
export const MESSAGE_ID_RULE = "must be Acquire's own message id: a positive integer such as 8288"

/** What another id must be, for a person. */
export const ID_RULE = "must be a positive integer"

/**
 * Reads an id given as a number, or as a string of ASCII digits only (no sign,
 * space, dot, slash or percent sign). Fails with `rule`.
 */
export const parsePositiveId = (value: unknown, rule: string = ID_RULE): Result.Result<number, string> => {
  const id =
    typeof value === "number"
      ? value
      : typeof value === "string" && DIGITS_ONLY.test(value)
        ? Number(value)
        : Number.NaN
  return Number.isSafeInteger(id) && id > 0 ? Result.succeed(id) : Result.fail(rule)
}
