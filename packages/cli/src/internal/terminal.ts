/**
 * Text made safe for a terminal: every character that a terminal (or a
 * program reading the output) would act on instead of showing is written as
 * a visible `\uXXXX` escape. That covers ANSI CSI and OSC sequences (ESC, and
 * the 8-bit CSI, OSC, DCS, ST...), so no answer can move the cursor, change
 * colours, set the window title or write to the clipboard (OSC 52); the other
 * C0 and C1 controls and DEL; and the Unicode bidi controls (which reorder
 * what a line seems to say). A `\uXXXX` escape is also valid inside a JSON
 * string with the same meaning, so a JSON line stays valid JSON and parses to
 * the same value.
 */
import { format } from "node:util"
import type { Console } from "effect"

/**
 * C0 controls, DEL and C1 controls, and the bidi controls: ALM (U+061C), LRM
 * and RLM (U+200E, U+200F), the embeddings and overrides (U+202A to U+202E),
 * the isolates (U+2066 to U+2069).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_BUT_NEWLINE_AND_TAB =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const escaped = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * The text with every unsafe character escaped. With `lines: true`, newlines
 * and tabs stay (for text of several lines that reword itself wrote); a line
 * of output escapes them too, so that no answer can forge another line.
 */
export const safe = (text: string, options: { readonly lines?: boolean } = {}): string =>
  text.replace(options.lines === true ? UNSAFE_BUT_NEWLINE_AND_TAB : UNSAFE, escaped)

const WRITERS = ["log", "error", "warn", "info", "debug", "trace"] as const

/**
 * A console whose writing methods print through `clean` (the arguments
 * formatted as `console.log` would, then cleaned), so that logs and anything
 * else printed within its reach are scrubbed and escaped.
 */
export const sanitizing = (base: Console.Console, clean: (text: string) => string): Console.Console => {
  const wrapped: Console.Console = Object.create(base)
  for (const name of WRITERS) {
    const write = base[name].bind(base)
    Object.defineProperty(wrapped, name, {
      value: (...args: ReadonlyArray<unknown>) => write(clean(format(...args))),
      enumerable: true
    })
  }
  return wrapped
}
