/**
 * The text mapping between Bitrix24 and Telegram, in one place and both ways.
 *
 * Bitrix24 writes an operator's message in BB-code, signed with the
 * operator's name when the line signs messages: `[b]Anna Smith:[/b][br]See
 * you at 10.` Telegram shows plain text. {@link fromBitrix24} reads a
 * Bitrix24 text into a {@link Mapped} (the operator's name, when signed, and
 * the plain text: line breaks `[br]` as `\n`, formatting tags dropped, a link
 * `[url=https://x]x[/url]` as its text, or `text (url)` when they differ,
 * `&amp;`-style entities decoded); {@link toBitrix24} writes one back
 * (`\n` kept, the signature in front when there is an operator).
 * {@link toTelegram} is what the customer sees: `Anna Smith:\nSee you at 10.`
 * (the name on its own line) or the bare text.
 *
 * Both ways are inverse for a plain text that holds no BB tag and a name
 * without `:`, `[` or a line break: `fromBitrix24(toBitrix24(m))` is `m`.
 * A customer's text that happens to contain a BB tag (`[b]`) reaches
 * Bitrix24 as written (Bitrix24 has no escape for it).
 *
 * @since 0.1.0
 */

/**
 * A message's text, without markup, and who signed it.
 *
 * @since 0.1.0
 */
export interface Mapped {
  readonly text: string
  /** The operator's name, when the text was signed. */
  readonly operator?: string | undefined
}

const SIGNATURE = /^\s*\[b\]([^[\]\n:]{1,128}):\s*\[\/b\]\s*(?:\[br\]|\n)?/i

const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'" }

/** The BB tags that only format: dropped, their content kept. */
const FORMAT =
  /\[\/?(?:b|i|u|s|color(?:=[^\]]*)?|size(?:=[^\]]*)?|font(?:=[^\]]*)?|quote|code|left|right|center|justify)\]/gi

/**
 * A Bitrix24 text (BB-code, maybe signed) into plain text and its signer.
 *
 * @example
 * ```ts
 * import { TextMapping } from "@reword/relay"
 *
 * console.log(TextMapping.fromBitrix24("[b]Anna Smith:[/b][br]See you at [i]10[/i].")) // { text: 'See you at 10.', operator: 'Anna Smith' }
 * ```
 *
 * @since 0.1.0
 */
export const fromBitrix24 = (bb: string): Mapped => {
  const signed = SIGNATURE.exec(bb)
  const body = signed === null ? bb : bb.slice(signed[0].length)
  const text = body
    .replace(/\[br\]/gi, "\n")
    .replace(/\[url=([^\]]*)\]([\s\S]*?)\[\/url\]/gi, (_all, url: string, label: string) =>
      label === url || label === "" ? url : `${label} (${url})`
    )
    .replace(/\[url\]([\s\S]*?)\[\/url\]/gi, "$1")
    .replace(FORMAT, "")
    .replace(/&(amp|lt|gt|quot|#39|apos);/g, (_all, name: string) => ENTITIES[name] ?? "")
  return signed === null ? { text } : { text, operator: (signed[1] as string).trim() }
}

/**
 * A plain text (and its signer) as Bitrix24 shows it.
 *
 * @example
 * ```ts
 * import { TextMapping } from "@reword/relay"
 *
 * console.log(TextMapping.toBitrix24({ text: "See you at 10.", operator: "Anna Smith" })) // [b]Anna Smith:[/b][br]See you at 10.
 * ```
 *
 * @since 0.1.0
 */
export const toBitrix24 = (mapped: Mapped): string =>
  mapped.operator === undefined ? mapped.text : `[b]${mapped.operator}:[/b][br]${mapped.text}`

/**
 * What the customer sees in Telegram: the operator's name on its own line
 * (when signed and `sign` is not `false`), then the text.
 *
 * @since 0.1.0
 */
export const toTelegram = (mapped: Mapped, options: { readonly sign?: boolean | undefined } = {}): string =>
  mapped.operator === undefined || options.sign === false ? mapped.text : `${mapped.operator}:\n${mapped.text}`
