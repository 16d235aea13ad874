/**
 * The one place where Acquire's answers become neutral reasons: Acquire's own
 * error code first (wherever in the body it is: top level, `error`, JSON:API's
 * `errors[]` with `code`, `title` or `type`), then the HTTP status (or a
 * JSON:API entry's `404`) through core's `HttpFailure.reasonFromStatus`. The
 * body's shape is undocumented, so nothing here assumes one, every walk over
 * it is bounded (`Untrusted`), and every answer gives a typed reason.
 */
import { EditError } from "@reword/core"
import { HttpFailure, HttpTransport, Untrusted } from "@reword/core/adapter"
import { type Duration, Predicate, type Schema } from "effect"

type Reason = EditError.EditErrorReason
type Problem = EditError.Problem

type Detail = EditError.Detail

type FromCode = (detail: Detail, problems: ReadonlyArray<Problem>, retryAfter: Duration.Duration | undefined) => Reason

/**
 * Acquire's documented error types and the reason each one means. The README's
 * error table is this table. A `Map`: a code from an answer finds its own
 * entries only (`"toString"` or `"constructor"` is an unknown code, never a
 * member of `Object.prototype`).
 */
const BY_CODE: ReadonlyMap<string, FromCode> = new Map<string, FromCode>([
  ["ERROR_INVALID_INPUT", (detail, problems) => new EditError.InvalidRequest({ ...detail, problems })],
  ["ERROR_RECORD_NOT_FOUND", (detail) => new EditError.NotFound(detail)],
  ["ERROR_DUPLICATE_RECORD_FOUND", (detail) => new EditError.Rejected(detail)],
  ["ERROR_UNAUTHORIZED", (detail) => new EditError.Unauthorized(detail)],
  ["ERROR_UNAUTHORIZED_ACCESS", (detail) => new EditError.Forbidden(detail)],
  [
    "ERROR_SERVER_ERROR",
    (detail, _problems, retryAfter) =>
      new EditError.Unavailable({ ...detail, ...(retryAfter === undefined ? {} : { retryAfter }) })
  ]
])

/** The documented codes. */
export const KNOWN_CODES: ReadonlyArray<string> = [...BY_CODE.keys()]

const CODE_SHAPE = /^ERROR_[A-Z0-9_]+$/
const KNOWN_CODE_IN_TEXT = new RegExp(`\\b(${KNOWN_CODES.join("|")})\\b`)
const LOOKS_LIKE_A_CODE = /^[A-Za-z0-9_.:-]+$/

/** How deep into a body an Acquire code is looked for, and how many values are read. */
const CODE_SEARCH = { maxDepth: 4, maxWidth: 100, maxNodes: 2_000 } as const

/** The first string shaped like an Acquire code (`ERROR_...`) in a JSON value, depth first, bounded. */
const findCode = (value: unknown): string | undefined =>
  Untrusted.findFirst(
    value,
    (node) => (Predicate.isString(node) && node.length <= 100 && CODE_SHAPE.test(node) ? node : undefined),
    CODE_SEARCH
  )

/** The most entries of an `errors` array read. */
const MAX_ERRORS = 50

/** The entries of a JSON:API-like `errors` array (at most {@link MAX_ERRORS}), or none. */
const errorEntries = (json: unknown): ReadonlyArray<unknown> => {
  const errors = Untrusted.isRecord(json) ? Untrusted.get(json, "errors") : undefined
  return Array.isArray(errors) ? Untrusted.entries(errors, MAX_ERRORS).map(([, entry]) => entry) : []
}

/** A JSON:API entry's own `status` (`"404"`), when it is an HTTP error status. */
const entryStatus = (entry: unknown): number | undefined => {
  const status = Untrusted.firstString(entry, ["status"])
  return status !== undefined && /^[45][0-9]{2}$/.test(status) ? Number(status) : undefined
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
        ? findCode(response.json)
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

const FIELD_KEYS = ["field", "path", "param", "parameter", "property", "key", "name"]
const MESSAGE_KEYS = ["message", "msg", "error", "description", "detail", "title"]

/** The field an entry of `errors` names: its own key, or JSON:API's `source.pointer` (`/message/message`) or `source.parameter`. */
const fieldOf = (entry: unknown): string | undefined => {
  const own = Untrusted.firstString(entry, FIELD_KEYS)
  if (own !== undefined) return Untrusted.clip(own, 200)
  const source = Untrusted.get(entry, "source")
  const pointer = Untrusted.firstString(source, ["pointer"])
  if (pointer !== undefined) {
    const path = pointer
      .replace(/^\/+/, "")
      .split("/")
      .filter((segment) => segment.length > 0)
      .join(".")
    if (path.length > 0) return Untrusted.clip(path, 200)
  }
  const parameter = Untrusted.firstString(source, ["parameter"])
  return parameter === undefined ? undefined : Untrusted.clip(parameter, 200)
}

/**
 * The problems of an `ERROR_INVALID_INPUT` answer: one per entry of an
 * `errors` array that names a field, or one for the whole request.
 */
const problemsOf = (response: HttpTransport.HttpResponse, description: string | undefined): Array<Problem> => {
  const listed: Array<Problem> = []
  for (const entry of errorEntries(response.json)) {
    if (!Untrusted.isRecord(entry)) continue
    const path = fieldOf(entry)
    const message = Untrusted.firstString(entry, MESSAGE_KEYS)
    if (path !== undefined)
      listed.push({ path, message: message === undefined ? "refused by Acquire" : Untrusted.clip(message) })
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
  const byCode = fields.code === undefined ? undefined : BY_CODE.get(fields.code)
  if (byCode !== undefined) {
    const retryAfter = HttpFailure.parseRetryAfter(response.headers.get("retry-after"), now)
    const detail = { status: response.status, ...fields, ...HttpTransport.optionalBody(response.text) }
    return byCode(detail, problemsOf(response, fields.description), retryAfter)
  }
  // A JSON:API entry that says 404 (or 410) under a generic status: the message is not there.
  const gone = errorEntries(response.json)
    .map(entryStatus)
    .find((status) => status === 404 || status === 410)
  if (gone !== undefined && (response.status === 400 || response.status === 200)) {
    return new EditError.NotFound({ status: response.status, ...fields, ...HttpTransport.optionalBody(response.text) })
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
  if (fields.code !== undefined && BY_CODE.has(fields.code)) return reasonOf(response, now)
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

/** A delete answered `{ "data": { "deleted": 0 } }`: Acquire has no such message. */
export const nothingDeleted = (response: HttpTransport.HttpResponse): Reason =>
  new EditError.NotFound({
    status: response.status,
    description: "Acquire deleted no message with this id",
    ...HttpTransport.optionalBody(response.text)
  })

/** A success that names another message than the one asked about: it cannot be matched to this request. */
export const otherMessage = (response: HttpTransport.HttpResponse, asked: number, answered: number): Reason =>
  new EditError.MalformedResponse({
    status: response.status,
    description: `the answer names message ${answered}, not message ${asked} that was asked about: it cannot be matched to this request`,
    ...HttpTransport.optionalBody(response.text)
  })
