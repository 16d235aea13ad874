/**
 * A live set of known secrets (tokens, client secrets, API keys) and the one
 * way reword keeps them out of everything it produces: {@link Secrets.scrub}
 * replaces each secret of {@link MIN_SECRET_LENGTH} characters or more with
 * `<redacted>` in every common encoding a server may echo it in: raw,
 * JSON-escaped (`\"`, `\/`, `\uXXXX` in either hex case, also mixed with plain
 * characters), percent-encoded (either hex case, `+` for a space in forms),
 * HTML character references, base64 and base64url at any alignment, and one
 * encoding inside another (a URL-encoded form inside a JSON string).
 *
 * The text is decoded into views that remember where each character came
 * from; a secret found in a view is redacted in the original text. One pass
 * per view and per form of a secret: linear in the text's size.
 *
 * @since 0.2.0
 */
import { Predicate, Redacted } from "effect"
import type { EditErrorReason } from "./EditError.ts"
import { formsOf } from "./internal/secrets/forms.ts"
import { rangesOf, redactRanges } from "./internal/secrets/views.ts"
import * as Untrusted from "./Untrusted.ts"

const TypeId: unique symbol = Symbol.for("@reword/core/Secrets")

/**
 * Secrets shorter than this are not scrubbed (they would redact ordinary text).
 *
 * @category constants
 * @since 0.2.0
 */
export const MIN_SECRET_LENGTH = 4

/**
 * What a secret is replaced with.
 *
 * @category constants
 * @since 0.2.0
 */
export const REDACTED = "<redacted>"

/**
 * A live set of known secrets. Add each secret as soon as it is known (a token
 * from a file, a refreshed pair): every later scrub uses it.
 *
 * @category models
 * @since 0.2.0
 */
export interface Secrets {
  readonly [TypeId]: typeof TypeId
  /** How many distinct secrets are known. */
  readonly size: number
  /** Adds a secret (and returns the set). Shorter than {@link MIN_SECRET_LENGTH}: ignored. */
  readonly add: (secret: Redacted.Redacted<string>) => Secrets
  /** Adds every secret of an iterable (`Redacted` values, or another set). */
  readonly addAll: (secrets: Iterable<Redacted.Redacted<string>>) => Secrets
  /** The text with every known secret, in every common encoding, replaced by `<redacted>`. */
  readonly scrub: (text: string) => string
  /**
   * A copy of a JSON-like value (plain objects, arrays) with every string,
   * keys included, scrubbed; bounded by `Untrusted.MAX_DEPTH` and
   * `Untrusted.MAX_WIDTH` (what lies beyond is left out).
   */
  readonly scrubDeep: <A>(value: A) => A
  /**
   * The same reason with every text field (`code`, `description`, `body`,
   * problems, ...) scrubbed; the reason itself when nothing held a secret.
   */
  readonly scrubReason: <R extends EditErrorReason>(reason: R) => R
  /** The known secrets. */
  readonly [Symbol.iterator]: () => Iterator<Redacted.Redacted<string>>
}

/**
 * Whether a value is a {@link Secrets} set.
 *
 * @category guards
 * @since 0.2.0
 */
export const isSecrets = (u: unknown): u is Secrets => Predicate.hasProperty(u, TypeId)

// --- the set

class SecretSet implements Secrets {
  readonly [TypeId]: typeof TypeId = TypeId
  readonly #secrets = new Map<string, Redacted.Redacted<string>>()
  #forms: Array<string> = []
  #hasSpace = false

  get size(): number {
    return this.#secrets.size
  }

