/**
 * The registry's table and its migrations (`effect/sql`'s `Migrator`), on
 * SQLite or PostgreSQL, and every statement the registry runs. A row holds no
 * secret in clear: `data_key` is the tenant's data key wrapped by a master
 * key, `credentials` its credentials sealed by that data key.
 */
import { OutboxError } from "@reword/outbox"
import { Context, Effect, Predicate, Result, Schema, SchemaTransformation } from "effect"
import { Migrator, SqlClient, type SqlError } from "effect/sql"

/** SQLite's `application_id` of reword's files ("rwrd", as the outbox's). */
const SQLITE_APPLICATION_ID = 0x72777264

export interface Tables {
  readonly tenants: string
  readonly migrations: string
}

export const tablesOf = (prefix: string): Tables => ({
  tenants: `${prefix}tenants`,
  migrations: `${prefix}tenants_migrations`
})

const initial = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE ${sql(t.tenants)} (
      tenant_id TEXT PRIMARY KEY NOT NULL,
      provider TEXT NOT NULL,
      state TEXT NOT NULL,
      settings TEXT NOT NULL,
      data_key TEXT,
      credentials TEXT,
      version BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`
    yield* sql`CREATE INDEX ${sql(`${t.tenants}_state`)} ON ${sql(t.tenants)} (state, tenant_id)`
  })

const storageError = (what: string) => (error: unknown) =>
  error instanceof OutboxError.StorageError ? error : OutboxError.fromSql(error as SqlError.SqlError, what)

/** A SQLite file of another application is refused; a new file is marked as reword's. */
const checkApplication = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    if (!sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })) return
    const [row] = yield* sql<{ application_id: number }>`PRAGMA application_id`
    const id = Number(row?.application_id ?? 0)
    if (id === 0) yield* sql.unsafe(`PRAGMA application_id = ${SQLITE_APPLICATION_ID}`)
    else if (id !== SQLITE_APPLICATION_ID) {
      return yield* new OutboxError.StorageError({
        problem: "Foreign",
        description: `this SQLite file belongs to another application (application_id ${id}): give the registry its own file`
      })
    }
  })

/** Creates or migrates the table. */
export const prepare = (t: Tables): Effect.Effect<void, OutboxError.StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* checkApplication(sql)
    yield* Migrator.make({})({
      loader: Effect.succeed([[1, "initial", Effect.succeed(initial(t))] as const]),
      table: t.migrations
    })
  }).pipe(Effect.mapError(storageError("opening the tenant registry")))

/** Whole numbers as both engines answer them (PostgreSQL's BIGINT arrives as text). */
const Whole = Schema.Union([Schema.Number, Schema.String, Schema.BigInt]).pipe(
  Schema.decodeTo(
    Schema.Number,
    SchemaTransformation.transform({ decode: (value) => Number(value), encode: (value) => value })
  )
)

export const States = ["active", "suspended", "uninstalled"] as const

/** A row as it is read back: decoded once, unknown columns ignored. */
export const Row = Schema.Struct({
  tenant_id: Schema.String,
  provider: Schema.String,
  state: Schema.Literals(States),
  settings: Schema.String,
  data_key: Schema.NullOr(Schema.String),
  credentials: Schema.NullOr(Schema.String),
  version: Whole,
  created_at: Whole,
  updated_at: Whole
})

export type Row = typeof Row.Type

const decodeRows = Schema.decodeUnknownResult(Schema.Array(Row))

/** Rows through their Schema: a row this code cannot read is `Corrupt`, never half-used. */
const rowsOf = (rows: unknown): Effect.Effect<ReadonlyArray<Row>, OutboxError.StorageError> => {
  const decoded = decodeRows(rows)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(
        new OutboxError.StorageError({
          problem: "Corrupt",
          description: "a tenant row does not have the registry's shape (was the table changed by hand?)"
        })
      )
}

export interface Write {
  readonly tenant: string
  readonly provider: string
  readonly state: (typeof States)[number]
  readonly settings: string
  readonly dataKey: string | null
  readonly credentials: string | null
  readonly now: number
}

/** The SQLSTATE of a driver's error, when it carries one. */
const sqlState = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && Predicate.isObject(current); depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Runs `effect` outside a transaction that has ended: a fiber forked under a
 * tenant's lock (a background save) outlives its transaction, and its
 * statements then go to the pool.
 */
const outsideEndedTransaction = <A, E, R>(sql: SqlClient.SqlClient, effect: Effect.Effect<A, E, R>) =>
  Effect.withFiber<A, E, R>((fiber) => {
    const transaction = Context.getOrUndefined(fiber.context, sql.transactionService)
    if (transaction === undefined) return effect
    return Effect.matchEffect(SqlClient.activeTransactionConnection(transaction), {
      onFailure: () =>
        Effect.provideContext(effect, Context.omit(sql.transactionService)(fiber.context) as Context.Context<R>),
      onSuccess: () => effect
    })
  })

/** Why {@link lockOf}'s lock was not taken: another process held it past the wait. */
export interface LockBusy {
  readonly _tag: "LockBusy"
  readonly waitedMs: number
}

/**
 * The tenant's cross-process lock, on PostgreSQL: `effect` runs in a
 * transaction holding a transaction-scoped advisory lock on a hash of the
 * tenant's id (released at its end, and by the server when the process
 * dies); the registry's statements inside it run on that transaction's one
 * connection. Taking it waits at most `timeoutMs` for the lock (PostgreSQL's
 * `lock_timeout`) and a few seconds more for a connection. `undefined` on
 * SQLite (one machine: the in-process single flight is the lock).
 */
export const lockOf = (sql: SqlClient.SqlClient, t: Tables) => {
  if (!sql.onDialectOrElse({ pg: () => true, orElse: () => false })) return undefined
  return <A, E, R>(
    tenant: string,
    timeoutMs: number,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | LockBusy | OutboxError.StorageError, R> =>
    Effect.suspend(() => {
      const key = `reword.tenants\n${t.tenants}\n${tenant}`
      let locked = false
      const busy: LockBusy = { _tag: "LockBusy", waitedMs: timeoutMs }
      const take = Effect.andThen(
        sql`SELECT set_config('lock_timeout', ${`${timeoutMs}ms`}, true)`,
        sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`
      ).pipe(
        Effect.mapError((error) =>
          sqlState(error) === "55P03" ? busy : storageError("taking a tenant's lock")(error)
        ),
        Effect.andThen(
          Effect.sync(() => {
            locked = true
          })
        )
      )
      const body = sql
        .withTransaction(Effect.andThen(take, effect))
        .pipe(
          Effect.mapError((error) =>
            Predicate.isTagged(error, "SqlError") ? storageError("a tenant's lock transaction")(error) : error
          )
        )
      // A connection the pool does not give, or a server that stops answering, is waited for a bounded time.
      const deadline = Effect.andThen(
        Effect.sleep(timeoutMs + 5_000),
        Effect.suspend(() => (locked ? Effect.never : Effect.fail(busy)))
      )
      return Effect.raceFirst(body, deadline) as Effect.Effect<A, E | LockBusy | OutboxError.StorageError, R>
    })
}

