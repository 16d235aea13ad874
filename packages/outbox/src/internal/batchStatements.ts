/**
 * The group commit's statements, set-based: a whole batch of records and
 * edits is written in two statements (three on SQLite) whatever its size. The
 * batch goes to PostgreSQL as one JSON parameter per table, read as rows by
 * `json_to_recordset` (one round trip, one prepared statement for every batch
 * size, no limit on parameters); to SQLite, in the process, as a `VALUES` list
 * (binding is cheaper there than parsing JSON; a group holds at most 1,000
 * items, far within SQLite's 32,766 variables).
 *
 * - {@link BatchStatements.lookup}: the id map's rows of the batch's messages
 *   (on PostgreSQL locked in key order: two instances never deadlock on each
 *   other's batches);
 * - {@link BatchStatements.write}: each message the batch records, completes
 *   or edits written once (an id the map holds is never overwritten: a
 *   re-point is `repoint`'s), its version advanced by its edits and made due;
 *   then the edits, each as its message's next version.
 *
 * A message becomes due on the database's clock on PostgreSQL
 * (`statement_timestamp()`, the clock its leases and claims read), so that a
 * process whose clock is wrong neither delays nor hurries it. SQLite is one
 * machine: its claims read the process's clock, and so does its submit.
 */
import { Effect, type Redacted } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import type { Held } from "./batchPlan.ts"
import type { Tables } from "./schema.ts"
import { type Dialect, hashOf, num, optStr } from "./store.ts"

/** A message the batch records, completes or edits: its ids as planned, and how many edits it gets. */
export interface WriteRow {
  readonly key: string
  readonly tenant: string
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
  readonly externalChatId: string | undefined
  readonly externalAuthorId: string | undefined
  readonly providerMessageId: string | undefined
  readonly providerChatId: string | undefined
  readonly providerConnectionId: string | undefined
  readonly messageKind: "text" | "caption" | undefined
  /** How many of the batch's edits are this message's (0: a record). */
  readonly edits: number
}

/** An edit to store as its message's next version. */
export interface EditRow {
  readonly key: string
  /** How many edits of the same message come after this one in the batch: its version is the message's latest minus this. */
  readonly back: number
  /** The request to deliver, as JSON (ids excluded: they come from the id map). */
  readonly request: string
  readonly text: string | undefined
  readonly source: string | undefined
}

type Column = readonly [name: string, type: "text" | "int"]
type Value = string | number | null

const WRITE_COLUMNS: ReadonlyArray<Column> = [
  ["k", "text"],
  ["tenant", "text"],
  ["provider", "text"],
  ["account", "text"],
  ["emid", "text"],
  ["chat", "text"],
  ["author", "text"],
  ["pmid", "text"],
  ["pchat", "text"],
  ["pconn", "text"],
  ["mkind", "text"],
  ["n", "int"]
]

const EDIT_COLUMNS: ReadonlyArray<Column> = [
  ["k", "text"],
  ["back", "int"],
  ["req", "text"],
  ["txt", "text"],
  ["hash", "text"],
  ["src", "text"]
]

/** A message as the batch's statements read it: its ids and its latest version. */
export interface Stored extends Held {
  readonly latestVersion: number
}

const ID_COLUMNS =
  "message_key, external_message_id, external_chat_id, external_author_id, provider_message_id, provider_chat_id, provider_connection_id, kind"

const storedOf = (row: Record<string, unknown>): Stored => ({
  externalMessageId: String(row.external_message_id),
  externalChatId: optStr(row.external_chat_id),
  externalAuthorId: optStr(row.external_author_id),
  providerMessageId: optStr(row.provider_message_id),
  providerChatId: optStr(row.provider_chat_id),
  providerConnectionId: optStr(row.provider_connection_id),
  messageKind: optStr(row.kind) as Stored["messageKind"],
  latestVersion: num(row.latest_version)
})

const byKey = (rows: ReadonlyArray<Record<string, unknown>>): Map<string, Stored> =>
  new Map(rows.map((row) => [String(row.message_key), storedOf(row)]))

