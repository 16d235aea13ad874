/**
 * The Bot API's HTTP side as the sandbox speaks it: routing
 * `/bot<token>/[test/]<method>` (method names case-insensitive), the
 * parameters of a call (query string, JSON or form body), and the envelope of
 * every answer (`{ ok, result }` with 200, `{ ok: false, error_code,
 * description, parameters? }` with the status `error_code`, `Retry-After` on
 * a 429).
 */
import type { SandboxServer } from "@reword/core/sandbox"

/** An answer of the sandbox. */
export type Answer = SandboxServer.SandboxAnswer

/** `{ ok: true, result }`. */
export const ok = (result: unknown): Answer => ({ status: 200, body: { ok: true, result } })

/** The status phrases the Bot API puts before a description. */
const PHRASES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway"
}

/** `{ ok: false, error_code, description: "<Phrase>: <detail>", parameters? }` with the status `code`. */
export const fail = (
  code: number,
  detail?: string,
  parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number }
): Answer => {
  const phrase = PHRASES[code] ?? "Error"
  return {
    status: code,
    body: {
      ok: false,
      error_code: code,
      description: detail === undefined ? phrase : `${phrase}: ${detail}`,
      ...(parameters === undefined ? {} : { parameters })
    },
    ...(parameters?.retry_after === undefined ? {} : { headers: { "retry-after": String(parameters.retry_after) } })
  }
}

/** `400 Bad Request: <detail>`. */
export const badRequest = (detail: string): Answer => fail(400, detail)

/** `429 Too Many Requests: retry after N`, with `parameters.retry_after` and `Retry-After`. */
export const tooManyRequests = (retryAfter: number): Answer =>
  fail(429, `retry after ${retryAfter}`, { retry_after: retryAfter })

/** What a well-formed token looks like (the server answers 404 for any other). */
const TOKEN = /^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$/

/** A routed call: its token and its method (lower case), or why it cannot be routed. */
export type Route =
  | { readonly _tag: "Call"; readonly token: string; readonly method: string }
  | { readonly _tag: "NotFound" }

/** `/bot<token>/<method>` or `/bot<token>/test/<method>`. */
export const routeOf = (path: string): Route => {
  const match = /^\/bot([^/]*)\/(?:test\/)?([A-Za-z]+)\/?$/.exec(path)
  if (match === null) return { _tag: "NotFound" }
  const token = decodeURIComponent(match[1] ?? "")
  if (!TOKEN.test(token)) return { _tag: "NotFound" }
  return { _tag: "Call", token, method: (match[2] ?? "").toLowerCase() }
}

/** The tokens in a request's path, for the request log to scrub. */
export const tokensIn = (request: SandboxServer.SandboxRequest): ReadonlyArray<string> => {
  const match = /^\/bot([^/]+)/.exec(request.path)
  if (match === null) return []
  const raw = match[1] ?? ""
  let decoded = raw
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    // Not percent-encoded: as it is.
  }
  const colon = decoded.indexOf(":")
  return [raw, decoded, ...(colon > 0 ? [decoded.slice(colon + 1)] : [])].filter((token) => token.length >= 4)
}

/** A value of a form or a query string: JSON when it reads as JSON (objects, arrays, numbers), else the text. */
const formValue = (value: string): unknown => {
  const trimmed = value.trim()
  if (/^[[{]/.test(trimmed) || /^-?[0-9]+$/.test(trimmed) || trimmed === "true" || trimmed === "false") {
    try {
      return JSON.parse(trimmed)
    } catch {
      return value
    }
  }
  return value
}

/** The parameters of a call (query string, then the JSON or form body), or why they cannot be read. */
export const paramsOf = (
  request: SandboxServer.SandboxRequest
):
  | { readonly _tag: "Params"; readonly params: Record<string, unknown> }
  | { readonly _tag: "Bad"; readonly answer: Answer } => {
  const params: Record<string, unknown> = Object.create(null)
  for (const [key, value] of request.query) params[key] = formValue(value)
  const text = request.text
  if (text.trim().length === 0) return { _tag: "Params", params }
  const type = String(request.headers["content-type"] ?? "").toLowerCase()
  if (type.includes("application/json") || /^\s*\{/.test(text)) {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return { _tag: "Bad", answer: badRequest("can't parse JSON object") }
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return { _tag: "Bad", answer: badRequest("JSON object expected") }
    }
    for (const [key, value] of Object.entries(json)) params[key] = value
    return { _tag: "Params", params }
  }
  for (const [key, value] of new URLSearchParams(text)) params[key] = formValue(value)
  return { _tag: "Params", params }
}
