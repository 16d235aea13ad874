/**
 * Loading what needs Node's built-in `node:sqlite`: only when SQLite is used
 * (a PostgreSQL outbox never loads it), on a Node that has it (22.16 or later:
 * one clear error otherwise), and without Node 22's "SQLite is an experimental
 * feature" warning on every start (only that warning is left out).
 */

/** The lowest Node whose `node:sqlite` the outbox supports. */
export const MINIMUM_NODE = "22.16.0"

const parts = (version: string): ReadonlyArray<number> =>
  version
    .replace(/^v/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0)

/** Whether this Node version (default: the running one) has the `node:sqlite` the outbox needs. */
export const supported = (version: string = process.versions.node): boolean => {
  const [major = 0, minor = 0] = parts(version)
  const [needMajor = 0, needMinor = 0] = parts(MINIMUM_NODE)
  return major > needMajor || (major === needMajor && minor >= needMinor)
}

/** What an app on an older Node is told when it asks for SQLite (after "SQLite"). */
export const unsupportedMessage = (version: string = process.versions.node): string =>
  `needs Node ${MINIMUM_NODE} or later (its built-in node:sqlite); this is Node ${version}: upgrade Node, or use PostgreSQL`

/** The SQLite `ExperimentalWarning` Node 22 emits when `node:sqlite` is first loaded. */
const isSqliteWarning = (warning: unknown, rest: ReadonlyArray<unknown>): boolean => {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type
  const name = warning instanceof Error ? warning.name : type
  const message = warning instanceof Error ? warning.message : String(warning)
  return name === "ExperimentalWarning" && /\bSQLite\b/i.test(message)
}

let quieting = 0
let original: typeof process.emitWarning | undefined

const quiet = (): void => {
  quieting += 1
  if (quieting > 1) return
  const emit = process.emitWarning
  original = emit
  process.emitWarning = function (this: unknown, warning: unknown, ...rest: Array<unknown>) {
    if (isSqliteWarning(warning, rest)) return
    return (emit as (...args: Array<unknown>) => void).call(process, warning, ...rest)
  } as typeof process.emitWarning
}

const restore = (): void => {
  quieting -= 1
  if (quieting > 0 || original === undefined) return
  process.emitWarning = original
  original = undefined
}

/** The error {@link load} rejects with on a Node without `node:sqlite`. */
export class Unsupported extends Error {
  override readonly name = "Unsupported"
}

/**
 * Runs `load` (a dynamic import of a module that imports `node:sqlite`) with
 * Node's SQLite ExperimentalWarning left out; rejects with {@link Unsupported}
 * on a Node older than {@link MINIMUM_NODE}.
 */
export const load = async <A>(load: () => Promise<A>, version: string = process.versions.node): Promise<A> => {
  if (!supported(version)) throw new Unsupported(`SQLite ${unsupportedMessage(version)}`)
  quiet()
  try {
    return await load()
  } finally {
    restore()
  }
}
