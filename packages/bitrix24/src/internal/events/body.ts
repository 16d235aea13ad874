/**
 * An event body into a tree of plain values, bounded: Bitrix24 posts events
 * `application/x-www-form-urlencoded` with PHP-style nested keys
 * (`auth[member_id]=...&data[MESSAGES][0][message][id][0]=...`), where every
 * scalar is a string and arrays are objects with numeric keys; some senders
 * post JSON. Objects are made without a prototype (a key `__proto__` is a
 * key like any other), and the size, the depth and the number of fields are
 * capped before anything is built.
 */

/** What bounds a body. */
export interface Limits {
  /** Bytes of the body. */
  readonly maxBytes: number
  /** Levels of nesting (`a[b][c]` is 3). */
  readonly maxDepth: number
  /** Fields of a form, or values of a JSON document. */
  readonly maxFields: number
}

/** Why a body is not a tree. */
export type BodyProblem =
  | { readonly _tag: "TooLarge"; readonly description: string }
  | { readonly _tag: "TooDeep"; readonly description: string }
  | { readonly _tag: "Malformed"; readonly description: string }

export type Tree = string | number | boolean | null | ReadonlyArray<Tree> | { readonly [key: string]: Tree }

type Node = { [key: string]: Node | string }

const newNode = (): Node => Object.create(null) as Node

const decodePart = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

/** `a[b][]` into `["a", "b", ""]`; `undefined` when the brackets do not close. */
const pathOf = (key: string): ReadonlyArray<string> | undefined => {
  const open = key.indexOf("[")
  if (open <= 0) return open === 0 ? undefined : [key]
  const segments = [key.slice(0, open)]
  const pattern = /\[([^[\]]*)\]/y
  pattern.lastIndex = open
  while (pattern.lastIndex < key.length) {
    const match = pattern.exec(key)
    if (match === null) return undefined
    segments.push(match[1] as string)
  }
  return segments
}

/** Puts `value` at `path` in `root`; a problem when a path crosses a value already set. */
const put = (root: Node, path: ReadonlyArray<string>, value: string): string | undefined => {
  let node = root
  for (let i = 0; i < path.length; i++) {
    let segment = path[i] as string
    if (segment === "") segment = String(Object.keys(node).length)
    if (i === path.length - 1) {
      if (typeof node[segment] === "object") return `the field ${path.join(".")} is both a value and a group`
      node[segment] = value
      return undefined
    }
    const next = node[segment]
    if (typeof next === "string") return `the field ${path.slice(0, i + 1).join(".")} is both a value and a group`
    if (next === undefined) {
      const created = newNode()
      node[segment] = created
      node = created
    } else node = next
  }
  return undefined
}

/** A form body into a tree. */
export const parseForm = (text: string, limits: Limits): Tree | BodyProblem => {
  const root = newNode()
  const pairs = text.length === 0 ? [] : text.split("&")
  if (pairs.length > limits.maxFields) {
    return { _tag: "TooLarge", description: `more than ${limits.maxFields} fields` }
  }
  for (const pair of pairs) {
    if (pair === "") continue
    const at = pair.indexOf("=")
    const key = decodePart(at < 0 ? pair : pair.slice(0, at))
    const value = decodePart(at < 0 ? "" : pair.slice(at + 1))
    if (key === undefined || value === undefined)
      return { _tag: "Malformed", description: "a field is not percent-encoded correctly" }
    const path = pathOf(key)
    if (path === undefined) return { _tag: "Malformed", description: "a field's name has unbalanced brackets" }
    if (path.length > limits.maxDepth) {
      return { _tag: "TooDeep", description: `a field is nested deeper than ${limits.maxDepth} levels` }
    }
    const problem = put(root, path, value)
    if (problem !== undefined) return { _tag: "Malformed", description: problem }
  }
  return root as Tree
}

/** The deepest nesting of a JSON text, read without parsing it (strings skipped), stopping past `max`. */
const jsonDepth = (text: string, max: number): number => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max) return depth
    } else if (c === 93 || c === 125) depth--
  }
  return depth
}

/** A JSON body into a tree: its depth checked before it is parsed, its size after. */
export const parseJson = (text: string, limits: Limits): Tree | BodyProblem => {
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth) {
    return { _tag: "TooDeep", description: `the document is nested deeper than ${limits.maxDepth} levels` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text, (_key, value: unknown) => {
      // A key `__proto__` stays a plain key in JSON.parse's own objects; copied into a null-prototype object.
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const copy = newNode()
        for (const [k, v] of Object.entries(value)) copy[k] = v as Node
        return copy
      }
      return value
    })
  } catch {
    return { _tag: "Malformed", description: "the body is not valid JSON" }
  }
  const stack: Array<readonly [unknown, number]> = [[parsed, 1]]
  let count = 0
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as readonly [unknown, number]
    if (++count > limits.maxFields) return { _tag: "TooLarge", description: `more than ${limits.maxFields} values` }
    if (value === null || typeof value !== "object") continue
    if (depth > limits.maxDepth) {
      return { _tag: "TooDeep", description: `the document is nested deeper than ${limits.maxDepth} levels` }
    }
    for (const inner of Object.values(value)) stack.push([inner, depth + 1])
  }
  return parsed as Tree
}

/** Whether a parse answered a problem. */
export const isProblem = (value: Tree | BodyProblem): value is BodyProblem =>
  value !== null &&
  typeof value === "object" &&
  !Array.isArray(value) &&
  Object.getPrototypeOf(value) === Object.prototype &&
  typeof (value as { _tag?: unknown })._tag === "string"

/**
 * A PHP-style list (an object whose keys are `0`..`n-1`, or an array) as an
 * array; `undefined` for anything else. Empty lists may simply be missing.
 */
export const listOf = (value: unknown): ReadonlyArray<unknown> | undefined => {
  if (Array.isArray(value)) return value
  if (value === null || typeof value !== "object") return undefined
  const keys = Object.keys(value)
  if (!keys.every((key, index) => key === String(index))) return undefined
  return keys.map((key) => (value as Record<string, unknown>)[key])
}
