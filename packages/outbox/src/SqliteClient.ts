/**
 * The outbox's SQLite client: `@effect/sql-sqlite-node` (Node's built-in
 * `node:sqlite`, nothing to install, no native build), with what the outbox
 * needs on top of it:
 *
 * - another process's lock is waited for without blocking the event loop
 *   (`node:sqlite` is synchronous: its own busy wait freezes the process). Each
 *   native wait is at most 20 ms; a statement that finds the
 *   database busy is tried again after an asynchronous pause, until
 *   `busyTimeoutMs` has passed;
 * - transactions start with `BEGIN IMMEDIATE` (the write lock is taken at once,
 *   so two writers never deadlock on a lock upgrade): that `BEGIN` is what waits;
 * - `synchronous = FULL` by default: a commit is on disk before it returns;
 * - `secure_delete`, and a write-ahead log cut back after each checkpoint:
 *   content the outbox erases (delivered texts with `keepText: false`) leaves
 *   the file and its WAL;
 * - a database file deleted or replaced while open fails every statement and
 *   commit from then on (SQLite would write on into the unlinked file, and
 *   every edit acknowledged after would be lost);
 * - read-only opening: the file is never switched to WAL nor written.
 *
 * One connection, shared through a semaphore, as in `@effect/sql-sqlite-node`.
 *
 * @since 0.1.0
 */
import { statSync } from "node:fs"
import type * as NodeSqlite from "@effect/sql-sqlite-node/SqliteClient"
import { Duration, Effect, Layer, type Scope, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, SqlError, Statement } from "effect/sql"
import * as NodeSqliteModule from "./internal/nodeSqlite.ts"

/**
 * How to open the database.
 *
 * @since 0.1.0
 */
export interface Options {
  /** A file path, or `:memory:` for a database that lives as long as the client. */
  readonly filename: string
  /**
   * Open read-only: every write fails (as `ReadOnly` in the outbox's errors), and
   * the file is left as it is (no switch to WAL). Default false.
   */
  readonly readOnly?: boolean | undefined
  /**
   * How long a statement waits for another process's lock, in milliseconds, without
   * blocking the event loop. Default 5,000.
   */
  readonly busyTimeoutMs?: number | undefined
  /**
   * `FULL` (the default) makes each commit durable on disk before it returns;
   * `NORMAL` is faster in WAL mode and survives a process crash, not a power loss.
   */
  readonly synchronous?: "FULL" | "NORMAL" | undefined
}

/** The longest one native wait for another process's lock blocks the event loop, in milliseconds. */
const NATIVE_WAIT_MS = 20

/** The longest asynchronous pause between two tries of a statement that found the database busy. */
const MAX_PAUSE_MS = 100

/** SQLite's extended code for a database file moved or deleted since it was opened. */
const SQLITE_READONLY_DBMOVED = 1032

interface PackageConnection extends SqlConnection.Connection {
  readonly isTransaction: () => boolean
}

const isPackageConnection = (conn: SqlConnection.Connection): conn is PackageConnection =>
  typeof (conn as Partial<PackageConnection>).isTransaction === "function"

const isBusy = (error: SqlError.SqlError): boolean => error.reason._tag === "LockTimeoutError"

/** Tries `attempt` again, after an asynchronous pause, while the database is busy and time remains. */
const waitingOutBusy =
  (busyTimeoutMs: number) =>
  <A>(attempt: Effect.Effect<A, SqlError.SqlError>): Effect.Effect<A, SqlError.SqlError> =>
    Effect.suspend(() => {
      const deadline = performance.now() + busyTimeoutMs
      const loop = (pause: number): Effect.Effect<A, SqlError.SqlError> =>
        Effect.catchIf(
          attempt,
          (error) => isBusy(error) && performance.now() < deadline,
          () =>
            Effect.andThen(
              Effect.sleep(Duration.millis(Math.max(1, Math.min(pause, deadline - performance.now())))),
              Effect.suspend(() => loop(Math.min(pause * 2, MAX_PAUSE_MS)))
            )
        )
      return loop(2)
    })

/**
 * Fails once the file at `filename` is not the one opened (deleted, or replaced
 * by another); a database in memory always passes.
 */
