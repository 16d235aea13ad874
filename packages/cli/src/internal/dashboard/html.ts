/**
 * HTML built so that nothing read from the database can become markup: the
 * `html` template escapes every value it is given (text from the outbox, ids,
 * reasons), and only `Html` values (built by `html` itself) are inserted as
 * they are. Every text is also scrubbed of the known secrets and its control
 * and bidi characters shown as `\uXXXX` before it is escaped (`Clean`).
 */

/** Markup built by {@link html}: the only values inserted unescaped. */
export class Html {
  readonly markup: string
  constructor(markup: string) {
    this.markup = markup
  }
  toString(): string {
    return this.markup
  }
}

/** What a template takes: text (escaped), numbers, markup, or lists of them; `undefined` and `false` print nothing. */
export type Value = Html | string | number | undefined | false | ReadonlyArray<Value>

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;"
}

/** Text as HTML text or a quoted attribute value: `& < > " ' \`` escaped. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"'`]/g, (character) => ENTITIES[character] ?? "")

const render = (value: Value): string => {
  if (value instanceof Html) return value.markup
  if (value === undefined || value === false) return ""
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : ""
  if (typeof value === "string") return escapeHtml(value)
  return value.map(render).join("")
}

/** Markup with every interpolated value escaped (unless it is markup already). */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Value>): Html => {
  let markup = strings[0] ?? ""
  for (const [index, value] of values.entries()) markup += render(value) + (strings[index + 1] ?? "")
  return new Html(markup)
}

/** How text from the database is made printable before it is escaped: secrets scrubbed, controls made visible. */
export type Clean = (text: string) => string

/** A link's query string, every part encoded. */
export const query = (params: Readonly<Record<string, string | undefined>>): string => {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, value)
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}
