/**
 * Settings that hold the text a hidden secret prints as (`"<redacted>"`, from
 * settings written to a file or a log) instead of the secret: recognised, so
 * that they are refused with a sentence that says why, rather than sent as a
 * credential and refused by the provider as an invalid token.
 */
import { Predicate, Redacted } from "effect"

/** How Effect prints a `Redacted` value (`<redacted>`, `<redacted:label>`): the secret itself is not in it. */
const REDACTED_RENDERING = /^\s*<redacted(:[^>]*)?>\s*$/i

/** Whether a value is the text a hidden secret prints as, rather than a secret. */
export const isRedactedRendering = (value: unknown): boolean => {
  const text = Redacted.isRedacted(value) ? Redacted.value(value as Redacted.Redacted<unknown>) : value
  return typeof text === "string" && REDACTED_RENDERING.test(text)
}

/** Why such a value is refused, for the setting at `where`. */
export const message = (where: string): string =>
  `${where} is "<redacted>": that is how a hidden secret prints (settings written to a file or a log lose the secret), not a credential; give the secret itself (a sandbox's settings for a file: sandbox.plainSettings())`

/** The first key path of a settings object (in code) whose value is `"<redacted>"`, within a few levels. */
export const pathIn = (value: unknown, path = "", depth = 0): string | undefined => {
  if (isRedactedRendering(value)) return path
  if (depth >= 3 || !Predicate.isObject(value) || Array.isArray(value) || value instanceof URL) return undefined
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined
  for (const [key, inner] of Object.entries(value)) {
    const found = pathIn(inner, path === "" ? key : `${path}.${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}
