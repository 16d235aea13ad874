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
import * as Untrusted from "./Untrusted.ts"

/**
 * Reads a `Retry-After` value, in seconds or as an HTTP date, relative to `now`
 * (Unix millis). A date in the past means "now". Anything unreadable is ignored.
 *
 * @category utils
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
 * @category models
 * @since 0.1.0
 */
export interface ErrorFields {
  readonly code?: string
  readonly description?: string
}

const CODE_KEYS = ["error", "code", "errorCode", "error_code", "type", "errorType"]
const DESCRIPTION_KEYS = ["error_description", "message", "errorMessage", "error_message", "detail", "description"]
/** JSON:API's `title` is a code where it reads like one (`ERROR_RECORD_NOT_FOUND`), else a description. */
const LOOKS_LIKE_A_CODE = /^[A-Za-z0-9_.:-]+$/

/** How many levels of `{ "error": { "error": ... } }` are followed. */
const MAX_ERROR_NESTING = 8
/** How many entries of an `errors` array are read. */
const MAX_ERRORS = 10

/** The fields of one record of an error body, from its own keys only (nothing nested). */
const ownFields = (record: Record<string, unknown>): ErrorFields => {
  let code = Untrusted.firstString(record, CODE_KEYS)
  let description = Untrusted.firstString(record, DESCRIPTION_KEYS)
  const title = Untrusted.firstString(record, ["title"])
  if (title !== undefined) {
    if (code === undefined && LOOKS_LIKE_A_CODE.test(title)) code = title
    else description ??= title
  }
  const errors = Untrusted.get(record, "errors")
  if (Array.isArray(errors) && errors.length > 0) {
    const entries = Untrusted.entries(errors, MAX_ERRORS).map(([, entry]) => entry)
    const fields = entries.map((entry) =>
      Predicate.isString(entry) ? { description: entry } : Untrusted.isRecord(entry) ? ownFields(flat(entry)) : {}
    )
    code ??= fields.find((entry) => entry.code !== undefined)?.code
    if (description === undefined) {
      const described = fields
        .map(
          (entry, index) =>
            entry.description ?? entry.code ?? Untrusted.safeStringify(entries[index], { maxDepth: 3, maxLength: 200 })
        )
        .filter((text) => text.trim().length > 0)
      if (described.length > 0) description = described.join("; ")
    }
  }
  return {
    ...(code === undefined ? {} : { code: Untrusted.clip(code) }),
    ...(description === undefined ? {} : { description: Untrusted.clip(description) })
  }
}

/** A record without its `errors` (an entry of `errors` is read one level deep only: no recursion). */
const flat = (record: Record<string, unknown>): Record<string, unknown> =>
  Untrusted.get(record, "errors") === undefined ? record : { ...record, errors: undefined }

/**
 * Finds a code and a description in an error body of unknown shape: `{ error,
 * error_description }`, `{ code, message }`, `{ error: { code, message } }`,
 * `{ errors: [{ message }] }`, JSON:API's `{ errors: [{ status, title,
 * detail }] }`, `{ type, message }`, or plain text. Bounded: any size, depth
 * or shape of body gives an answer, never an exception; each text is cut to
 * `Untrusted.MAX_FIELD_LENGTH`.
 *
 * @category utils
 * @since 0.1.0
 */
export const errorFields = (response: Pick<HttpResponse, "json" | "isJson" | "text">): ErrorFields => {
  if (!response.isJson) {
    const text = response.text.trim()
    const looksLikeMarkup = text.startsWith("<")
    if (text.length === 0 || looksLikeMarkup) return {}
    return { description: text.length > 300 ? `${text.slice(0, 300)}…` : text }
  }
  try {
    return fieldsOf(response.json)
  } catch {
    // Nothing here throws on JSON; a caller's own object (a Proxy) might.
    return {}
  }
}

/** The innermost `error` record that says something, else the outer one: iterative and bounded. */
const fieldsOf = (json: unknown): ErrorFields => {
  const chain: Array<Record<string, unknown>> = []
  for (let current = json; Untrusted.isRecord(current) && chain.length < MAX_ERROR_NESTING; ) {
    chain.push(current)
    current = Untrusted.get(current, "error")
  }
  for (let index = chain.length - 1; index >= 0; index--) {
    const fields = ownFields(chain[index] as Record<string, unknown>)
    if (fields.code !== undefined || fields.description !== undefined) return fields
  }
  return {}
}

/**
 * The neutral reason an HTTP status means, for answers whose own code maps to
 * nothing more precise. `now` (Unix millis) is for `Retry-After` dates.
 *
 * @category utils
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
