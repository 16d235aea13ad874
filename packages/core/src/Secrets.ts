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

// --- the forms of one secret

const utf8 = new TextEncoder()

/**
 * The base64 characters that depend on the secret's bytes only, for the
 * secret starting at each of the 3 byte alignments inside a longer base64
 * text (`Basic base64(id:secret)`), in the standard and the URL alphabet.
 */
const base64Forms = (value: string): Array<string> => {
  const bytes = utf8.encode(value)
  const forms: Array<string> = []
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length + 2)
    padded.set(bytes, offset)
    const encoded = Buffer.from(padded).toString("base64")
    const first = Math.ceil((8 * offset) / 6)
    const last = Math.floor((8 * (offset + bytes.length)) / 6)
    const core = encoded.slice(first, last)
    if (core.length >= MIN_SECRET_LENGTH) {
      forms.push(core)
      const url = core.replaceAll("+", "-").replaceAll("/", "_")
      if (url !== core) forms.push(url)
    }
  }
  return forms
}

/** What is searched for in every decoded view of a text: the secret itself and its base64 forms. */
const formsOf = (value: string): Array<string> => [value, ...base64Forms(value)]

// --- decoded views of a text

/**
 * A decoded view of the original text: `start[i]` and `end[i]` are where the
 * view's character `i` came from in the original (end exclusive). `undefined`
 * maps for the original itself.
 */
interface View {
  readonly text: string
  readonly start: Int32Array | undefined
  readonly end: Int32Array | undefined
}

/** Decoded characters (UTF-16 units), each with the range of the input it came from. */
class Decoded {
  readonly units: Uint16Array
  readonly from: Int32Array
  readonly to: Int32Array
  length = 0
  constructor(capacity: number) {
    this.units = new Uint16Array(capacity)
    this.from = new Int32Array(capacity)
    this.to = new Int32Array(capacity)
  }
  push(unit: number, from: number, to: number): void {
    this.units[this.length] = unit
    this.from[this.length] = from
    this.to[this.length] = to
    this.length += 1
  }
  pushText(text: string, from: number, to: number): void {
    for (let k = 0; k < text.length; k++) this.push(text.charCodeAt(k), from, to)
  }
  text(): string {
    const parts: Array<string> = []
    for (let at = 0; at < this.length; at += 8_192) {
      parts.push(String.fromCharCode(...this.units.subarray(at, Math.min(this.length, at + 8_192))))
    }
    return parts.join("")
  }
}

interface Decoder {
  /** Whether the text can hold anything this decoder decodes. */
  readonly applies: (text: string) => boolean
  /** The decoded characters: never more than the text's. */
  readonly decode: (text: string) => Decoded
}

const hexDigit = (code: number): number =>
  code >= 48 && code <= 57
    ? code - 48
    : code >= 65 && code <= 70
      ? code - 55
      : code >= 97 && code <= 102
        ? code - 87
        : -1

const hexAt = (text: string, at: number, digits: number): number => {
  if (at + digits > text.length) return -1
  let value = 0
  for (let k = 0; k < digits; k++) {
    const digit = hexDigit(text.charCodeAt(at + k))
    if (digit < 0) return -1
    value = value * 16 + digit
  }
  return value
}

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t"
}

/** JSON string escapes (`\uXXXX` in either case, `\/`, `\"`, ...), also mixed with plain characters. */
const jsonDecoder: Decoder = {
  applies: (text) => text.includes("\\"),
  decode: (text) => {
    const out = new Decoded(text.length)
    let i = 0
    while (i < text.length) {
      if (text.charCodeAt(i) === 92 && i + 1 < text.length) {
        const next = text[i + 1] as string
        if (next === "u") {
          const unit = hexAt(text, i + 2, 4)
          if (unit >= 0) {
            out.push(unit, i, i + 6)
            i += 6
            continue
          }
        } else {
          const escaped = JSON_ESCAPES[next]
          if (escaped !== undefined) {
            out.push(escaped.charCodeAt(0), i, i + 2)
            i += 2
            continue
          }
        }
      }
      out.push(text.charCodeAt(i), i, i + 1)
      i += 1
    }
    return out
  }
}

const byteAt = (text: string, at: number): number => (text.charCodeAt(at) === 37 ? hexAt(text, at + 1, 2) : -1)

/** Percent-encoding (either hex case, UTF-8 sequences), and `+` for a space when `plus` (forms). */
const percentDecoder = (plus: boolean): Decoder => ({
  applies: (text) => text.includes("%") || (plus && text.includes("+")),
  decode: (text) => {
    const out = new Decoded(text.length)
    let i = 0
    while (i < text.length) {
      const lead = byteAt(text, i)
      if (lead >= 0) {
        const length = lead < 0x80 ? 1 : lead >= 0xf0 && lead < 0xf8 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0
        const bytes = [lead]
        for (let k = 1; k < length; k++) {
          const byte = byteAt(text, i + 3 * k)
          if (byte < 0x80 || byte > 0xbf) break
          bytes.push(byte)
        }
        if (length > 0 && bytes.length === length) {
          out.pushText(Buffer.from(bytes).toString("utf8"), i, i + 3 * length)
          i += 3 * length
          continue
        }
      }
      const code = text.charCodeAt(i)
      out.push(plus && code === 43 ? 32 : code, i, i + 1)
      i += 1
    }
    return out
  }
})

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  sol: "/",
  equals: "=",
  plus: "+"
}

