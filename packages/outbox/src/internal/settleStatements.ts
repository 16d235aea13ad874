/**
 * The statements that record a page's outcomes (`Claims.settle`): the
 * attempts, the messages and the edits, set-based, 500 rows a statement.
 */
import { Effect } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import type { MessageUpdate } from "./outcomes.ts"
import type { Tables } from "./schema.ts"

/** Rows per statement, so that a page of any size stays within every database's limit of parameters. */
const CHUNK = 500

export const chunks = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let n = 0; n < items.length; n += CHUNK) out.push(items.slice(n, n + CHUNK))
  return out
}

export const make = (sql: SqlClient.SqlClient, t: Tables) => {
  const M = sql(t.messages)
  const E = sql(t.edits)
  const A = sql(t.attempts)
  const int = (value: number | null): Statement.Fragment => sql`CAST(${value} AS BIGINT)`

  const updateAttempts = (
    rows: ReadonlyArray<readonly [id: string, outcome: string, reason: string | null]>,
    now: number
  ) =>
    Effect.forEach(
      chunks(rows),
      (page) =>
        sql`UPDATE ${A} SET finished_at = ${int(now)}, outcome = v.column2, reason = v.column3
          FROM (VALUES ${sql.csv(page.map(([id, outcome, reason]) => sql`(${id}, ${outcome}, ${reason})`))}) AS v
          WHERE ${A}.id = v.column1`,
      { discard: true }
    )

  const updateMessages = (rows: ReadonlyArray<MessageUpdate>, now: number) =>
    Effect.forEach(
      chunks(rows),
      (page) =>
        sql`UPDATE ${M} SET claimed_by = NULL, claimed_until = NULL,
            updated_at = CASE WHEN v.column2 = 'all' THEN ${int(now)} ELSE ${M}.updated_at END,
            confirmed_version = v.column3, failures = v.column4, last_reason = v.column5, state = v.column6,
            next_attempt_at = v.column7, settle_until = v.column8
          FROM (VALUES ${sql.csv(
            page.map(
              (m) => sql`(${m.key}, ${m.release}, ${int(m.confirmedVersion)}, ${int(m.failures)}, ${m.lastReason},
                ${m.state}, ${int(m.nextAttemptAt)}, ${int(m.settleUntil)})`
            )
          )}) AS v
          WHERE ${M}.message_key = v.column1`,
      { discard: true }
    )

  /** Edit statuses: the settled version's own, older ones superseded, texts forgotten (`keepText: false`). */
  const updateEdits = (
    own: ReadonlyArray<readonly [key: string, version: number, status: string]>,
    supersede: ReadonlyArray<readonly [key: string, version: number]>,
    forget: ReadonlyArray<readonly [key: string, upTo: number]>,
    now: number
  ) =>
    Effect.gen(function* () {
      for (const page of chunks(own)) {
        yield* sql`UPDATE ${E} SET status = v.column3,
            confirmed_at = CASE WHEN v.column3 = 'confirmed' THEN ${int(now)} ELSE ${E}.confirmed_at END
          FROM (VALUES ${sql.csv(page.map(([key, version, status]) => sql`(${key}, ${int(version)}, ${status})`))}) AS v
          WHERE ${E}.message_key = v.column1 AND ${E}.version = v.column2`
      }
      for (const page of chunks(supersede)) {
        yield* sql`UPDATE ${E} SET status = 'superseded'
          FROM (VALUES ${sql.csv(page.map(([key, version]) => sql`(${key}, ${int(version)})`))}) AS v
          WHERE ${E}.message_key = v.column1 AND ${E}.version < v.column2 AND ${E}.status IN ('pending', 'failed')`
      }
      for (const page of chunks(forget)) {
        yield* sql`UPDATE ${E} SET request = NULL
          FROM (VALUES ${sql.csv(page.map(([key, upTo]) => sql`(${key}, ${int(upTo)})`))}) AS v
          WHERE ${E}.message_key = v.column1 AND ${E}.version <= v.column2`
      }
    })

  return { updateAttempts, updateMessages, updateEdits }
}
