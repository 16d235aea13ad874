/**
 * The relay's tables, beside the outbox's in the same database (SQLite or
 * PostgreSQL, through the outbox's SQL clients): the inbox of accepted
 * events (each written before the handler answers 2xx, processed from there,
 * replayed after a crash), the relay's own writes (what echo suppression
 * compares an event with), and the links of operators' messages sent to
 * Telegram.
 */
import { createHash } from "node:crypto"
import type { InboundEvent } from "@reword/core"
import { Effect } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"

export interface Tables {
  readonly inbox: string
  readonly own: string
  readonly links: string
}

export const tablesOf = (prefix: string): Tables => ({
  inbox: `${prefix}inbox`,
  own: `${prefix}own_writes`,
  links: `${prefix}links`
})

export type State = "pending" | "relayed" | "echo" | "ignored" | "failed"

/** One row of the inbox. */
export interface Row {
  readonly seq: number
  readonly provider: string
  readonly kind: string
  readonly event: InboundEvent.InboundEvent
  readonly receivedAt: number
  readonly state: State
  readonly attempts: number
  readonly outcome: string | undefined
}

export const hashOf = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

const isPg = (sql: SqlClient.SqlClient) => sql.onDialectOrElse({ pg: () => true, orElse: () => false })

/** Creates the tables when missing. */
export const prepare = (sql: SqlClient.SqlClient, t: Tables): Effect.Effect<void, SqlError.SqlError> =>
  Effect.gen(function* () {
    const seq = isPg(sql) ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${t.inbox} (
        seq ${seq},
        dedupe_key TEXT UNIQUE,
        message_key TEXT NOT NULL,
        order_key TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL,
        outcome TEXT,
        done_at BIGINT,
        claimed_by TEXT,
        claimed_until BIGINT
      )`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_due ON ${t.inbox} (state, next_at)`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_done ON ${t.inbox} (done_at)`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_message ON ${t.inbox} (message_key, seq)`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_order ON ${t.inbox} (order_key, state, seq)`,
      `CREATE TABLE IF NOT EXISTS ${t.own} (
        side_key TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        written_at BIGINT NOT NULL,
        PRIMARY KEY (side_key, text_hash)
      )`,
      `CREATE TABLE IF NOT EXISTS ${t.links} (
        b24_key TEXT PRIMARY KEY,
        external_message_id TEXT NOT NULL,
        sent_at BIGINT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${t.links}_external ON ${t.links} (external_message_id)`
    ]
    for (const statement of statements) yield* sql.unsafe(statement)
  })

/**
 * The key the events of one message are relayed in order by: `provider:account:externalMessageId`, its
 * new message, edits and deletion alike (an edit waits until the message it edits was relayed).
 */
export const orderKeyOf = (event: InboundEvent.InboundEvent): string =>
  `${event.provider}:${event.account}:${event.ids.externalMessageId}`

/** The key of a message on its side: `provider:account:externalMessageId`. */
export const messageKeyOf = (event: InboundEvent.InboundEvent): string =>
  `${event.provider}:${event.account}:${event._tag === "MessageAdded" ? "added:" : ""}${event.ids.externalMessageId}`

const textOf = (event: InboundEvent.InboundEvent): string => ("text" in event ? event.text : "")

/**
 * Writes an accepted event, unless it is a repeat: Telegram's by its update
 * (`eventId`, a unique key), Bitrix24's (no event id) when the newest event
 * of the same message has the same kind and text. Answers whether it was new.
 */
export const accept = (
  sql: SqlClient.SqlClient,
  t: Tables,
  event: InboundEvent.InboundEvent,
  now: number
): Effect.Effect<boolean, SqlError.SqlError> =>
  Effect.gen(function* () {
    const messageKey = messageKeyOf(event)
    const textHash = hashOf(textOf(event))
    const byUpdate = event.provider === "telegram"
    if (!byUpdate) {
      if (isPg(sql)) yield* sql`SELECT pg_advisory_xact_lock(hashtext(${messageKey}))`
      const [newest] = yield* sql<{ kind: string; text_hash: string }>`SELECT kind, text_hash FROM ${sql(t.inbox)}
        WHERE message_key = ${messageKey} ORDER BY seq DESC LIMIT 1`
      if (newest !== undefined && newest.kind === event._tag && newest.text_hash === textHash) return false
    }
    const at = nowOf(sql, now)
    // One statement: a repeat of a Telegram update meets the unique key and inserts nothing.
    const inserted = yield* sql<{ seq: number | string }>`INSERT INTO ${sql(t.inbox)}
      (dedupe_key, message_key, order_key, text_hash, provider, account, kind, event, received_at, state, attempts,
        next_at)
      VALUES (${byUpdate ? event.eventId : null}, ${messageKey}, ${orderKeyOf(event)}, ${textHash}, ${event.provider},
        ${event.account},
        ${event._tag}, ${JSON.stringify(event)}, ${at}, 'pending', 0, ${at})
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq`
    return inserted.length > 0
  })

/** One inbox row of an event, as `accept` and `acceptUpdates` insert it. */
const rowValues = (sql: SqlClient.SqlClient, event: InboundEvent.InboundEvent, now: number) => {
  const at = nowOf(sql, now)
  return sql`(${event.provider === "telegram" ? event.eventId : null}, ${messageKeyOf(event)}, ${orderKeyOf(event)},
    ${hashOf(textOf(event))}, ${event.provider}, ${event.account}, ${event._tag}, ${JSON.stringify(event)}, ${at},
    'pending', 0, ${at})`
}

/**
 * Writes many Telegram events (each with its update's `eventId`) in one statement, a repeat of an update
 * already stored inserting nothing: answers the `eventId`s written.
 */
export const acceptUpdates = (
  sql: SqlClient.SqlClient,
  t: Tables,
  events: ReadonlyArray<InboundEvent.InboundEvent>,
  now: number
): Effect.Effect<ReadonlySet<string>, SqlError.SqlError> =>
  events.length === 0
    ? Effect.succeed(new Set<string>())
    : Effect.map(
        sql<{ dedupe_key: string }>`INSERT INTO ${sql(t.inbox)}
          (dedupe_key, message_key, order_key, text_hash, provider, account, kind, event, received_at, state,
            attempts, next_at)
          VALUES ${sql.csv(events.map((event) => rowValues(sql, event, now)))}
          ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key`,
        (rows) => new Set(rows.map((row) => row.dedupe_key))
      )

/**
 * The time of a statement: the database's on PostgreSQL (`statement_timestamp()`, so that workers on
 * machines whose clocks differ agree on leases and due times), the process's (`at`) on SQLite, which is one
 * machine. Milliseconds since the epoch.
 */
export const nowOf = (sql: SqlClient.SqlClient, at: number): Statement.Fragment =>
  isPg(sql) ? sql.literal("(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint") : sql`${at}`

interface RawRow {
  readonly seq: number | string
  readonly provider: string
  readonly kind: string
  readonly event: string
  readonly received_at: number | string
  readonly state: State
  readonly attempts: number | string
  readonly outcome: string | null
}

const rowOf = (raw: RawRow): Row => ({
  seq: Number(raw.seq),
  provider: raw.provider,
  kind: raw.kind,
  event: JSON.parse(raw.event) as InboundEvent.InboundEvent,
  receivedAt: Number(raw.received_at),
  state: raw.state,
  attempts: Number(raw.attempts),
  outcome: raw.outcome ?? undefined
})

/**
 * Claims the pending rows due now for `worker`, oldest first, for `leaseMs`: a row another worker holds (its
 * lease not yet over) is skipped, and so is a row of a message with an older event still pending, so that
 * the events of one message are relayed one at a time, in order, whichever worker takes them. One
 * statement (on PostgreSQL, rows another worker is claiming at that moment are skipped: `SKIP LOCKED`).
 */
export const claimDue = (
  sql: SqlClient.SqlClient,
  t: Tables,
  options: { readonly worker: string; readonly leaseMs: number; readonly now: number; readonly limit: number }
) => {
  const now = nowOf(sql, options.now)
  const skipLocked = isPg(sql) ? sql.literal("FOR UPDATE SKIP LOCKED") : sql.literal("")
  return Effect.map(
    sql<RawRow>`UPDATE ${sql(t.inbox)} SET claimed_by = ${options.worker}, claimed_until = ${now} + ${options.leaseMs}
      WHERE seq IN (
        SELECT i.seq FROM ${sql(t.inbox)} i
        WHERE i.state = 'pending' AND i.next_at <= ${now}
          AND (i.claimed_until IS NULL OR i.claimed_until < ${now})
          AND NOT EXISTS (SELECT 1 FROM ${sql(t.inbox)} o
            WHERE o.order_key = i.order_key AND o.state = 'pending' AND o.seq < i.seq)
        ORDER BY i.seq LIMIT ${options.limit} ${skipLocked})
      RETURNING seq, provider, kind, event, received_at, state, attempts, outcome`,
    (rows) => rows.map(rowOf).sort((a, b) => a.seq - b.seq)
  )
}

/** Every row, oldest first (the journal of both directions), optionally of one state. */
export const list = (sql: SqlClient.SqlClient, t: Tables, state?: State, limit = 1000) =>
  Effect.map(
    state === undefined
      ? sql<RawRow>`SELECT seq, provider, kind, event, received_at, state, attempts, outcome FROM ${sql(t.inbox)}
          ORDER BY seq LIMIT ${limit}`
      : sql<RawRow>`SELECT seq, provider, kind, event, received_at, state, attempts, outcome FROM ${sql(t.inbox)}
          WHERE state = ${state} ORDER BY seq LIMIT ${limit}`,
    (rows) => rows.map(rowOf)
  )

/** Records what processing a row came to, if `worker` still holds it (a lease taken over settles nothing). */
export const settle = (
  sql: SqlClient.SqlClient,
  t: Tables,
  seq: number,
  worker: string,
  outcome: { readonly state: State; readonly outcome: string; readonly retryInMs?: number | undefined },
  now: number
) => {
  const at = nowOf(sql, now)
  return sql`UPDATE ${sql(t.inbox)} SET state = ${outcome.state}, outcome = ${outcome.outcome.slice(0, 500)},
    attempts = attempts + 1, next_at = ${at} + ${outcome.retryInMs ?? 0},
    done_at = ${outcome.state === "pending" ? null : at}, claimed_by = NULL, claimed_until = NULL
    WHERE seq = ${seq} AND claimed_by = ${worker}`
}

/**
 * Deletes up to `limit` rows done (`relayed`, `echo`, `ignored`) more than `retentionMs` ago; `failed`
 * rows stay until they are dealt with. Answers how many went.
 */
export const prune = (
  sql: SqlClient.SqlClient,
  t: Tables,
  options: { readonly retentionMs: number; readonly now: number; readonly limit: number }
) =>
  Effect.map(
    sql<{ seq: number | string }>`DELETE FROM ${sql(t.inbox)} WHERE seq IN (
      SELECT seq FROM ${sql(t.inbox)} WHERE done_at IS NOT NULL
        AND done_at < ${nowOf(sql, options.now)} - ${options.retentionMs}
        AND state IN ('relayed', 'echo', 'ignored')
      ORDER BY done_at LIMIT ${options.limit}) RETURNING seq`,
    (rows) => rows.length
  )

/** Remembers a text the relay wrote to a message (its side's key), for echo suppression. */
export const rememberOwn = (sql: SqlClient.SqlClient, t: Tables, sideKey: string, text: string, now: number) =>
  Effect.gen(function* () {
    const textHash = hashOf(text)
    yield* sql`DELETE FROM ${sql(t.own)} WHERE side_key = ${sideKey} AND text_hash = ${textHash}`
    yield* sql`INSERT INTO ${sql(t.own)} (side_key, text_hash, written_at)
      VALUES (${sideKey}, ${textHash}, ${nowOf(sql, now)})`
  })

/** Whether the relay itself wrote this text to this message within `windowMs`. */
export const isOwn = (
  sql: SqlClient.SqlClient,
  t: Tables,
  sideKey: string,
  text: string,
  windowMs: number,
  now: number
) =>
  Effect.map(
    sql<{ n: number }>`SELECT 1 AS n FROM ${sql(t.own)}
      WHERE side_key = ${sideKey} AND text_hash = ${hashOf(text)} AND written_at >= ${nowOf(sql, now)} - ${windowMs}`,
    (rows) => rows.length > 0
  )

/** Forgets own writes older than `windowMs`. */
export const forgetOwn = (sql: SqlClient.SqlClient, t: Tables, windowMs: number, now: number) =>
  sql`DELETE FROM ${sql(t.own)} WHERE written_at < ${nowOf(sql, now)} - ${windowMs}`

/** The Telegram message an operator's message was sent as, if it was. */
export const linkOf = (sql: SqlClient.SqlClient, t: Tables, b24Key: string) =>
  Effect.map(
    sql<{ external_message_id: string; sent_at: number | string }>`SELECT external_message_id, sent_at
      FROM ${sql(t.links)} WHERE b24_key = ${b24Key}`,
    ([row]) =>
      row === undefined ? undefined : { externalMessageId: row.external_message_id, sentAt: Number(row.sent_at) }
  )

/** The link of an operator's message sent to Telegram, by its external id. */
export const linkByExternal = (sql: SqlClient.SqlClient, t: Tables, externalMessageId: string) =>
  Effect.map(
    sql<{ sent_at: number | string }>`SELECT sent_at FROM ${sql(t.links)}
      WHERE external_message_id = ${externalMessageId}`,
    ([row]) => (row === undefined ? undefined : { sentAt: Number(row.sent_at) })
  )

export const link = (sql: SqlClient.SqlClient, t: Tables, b24Key: string, externalMessageId: string, sentAt: number) =>
  sql`INSERT INTO ${sql(t.links)} ${sql.insert({
    b24_key: b24Key,
    external_message_id: externalMessageId,
    sent_at: sentAt
  })}`

/** Releases the claims `worker` held (a worker restarting under its id takes its rows back at once). */
export const takeBack = (sql: SqlClient.SqlClient, t: Tables, worker: string) =>
  sql`UPDATE ${sql(t.inbox)} SET claimed_by = NULL, claimed_until = NULL
    WHERE claimed_by = ${worker} AND state = 'pending'`
