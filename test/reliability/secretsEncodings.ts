/**
 * The encodings a hostile server may echo a secret in, and an independent
 * check (not reword's own scrub) for any rendering of a secret in a text.
 * Shared by `secrets-echo.test.ts` and the fault matrix's echo row.
 */

export interface Secret {
  readonly name: string
  readonly value: string
}

const hex = (unit: string, upper: boolean) => {
  const digits = unit.charCodeAt(0).toString(16).padStart(4, "0")
  return `\\u${upper ? digits.toUpperCase() : digits}`
}

/** `mask[i]` says whether character `i` is written as `\uXXXX`. */
const unicodeMixed = (value: string, mask: ReadonlyArray<boolean>, upper: boolean) =>
  value
    .split("")
    .map((unit, i) => (mask[i % mask.length] === true || unit === '"' || unit === "\\" ? hex(unit, upper) : unit))
    .join("")

const percentMixed = (value: string, mask: ReadonlyArray<boolean>, lower: boolean) =>
  [...value]
    .map((char, i) => {
      if (/^[A-Za-z0-9]$/.test(char) && mask[i % mask.length] !== true) return char
      const code = `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`
      return lower ? code.toLowerCase() : code
    })
    .join("")

/** Each encoding writes text that fits inside a JSON string literal. */
export const ENCODINGS: ReadonlyArray<{
  readonly name: string
  readonly encode: (value: string, mask: ReadonlyArray<boolean>, flag: boolean) => string
}> = [
  { name: "raw", encode: (v) => v },
  { name: "JSON-escaped", encode: (v) => JSON.stringify(v).slice(1, -1) },
  { name: "PHP escaped slashes", encode: (v) => JSON.stringify(v).slice(1, -1).replaceAll("/", "\\/") },
  { name: "\\u-escaped (mixed, either case)", encode: unicodeMixed },
  { name: "fully \\u-escaped", encode: (v, _mask, upper) => unicodeMixed(v, [true], upper) },
  { name: "percent-encoded (mixed, either case)", encode: percentMixed },
  { name: "encodeURIComponent", encode: (v) => encodeURIComponent(v) },
  { name: "form-encoded", encode: (v) => new URLSearchParams({ refresh_token: v }).toString() },
  { name: "base64", encode: (v, _mask, aligned) => Buffer.from(`${aligned ? "" : "x:"}${v}`).toString("base64") },
  { name: "base64url", encode: (v, _mask, aligned) => Buffer.from(`${aligned ? "" : "x"}${v}`).toString("base64url") },
  { name: "HTML references", encode: (v) => [...v].map((c) => `&#${c.codePointAt(0)};`).join("") }
]

/** A secret in every encoding at once, as one text (for an echo that holds them all). */
export const everyEncoding = (value: string): string =>
  ENCODINGS.flatMap((encoding) => [
    encoding.encode(value, [true, false], true),
    encoding.encode(value, [false, true, true], false)
  ]).join(" ")

/** Every way a secret could show in a text. */
export const renderingsOf = (secret: Secret): ReadonlyArray<Secret> => {
  const v = secret.value
  const forms = new Set<string>([
    v,
    JSON.stringify(v).slice(1, -1),
    JSON.stringify(v).slice(1, -1).replaceAll("/", "\\/"),
    encodeURIComponent(v),
    encodeURIComponent(v).toLowerCase(),
    new URLSearchParams({ x: v }).toString().slice(2),
    ...[0, 1, 2].flatMap((offset) => {
      const encoded = Buffer.from(`${"xx".slice(0, offset)}${v}`).toString("base64")
      const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + v.length)) / 6))
      return [core, core.replaceAll("+", "-").replaceAll("/", "_")]
    })
  ])
  return [...forms].filter((value) => value.length >= 4).map((value) => ({ name: secret.name, value }))
}

/** Any rendering of any secret in any text, the texts also decoded once (`\u` escapes, percent-decoding). */
export const encodedLeaks = (
  haystack: ReadonlyArray<string>,
  secrets: ReadonlyArray<Secret>
): ReadonlyArray<string> => {
  const decodedToo = haystack.flatMap((text) => {
    const out = [
      text,
      text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    ]
    try {
      out.push(decodeURIComponent(text.replaceAll("+", " ")))
    } catch {
      // Not percent-encoded text.
    }
    return out
  })
  const found: Array<string> = []
  for (const secret of secrets) {
    for (const rendering of renderingsOf(secret)) {
      for (const text of decodedToo) {
        const at = text.indexOf(rendering.value)
        if (at >= 0) found.push(`${secret.name} in: ${text.slice(Math.max(0, at - 60), at)}<SECRET>`)
      }
    }
  }
  return found
}
