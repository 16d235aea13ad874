/**
 * The package's tables, created on first use (idempotent, safe when many
 * processes start at once: creation runs under a transaction-scoped advisory
 * lock), and the checks on their names.
 */
import { Effect, Predicate } from "effect"
import type { SqlClient, SqlError } from "effect/sql"

/** Where the token pairs live by default: one row per portal and application. */
export const DEFAULT_TOKEN_TABLE = "reword_bitrix24_tokens"

/** Where the shared buckets live by default: one row per portal. */
export const DEFAULT_BUCKET_TABLE = "reword_bitrix24_buckets"

/** Where the shared limits (`PgLimiter`) live by default: one row per key. */
export const DEFAULT_LIMIT_TABLE = "reword_shared_limits"

const NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** A table name this package accepts (lower-case letters, digits and `_`, at most 63), or a `RangeError`. */
export const checkName = (name: string, option: string): string => {
  if (!NAME.test(name)) {
    throw new RangeError(`${option} must be a PostgreSQL name of lower-case letters, digits and _ (at most 63)`)
  }
  return name
}

/** Serializes `CREATE TABLE IF NOT EXISTS` across processes (two at once may otherwise collide in pg_type). */
const underCreateLock = <A>(sql: SqlClient.SqlClient, create: Effect.Effect<A, SqlError.SqlError>) =>
  sql.withTransaction(
    Effect.andThen(sql`SELECT pg_advisory_xact_lock(hashtextextended('reword.postgres.tables', 0))`, create)
  )

/** Creates the token table when it does not exist. */
export const createTokenTable = (sql: SqlClient.SqlClient, table: string): Effect.Effect<void, SqlError.SqlError> =>
  underCreateLock(
    sql,
    sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      portal text NOT NULL,
      app text NOT NULL,
      access_token text NOT NULL,
      refresh_token text NOT NULL,
      expires_at bigint,
      oauth_url text,
      version bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portal, app)
    )`
  ).pipe(Effect.asVoid)

/** Creates the bucket table when it does not exist. */
export const createBucketTable = (sql: SqlClient.SqlClient, table: string): Effect.Effect<void, SqlError.SqlError> =>
  underCreateLock(
    sql,
    sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      portal text PRIMARY KEY,
      tat double precision NOT NULL
    )`
  ).pipe(Effect.asVoid)

/** Creates the table of the shared limits (one row per key) when it does not exist. */
export const createLimitTable = (sql: SqlClient.SqlClient, table: string): Effect.Effect<void, SqlError.SqlError> =>
  underCreateLock(
    sql,
    sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      key text PRIMARY KEY,
      tat double precision NOT NULL
    )`
  ).pipe(Effect.asVoid)

/** PostgreSQL's own error code (SQLSTATE) somewhere in a cause chain, if any. */
export const sqlState = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && Predicate.isObject(current); depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** What went wrong, in words that never carry a query's parameters (tokens). */
export const describe = (error: unknown): string => {
  const state = sqlState(error)
  if (state === "55P03") return "a lock was not granted within its timeout (55P03 lock_not_available)"
  if (state === "57014") return "the statement was cancelled (57014 query_canceled)"
  if (state !== undefined) return `PostgreSQL answered SQLSTATE ${state}`
  return "PostgreSQL could not be reached or failed"
}
