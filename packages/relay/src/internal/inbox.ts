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
import type { SqlClient, SqlError } from "effect/sql"

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
        done_at BIGINT
      )`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_due ON ${t.inbox} (state, next_at)`,
      `CREATE INDEX IF NOT EXISTS ${t.inbox}_message ON ${t.inbox} (message_key, seq)`,
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
    if (byUpdate) {
      const seen = yield* sql<{ n: number }>`SELECT 1 AS n FROM ${sql(t.inbox)} WHERE dedupe_key = ${event.eventId}`
      if (seen.length > 0) return false
    } else {
      if (isPg(sql)) yield* sql`SELECT pg_advisory_xact_lock(hashtext(${messageKey}))`
      const [newest] = yield* sql<{ kind: string; text_hash: string }>`SELECT kind, text_hash FROM ${sql(t.inbox)}
        WHERE message_key = ${messageKey} ORDER BY seq DESC LIMIT 1`
      if (newest !== undefined && newest.kind === event._tag && newest.text_hash === textHash) return false
    }
    yield* sql`INSERT INTO ${sql(t.inbox)} ${sql.insert({
      dedupe_key: byUpdate ? event.eventId : null,
      message_key: messageKey,
      text_hash: textHash,
      provider: event.provider,
      account: event.account,
      kind: event._tag,
      event: JSON.stringify(event),
      received_at: now,
      state: "pending",
      attempts: 0,
      next_at: now
    })}`
    return true
  })

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

/** The pending rows due now, oldest first. */
export const due = (sql: SqlClient.SqlClient, t: Tables, now: number, limit: number) =>
  Effect.map(
    sql<RawRow>`SELECT seq, provider, kind, event, received_at, state, attempts, outcome FROM ${sql(t.inbox)}
      WHERE state = 'pending' AND next_at <= ${now} ORDER BY seq LIMIT ${limit}`,
    (rows) => rows.map(rowOf)
  )

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

/** Records what processing a row came to. */
export const settle = (
  sql: SqlClient.SqlClient,
  t: Tables,
  seq: number,
  outcome: { readonly state: State; readonly outcome: string; readonly nextAt?: number | undefined },
  now: number
) =>
  sql`UPDATE ${sql(t.inbox)} SET state = ${outcome.state}, outcome = ${outcome.outcome.slice(0, 500)},
    attempts = attempts + 1, next_at = ${outcome.nextAt ?? now},
    done_at = ${outcome.state === "pending" ? null : now} WHERE seq = ${seq}`

/** Remembers a text the relay wrote to a message (its side's key), for echo suppression. */
export const rememberOwn = (sql: SqlClient.SqlClient, t: Tables, sideKey: string, text: string, now: number) =>
  Effect.gen(function* () {
    const textHash = hashOf(text)
    yield* sql`DELETE FROM ${sql(t.own)} WHERE side_key = ${sideKey} AND text_hash = ${textHash}`
    yield* sql`INSERT INTO ${sql(t.own)} ${sql.insert({ side_key: sideKey, text_hash: textHash, written_at: now })}`
  })

/** Whether the relay itself wrote this text to this message since `since`. */
export const isOwn = (sql: SqlClient.SqlClient, t: Tables, sideKey: string, text: string, since: number) =>
  Effect.map(
    sql<{ n: number }>`SELECT 1 AS n FROM ${sql(t.own)}
      WHERE side_key = ${sideKey} AND text_hash = ${hashOf(text)} AND written_at >= ${since}`,
    (rows) => rows.length > 0
  )

/** Forgets own writes older than `before`. */
export const forgetOwn = (sql: SqlClient.SqlClient, t: Tables, before: number) =>
  sql`DELETE FROM ${sql(t.own)} WHERE written_at < ${before}`

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