const ENTITY = /^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/

const entityText = (name: string): string | undefined => {
  const code =
    name.startsWith("#x") || name.startsWith("#X")
      ? Number.parseInt(name.slice(2), 16)
      : name.startsWith("#")
        ? Number.parseInt(name.slice(1), 10)
        : undefined
  if (code === undefined) return NAMED_ENTITIES[name.toLowerCase()]
  return code <= 0x10ffff ? String.fromCodePoint(code) : undefined
}

/** HTML character references (`&#47;`, `&#x2F;`, `&amp;`...): error pages echo what they were sent. */
const htmlDecoder: Decoder = {
  applies: (text) => text.includes("&"),
  decode: (text) => {
    const out = new Decoded(text.length)
    let i = 0
    while (i < text.length) {
      if (text.charCodeAt(i) === 38) {
        const match = ENTITY.exec(text.slice(i, i + 12))
        const decoded = match?.[1] === undefined ? undefined : entityText(match[1])
        if (match !== null && decoded !== undefined) {
          out.pushText(decoded, i, i + match[0].length)
          i += match[0].length
          continue
        }
      }
      out.push(text.charCodeAt(i), i, i + 1)
      i += 1
    }
    return out
  }
}

const JSON_DECODER = jsonDecoder
const PERCENT = percentDecoder(false)
const FORM = percentDecoder(true)

/** A decoder applied to a view: the new view, mapped back to the original text (undefined: nothing decoded). */
const decodeView = (view: View, decoder: Decoder): View | undefined => {
  const decoded = decoder.decode(view.text)
  const text = decoded.text()
  if (text === view.text) return undefined
  const start = new Int32Array(decoded.length)
  const end = new Int32Array(decoded.length)
  for (let i = 0; i < decoded.length; i++) {
    const from = decoded.from[i] as number
    const last = (decoded.to[i] as number) - 1
    start[i] = view.start === undefined ? from : (view.start[from] as number)
    end[i] = view.end === undefined ? last + 1 : (view.end[last] as number)
  }
  return { text, start, end }
}

/** How many decodings deep a text is searched (a form inside JSON is two). */
const MAX_DECODINGS = 2

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
    const forms = new Set([...this.#forms, ...formsOf(value)])
    if (trimmed.length >= MIN_SECRET_LENGTH && trimmed !== value) for (const form of formsOf(trimmed)) forms.add(form)
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
    const ranges: Array<number> = []
    const search = (view: View) => {
      for (const form of this.#forms) {
        let at = view.text.indexOf(form)
        while (at >= 0) {
          const last = at + form.length - 1
          ranges.push(
            view.start === undefined ? at : (view.start[at] as number),
            view.end === undefined ? last + 1 : (view.end[last] as number)
          )
          at = view.text.indexOf(form, at + 1)
        }
      }
    }
    const decoders = this.#hasSpace ? [JSON_DECODER, PERCENT, FORM, htmlDecoder] : [JSON_DECODER, PERCENT, htmlDecoder]
    // Depth first, so that at most MAX_DECODINGS views are held at once.
    const visit = (view: View, depth: number) => {
      search(view)
      if (depth >= MAX_DECODINGS) return
      for (const decoder of decoders) {
        if (!decoder.applies(view.text)) continue
        const decoded = decodeView(view, decoder)
        if (decoded !== undefined) visit(decoded, depth + 1)
      }
    }
    visit({ text, start: undefined, end: undefined }, 0)
    return ranges.length === 0 ? text : redact(text, ranges)
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

/** The text with the ranges (pairs of start, end) replaced by `<redacted>`, overlapping ones merged. */
const redact = (text: string, ranges: Array<number>): string => {
  const pairs: Array<readonly [number, number]> = []
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i] as number, ranges[i + 1] as number])
  pairs.sort((a, b) => a[0] - b[0])
  const parts: Array<string> = []
  let cursor = 0
  let open: [number, number] | undefined
  for (const [start, end] of pairs) {
    if (open !== undefined && start < open[1]) {
      open[1] = Math.max(open[1], end)
      continue
    }
    if (open !== undefined) {
      parts.push(text.slice(cursor, open[0]), REDACTED)
      cursor = open[1]
    }
    open = [start, end]
  }
  if (open !== undefined) parts.push(text.slice(cursor, open[0]), REDACTED)
  parts.push(text.slice(open === undefined ? cursor : open[1]))
  return parts.join("")
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
 * import { Secrets } from "@reword/core"
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
