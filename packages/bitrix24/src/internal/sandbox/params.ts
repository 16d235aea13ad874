/**
 * How a portal reads a REST call's parameters: a JSON body only with
 * `Content-Type: application/json`, otherwise form data (PHP-style nested
 * keys such as `MESSAGES[0][user][id]`), plus the query string. Top-level keys
 * are case-insensitive; every key inside `MESSAGES` is lower-cased.
 */
import type { SandboxServer } from "@reword/core/sandbox"

/** A JSON-like record. */
export type Params = Record<string, unknown>

export const isRecord = (value: unknown): value is Params =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Whether the request says its body is JSON. */
export const isJsonRequest = (request: SandboxServer.SandboxRequest): boolean => {
  const type = request.headers["content-type"]
  return typeof type === "string" && /^\s*application\/json\b/i.test(type)
}

/** `a[b][]`: the name and its bracketed parts (`["a", "b", ""]`), or just the name. */
const pathOf = (key: string): ReadonlyArray<string> => {
  const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(key)
  if (match === null) return [key]
  const [, head = key, rest = ""] = match
  return [head, ...[...rest.matchAll(/\[([^\]]*)\]/g)].map((part) => part[1] ?? "")]
}

/**
 * A record without a prototype: a key from a request (`__proto__`,
 * `constructor`) is an entry like any other, never a member of `Object.prototype`.
 */
const record = (): Params => Object.create(null) as Params

/** Sets `value` at `path` in `target`, as PHP builds `$_POST` (an empty part appends). */
const setPath = (target: Params, path: ReadonlyArray<string>, value: string): void => {
  let current: Params = target
  path.forEach((part, index) => {
    const key = part === "" ? String(Object.keys(current).length) : part
    if (index === path.length - 1) {
      current[key] = value
      return
    }
    const next = Object.hasOwn(current, key) ? current[key] : undefined
    if (isRecord(next)) current = next
    else {
      const created = record()
      current[key] = created
      current = created
    }
  })
}

/** Form data with PHP's nested keys. */
export const parseForm = (text: string): Params => {
  const result = record()
  for (const [key, value] of new URLSearchParams(text)) setPath(result, pathOf(key), value)
  return result
}

/** The parameters of a call: the query string, then the body (JSON or form), the body winning. */
export const paramsOf = (request: SandboxServer.SandboxRequest): Params => {
  const query = parseForm(request.query.toString())
  if (request.text.length === 0) return query
  if (isJsonRequest(request)) {
    try {
      const parsed: unknown = JSON.parse(request.text)
      return isRecord(parsed) ? { ...query, ...parsed } : query
    } catch {
      return query
    }
  }
  return { ...query, ...parseForm(request.text) }
}

/** A top-level parameter, whatever its case. */
export const param = (params: Params, name: string): unknown => {
  const upper = name.toUpperCase()
  for (const [key, value] of Object.entries(params)) if (key.toUpperCase() === upper) return value
  return undefined
}

/** Lower-cases every key, recursively. */
export const lowerKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(lowerKeys)
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.toLowerCase(), lowerKeys(inner)]))
  return value
}

/** PHP's `empty()`: missing, null, false, 0, "", "0", or an empty array. */
export const isEmpty = (value: unknown): boolean =>
  value === undefined ||
  value === null ||
  value === false ||
  value === 0 ||
  value === "" ||
  value === "0" ||
  (Array.isArray(value) && value.length === 0) ||
  (isRecord(value) && Object.keys(value).length === 0)

/** A PHP array as a list (a JSON array, or an object's values in order); `undefined` for a scalar. */
export const listOf = (value: unknown): ReadonlyArray<unknown> | undefined =>
  Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : undefined

/** A scalar as PHP would print it, or `undefined`. */
export const textOf = (value: unknown): string | undefined =>
  typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : undefined