export const make = (
  sql: SqlClient.SqlClient,
  t: Tables,
  dialect: Dialect,
  options: { readonly keepText: boolean; readonly textHashKey?: Redacted.Redacted<string> | undefined }
) => {
  const M = sql(t.messages)
  const E = sql(t.edits)
  const pg = dialect.name === "pg"
  const int = (value: number): Statement.Fragment => sql`CAST(${value} AS BIGINT)`
  /** When a message becomes due: the database's time on PostgreSQL, the process's (`at`) on SQLite. */
  const dueNow = (at: number): Statement.Fragment =>
    pg ? sql.literal("(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint") : int(at)

  /** The batch's rows as a table `v` with these columns. */
  const rowsOf = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<Value>>): Statement.Fragment => {
    if (pg) {
      const objects = rows.map((row) => {
        const object: Record<string, Value | undefined> = {}
        for (let i = 0; i < columns.length; i++) object[(columns[i] as Column)[0]] = row[i]
        return object
      })
      const json = JSON.stringify(objects)
      return sql`json_to_recordset(${json}::json) AS v(${sql.literal(columns.map(([name, type]) => `${name} ${type}`).join(", "))})`
    }
    const names = sql.literal(columns.map(([name], i) => `column${i + 1} AS ${name}`).join(", "))
    return sql`(SELECT ${names} FROM (VALUES ${sql.csv(rows.map((row) => sql`(${sql.csv(row.map((value) => sql`${value}`))})`))})) AS v`
  }

  /** The id map's rows of these messages, by key; on PostgreSQL locked, in key order, until the transaction ends. */
  const lookup = (keys: ReadonlyArray<string>): Effect.Effect<Map<string, Stored>, SqlError.SqlError> => {
    const json = JSON.stringify(keys)
    const columns = sql.literal(`${ID_COLUMNS}, latest_version`)
    return Effect.map(
      pg
        ? sql`SELECT ${columns} FROM ${M} WHERE message_key IN (SELECT json_array_elements_text(${json}::json))
            ORDER BY message_key FOR UPDATE`
        : sql`SELECT ${columns} FROM json_each(${json}) AS j CROSS JOIN ${M} AS m ON m.message_key = j.value`,
      byKey
    )
  }

  const writeRows = (rows: ReadonlyArray<WriteRow>): ReadonlyArray<ReadonlyArray<Value>> =>
    rows.map((row) => [
      row.key,
      row.tenant,
      row.provider,
      row.account,
      row.externalMessageId,
      row.externalChatId ?? null,
      row.externalAuthorId ?? null,
      row.providerMessageId ?? null,
      row.providerChatId ?? null,
      row.providerConnectionId ?? null,
      row.messageKind ?? null,
      row.edits
    ])

  const editRows = (edits: ReadonlyArray<EditRow>): ReadonlyArray<ReadonlyArray<Value>> =>
    edits.map((edit) => [
      edit.key,
      edit.back,
      edit.request,
      options.keepText ? (edit.text ?? null) : null,
      hashOf(edit.text ?? "", options.textHashKey),
      edit.source ?? null
    ])

  /**
   * Each message written once: a new one inserted (due at once when it gets
   * edits), one the map holds completed (COALESCE: an id held is kept) and,
   * when it gets edits, advanced by as many versions and made due (unless it
   * already waits: its due time and `updated_at` are kept). `excluded.latest_version`
   * is the number of edits.
   */
  const upsertMessages = (rows: ReadonlyArray<WriteRow>, at: number) => {
    const edited = sql.literal("excluded.latest_version > 0")
    const waiting = sql`(excluded.latest_version = 0 OR ${M}.state = 'pending')`
    // `WHERE true` before `ON CONFLICT`: SQLite's grammar asks for it after an INSERT ... SELECT.
    return sql`INSERT INTO ${M} (message_key, tenant, provider, account, external_message_id, external_chat_id,
        external_author_id, provider_message_id, provider_chat_id, provider_connection_id, kind, recorded_at,
        updated_at, latest_version, state, next_attempt_at)
      SELECT v.k, v.tenant, v.provider, v.account, v.emid, v.chat, v.author, v.pmid, v.pchat, v.pconn, v.mkind, ${int(at)},
        ${int(at)}, v.n,
        CASE WHEN v.n > 0 THEN 'pending' ELSE 'idle' END, CASE WHEN v.n > 0 THEN ${dueNow(at)} END
      FROM ${rowsOf(WRITE_COLUMNS, writeRows(rows))} WHERE true ORDER BY v.k
      ON CONFLICT (message_key) DO UPDATE SET
        external_chat_id = COALESCE(${M}.external_chat_id, excluded.external_chat_id),
        external_author_id = COALESCE(${M}.external_author_id, excluded.external_author_id),
        provider_message_id = COALESCE(${M}.provider_message_id, excluded.provider_message_id),
        provider_chat_id = COALESCE(${M}.provider_chat_id, excluded.provider_chat_id),
        provider_connection_id = COALESCE(${M}.provider_connection_id, excluded.provider_connection_id),
        kind = COALESCE(${M}.kind, excluded.kind),
        latest_version = ${M}.latest_version + excluded.latest_version,
        next_attempt_at = CASE WHEN ${waiting} THEN ${M}.next_attempt_at ELSE ${dueNow(at)} END,
        updated_at = CASE WHEN ${waiting} THEN ${M}.updated_at ELSE ${int(at)} END,
        state = CASE WHEN ${edited} THEN 'pending' ELSE ${M}.state END
      RETURNING ${sql.literal(`${ID_COLUMNS}, latest_version`)}`
  }

  /**
   * Writes the batch's messages (one row per key) and its edits, each as its
   * message's next version in batch order. Answers the messages as stored, by key.
   */
  const write = (
    rows: ReadonlyArray<WriteRow>,
    edits: ReadonlyArray<EditRow>,
    at: number
  ): Effect.Effect<Map<string, Stored>, SqlError.SqlError> => {
    // SQLite: CROSS JOIN keeps the batch's rows outside (each finds its message by key).
    const join = sql.literal(pg ? "JOIN" : "CROSS JOIN")
    const insertEdits = (latest: Statement.Fragment) =>
      sql`INSERT INTO ${E} (message_key, version, request, text, text_hash, source, asked_at, status)
        SELECT v.k, w.latest_version - v.back, v.req, v.txt, v.hash, v.src, ${int(at)}, 'pending'
        FROM ${rowsOf(EDIT_COLUMNS, editRows(edits))} ${join} ${latest} ON w.message_key = v.k`
    if (rows.length === 0) return Effect.succeed(new Map())
    if (edits.length === 0) return Effect.map(upsertMessages(rows, at), byKey)
    if (pg) {
      return Effect.map(
        sql`WITH w AS (${upsertMessages(rows, at)}), added AS (${insertEdits(sql.literal("w"))}) SELECT * FROM w`,
        byKey
      )
    }
    return Effect.gen(function* () {
      const stored = yield* upsertMessages(rows, at)
      yield* insertEdits(sql`${M} AS w`)
      return byKey(stored)
    })
  }

  return { lookup, write }
}

export type BatchStatements = ReturnType<typeof make>
