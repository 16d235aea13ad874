/**
 * The ONE place where Bitrix24's answers become neutral reasons: an error
 * answer (new form, old `SUCCESS: false` form, a proxy's page), a failed
 * result item, an answer that cannot be read. The README's error table is
 * the table in `errorCodes.ts`.
 */
import { EditError } from "@reword/core"
import { HttpFailure, HttpTransport, Untrusted } from "@reword/core/adapter"
import { Clock, Effect, Predicate } from "effect"
import { type Context, compact, type Detail, rowOf } from "./errorCodes.ts"

type Reason = EditError.EditErrorReason

export { type Context, codes, type Detail, type Row, rowOf, type Source, WEBHOOK_EXPLANATION } from "./errorCodes.ts"

/**
 * The reason for an error answer: the table's row for its code, or, for a code
 * the table does not know (or no code at all), the reason its HTTP status means.
 */
export const reasonOf = (
  response: HttpTransport.HttpResponse,
  fields: HttpFailure.ErrorFields,
  now: number,
  context: Context = {}
): Reason => {
  const row = rowOf(fields.code)
  if (row !== undefined) {
    return row.make(
      compact({ status: response.status, ...fields, ...HttpTransport.optionalBody(response.text) }),
      context
    )
  }
  return HttpFailure.reasonFromStatus(response, fields, now)
}

/** The reason for a code found in an HTTP 200 answer (the old `SUCCESS: false` form). */
export const reasonOfCode = (detail: Detail, context: Context = {}): Reason => {
  const row = rowOf(detail.code)
  if (row !== undefined) return row.make(compact(detail), context)
  return new EditError.Rejected(compact(detail))
}

const NOT_FOUND_TEXT = /not found|does not exist|doesn't exist|no such|unknown (message|chat)|не найден/i
const INVALID_TEXT =
  /required|empty|missing|invalid|incorrect|wrong|not specified|not valid|must|format|too long|length|не указан|обязател/i

/**
 * The reason for one failed item of `RESULT` (its `ERRORS` are texts without
 * codes): NotFound when a text says something does not exist, InvalidRequest
 * when a text says the data is missing or wrong, Rejected otherwise. The
 * portal's texts are the description, and `status` is the HTTP status of the
 * call that carried the item (200): the portal received this message, so the
 * reason never reads as "nothing was sent".
 */
export const itemReason = (errors: ReadonlyArray<unknown>, index: number, status = 200): Reason => {
  const texts = errors
    .slice(0, MAX_ITEM_ERRORS)
    .map(textOf)
    .filter((text) => text.length > 0)
  const description =
    texts.length === 0
      ? "the portal marked this message as failed without saying why"
      : Untrusted.clip(texts.join("; "))
  if (texts.some((text) => NOT_FOUND_TEXT.test(text))) return new EditError.NotFound({ status, description })
  if (texts.some((text) => INVALID_TEXT.test(text))) {
    return new EditError.InvalidRequest({
      problems: texts.map((message) => ({ path: `MESSAGES.${index}`, message })),
      status,
      description
    })
  }
  return new EditError.Rejected({ status, description })
}

/** The most `ERRORS` entries of one item read. */
const MAX_ITEM_ERRORS = 20

const CODE_KEYS = ["code", "error", "error_code", "CODE", "ERROR_CODE"]
const TEXT_KEYS = ["message", "error_description", "error_message", "text", "MESSAGE", "TEXT"]

/**
 * The text of one `ERRORS` entry: a string, or the code and message of an
 * object (at its top level, or one level down under `error`). Bounded: an
 * entry of any depth or size is read in constant time, and never throws.
 */
const textOf = (error: unknown): string => {
  if (Predicate.isString(error)) return Untrusted.clip(error.trim())
  if (Predicate.isNumber(error) && Number.isFinite(error)) return String(error)
  const nested = Untrusted.get(error, "error")
  const code = Untrusted.firstString(error, CODE_KEYS) ?? Untrusted.firstString(nested, CODE_KEYS)
  const text = Untrusted.firstString(error, TEXT_KEYS) ?? Untrusted.firstString(nested, TEXT_KEYS)
  return [code, text]
    .filter(Predicate.isNotUndefined)
    .map((part) => Untrusted.clip(part.trim(), 300))
    .join(": ")
}

/**
 * A record's first entries (bounded) under lower-case keys; never throws. The
 * copy has no prototype: a key such as `__proto__` or `constructor` is an entry
 * like any other, and a missing key reads `undefined`.
 */
export const lowerKeys = (value: unknown): Record<string, unknown> | undefined => {
  if (!Untrusted.isRecord(value)) return undefined
  const record: Record<string, unknown> = Object.create(null)
  for (const [key, inner] of Untrusted.entries(value)) {
    const lower = key.toLowerCase()
    if (!Object.hasOwn(record, lower)) record[lower] = inner
  }
  return record
}