/** The statements, on one client and table. */
export const statements = (sql: SqlClient.SqlClient, t: Tables) => {
  const T = sql(t.tenants)
  const run = <A>(what: string, effect: Effect.Effect<A, SqlError.SqlError>) =>
    outsideEndedTransaction(sql, Effect.mapError(effect, storageError(what)))
  const columns = sql`tenant_id, provider, state, settings, data_key, credentials, version, created_at, updated_at`
  return {
    find: (tenant: string) =>
      Effect.map(
        Effect.flatMap(run("reading a tenant", sql`SELECT ${columns} FROM ${T} WHERE tenant_id = ${tenant}`), rowsOf),
        (rows) => rows[0]
      ),
    list: (state: string | undefined, provider: string | undefined, after: string, limit: number) =>
      Effect.flatMap(
        run(
          "listing tenants",
          sql`SELECT ${columns} FROM ${T} WHERE tenant_id > ${after}
            ${state === undefined ? sql`` : sql`AND state = ${state}`}
            ${provider === undefined ? sql`` : sql`AND provider = ${provider}`}
            ORDER BY tenant_id LIMIT ${limit}`
        ),
        rowsOf
      ),
    /** Inserts, or replaces every field but `created_at`; the version moves on. */
    upsert: (w: Write) =>
      Effect.flatMap(
        run(
          "registering a tenant",
          sql`INSERT INTO ${T} AS r (tenant_id, provider, state, settings, data_key, credentials, version, created_at, updated_at)
            VALUES (${w.tenant}, ${w.provider}, ${w.state}, ${w.settings}, ${w.dataKey}, ${w.credentials}, 1, ${w.now}, ${w.now})
            ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, state = excluded.state,
              settings = excluded.settings, data_key = excluded.data_key, credentials = excluded.credentials,
              version = r.version + 1, updated_at = excluded.updated_at
            RETURNING ${columns}`
        ),
        rowsOf
      ),
    /** Compare-and-swap on the version: the new version when it was still `expected`, else nothing. */
    saveCredentials: (tenant: string, credentials: string, expected: number, now: number) =>
      Effect.map(
        run(
          "saving a tenant's credentials",
          sql<{ version: unknown }>`UPDATE ${T} SET credentials = ${credentials}, version = version + 1,
            updated_at = ${now} WHERE tenant_id = ${tenant} AND version = ${expected} AND data_key IS NOT NULL
            RETURNING version`
        ),
        (rows) => (rows[0] === undefined ? undefined : Number(rows[0].version))
      ),
    /** Replaces the settings alone: the credentials and their version are left as they are. */
    updateSettings: (tenant: string, settings: string, now: number) =>
      Effect.map(
        run(
          "changing a tenant's settings",
          sql<{ tenant_id: string }>`UPDATE ${T} SET settings = ${settings}, updated_at = ${now}
            WHERE tenant_id = ${tenant} RETURNING tenant_id`
        ),
        (rows) => rows.length > 0
      ),
    setState: (tenant: string, state: string, now: number) =>
      Effect.map(
        run(
          "changing a tenant's state",
          sql<{ tenant_id: string }>`UPDATE ${T} SET state = ${state}, updated_at = ${now}
            WHERE tenant_id = ${tenant} RETURNING tenant_id`
        ),
        (rows) => rows.length > 0
      ),
    /** Erases the wrapped data key and the sealed credentials (and replaces the settings when given). */
    destroyKey: (tenant: string, settings: string | undefined, now: number) =>
      Effect.map(
        run(
          "destroying a tenant's data key",
          sql<{ tenant_id: string }>`UPDATE ${T} SET data_key = NULL, credentials = NULL, state = 'uninstalled',
            ${settings === undefined ? sql`` : sql`settings = ${settings},`} version = version + 1, updated_at = ${now}
            WHERE tenant_id = ${tenant} RETURNING tenant_id`
        ),
        (rows) => rows.length > 0
      ),
    remove: (tenant: string) =>
      Effect.map(
        run(
          "removing a tenant",
          sql<{ tenant_id: string }>`DELETE FROM ${T} WHERE tenant_id = ${tenant} RETURNING tenant_id`
        ),
        (rows) => rows.length > 0
      ),
    /** Data keys not wrapped by `current` (`v1.<id>.` prefix), a page at a time. */
    wrappedByOthers: (current: string, after: string, limit: number) =>
      run(
        "reading data keys to re-wrap",
        sql<{ tenant_id: string; data_key: string }>`SELECT tenant_id, data_key FROM ${T}
          WHERE tenant_id > ${after} AND data_key IS NOT NULL AND data_key NOT LIKE ${`v1.${current}.%`}
          ORDER BY tenant_id LIMIT ${limit}`
      ),
    /** Replaces a wrapped data key, only while it is still `previous`. */
    rewrap: (tenant: string, previous: string, next: string) =>
      Effect.map(
        run(
          "re-wrapping a data key",
          sql<{ tenant_id: string }>`UPDATE ${T} SET data_key = ${next}
            WHERE tenant_id = ${tenant} AND data_key = ${previous} RETURNING tenant_id`
        ),
        (rows) => rows.length > 0
      )
  }
}

export type Statements = ReturnType<typeof statements>
