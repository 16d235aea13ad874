/**
 * What a worker holds for as long as it runs, beside the statements it makes:
 *
 * - the lock of its id, when the app gives it a stable `workerId`: while it
 *   is held, no other live process runs a worker of that id (a second one
 *   fails to start with a configuration error); once it is taken, the
 *   previous holder is provably gone, so its claims are this worker's to take
 *   back at once. On PostgreSQL, a session advisory lock on a connection of
 *   the worker's own (the server releases it when the process dies, however
 *   it dies); on SQLite, an exclusive lock on a small lock file beside the
 *   database (the operating system releases it when the process dies);
 * - on PostgreSQL, `LISTEN` on the outbox's channel on that same connection:
 *   work submitted by any process wakes the worker at once (polling stays as
 *   the fallback, and takes over while the connection is lost).
 *
 * A PostgreSQL pool of one connection (`maxConnections: 1`) says the app
 * allows one session: the worker then opens none, polls, and does not take a
 * restarted id's claims back before their lease ends.
 */
import { createHash } from "node:crypto"
import type { DatabaseSync } from "node:sqlite"
import { OptionCheck } from "@reword/core/adapter"
import { type Config, Duration, Effect, Queue, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { channelOf, type Tables } from "./schema.ts"

export interface Session {
  /** The worker id was given and its previous holder is provably gone: its claims are to be taken back. */
  readonly ownsId: boolean
}

export interface SessionOptions {
  readonly workerId: string | undefined
  readonly notify: boolean
  readonly wake: Queue.Queue<void>
}

/** How long a lost connection waits before the worker opens its session again. */
const RECONNECT = Duration.seconds(5)

const inUse = (workerId: string, where: string): Config.ConfigError =>
  OptionCheck.toConfigError([
    {
      path: "workerId",
      message: `${JSON.stringify(workerId)} is in use by another live worker (${where}): give each process its own id`
    }
  ])

/** A 64-bit key for `pg_try_advisory_lock`, from the outbox's tables and the worker id. */
const lockKey = (t: Tables, workerId: string): string =>
  BigInt.asIntN(
    64,
    BigInt(
      `0x${createHash("sha256").update(`reword-outbox\u001f${t.prefix}\u001f${workerId}`).digest("hex").slice(0, 16)}`
    )
  ).toString()

interface PgLike {
  readonly config?: object
  readonly poolStats?: Effect.Effect<{ readonly max: number }>
}

/** The session on PostgreSQL, on a connection of its own; `undefined` when the pool allows one session only. */
const openPg = (sql: SqlClient.SqlClient, t: Tables, options: SessionOptions) =>
  Effect.gen(function* () {
    const client = sql as unknown as PgLike
    if (client.config === undefined || client.poolStats === undefined) return { ownsId: false }
    if ((yield* client.poolStats).max < 2) return { ownsId: false }
    if (options.workerId === undefined && !options.notify) return { ownsId: false }
    const { PgConnection } = yield* Effect.promise(() => import("@effect/sql-pg"))
    const config = client.config as Parameters<typeof PgConnection.make>[0]
    const workerId = options.workerId
    /** Opens the connection, takes the id's lock, listens; `first`: a lock held elsewhere fails the start. */
    const connect = (first: boolean) =>
      Effect.gen(function* () {
        const connection = yield* PgConnection.make(config)
        if (workerId !== undefined) {
          const result = yield* connection.query("SELECT pg_try_advisory_lock($1::bigint) AS locked", [
            lockKey(t, workerId)
          ])
          if (result.rows[0]?.locked !== true) {
            if (first) return yield* Effect.fail(inUse(workerId, "a session advisory lock on PostgreSQL"))
            yield* Effect.logError(
              `reword outbox: worker id ${JSON.stringify(workerId)} is now held by another process`
            )
          }
        }
        return options.notify ? yield* connection.listen(channelOf(t)) : undefined
      })
    const pump = <E>(notifications: Queue.Dequeue<unknown, E> | undefined) =>
      notifications === undefined
        ? Effect.never
        : Effect.forever(Effect.andThen(Queue.take(notifications), Queue.offer(options.wake, undefined)))
    const lost = (error: unknown) =>
      Effect.logWarning(`reword outbox: the worker's session was lost (${String(error)}); polling until it is back`)
    const first = yield* connect(true).pipe(
      Effect.catchTag("SqlError", (error) =>
        Effect.as(
          Effect.logWarning(`reword outbox: no session of its own for the worker (${error.message}); it polls`),
          "unavailable" as const
        )
      )
    )
    if (first === "unavailable") return { ownsId: false }
    // After a lost connection: a new one, the lock again, LISTEN again; polling meanwhile.
    const again = Effect.forever(
      Effect.scoped(Effect.flatMap(connect(false), pump)).pipe(
        Effect.catch(lost),
        Effect.andThen(Effect.sleep(RECONNECT))
      )
    )
    yield* Effect.forkIn(
      pump(first).pipe(Effect.catch(lost), Effect.andThen(Effect.sleep(RECONNECT)), Effect.andThen(again)),
      yield* Effect.scope
    )
    return { ownsId: workerId !== undefined }
  })

/** The id's lock on SQLite: an exclusive lock on a lock file beside the database, for the worker's life. */
const openSqlite = (sql: SqlClient.SqlClient, options: SessionOptions) =>
  Effect.gen(function* () {
    const workerId = options.workerId
    if (workerId === undefined) return { ownsId: false }
    const rows = yield* Effect.orElseSucceed(sql<{ name: string; file: string }>`PRAGMA database_list`, () => [])
    const file = rows.find((row) => row.name === "main")?.file ?? ""
    // An in-memory database is this connection's alone: nobody else can hold its claims.
    if (file === "") return { ownsId: true }
    const path = `${file}-worker-${createHash("sha256").update(workerId).digest("hex").slice(0, 16)}.lock`
    const held = yield* Effect.acquireRelease(
      Effect.sync((): { readonly db: DatabaseSync } | { readonly error: unknown } => {
        let db: DatabaseSync | undefined
        try {
          // Loaded here, not imported: a PostgreSQL outbox never loads node:sqlite (Node 20 has none).
          const { DatabaseSync: Database } = process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite")
          db = new Database(path, { timeout: 0 })
          db.exec("PRAGMA locking_mode = EXCLUSIVE")
          db.exec("BEGIN EXCLUSIVE")
          return { db }
        } catch (error) {
          db?.close()
          return { error }
        }
      }),
      (held) => Effect.sync(() => ("db" in held && held.db.isOpen ? held.db.close() : undefined))
    )
    if ("db" in held) return { ownsId: true }
    const code = (held.error as { errcode?: unknown }).errcode
    if (typeof code === "number" && (code & 0xff) === 5)
      return yield* Effect.fail(inUse(workerId, `the lock file ${path}`))
    // The lock file cannot be made (a read-only directory...): claims come back when their lease ends.
    yield* Effect.logWarning(
      `reword outbox: cannot lock ${path} (${String(held.error)}); a restart waits for the lease`
    )
    return { ownsId: false }
  })

/** Opens the worker's session in the scope (see the module's description). */
export const open = (
  sql: SqlClient.SqlClient,
  t: Tables,
  options: SessionOptions
): Effect.Effect<Session, Config.ConfigError, Scope.Scope> =>
  sql.onDialectOrElse({
    pg: () => openPg(sql, t, options),
    sqlite: () => openSqlite(sql, options),
    orElse: () => Effect.succeed({ ownsId: false })
  })
