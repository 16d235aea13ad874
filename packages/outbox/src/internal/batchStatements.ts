/**
 * The group commit's statements, set-based: a whole batch of records and
 * edits is written in a few statements whatever its size. The batch goes as
 * ONE JSON parameter, read as rows by `json_to_recordset` on PostgreSQL and
 * `json_each` on SQLite: no list of parameters (so no database's limit on
 * them), and one prepared statement for every batch size.
 *
 * - {@link BatchStatements.lookup}: the id map's rows of the batch's messages
 *   (on PostgreSQL locked in key order: two instances never deadlock on each
 *   other's batches);
 * - {@link BatchStatements.upsert}: records messages or completes them (an id
 *   the map holds is never overwritten: a re-point is `repoint`'s), answering
 *   the rows as stored;
 * - {@link BatchStatements.addEdits}: each edit as its message's next version,
 *   the messages due; one statement on PostgreSQL (a CTE), two on SQLite.
 *
 * A message becomes due on the database's clock on PostgreSQL
 * (`statement_timestamp()`, the clock its leases and claims read), so that a
 * process whose clock is wrong neither delays nor hurries it. SQLite is one
 * machine: its claims read the process's clock, and so does its submit.
 */
import { Effect, type Redacted } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import type { Tables } from "./schema.ts"
import { type Dialect, hashOf, type MessageRow, messageRow, num } from "./store.ts"

/** A message to record, or to complete, in the id map. */
export interface RecordRow {
  readonly key: string
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
  readonly externalChatId: string | undefined
  readonly externalAuthorId: string | undefined
  readonly providerMessageId: string | undefined
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

const RECORD_COLUMNS: ReadonlyArray<Column> = [
  ["k", "text"],
  ["provider", "text"],
  ["account", "text"],
  ["emid", "text"],
  ["chat", "text"],
  ["author", "text"],
  ["pmid", "text"]
]

const EDIT_COLUMNS: ReadonlyArray<Column> = [
  ["k", "text"],
  ["back", "int"],
  ["req", "text"],
  ["txt", "text"],
  ["hash", "text"],
  ["src", "text"]
]

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

  /** The batch's rows (a JSON array of objects) as a table `v` with these columns. */
  const rowsOf = (json: string, columns: ReadonlyArray<Column>): Statement.Fragment =>
    pg
      ? sql`json_to_recordset(${json}::json) AS v(${sql.literal(columns.map(([name, type]) => `${name} ${type}`).join(", "))})`
      : sql`(SELECT ${sql.literal(columns.map(([name]) => `value ->> '${name}' AS ${name}`).join(", "))}
          FROM json_each(${json})) AS v`

  /** The id map's rows of these messages, by key; on PostgreSQL locked, in key order, until the transaction ends. */
  const lookup = (keys: ReadonlyArray<string>): Effect.Effect<Map<string, MessageRow>, SqlError.SqlError> => {
    const json = JSON.stringify(keys)
    const statement = pg
      ? sql`SELECT * FROM ${M} WHERE message_key IN (SELECT json_array_elements_text(${json}::json))
          ORDER BY message_key FOR UPDATE`
      : sql`SELECT * FROM ${M} WHERE message_key IN (SELECT value FROM json_each(${json}))`
    return Effect.map(statement, (rows) => new Map(rows.map((row) => [String(row.message_key), messageRow(row)])))
  }