const fileGuard = (filename: string): (() => Effect.Effect<void, SqlError.SqlError>) => {
  if (filename === "" || filename === ":memory:" || filename.startsWith("file:")) return () => Effect.void
  const identity = (): string | undefined => {
    const stats = statSync(filename, { throwIfNoEntry: false })
    return stats === undefined ? undefined : `${stats.dev}:${stats.ino}`
  }
  const opened = identity()
  return () =>
    Effect.suspend(() => {
      const now = identity()
      if (now !== undefined && now === opened) return Effect.void
      const cause = Object.assign(
        new Error(
          `the database file ${filename} was ${now === undefined ? "deleted" : "replaced"} while it was open: nothing more is stored in it (reopen it to go on)`
        ),
        { errcode: SQLITE_READONLY_DBMOVED, errno: SQLITE_READONLY_DBMOVED, code: "SQLITE_READONLY_DBMOVED" }
      )
      return Effect.fail(
        new SqlError.SqlError({
          reason: SqlError.classifySqliteError(cause, { message: cause.message, operation: "execute" })
        })
      )
    })
}

/**
 * The package's connection, with statements outside a transaction (`BEGIN
 * IMMEDIATE` among them) waiting out a busy database asynchronously, and
 * checked against the file's deletion once they ran.
 */
const guarded = (
  conn: PackageConnection,
  busyTimeoutMs: number,
  checkFile: () => Effect.Effect<void, SqlError.SqlError>
): PackageConnection => {
  const waiting = waitingOutBusy(busyTimeoutMs)
  const outside = <A>(run: () => Effect.Effect<A, SqlError.SqlError>): Effect.Effect<A, SqlError.SqlError> =>
    Effect.suspend(() => {
      if (conn.isTransaction()) return run()
      return Effect.tap(waiting(Effect.suspend(run)), () => (conn.isTransaction() ? Effect.void : checkFile()))
    })
  return {
    isTransaction: () => conn.isTransaction(),
    execute: (sql, params, transformRows) => outside(() => conn.execute(sql, params, transformRows)),
    executeRaw: (sql, params) => outside(() => conn.executeRaw(sql, params)),
    executeValues: (sql, params) => outside(() => conn.executeValues(sql, params)),
    executeValuesUnprepared: (sql, params) => outside(() => conn.executeValuesUnprepared(sql, params)),
    executeUnprepared: (sql, params, transformRows) =>
      outside(() => conn.executeUnprepared(sql, params, transformRows)),
    // The package streams nothing: a stream is the rows of one execution.
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(outside(() => conn.execute(sql, params, transformRows)))
  }
}

const pragmasOf = (options: Options): ReadonlyArray<string> =>
  options.readOnly === true
    ? []
    : [
        "PRAGMA journal_mode = WAL",
        `PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`,
        "PRAGMA secure_delete = ON",
        "PRAGMA journal_size_limit = 0"
      ]

/**
 * `@effect/sql-sqlite-node`, loaded when a SQLite database is opened, not when this module is imported: it
 * imports `node:sqlite`, which Node 20 lacks and which prints an ExperimentalWarning on Node 22 (left out here);
 * a PostgreSQL outbox never loads it. On a Node without it, a `SqlError` naming the version needed.
 */
const loadDriver: Effect.Effect<typeof NodeSqlite, SqlError.SqlError> = Effect.tryPromise({
  try: () => NodeSqliteModule.load(() => import("@effect/sql-sqlite-node/SqliteClient")),
  catch: (cause) =>
    new SqlError.SqlError({
      reason: SqlError.classifySqliteError(cause, {
        message: cause instanceof Error ? cause.message : String(cause),
        operation: "open"
      })
    })
})

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
    const readOnly = options.readOnly === true
    const busyTimeoutMs = Math.max(0, options.busyTimeoutMs ?? 5_000)
    const driver = yield* loadDriver
    const inner = yield* driver.make({
      filename: options.filename,
      readonly: readOnly,
      // Switched below, where waiting for another process does not block.
      disableWAL: true,
      busyTimeout: Duration.millis(Math.min(NATIVE_WAIT_MS, busyTimeoutMs))
    })
    // Held for the client's life: every statement goes through the connection below.
    const reserved = yield* inner.reserve
    if (!isPackageConnection(reserved)) return yield* Effect.die(new Error("@effect/sql-sqlite-node: no isTransaction"))
    const checkFile = fileGuard(options.filename)
    const connection = guarded(reserved, busyTimeoutMs, checkFile)
    for (const pragma of pragmasOf(options)) yield* connection.executeUnprepared(pragma, [], undefined)

    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: (conn) => conn.isTransaction()
    })
    return yield* SqlClient.make({
      ...acquirers,
      compiler: Statement.makeCompilerSqlite(),
      driver: "sqlite-node",
      beginTransaction: readOnly ? "BEGIN" : "BEGIN IMMEDIATE",
      // A commit into a file deleted meanwhile is lost: it fails.
      commit: (conn) => Effect.andThen(conn.executeUnprepared("COMMIT", [], undefined), checkFile()),
      releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
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
