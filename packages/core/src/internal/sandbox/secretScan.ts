/**
 * Finding the credentials in a sandbox request, so that the log scrubs them
 * wherever else they appear.
 */
import * as Untrusted from "../../Untrusted.ts"

/** The values of secret fields in a JSON value (bounded like every walk over untrusted data: `Untrusted`). */
export const secretsInJson = (value: unknown, found: Set<string>, fields: ReadonlySet<string>) => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  let visited = 0
  while (stack.length > 0 && visited < Untrusted.MAX_NODES) {
    const [node, depth] = stack.pop() as readonly [unknown, number]
    visited += 1
    if (node === null || typeof node !== "object" || depth >= Untrusted.MAX_DEPTH) continue
    for (const [key, entry] of Untrusted.entries(node)) {
      if (fields.has(key.toLowerCase()) && (typeof entry === "string" || typeof entry === "number")) {
        found.add(String(entry))
      } else if (entry !== null && typeof entry === "object") {
        stack.push([entry, depth + 1])
      }
    }
  }
}

/** A header's credential: the value after its scheme (`Bearer abc` gives `abc`), and the whole value. */
export const secretsInHeader = (value: string, found: Set<string>) => {
  found.add(value)
  const space = value.indexOf(" ")
  if (space > 0) {
    const credential = value.slice(space + 1).trim()
    if (credential.length > 0) found.add(credential)
    if (/^basic$/i.test(value.slice(0, space))) {
      const decoded = Buffer.from(credential, "base64").toString("utf8")
      for (const part of [decoded, ...decoded.split(":")]) if (part.length > 0) found.add(part)
    }
  }
}
