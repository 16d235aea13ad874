/**
 * The forms of one secret searched for in a text: itself and its base64 forms.
 */
const utf8 = new TextEncoder()

/**
 * The base64 characters that depend on the secret's bytes only, for the
 * secret starting at each of the 3 byte alignments inside a longer base64
 * text (`Basic base64(id:secret)`), in the standard and the URL alphabet.
 */
const base64Forms = (value: string, minLength: number): Array<string> => {
  const bytes = utf8.encode(value)
  const forms: Array<string> = []
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length + 2)
    padded.set(bytes, offset)
    const encoded = Buffer.from(padded).toString("base64")
    const first = Math.ceil((8 * offset) / 6)
    const last = Math.floor((8 * (offset + bytes.length)) / 6)
    const core = encoded.slice(first, last)
    if (core.length >= minLength) {
      forms.push(core)
      const url = core.replaceAll("+", "-").replaceAll("/", "_")
      if (url !== core) forms.push(url)
    }
  }
  return forms
}

/** What is searched for in every decoded view of a text: the secret itself and its base64 forms. */
export const formsOf = (value: string, minLength: number): Array<string> => [value, ...base64Forms(value, minLength)]