  add(secret: Redacted.Redacted<string>): Secrets {
    const value = Redacted.value(secret)
    if (!Predicate.isString(value) || value.length < MIN_SECRET_LENGTH || this.#secrets.has(value)) return this
    this.#secrets.set(value, secret)
    const trimmed = value.trim()
    const forms = new Set([...this.#forms, ...formsOf(value, MIN_SECRET_LENGTH)])
    if (trimmed.length >= MIN_SECRET_LENGTH && trimmed !== value)
      for (const form of formsOf(trimmed, MIN_SECRET_LENGTH)) forms.add(form)
    // Longest first: a secret inside another is redacted as part of the longer one.
    this.#forms = [...forms].sort((a, b) => b.length - a.length)
    this.#hasSpace ||= value.includes(" ")
    return this
  }

  addAll(secrets: Iterable<Redacted.Redacted<string>>): Secrets {
    for (const secret of secrets) this.add(secret)
    return this
  }

  [Symbol.iterator](): Iterator<Redacted.Redacted<string>> {
    return this.#secrets.values()
  }

  scrub(text: string): string {
    if (this.#forms.length === 0 || text.length < MIN_SECRET_LENGTH) return text
    const ranges = rangesOf(text, this.#forms, this.#hasSpace)
    return ranges.length === 0 ? text : redactRanges(text, ranges, REDACTED)
  }

  scrubDeep<A>(value: A): A {
    return scrubValue(value, (text) => this.scrub(text), 0) as A
  }

  scrubReason<R extends EditErrorReason>(reason: R): R {
    return scrubReasonWith(reason, (text) => this.scrub(text))
  }

  toJSON(): unknown {
    return { _id: "Secrets", size: this.size }
  }

  toString(): string {
    return `Secrets(${this.size})`
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

const scrubValue = (value: unknown, scrub: (text: string) => string, depth: number): unknown => {
  if (Predicate.isString(value)) return scrub(value)
  if (!Predicate.isObjectOrArray(value)) return value
  // Bounded: beyond the depth limit, nothing is kept.
  if (depth >= Untrusted.MAX_DEPTH) return undefined
  const listed = Untrusted.entries(value)
  if (Array.isArray(value)) return listed.map(([, entry]) => scrubValue(entry, scrub, depth + 1))
  const copy: Record<string, unknown> = {}
  for (const [key, entry] of listed) copy[scrub(key)] = scrubValue(entry, scrub, depth + 1)
  return copy
}

/** The text fields a reason may carry. */
const TEXT_FIELDS = ["code", "description", "body", "capability"] as const

const scrubReasonWith = <R extends EditErrorReason>(reason: R, scrub: (text: string) => string): R => {
  const changed: Record<string, unknown> = {}
  let dirty = false
  for (const field of TEXT_FIELDS) {
    const value = Untrusted.get(reason, field)
    if (!Predicate.isString(value)) continue
    const scrubbed = scrub(value)
    if (scrubbed !== value) {
      changed[field] = scrubbed
      dirty = true
    }
  }
  const problems = Untrusted.get(reason, "problems")
  if (Array.isArray(problems)) {
    const scrubbed = problems.map((problem: { readonly path: string; readonly message: string }) => ({
      path: scrub(problem.path),
      message: scrub(problem.message)
    }))
    if (
      scrubbed.some(
        (problem, index) => problem.path !== problems[index]?.path || problem.message !== problems[index]?.message
      )
    ) {
      changed.problems = scrubbed
      dirty = true
    }
  }
  if (!dirty) return reason
  const Reason = reason.constructor as new (fields: Record<string, unknown>) => R
  return new Reason({ ...reason, ...changed })
}

/**
 * A set of secrets, empty or with the given ones.
 *
 * @example
 * ```ts
 * import { Secrets } from "@reword/core/adapter"
 * import { Redacted } from "effect"
 *
 * const secrets = Secrets.make([Redacted.make("s3cr3t/token")])
 * secrets.scrub('{"echo":"s3cr3t\\/token"}') // '{"echo":"<redacted>"}'
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (initial?: Iterable<Redacted.Redacted<string>>): Secrets => {
  const secrets = new SecretSet()
  if (initial !== undefined) secrets.addAll(initial)
  return secrets
}

/**
 * A set from what a request names: the set itself, or a new set of the given secrets.
 *
 * @category constructors
 * @since 0.2.0
 */
export const from = (secrets: Secrets | Iterable<Redacted.Redacted<string>> | undefined): Secrets =>
  secrets === undefined ? make() : isSecrets(secrets) ? secrets : make(secrets)

/**
 * Scrubs a text of the given secrets, in every common encoding.
 *
 * @category utils
 * @since 0.2.0
 */
export const scrub = (text: string, secrets: Secrets | Iterable<Redacted.Redacted<string>> | undefined): string =>
  from(secrets).scrub(text)

/**
 * Scrubs every string of a JSON-like value (bounded) of the given secrets.
 *
 * @category utils
 * @since 0.2.0
 */
export const scrubDeep = <A>(value: A, secrets: Secrets | Iterable<Redacted.Redacted<string>> | undefined): A =>
  from(secrets).scrubDeep(value)

/**
 * Scrubs every text field of a reason of the given secrets.
 *
 * @category utils
 * @since 0.2.0
 */
export const scrubReason = <R extends EditErrorReason>(
  reason: R,
  secrets: Secrets | Iterable<Redacted.Redacted<string>> | undefined
): R => from(secrets).scrubReason(reason)
