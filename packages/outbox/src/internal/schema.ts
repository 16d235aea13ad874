/**
 * The outbox's tables, their versioned migrations (run by `effect/sql`'s
 * `Migrator`), and the check that refuses a database this reword must not
 * touch: not a database, another application's, or a newer schema.
 */
import { Effect } from "effect"
import { Migrator, SqlClient, type SqlError } from "effect/sql"
import { fromSql, StorageError } from "../OutboxError.ts"

/** SQLite's `application_id` of an outbox file ("rwrd"). */
export const SQLITE_APPLICATION_ID = 0x72777264

/**
 * The schema this version of the package writes and reads. 1: the tables
 * (0.1.0); 2: messages found by their external id alone (`reword history`);
 * 3: on PostgreSQL, work announced with `NOTIFY` (a trigger); 4: due messages
 * read in claim order from one index, and a message inserted already due
 * announced too; 5: the provider's chat and connection ids and the message's
 * kind in the id map (Telegram); 6: messages keyed by tenant (existing ones
 * are tenant `default`), and due messages found tenant by tenant.
 */
export const SCHEMA_VERSION = 6

/** The table names, under a prefix (so several outboxes, or test runs, share one database). */
export interface Tables {
  readonly prefix: string
  readonly migrations: string
  readonly messages: string
  readonly edits: string
  readonly attempts: string
}

export const tables = (prefix: string): Tables => {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) {
    throw new Error(`the table prefix must be lowercase letters, digits and _, at most 41 characters: ${prefix}`)
  }
  return {
    prefix,
    migrations: `${prefix}migrations`,
    messages: `${prefix}messages`,
    edits: `${prefix}edits`,
    attempts: `${prefix}attempts`
  }
}

const initial = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE ${sql(t.messages)} (
      message_key TEXT PRIMARY KEY NOT NULL,
      provider TEXT NOT NULL,
      account TEXT NOT NULL,
      external_message_id TEXT NOT NULL,
      external_chat_id TEXT,
      external_author_id TEXT,
      provider_message_id TEXT,
      recorded_at BIGINT NOT NULL,
      latest_version INTEGER NOT NULL DEFAULT 0,
      confirmed_version INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'idle',
      next_attempt_at BIGINT,
      settle_until BIGINT,
      claimed_by TEXT,
      claimed_until BIGINT,
      failures INTEGER NOT NULL DEFAULT 0,
      last_reason TEXT,
      updated_at BIGINT NOT NULL
    )`
    yield* sql`CREATE INDEX ${sql(`${t.prefix}messages_due`)} ON ${sql(t.messages)} (state, next_attempt_at)`
    yield* sql`CREATE TABLE ${sql(t.edits)} (
      message_key TEXT NOT NULL,
      version INTEGER NOT NULL,
      request TEXT,
      text TEXT,
      text_hash TEXT NOT NULL,
      source TEXT,
      asked_at BIGINT NOT NULL,
      status TEXT NOT NULL,
      confirmed_at BIGINT,
      PRIMARY KEY (message_key, version)
    )`
    yield* sql`CREATE TABLE ${sql(t.attempts)} (
      id TEXT PRIMARY KEY NOT NULL,
      message_key TEXT NOT NULL,
      version INTEGER NOT NULL,
      worker TEXT NOT NULL,
      started_at BIGINT NOT NULL,
      finished_at BIGINT,
      outcome TEXT,
      reason TEXT
    )`
    yield* sql`CREATE INDEX ${sql(`${t.prefix}attempts_message`)} ON ${sql(t.attempts)} (message_key, version)`
  })

/** Version 2: a message found by its external id alone, whatever its provider and account. */
const byExternalId = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE INDEX ${sql(`${t.prefix}messages_external`)} ON ${sql(t.messages)} (external_message_id)`
  })

/** The PostgreSQL channel on which work that arrives is announced (`LISTEN`/`NOTIFY`). */
export const channelOf = (t: Tables): string => `${t.prefix}work`

/**
 * Version 3: on PostgreSQL, a message that becomes due (a new version, or a
 * dead letter re-driven) is announced on {@link channelOf}, by whichever
 * process writes it (an app, another instance, the CLI), once per transaction;
 * waiting workers wake at once instead of at their next poll. Nothing on SQLite.
 */