  /** Records these messages (one row per key), or completes them; answers the rows as stored, by key. */
  const upsert = (
    rows: ReadonlyArray<RecordRow>,
    at: number
  ): Effect.Effect<Map<string, MessageRow>, SqlError.SqlError> => {
    const json = JSON.stringify(
      rows.map((row) => ({
        k: row.key,
        provider: row.provider,
        account: row.account,
        emid: row.externalMessageId,
        chat: row.externalChatId ?? null,
        author: row.externalAuthorId ?? null,
        pmid: row.providerMessageId ?? null
      }))
    )
    // `WHERE true` before `ON CONFLICT`: SQLite's grammar asks for it after an INSERT ... SELECT.
    return Effect.map(
      sql`INSERT INTO ${M} (message_key, provider, account, external_message_id, external_chat_id,
          external_author_id, provider_message_id, recorded_at, updated_at)
        SELECT v.k, v.provider, v.account, v.emid, v.chat, v.author, v.pmid, ${int(at)}, ${int(at)}
        FROM ${rowsOf(json, RECORD_COLUMNS)} WHERE true ORDER BY v.k
        ON CONFLICT (message_key) DO UPDATE SET
          external_chat_id = COALESCE(${M}.external_chat_id, excluded.external_chat_id),
          external_author_id = COALESCE(${M}.external_author_id, excluded.external_author_id),
          provider_message_id = COALESCE(${M}.provider_message_id, excluded.provider_message_id)
        RETURNING *`,
      (stored) => new Map(stored.map((row) => [String(row.message_key), messageRow(row)]))
    )
  }

  const editsJson = (edits: ReadonlyArray<EditRow>): string =>
    JSON.stringify(
      edits.map((edit) => ({
        k: edit.key,
        back: edit.back,
        req: edit.request,
        txt: options.keepText ? (edit.text ?? null) : null,
        hash: hashOf(edit.text ?? "", options.textHashKey),
        src: edit.source ?? null
      }))
    )

  /** What a message gets for its new edits: `c` holds each key (`k`) and how many edits it gets (`n`). */
  const bump = (at: number) => sql`latest_version = ${M}.latest_version + c.n,
    next_attempt_at = CASE WHEN ${M}.state = 'pending' THEN ${M}.next_attempt_at ELSE ${dueNow(at)} END,
    state = 'pending',
    updated_at = CASE WHEN ${M}.state = 'pending' THEN ${M}.updated_at ELSE ${int(at)} END`

  /**
   * Stores the edits (their messages are in the id map), each as its
   * message's next version in batch order, and makes the messages due.
   * Answers each message's latest version.
   */
  const addEdits = (
    edits: ReadonlyArray<EditRow>,
    at: number
  ): Effect.Effect<Map<string, number>, SqlError.SqlError> => {
    const json = editsJson(edits)
    const latest = (rows: ReadonlyArray<Record<string, unknown>>) =>
      new Map(rows.map((row) => [String(row.message_key), num(row.latest_version)]))
    if (pg) {
      return Effect.map(
        sql`WITH v AS (SELECT * FROM ${rowsOf(json, EDIT_COLUMNS)}),
          c AS (SELECT k, COUNT(*) AS n FROM v GROUP BY k),
          bumped AS (
            UPDATE ${M} SET ${bump(at)} FROM c WHERE ${M}.message_key = c.k
            RETURNING ${M}.message_key, ${M}.latest_version
          ), added AS (
            INSERT INTO ${E} (message_key, version, request, text, text_hash, source, asked_at, status)
            SELECT v.k, b.latest_version - v.back, v.req, v.txt, v.hash, v.src, ${int(at)}, 'pending'
            FROM v JOIN bumped b ON b.message_key = v.k
          )
          SELECT message_key, latest_version FROM bumped`,
        latest
      )
    }
    return Effect.gen(function* () {
      const rows = yield* sql`UPDATE ${M} SET ${bump(at)}
        FROM (SELECT v.k AS k, COUNT(*) AS n FROM ${rowsOf(json, EDIT_COLUMNS)} GROUP BY v.k) AS c
        WHERE ${M}.message_key = c.k RETURNING message_key, latest_version`
      yield* sql`INSERT INTO ${E} (message_key, version, request, text, text_hash, source, asked_at, status)
        SELECT v.k, m.latest_version - v.back, v.req, v.txt, v.hash, v.src, ${int(at)}, 'pending'
        FROM ${rowsOf(json, EDIT_COLUMNS)} JOIN ${M} AS m ON m.message_key = v.k`
      return latest(rows)
    })
  }

  return { lookup, upsert, addEdits }
}

export type BatchStatements = ReturnType<typeof make>
