/**
 * Decoded views of a text (JSON-escaped, percent-encoded, form-encoded, HTML
 * references, one inside another), each mapped back to the original, so that
 * a secret found in a view is redacted in the original text.
 */
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

/**
 * Where the forms occur in the text, in it and in every decoded view of it
 * (pairs of start, end in the original text). Depth first, so that at most
 * MAX_DECODINGS views are held at once.
 */
export const rangesOf = (text: string, forms: ReadonlyArray<string>, hasSpace: boolean): Array<number> => {
  const ranges: Array<number> = []
  const search = (view: View) => {
    for (const form of forms) {
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
  const decoders = hasSpace ? [JSON_DECODER, PERCENT, FORM, htmlDecoder] : [JSON_DECODER, PERCENT, htmlDecoder]
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
  return ranges
}

/** The text with the ranges (pairs of start, end) replaced by `<redacted>`, overlapping ones merged. */
export const redactRanges = (text: string, ranges: Array<number>, placeholder: string): string => {
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
      parts.push(text.slice(cursor, open[0]), placeholder)
      cursor = open[1]
    }
    open = [start, end]
  }
  if (open !== undefined) parts.push(text.slice(cursor, open[0]), placeholder)
  parts.push(text.slice(open === undefined ? cursor : open[1]))
  return parts.join("")
}
