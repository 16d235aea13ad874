/**
 * `@reword/outbox`, loaded when a command needs it: on a Node that has the
 * `node:sqlite` it is built on (22.16 or later; one clear message otherwise),
 * and without Node 22's "SQLite is an experimental feature" warning on every
 * call (only that warning is left out; the CLI is its own process, so the
 * filter stays for the run).
 */

/** The lowest Node the outbox's commands run on. */
export const MINIMUM_NODE = "22.16.0"

const numbers = (version: string): ReadonlyArray<number> =>
  version
    .replace(/^v/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0)

/** Why this Node cannot open an outbox database, or `undefined` when it can. */
export const unsupported = (version: string = process.versions.node): string | undefined => {
  const [major = 0, minor = 0] = numbers(version)
  const [needMajor = 0, needMinor = 0] = numbers(MINIMUM_NODE)
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined
  return `reading an outbox database needs Node ${MINIMUM_NODE} or later (the outbox is built on its node:sqlite); this is Node ${version}`
}

let quiet = false

/** Leaves Node's SQLite ExperimentalWarning out of this process's warnings (every other warning is printed). */
export const quietSqliteWarning = (): void => {
  if (quiet) return
  quiet = true
  const emit = process.emitWarning
  process.emitWarning = function (this: unknown, warning: unknown, ...rest: Array<unknown>) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type
    const name = warning instanceof Error ? warning.name : type
    const message = warning instanceof Error ? warning.message : String(warning)
    if (name === "ExperimentalWarning" && /\bSQLite\b/i.test(message)) return
    return (emit as (...args: Array<unknown>) => void).call(process, warning, ...rest)
  } as typeof process.emitWarning
}

/** Loads `@reword/outbox` without the SQLite warning (check {@link unsupported} first). */
export const load = (): Promise<typeof import("@reword/outbox")> => {
  quietSqliteWarning()
  return import("@reword/outbox")
}
