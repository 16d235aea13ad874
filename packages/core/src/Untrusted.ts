/**
 * Bounded helpers for reading untrusted data (a provider's answer, a token
 * file): every walk has a depth and a width limit, nothing recurses without a
 * bound, and nothing here throws, whatever the value's size, depth or shape
 * (cycles, throwing getters, `BigInt`s and `Proxy`s included).
 *
 * @since 0.2.0
 */
import { Predicate } from "effect"

/**
 * The deepest level a walk goes into a value (the value itself is level 0).
 *
 * @category constants
 * @since 0.2.0
 */
export const MAX_DEPTH = 32

/**
 * The most entries a walk reads of one object or array.
 *
 * @category constants
 * @since 0.2.0
 */
export const MAX_WIDTH = 1_000

/**
 * The most values one walk visits in all.
 *
 * @category constants
 * @since 0.2.0
 */
export const MAX_NODES = 10_000

/**
 * The longest text kept from one field of an answer (a code, a description).
 *
 * @category constants
 * @since 0.2.0
 */
export const MAX_FIELD_LENGTH = 1_000

/**
 * Whether a value is a plain record: an object that is not an array (nor `null`).
 *
 * @category guards
 * @since 0.2.0
 */
export const isRecord = (value: unknown): value is Record<string, unknown> => Predicate.isObject(value)

/**
 * Reads a property without ever throwing (a throwing getter or `Proxy` trap reads as `undefined`).
 *
 * @category utils
 * @since 0.2.0
 */
export const get = (value: unknown, key: PropertyKey): unknown => {
  if (!Predicate.isObjectKeyword(value)) return undefined
  try {
    return (value as Record<PropertyKey, unknown>)[key]
  } catch {
    return undefined
  }
}

/**
 * The first of `keys` whose value is a non-blank string, or a finite number
 * (as text). Never throws.
 *
 * @category utils
 * @since 0.2.0
 */
export const firstString = (record: unknown, keys: ReadonlyArray<string>): string | undefined => {
  for (const key of keys) {
    const value = get(record, key)
    if (Predicate.isString(value) && value.trim().length > 0) return value
    if (Predicate.isNumber(value) && Number.isFinite(value)) return String(value)
  }
  return undefined
}

/**
 * A text cut to `max` characters (an ellipsis marks the cut), never in the
 * middle of a surrogate pair.
 *
 * @category utils
 * @since 0.2.0
 */
export const clip = (text: string, max: number = MAX_FIELD_LENGTH): string => {
  if (text.length <= max) return text
  let end = Math.max(0, max)
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end -= 1
  return `${text.slice(0, end)}…`
}

/**
 * The entries of an object or an array, at most {@link MAX_WIDTH} (or `width`)
 * of them, without ever throwing.
 *
 * @category utils
 * @since 0.2.0
 */
export const entries = (value: unknown, width: number = MAX_WIDTH): Array<readonly [string, unknown]> => {
  if (!Predicate.isObjectOrArray(value)) return []
  try {
    if (Array.isArray(value)) {
      const count = Math.min(value.length, width)
      const out: Array<readonly [string, unknown]> = []
      for (let index = 0; index < count; index++) out.push([String(index), value[index]])
      return out
    }
    const out: Array<readonly [string, unknown]> = []
    for (const key in value) {
      if (out.length >= width) break
      if (!Object.hasOwn(value, key)) continue
      out.push([key, get(value, key)])
    }
    return out
  } catch {
    return []
  }
}

/**
 * Limits of a walk.
 *
 * @category models
 * @since 0.2.0
 */
export interface Limits {
  readonly maxDepth?: number | undefined
  readonly maxWidth?: number | undefined
  readonly maxNodes?: number | undefined
}

/**
 * The first value `found` returns something for, depth first in document
 * order, within the limits (default {@link MAX_DEPTH}, {@link MAX_WIDTH},
 * {@link MAX_NODES}). Iterative: any depth of nesting is safe.
 *
 * @category utils
 * @since 0.2.0
 */
export const findFirst = <A>(
  value: unknown,
  found: (value: unknown, depth: number) => A | undefined,
  limits: Limits = {}
): A | undefined => {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH
  const maxWidth = limits.maxWidth ?? MAX_WIDTH
  let budget = limits.maxNodes ?? MAX_NODES
  const stack: Array<{ readonly value: unknown; readonly depth: number }> = [{ value, depth: 0 }]
  while (stack.length > 0 && budget > 0) {
    const next = stack.pop() as { readonly value: unknown; readonly depth: number }
    budget -= 1
    const result = found(next.value, next.depth)
    if (result !== undefined) return result
    if (next.depth >= maxDepth || !Predicate.isObjectOrArray(next.value)) continue
    const children = entries(next.value, maxWidth)
    for (let index = children.length - 1; index >= 0; index--) {
      stack.push({ value: (children[index] as readonly [string, unknown])[1], depth: next.depth + 1 })
    }
  }
  return undefined
}

/**
 * Options of {@link safeStringify}.
 *
 * @category options
 * @since 0.2.0
 */
export interface StringifyOptions {
  /** Levels written before the rest is elided as `"…"`. Default 8. */
  readonly maxDepth?: number | undefined
  /** The longest text returned (an ellipsis marks a cut). Default 2,048. */
  readonly maxLength?: number | undefined
}

/**
 * JSON text of any value, bounded in depth and length, that never throws:
 * cycles, deeper levels and what JSON cannot hold (`BigInt`, functions,
 * throwing getters) are written as `"…"` or left out.
 *
 * @category utils
 * @since 0.2.0
 */
export const safeStringify = (value: unknown, options: StringifyOptions = {}): string => {
  const maxDepth = options.maxDepth ?? 8
  const maxLength = options.maxLength ?? 2_048
  const parts: Array<string> = []
  let length = 0
  const seen = new Set<object>()
  const push = (text: string) => {
    parts.push(text)
    length += text.length
  }
  const quote = (text: string) => JSON.stringify(text.length > maxLength ? text.slice(0, maxLength) : text)
  // Recursion bounded by `maxDepth`; output bounded by `maxLength`.
  const scalar = (current: unknown): string | undefined => {
    if (current === null) return "null"
    switch (typeof current) {
      case "string":
        return quote(current)
      case "number":
        return Number.isFinite(current) ? String(current) : "null"
      case "boolean":
        return String(current)
      case "bigint":
        return quote(String(current))
      case "object":
        return undefined
      default:
        return "null"
    }
  }
  const write = (current: unknown, depth: number): void => {
    if (length > maxLength) return
    const text = scalar(current)
    if (text !== undefined) {
      push(text)
      return
    }
    const object = current as object
    if (depth >= maxDepth || seen.has(object)) {
      push('"…"')
      return
    }
    seen.add(object)
    const isArray = Array.isArray(object)
    // As JSON.stringify does: what JSON cannot hold is left out of objects (null in arrays).
    const listed = entries(object, MAX_WIDTH).filter(
      ([, entry]) => isArray || (entry !== undefined && typeof entry !== "function" && typeof entry !== "symbol")
    )
    push(isArray ? "[" : "{")
    listed.forEach(([key, entry], index) => {
      if (length > maxLength) return
      if (index > 0) push(",")
      if (!isArray) push(`${quote(key)}:`)
      write(entry, depth + 1)
    })
    push(isArray ? "]" : "}")
    seen.delete(object)
  }
  try {
    write(value, 0)
  } catch {
    return '"…"'
  }
  const text = parts.join("")
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text
}
