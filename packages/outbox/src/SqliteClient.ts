/**
 * A thin `effect/sql` client over Node's built-in `node:sqlite` (`DatabaseSync`):
 * the embedded default of the outbox, with nothing to install and no native
 * build. One connection per database, shared through a semaphore; WAL journal;
 * a busy timeout so that another process holding the write lock is waited for;
 * transactions start with `BEGIN IMMEDIATE` (the write lock is taken at once,
 * so two writers never deadlock on a lock upgrade).
 *
 * Effect 4.1 has no released SQLite client (`@effect/sql-sqlite-node` 4.x is a
 * beta that does not load under effect 4.1.0): this one follows its design,
 * on the `SqlClient.make` and `SqlClient.makeSqliteAcquirers` that effect 4.1
 * ships, so that one SQL implementation of the outbox serves SQLite and
 * PostgreSQL alike.
 *
 * @since 0.1.0
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"
import { Effect, Layer, type Scope, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, SqlError, Statement } from "effect/sql"

/**
 * How to open the database.
 *
 * @since 0.1.0
 */
export interface Options {
  /** A file path, or `:memory:` for a database that lives as long as the client. */
  readonly filename: string
  /** Open read-only: every write fails (as `ReadOnly` in the outbox's errors). Default false. */
  readonly readOnly?: boolean | undefined
  /** How long a statement waits for another process's write lock, in milliseconds. Default 5,000. */
  readonly busyTimeoutMs?: number | undefined
  /**
   * `FULL` (the default) makes each commit durable on disk before it returns;
   * `NORMAL` is faster in WAL mode and survives a process crash, not a power loss.
   */
  readonly synchronous?: "FULL" | "NORMAL" | undefined
}

const normalizeRows = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<Record<string, unknown>> =>
  rows.map((row) => ({ ...row }))

/** node:sqlite puts the SQLite result code in `errcode`; effect's classifier reads `errno`. */
const causeWithErrno = (cause: unknown): unknown => {
  if (typeof cause !== "object" || cause === null || !("errcode" in cause) || "errno" in cause) return cause
  const errcode = (cause as { readonly errcode: unknown }).errcode
  if (typeof errcode !== "number") return cause
  return Object.assign(Object.create(cause as object) as object, {
    errno: errcode,
    message: (cause as { message?: unknown }).message
  })
}

const sqlError = (cause: unknown, message: string, operation: string): SqlError.SqlError =>
  new SqlError.SqlError({ reason: SqlError.classifySqliteError(causeWithErrno(cause), { message, operation }) })

/**
 * Opens the database as an `effect/sql` `SqlClient` (dialect `sqlite`). The
 * connection closes with the scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<SqlClient.SqlClient, SqlError.SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          new DatabaseSync(options.filename, {
            readOnly: options.readOnly ?? false,
            timeout: options.busyTimeoutMs ?? 5_000
          }),
        catch: (cause) => sqlError(cause, `Failed to open ${options.filename}`, "open")
      }),
      (db) => Effect.sync(() => (db.isOpen ? db.close() : undefined))
    )
    if (options.readOnly !== true) {
      yield* Effect.try({
        try: () => {
          db.exec("PRAGMA journal_mode = WAL")
          db.exec(`PRAGMA synchronous = ${options.synchronous ?? "FULL"}`)
        },
        catch: (cause) => sqlError(cause, `Failed to open ${options.filename}`, "open")
      })
    }

    const cache = new Map<string, StatementSync>()
    const prepare = (sql: string): StatementSync => {
      let statement = cache.get(sql)
      if (statement === undefined) {
        statement = db.prepare(sql)
        if (cache.size >= 200) cache.delete(cache.keys().next().value as string)
        cache.set(sql, statement)
      }
      return statement
    }

    const run = (
      sql: string,
      params: ReadonlyArray<unknown>,
      mode: "rows" | "raw" | "values",
      prepared: boolean
    ): Effect.Effect<ReadonlyArray<never>, SqlError.SqlError> =>
      Effect.try({
        try: () => {
          const statement = prepared ? prepare(sql) : db.prepare(sql)
          const args = params as Array<SQLInputValue>
          if (statement.columns().length > 0) {
            if (mode !== "values") return normalizeRows(statement.all(...args)) as ReadonlyArray<never>
            statement.setReturnArrays(true)
            try {
              return statement.all(...args) as unknown as ReadonlyArray<never>
            } finally {
              statement.setReturnArrays(false)
            }
          }
          const result = statement.run(...args)
          // executeRaw answers the driver's own result, as other SQLite clients do.
          return (
            mode === "raw" ? { changes: result.changes, lastInsertRowid: result.lastInsertRowid } : []
          ) as ReadonlyArray<never>
        },
        catch: (cause) => sqlError(cause, "Failed to execute statement", "execute")
      })

    const connection: SqlConnection.Connection = {
      execute: (sql, params, transformRows) =>
        transformRows ? Effect.map(run(sql, params, "rows", true), transformRows) : run(sql, params, "rows", true),
      executeRaw: (sql, params) => run(sql, params, "raw", true),
      executeValues: (sql, params) => run(sql, params, "values", true),
      executeValuesUnprepared: (sql, params) => run(sql, params, "values", false),
      executeUnprepared: (sql, params, transformRows) =>
        transformRows
          ? Effect.map(run(sql, params ?? [], "rows", false), transformRows)
          : run(sql, params ?? [], "rows", false),
      executeStream: (sql, params, transformRows) =>
        Stream.fromIterableEffect(
          transformRows ? Effect.map(run(sql, params, "rows", true), transformRows) : run(sql, params, "rows", true)
        )
    }

    const semaphore = yield* Semaphore.make(1)
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore,
      isTransaction: () => db.isTransaction
    })
    return yield* SqlClient.make({
      ...acquirers,
      compiler: Statement.makeCompilerSqlite(),
      driver: "node-sqlite",
      beginTransaction: "BEGIN IMMEDIATE",
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/**
 * The client as a layer (with its `Reactivity`).
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.effect(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