/** The first non-blank text (or number) under one of `keys`, cut to a field's length. */
const firstText = (record: unknown, keys: ReadonlyArray<string>): string | undefined => {
  const text = Untrusted.firstString(record, keys)
  return text === undefined ? undefined : Untrusted.clip(text)
}

/**
 * The code and text of an old-form refusal: HTTP 200 with `result.SUCCESS`
 * false and the code beside it, in whichever of the shapes older servers used
 * (`ERROR_CODE`/`ERROR_MESSAGE`, `ERROR: {CODE, MESSAGE}`, `ERRORS: [{code,
 * message}]` or texts, `error`/`error_description`).
 */
const oldFormFields = (result: unknown): HttpFailure.ErrorFields => {
  const record = lowerKeys(result)
  const error = lowerKeys(record?.error)
  const errors = record?.errors
  const list: ReadonlyArray<unknown> = Array.isArray(errors)
    ? Untrusted.entries(errors, 50).map(([, value]) => value)
    : Predicate.isObject(errors)
      ? Untrusted.entries(errors, 50).map(([key, value]) =>
          Predicate.isString(value) && /^[A-Z_]+$/.test(key) ? { code: key, message: value } : value
        )
      : []
  const entries = list.map((entry) => (Predicate.isString(entry) ? { message: entry } : (lowerKeys(entry) ?? {})))
  const code =
    firstText(record, ["error_code", "code"]) ??
    (Predicate.isString(record?.error) && record.error.trim().length > 0 ? Untrusted.clip(record.error) : undefined) ??
    firstText(error, ["code", "error_code"]) ??
    entries.map((entry) => firstText(entry, ["code", "error_code"])).find(Predicate.isNotUndefined)
  const texts = entries
    .map((entry) => firstText(entry, ["message", "error_message", "text"]))
    .filter(Predicate.isNotUndefined)
  const description =
    firstText(record, ["error_description", "error_message", "message"]) ??
    firstText(error, ["message", "error_message", "description"]) ??
    (texts.length > 0 ? Untrusted.clip(texts.join("; ")) : undefined)
  return {
    ...(code === undefined ? {} : { code }),
    ...(description === undefined ? {} : { description })
  }
}

/**
 * The reason of an old-form refusal (`result.SUCCESS` false), or `undefined`
 * when `result` is not one.
 */
export const oldFormReason = (result: unknown, response: HttpTransport.HttpResponse): Reason | undefined =>
  lowerKeys(result)?.success === false
    ? reasonOfCode({ status: response.status, ...oldFormFields(result), ...HttpTransport.optionalBody(response.text) })
    : undefined

/** A `result` that is not what the message methods answer. */
export const malformedResult = (response: HttpTransport.HttpResponse, description: string): Reason =>
  new EditError.MalformedResponse({
    status: response.status,
    description,
    ...HttpTransport.optionalBody(response.text)
  })

/** Whatever an answer holds, reading it never escapes as a defect: it is this call's `MalformedResponse`. */
export const guarded = <A>(
  read: () => Effect.Effect<A, Reason>,
  response: HttpTransport.HttpResponse | undefined
): Effect.Effect<A, Reason> =>
  Effect.catchDefect(Effect.suspend(read), () =>
    Effect.fail(
      new EditError.MalformedResponse({
        ...(response === undefined ? {} : { status: response.status }),
        description: "the answer could not be read (its shape is beyond what reword reads)"
      })
    )
  )

/**
 * The reason of an answer that is not a success (the usual one is read by
 * `./answers.ts`): an `error` code (with what the caller knows of it from
 * `contextOf`: the rate limiter's view), a status of 300 or more, a body that
 * is not JSON or has neither `result` nor `error`.
 */
export const refusal = (
  response: HttpTransport.HttpResponse,
  contextOf: (code: string, now: number) => Effect.Effect<Context>
): Effect.Effect<never, Reason> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    if (!response.isJson) {
      if (response.status >= 200 && response.status < 300) {
        return Effect.fail(
          malformedResult(
            response,
            response.text.length === 0 ? "the portal's answer is empty" : "the portal's answer is not JSON"
          )
        )
      }
      // A proxy's page in front of an overloaded portal: the status says it all.
      return Effect.fail(reasonOf(response, HttpFailure.errorFields(response), now))
    }
    const envelope = lowerKeys(response.json)
    const error = envelope === undefined ? undefined : envelope.error
    const code = Predicate.isString(error) ? Untrusted.clip(error) : undefined
    if (code !== undefined && code.length > 0) {
      const description = firstText(envelope, ["error_description"])
      const fields = { code, ...(description === undefined ? {} : { description }) }
      return Effect.flatMap(contextOf(code, now), (context) => Effect.fail(reasonOf(response, fields, now, context)))
    }
    if (response.status >= 300) return Effect.fail(reasonOf(response, HttpFailure.errorFields(response), now))
    return Effect.fail(malformedResult(response, "the portal's answer has neither result nor error"))
  })
