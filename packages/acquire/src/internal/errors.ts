/**
 * The one place where Acquire's answers become neutral reasons: Acquire's own
 * error code first (wherever in the body it is), then the HTTP status through
 * core's `HttpFailure.reasonFromStatus`. The body's shape is undocumented, so
 * nothing here assumes one, and every answer gives a typed reason.
 */
import { EditError, HttpFailure, HttpTransport } from "@reword/core"
import { type Duration, Predicate, type Schema } from "effect"

type Reason = EditError.EditErrorReason
type Problem = EditError.Problem

interface Detail {
  readonly status?: number
  readonly code?: string
  readonly description?: string
  readonly body?: string
}

/**
 * Acquire's documented error types and the reason each one means. The README's
 * error table is this table.
 */
const BY_CODE: Readonly<
  Record<
    string,
    (detail: Detail, problems: ReadonlyArray<Problem>, retryAfter: Duration.Duration | undefined) => Reason
  >
> = {
  ERROR_INVALID_INPUT: (detail, problems) => new EditError.InvalidRequest({ ...detail, problems }),
  ERROR_RECORD_NOT_FOUND: (detail) => new EditError.NotFound(detail),
  ERROR_DUPLICATE_RECORD_FOUND: (detail) => new EditError.Rejected(detail),
  ERROR_UNAUTHORIZED: (detail) => new EditError.Unauthorized(detail),
  ERROR_UNAUTHORIZED_ACCESS: (detail) => new EditError.Forbidden(detail),
  ERROR_SERVER_ERROR: (detail, _problems, retryAfter) =>
    new EditError.Unavailable({ ...detail, ...(retryAfter === undefined ? {} : { retryAfter }) })
}

/** The documented codes. */
export const KNOWN_CODES: ReadonlyArray<string> = Object.keys(BY_CODE)

const CODE_SHAPE = /^ERROR_[A-Z0-9_]+$/
const KNOWN_CODE_IN_TEXT = new RegExp(`\\b(${KNOWN_CODES.join("|")})\\b`)
const LOOKS_LIKE_A_CODE = /^[A-Za-z0-9_.:-]+$/

/** The first string shaped like an Acquire code (`ERROR_...`) anywhere in a JSON value, depth first. */
const findCode = (value: unknown, depth: number): string | undefined => {
  if (Predicate.isString(value)) return CODE_SHAPE.test(value) ? value : undefined
  if (depth <= 0 || !Predicate.isObject(value)) return undefined
  for (const entry of Array.isArray(value) ? value : Object.values(value)) {
    const found = findCode(entry, depth - 1)
    if (found !== undefined) return found
  }
  return undefined
}

/** The `<title>` of an HTML page: what a gateway's error page usually says. */
const htmlTitle = (text: string): string | undefined => {
  const match = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)
  const title = match?.[1]?.replace(/\s+/g, " ").trim()
  return title === undefined || title.length === 0 ? undefined : title
}

/**
 * The code and description of an error answer, from whichever field holds
 * them. A documented `ERROR_*` code wins over any other code-like field; a
 * sentence found where a code usually is (`{ "error": "Message not found" }`)
 * is a description.
 */
const fieldsOf = (response: HttpTransport.HttpResponse): { code?: string; description?: string } => {
  const found = HttpFailure.errorFields(response)
  let code = found.code
  let description = found.description
  if (code !== undefined && !LOOKS_LIKE_A_CODE.test(code)) {
    description ??= code
    code = undefined
  }
  const acquireCode =
    code !== undefined && CODE_SHAPE.test(code)
      ? code
      : response.isJson
        ? findCode(response.json, 4)
        : KNOWN_CODE_IN_TEXT.exec(response.text)?.[1]
  if (acquireCode !== undefined) code = acquireCode
  if (description === undefined && !response.isJson && response.text.trim().startsWith("<")) {
    description = htmlTitle(response.text)
  }
  return {
    ...(code === undefined ? {} : { code }),
    ...(description === undefined ? {} : { description })
  }
}

const FIELD_KEYS = ["field", "path", "param", "property", "key", "name"]
const MESSAGE_KEYS = ["message", "msg", "error", "description", "detail"]

const firstString = (record: object, keys: ReadonlyArray<string>): string | undefined => {
  for (const key of keys) {
    const value = (record as Record<string, unknown>)[key]
    if (Predicate.isString(value) && value.trim().length > 0) return value
  }
  return undefined
}

/**
 * The problems of an `ERROR_INVALID_INPUT` answer: one per entry of an
 * `errors` array that names a field, or one for the whole request.
 */
const problemsOf = (response: HttpTransport.HttpResponse, description: string | undefined): Array<Problem> => {
  const json = response.json
  const errors = Predicate.isObject(json) && !Array.isArray(json) ? (json as { errors?: unknown }).errors : undefined
  const listed: Array<Problem> = []
  if (Array.isArray(errors)) {
    for (const entry of errors) {
      if (!Predicate.isObject(entry)) continue
      const path = firstString(entry, FIELD_KEYS)
      const message = firstString(entry, MESSAGE_KEYS)
      if (path !== undefined) listed.push({ path, message: message ?? "refused by Acquire" })
    }
  }
  return listed.length > 0
    ? listed
    : [{ path: "(request)", message: description ?? "Acquire refused the input (ERROR_INVALID_INPUT)" }]
}

/**
 * The reason of an answer that is not a success, or of a success that carries
 * an error code instead of data. `now` (Unix millis) is for `Retry-After` dates.
 */
export const reasonOf = (response: HttpTransport.HttpResponse, now: number): Reason => {
  const fields = fieldsOf(response)
  const byCode = fields.code === undefined ? undefined : BY_CODE[fields.code]
  if (byCode !== undefined) {
    const retryAfter = HttpFailure.parseRetryAfter(response.headers.get("retry-after"), now)
    const detail = { status: response.status, ...fields, ...HttpTransport.optionalBody(response.text) }
    return byCode(detail, problemsOf(response, fields.description), retryAfter)
  }
  return HttpFailure.reasonFromStatus(response, fields, now)
}

/**
 * The reason of a success answer whose body is not the documented shape: the
 * error it names, where it names one, or `MalformedResponse`.
 */
export const malformed = (
  response: HttpTransport.HttpResponse,
  issue: Schema.SchemaError | undefined,
  now: number
): Reason => {
  const fields = fieldsOf(response)
  if (fields.code !== undefined && BY_CODE[fields.code] !== undefined) return reasonOf(response, now)
  const why =
    response.text.trim().length === 0
      ? "the answer has an empty body"
      : !response.isJson
        ? "the answer is not JSON"
        : `the answer is not the documented { "data": ... } shape${issue === undefined ? "" : `: ${summary(issue)}`}`
  return new EditError.MalformedResponse({
    status: response.status,
    description: why,
    ...HttpTransport.optionalBody(response.text)
  })
}

const summary = (issue: Schema.SchemaError): string => {
  const text = issue.message.replace(/\s+/g, " ").trim()
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
