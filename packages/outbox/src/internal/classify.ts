/**
 * How a database failure is classified into a {@link StorageError}'s reason:
 * SQLite's result codes, PostgreSQL's SQLSTATEs, and Effect's own
 * classification of the driver's error when neither is found.
 */
import { Predicate } from "effect"
import type { SqlError } from "effect/sql"
import { reasonOf, StorageError, type StorageProblem } from "../OutboxError.ts"

const numeric = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined)

/** The first object in a cause chain that carries a database's own error code. */
const codesOf = (error: unknown): { readonly sqlite?: number; readonly pg?: string } => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && Predicate.isObject(current); depth++) {
    const errcode = numeric((current as { errcode?: unknown }).errcode)
    if (errcode !== undefined) return { sqlite: errcode }
    const code = (current as { code?: unknown }).code
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return { pg: code }
    current = (current as { cause?: unknown }).cause
  }
  return {}
}

const sqliteProblem = (code: number): StorageProblem => {
  switch (code & 0xff) {
    case 8: // SQLITE_READONLY
      return "ReadOnly"
    case 13: // SQLITE_FULL
      return "Full"
    case 11: // SQLITE_CORRUPT
    case 26: // SQLITE_NOTADB
      return "Corrupt"
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
      return "Unavailable"
    case 14: // SQLITE_CANTOPEN: the directory is missing, the path is a directory, or access is refused
      return "Missing"
    case 3: // SQLITE_PERM
    case 23: // SQLITE_AUTH
      return "Denied"
    case 10: // SQLITE_IOERR
      return code >> 8 === 4 || code >> 8 === 13 ? "Full" : "Failed"
    default:
      return "Failed"
  }
}

const pgProblem = (code: string): StorageProblem => {
  if (code === "25006") return "ReadOnly"
  if (code === "53100" || code === "53200" || code === "54000") return "Full"
  if (code === "40P01" || code === "40001") return "Conflict"
  if (code === "3D000") return "Missing"
  if (code.startsWith("28") || code === "42501") return "Denied"
  if (code.startsWith("08") || code.startsWith("57") || code === "53300") return "Unavailable"
  if (code === "XX001" || code === "XX002") return "Corrupt"
  return "Failed"
}

/** Effect's own classification of a driver error, when no database code was found. */
const tagProblem = (tag: string | undefined): StorageProblem => {
  switch (tag) {
    case "ConnectionError":
    case "LockTimeoutError":
    case "StatementTimeoutError":
      return "Unavailable"
    case "AuthenticationError":
    case "AuthorizationError":
      return "Denied"
    case "DeadlockError":
    case "SerializationError":
      return "Conflict"
    default:
      return "Failed"
  }
}

/**
 * Classifies a database failure for a person and for code.
 *
 * @since 0.1.0
 */
export const fromSql = (error: SqlError.SqlError | unknown, doing: string): StorageError => {
  if (error instanceof StorageError) return error
  const codes = codesOf(error)
  const reasonTag = Predicate.hasProperty(error, "reason") ? (error.reason as { _tag?: string })._tag : undefined
  const problem: StorageProblem =
    codes.sqlite !== undefined
      ? sqliteProblem(codes.sqlite)
      : codes.pg !== undefined
        ? pgProblem(codes.pg)
        : tagProblem(reasonTag)
  const detail = detailOf(error)
  return new StorageError({ reason: reasonOf(problem, `${doing}: ${detail}`), cause: error })
}

/** Whether a failure is a collision of concurrent transactions, which trying again resolves. */
export const isConflict = (error: unknown): boolean =>
  error instanceof StorageError ? error.problem === "Conflict" : fromSql(error, "").problem === "Conflict"

const detailOf = (error: unknown): string => {
  let current: unknown = error
  let last = "unknown error"
  for (let depth = 0; depth < 8 && Predicate.isObject(current); depth++) {
    const message = (current as { message?: unknown }).message
    if (typeof message === "string" && message.length > 0) last = message
    current = (current as { cause?: unknown }).cause
  }
  return last
}