const notifyWork = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const pg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    if (!pg) return
    const fn = sql(`${t.prefix}notify_work`)
    // The prefix is checked (lowercase letters, digits, _): it is safe in the function's text.
    yield* sql.unsafe(`CREATE FUNCTION "${t.prefix}notify_work"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('${channelOf(t)}', ''); RETURN NULL; END $$`)
    yield* sql`CREATE TRIGGER ${fn} AFTER UPDATE ON ${sql(t.messages)} FOR EACH ROW
      WHEN (NEW.state = 'pending' AND (NEW.latest_version <> OLD.latest_version OR OLD.state <> 'pending'))
      EXECUTE FUNCTION ${fn}()`
  })

/**
 * Version 4: the due messages in the order a worker claims them
 * (`next_attempt_at`, then key) straight from one index, so that a claim reads
 * one page of a backlog of any size, not the whole backlog sorted; and, on
 * PostgreSQL, a message inserted already due (a first edit written in one
 * statement with its message) announced as an update is.
 */
const claimOrder = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE INDEX ${sql(`${t.prefix}messages_claim`)} ON ${sql(t.messages)} (state, next_attempt_at, message_key)`
    yield* sql`DROP INDEX ${sql(`${t.prefix}messages_due`)}`
    const pg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    if (!pg) return
    const fn = sql(`${t.prefix}notify_work`)
    yield* sql`CREATE TRIGGER ${sql(`${t.prefix}notify_new_work`)} AFTER INSERT ON ${sql(t.messages)} FOR EACH ROW
      WHEN (NEW.state = 'pending') EXECUTE FUNCTION ${fn}()`
  })

/**
 * Version 5: the id map holds the provider's chat id and connection id (a
 * provider that keys a message by chat, as Telegram, and its business
 * connections) and what the message's text is (`text` or `caption`).
 */
const providerIds = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // One column per statement: SQLite adds one at a time.
    yield* sql`ALTER TABLE ${sql(t.messages)} ADD COLUMN provider_chat_id TEXT`
    yield* sql`ALTER TABLE ${sql(t.messages)} ADD COLUMN provider_connection_id TEXT`
    yield* sql`ALTER TABLE ${sql(t.messages)} ADD COLUMN kind TEXT`
  })

/**
 * Version 6: every message belongs to a tenant (one installation: a Bitrix24
 * portal, an Acquire account); the rows there are tenant `default`, their keys
 * unchanged (a message of another tenant has a key of its own, see
 * `Store.keyOf`). The second index lists the tenants with due messages, one
 * index probe each, and a tenant's due messages in claim order: a claim takes
 * its share of each tenant's backlog without reading the others'.
 */
const tenants = (t: Tables) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ALTER TABLE ${sql(t.messages)} ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'`
    yield* sql`CREATE INDEX ${sql(`${t.prefix}messages_tenant_claim`)} ON ${sql(t.messages)} (state, tenant, next_attempt_at, message_key)`
  })

/** Every migration, by id: add new ones at the end, never change a released one. */
export const migrations = (
  t: Tables
): ReadonlyArray<readonly [number, string, Effect.Effect<void, unknown, SqlClient.SqlClient>]> => [
  [1, "initial", initial(t)],
  [2, "by_external_id", byExternalId(t)],
  [3, "notify_work", notifyWork(t)],
  [4, "claim_order", claimOrder(t)],
  [5, "provider_ids", providerIds(t)],
  [6, "tenants", tenants(t)]
]

const tableExists = (sql: SqlClient.SqlClient, name: string) =>
  sql`SELECT 1 AS one FROM ${sql(name)} WHERE 1 = 0`.pipe(
    Effect.as(true),
    Effect.catchTag("SqlError", (error) =>
      /no such table|does not exist/i.test(
        `${error.message} ${String((error.reason.cause as Error | undefined)?.message)}`
      )
        ? Effect.succeed(false)
        : Effect.fail(error)
    )
  )

/** A SQLite file of another application (another `application_id`) is `Foreign`; any other database passes. */
export const checkApplication = (sql: SqlClient.SqlClient): Effect.Effect<void, StorageError> =>
  Effect.gen(function* () {
    if (!sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })) return
    const [row] = yield* sql<{ application_id: number }>`PRAGMA application_id`
    const id = Number(row?.application_id ?? 0)
    if (id !== 0 && id !== SQLITE_APPLICATION_ID) {
      return yield* new StorageError({
        problem: "Foreign",
        description: `this SQLite file belongs to another application (application_id ${id}): give the outbox its own file`
      })
    }
  }).pipe(Effect.mapError((error) => (error instanceof StorageError ? error : fromSql(error, "checking the database"))))

