/**
 * What every provider's HTTP failures have in common: reading `Retry-After`,
 * finding a code and a description in an error body of unknown shape, and the
 * reason an HTTP status means when the provider's own code says nothing more.
 * Adapters map their own codes first and fall back to {@link reasonFromStatus}.
 *
 * @since 0.1.0
 */
import { Duration, Predicate } from "effect"
import {
  type EditErrorReason,
  Forbidden,
  MalformedResponse,
  NotFound,
  RateLimited,
  Rejected,
  Unauthorized,
  Unavailable
} from "./EditError.ts"
import { type HttpResponse, optionalBody } from "./HttpTransport.ts"

/**
 * Reads a `Retry-After` value, in seconds or as an HTTP date, relative to `now`
 * (Unix millis). A date in the past means "now". Anything unreadable is ignored.
 *
 * @since 0.1.0
 */
export const parseRetryAfter = (value: string | null | undefined, now: number): Duration.Duration | undefined => {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Duration.millis(Math.round(Number(trimmed) * 1000))
  // An HTTP date names its weekday and month; without letters it is not a date.
  const date = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  if (Number.isNaN(date)) return undefined
  return Duration.millis(Math.max(0, date - now))
}

/**
 * A provider's code and description, from whichever usual field holds them.
 *
 * @since 0.1.0
 */
export interface ErrorFields {
  readonly code?: string
  readonly description?: string
}

const firstString = (record: Record<string, unknown>, keys: ReadonlyArray<string>): string | undefined => {
  for (const key of keys) {
    const value = record[key]
    if (Predicate.isString(value) && value.length > 0) return value
    if (Predicate.isNumber(value)) return String(value)
  }
  return undefined
}

/**
 * Finds a code and a description in an error body of unknown shape: `{ error,
 * error_description }`, `{ code, message }`, `{ error: { code, message } }`,
 * `{ errors: [{ message }] }`, `{ type, message }`, or plain text.
 *
 * @since 0.1.0
 */
export const errorFields = (response: Pick<HttpResponse, "json" | "isJson" | "text">): ErrorFields => {
  if (!response.isJson) {
    const text = response.text.trim()
    const looksLikeMarkup = text.startsWith("<")
    if (text.length === 0 || looksLikeMarkup) return {}
    return { description: text.length > 300 ? `${text.slice(0, 300)}…` : text }
  }
  return fieldsOf(response.json)
}

const fieldsOf = (json: unknown): ErrorFields => {
  if (!Predicate.isObject(json) || Array.isArray(json)) return {}
  const record = json as Record<string, unknown>
  const nested = record.error
  if (Predicate.isObject(nested) && !Array.isArray(nested)) {
    const inner = fieldsOf(nested)
    if (inner.code !== undefined || inner.description !== undefined) return inner
  }
  const code = firstString(record, ["error", "code", "errorCode", "error_code", "type", "errorType"])
  let description = firstString(record, [
    "error_description",
    "message",
    "errorMessage",
    "error_message",
    "detail",
    "description"
  ])
  const errors = record.errors
  if (description === undefined && Array.isArray(errors) && errors.length > 0) {
    description = errors
      .map((entry) =>
        Predicate.isString(entry)
          ? entry
          : (fieldsOf(entry).description ?? fieldsOf(entry).code ?? JSON.stringify(entry))
      )
      .join("; ")
  }
  return {
    ...(code === undefined ? {} : { code }),
    ...(description === undefined ? {} : { description })
  }
}

/**
 * The neutral reason an HTTP status means, for answers whose own code maps to
 * nothing more precise. `now` (Unix millis) is for `Retry-After` dates.
 *
 * @since 0.1.0
 */
export const reasonFromStatus = (response: HttpResponse, fields: ErrorFields, now: number): EditErrorReason => {
  const detail = { status: response.status, ...fields, ...optionalBody(response.text) }
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"), now)
  const withRetryAfter = retryAfter === undefined ? {} : { retryAfter }
  switch (response.status) {
    case 401:
      return new Unauthorized(detail)
    case 403:
      return new Forbidden(detail)
    case 404:
    case 410:
      return new NotFound(detail)
    case 429:
      return new RateLimited({ ...detail, ...withRetryAfter })
    case 408:
    case 425:
      return new Unavailable({ ...detail, ...withRetryAfter })
  }
  if (response.status >= 500) return new Unavailable({ ...detail, ...withRetryAfter })
  if (response.status >= 200 && response.status < 300) {
    return new MalformedResponse({
      ...detail,
      description: fields.description ?? "the answer is not what the provider documents"
    })
  }
  return new Rejected(detail)
}
