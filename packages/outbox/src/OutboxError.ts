/**
 * The outbox's own errors: {@link StorageError} (the database cannot be used,
 * and why) and {@link NotFound} (the id map has no such message). Delivery
 * failures are never errors of `submit`: they are recorded in the journal.
 *
 * @since 0.1.0
 */
import { Data, Predicate } from "effect"
import type { SqlError } from "effect/sql"

/**
 * Why the database cannot be used.
 *
 * - `Corrupt`: the file is not a database, or is damaged.
 * - `Foreign`: a database of another application (another SQLite application id, or
 *   outbox tables that reword did not make).
 * - `NewerSchema`: made by a newer reword: it is never migrated over; upgrade reword.
 * - `ReadOnly`: the database (or the file, or its directory) refuses writes.
 * - `Full`: the disk or the database is full.
 * - `Unavailable`: the database cannot be reached (PostgreSQL down, a lock held too long).
 * - `Failed`: anything else the database answered.
 *
 * @since 0.1.0
 */
export type StorageProblem = "Corrupt" | "Foreign" | "NewerSchema" | "ReadOnly" | "Full" | "Unavailable" | "Failed"

/**
 * The database cannot be used. Nothing acknowledged is lost: a `submit` that
 * fails with it was not stored, and one that returned was committed.
 *
 * @since 0.1.0
 */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly problem: StorageProblem
  readonly description: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `Outbox storage: ${this.problem}: ${this.description}`
  }
}

/**
 * An edit names a message the id map does not hold (and the outbox was not
 * told to record unknown messages).
 *
 * @since 0.1.0
 */
export class NotFound extends Data.TaggedError("NotFound")<{
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
}> {
  override get message(): string {
    return `Not found: the id map has no message ${JSON.stringify(this.externalMessageId)} for ${this.provider} account ${JSON.stringify(this.account)}: record it when it is sent (Outbox.record), or set unknownMessages: "record"`
  }
}

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
    case 14: // SQLITE_CANTOPEN
      return "Unavailable"
    case 10: // SQLITE_IOERR
      return code >> 8 === 4 || code >> 8 === 13 ? "Full" : "Failed"
    default:
      return "Failed"
  }
}

const pgProblem = (code: string): StorageProblem => {
  if (code === "25006") return "ReadOnly"
  if (code === "53100" || code === "53200" || code === "54000") return "Full"
  if (code.startsWith("08") || code.startsWith("57") || code === "53300") return "Unavailable"
  if (code === "XX001" || code === "XX002") return "Corrupt"
  return "Failed"
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
        : reasonTag === "ConnectionError" || reasonTag === "LockTimeoutError"
          ? "Unavailable"
          : "Failed"
  const detail = detailOf(error)
  return new StorageError({ problem, description: `${doing}: ${detail}`, cause: error })
}

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