const MAX_PREFIXES_NAMED = 10

/** The prefixes of the outbox tables the database holds (a migrations table beside a messages table). */
const prefixesIn = (sql: SqlClient.SqlClient): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError> =>
  Effect.map(
    sql.onDialectOrElse({
      sqlite: () => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`,
      orElse: () =>
        sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = ANY (current_schemas(false))`
    }),
    (rows) => {
      const names = new Set(rows.map((row) => String(row.name)))
      return [...names]
        .filter((name) => name.endsWith("migrations") && names.has(`${name.slice(0, -"migrations".length)}messages`))
        .map((name) => name.slice(0, -"migrations".length))
        .sort()
    }
  )

const newerSchema = (latest: number) =>
  new StorageError({
    problem: "NewerSchema",
    description: `the database has outbox schema version ${latest}, newer than the ${SCHEMA_VERSION} this reword knows: upgrade @reword/outbox (it was not changed)`
  })

const latestMigration = (sql: SqlClient.SqlClient, t: Tables) =>
  Effect.map(
    sql<{ latest: number | string | null }>`SELECT MAX(migration_id) AS latest FROM ${sql(t.migrations)}`,
    ([row]) => Number(row?.latest ?? 0)
  )

/**
 * Checks, without writing anything, that the database holds an outbox under
 * these tables that this reword can read: what a tool (the journal, the CLI)
 * opens. Not an outbox (no tables with this prefix) is `Foreign`, naming the
 * prefixes the database does have.
 */
export const check = (t: Tables): Effect.Effect<void, StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* checkApplication(sql)
    if (!(yield* tableExists(sql, t.migrations))) {
      const prefixes = yield* prefixesIn(sql)
      const named = prefixes.slice(0, MAX_PREFIXES_NAMED).map((prefix) => JSON.stringify(prefix))
      return yield* new StorageError({
        problem: "Foreign",
        description: `this database holds no outbox tables with the prefix ${JSON.stringify(t.prefix)}: ${
          prefixes.length === 0
            ? "it holds no outbox at all (name the database the app's outbox writes)"
            : `it holds outbox tables with the prefix${prefixes.length === 1 ? "" : "es"} ${named.join(", ")}${prefixes.length > named.length ? ", ..." : ""} (check the table prefix)`
        }`
      })
    }
    const latest = yield* latestMigration(sql, t)
    if (latest > SCHEMA_VERSION) return yield* newerSchema(latest)
  }).pipe(
    Effect.mapError((error) => (error instanceof StorageError ? error : fromSql(error, "opening the outbox database")))
  )

/**
 * Checks that the database is one this reword may use, then migrates it to
 * {@link SCHEMA_VERSION}. Fails with a `StorageError` (`Corrupt`, `Foreign`,
 * `NewerSchema`, `ReadOnly`, ...) and changes nothing when it may not.
 */
export const prepare = (
  t: Tables,
  upTo: number = SCHEMA_VERSION
): Effect.Effect<void, StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
    yield* checkApplication(sql)
    const hasMigrations = yield* tableExists(sql, t.migrations)
    if (hasMigrations) {
      const latest = yield* latestMigration(sql, t)
      if (latest > SCHEMA_VERSION) return yield* newerSchema(latest)
    } else if (yield* tableExists(sql, t.messages)) {
      return yield* new StorageError({
        problem: "Foreign",
        description: `the table ${t.messages} exists but was not made by reword's outbox: choose another table prefix`
      })
    }
    const ran = yield* Migrator.make({})({
      loader: Effect.succeed(
        migrations(t)
          .filter(([id]) => id <= upTo)
          .map(([id, name, effect]) => [id, name, Effect.succeed(effect)] as const)
      ),
      table: t.migrations
    })
    if (sqlite && (ran.length > 0 || !hasMigrations)) {
      yield* sql.unsafe(`PRAGMA application_id = ${SQLITE_APPLICATION_ID}`)
    }
  }).pipe(
    Effect.mapError((error) => (error instanceof StorageError ? error : fromSql(error, "opening the outbox database")))
  )
