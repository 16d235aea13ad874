/**
 * The worker's statements: claiming due messages under a lease, renewing the
 * lease while a delivery runs, settling outcomes, and when the next message is
 * due. Written once for SQLite and PostgreSQL (the dialect differences live in
 * `store.ts`'s `Dialect`).
 */
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import type { Tables } from "./schema.ts"
import { type Dialect, type MessageRow, messageRow, num, optNum } from "./store.ts"

export interface Claim {
  readonly message: MessageRow
  readonly version: number
  readonly request: string
  readonly attemptId: string
}

export type Outcome =
  | { readonly kind: "confirmed" }
  | { readonly kind: "unknown"; readonly reason: string; readonly retryAt: number }
  | { readonly kind: "retryable"; readonly reason: string; readonly retryAt: number }
  | { readonly kind: "permanent"; readonly reason: string }

export interface Settled {
  readonly claim: Claim
  readonly outcome: Outcome
}

export const make = (sql: SqlClient.SqlClient, t: Tables, dialect: Dialect) => {
  const M = sql(t.messages)
  const E = sql(t.edits)
  const A = sql(t.attempts)

  /**
   * Claims up to `limit` due messages for `worker` until `leaseUntil`, with
   * the newest request of each; a claim left by a worker that stopped is taken
   * over, its open attempts recorded as abandoned (outcome unknown: the
   * message will be sent again after the settle window).
   */
  const claim = (
    worker: string,
    limit: number,
    now: number,
    leaseUntil: number,
    settleMs: number,
    routes: ReadonlyArray<readonly [provider: string, account: string]>,
    /** Only this message (its key), when given: a delivery of one message (`Outbox.deliver`). */
    only?: string | undefined
  ): Effect.Effect<ReadonlyArray<Claim>, SqlError.SqlError> =>
    sql.withTransaction(
      Effect.gen(function* () {
        const due = (yield* sql`SELECT * FROM ${M}
          WHERE state = 'pending' AND next_attempt_at <= ${now}
            AND (claimed_until IS NULL OR claimed_until < ${now})
            AND ${sql.or(routes.map(([provider, account]) => sql`(provider = ${provider} AND account = ${account})`))}
            ${only === undefined ? sql.literal("") : sql`AND message_key = ${only}`}
          ORDER BY next_attempt_at LIMIT ${limit} ${dialect.claimLock(sql)}`).map(messageRow)
        if (due.length === 0) return []
        const keys = due.map((row) => row.messageKey)
        const stale = yield* sql<{ message_key: string }>`UPDATE ${A}
          SET outcome = 'abandoned', finished_at = ${now}, reason = 'the worker stopped before the provider answered'
          WHERE outcome IS NULL AND ${sql.in("message_key", keys)} RETURNING message_key`
        const abandoned = new Set(stale.map((row) => String(row.message_key)))
        yield* sql`UPDATE ${M} SET claimed_by = ${worker}, claimed_until = ${leaseUntil}
          WHERE ${sql.in("message_key", keys)}`
        if (abandoned.size > 0) {
          yield* sql`UPDATE ${M} SET settle_until = ${now + settleMs}
            WHERE ${sql.in("message_key", [...abandoned])}`
        }
        const requests = yield* sql<{ message_key: string; version: number; request: string | null }>`
          SELECT e.message_key, e.version, e.request FROM ${E} e JOIN ${M} m
            ON m.message_key = e.message_key AND e.version = m.latest_version
          WHERE ${sql.in("m.message_key", keys)}`
        const byKey = new Map(requests.map((row) => [String(row.message_key), row]))
        const claims: Array<Claim> = []
        for (const message of due) {
          const edit = byKey.get(message.messageKey)
          if (edit === undefined || edit.request === null) continue
          claims.push({ message, version: num(edit.version), request: String(edit.request), attemptId: randomUUID() })
        }
        const [first, ...others] = claims
        if (first !== undefined) {
          yield* sql`INSERT INTO ${A} ${sql.insert(
            [first, ...others].map<Record<string, unknown>>((c) => ({
              id: c.attemptId,
              message_key: c.message.messageKey,
              version: c.version,
              worker,
              started_at: now
            })) as unknown as readonly [Record<string, unknown>, ...Array<Record<string, unknown>>]
          )}`
        }
        return claims
      })
    )

  /**
   * Extends the claims of these attempts to `leaseUntil`, while the delivery
   * runs; answers how many claims were still this worker's (an attempt another
   * worker marked abandoned no longer holds its message).
   */
  const renew = (attemptIds: ReadonlyArray<string>, leaseUntil: number): Effect.Effect<number, SqlError.SqlError> =>
    attemptIds.length === 0
      ? Effect.succeed(0)
      : Effect.map(
          sql`UPDATE ${M} SET claimed_until = ${leaseUntil}
            WHERE message_key IN (SELECT message_key FROM ${A} WHERE ${sql.in("id", attemptIds)} AND outcome IS NULL)
            RETURNING message_key`,
          (rows) => rows.length
        )

  /**
   * Records the outcomes of delivered claims, in one transaction. A claim
   * another worker took over (its lease ran out: the attempt was marked
   * abandoned) only gets its attempt's outcome: the message is the new
   * claimer's.
   */
  const settle = (
    settled: ReadonlyArray<Settled>,
    now: number,
    settleMs: number,
    keepText: boolean
  ): Effect.Effect<void, SqlError.SqlError> =>
    sql.withTransaction(
      Effect.forEach(
        // One order for every worker: row locks taken in the same order never deadlock.
        [...settled].sort((a, b) => (a.claim.message.messageKey < b.claim.message.messageKey ? -1 : 1)),
        ({ claim, outcome }) =>
          Effect.gen(function* () {
            const key = claim.message.messageKey
            const v = claim.version
            const [current] = (yield* sql`SELECT * FROM ${M} WHERE message_key = ${key} ${dialect.rowLock(sql)}`).map(
              messageRow
            )
            const held = yield* sql`SELECT id FROM ${A} WHERE id = ${claim.attemptId} AND outcome IS NULL`
            const reason = outcome.kind === "confirmed" ? null : outcome.reason
            if (held.length === 0) {
              yield* sql`UPDATE ${A} SET finished_at = ${now}, outcome = ${outcome.kind},
                reason = ${`answered after another worker took the message over${reason === null ? "" : `: ${reason}`}`}
                WHERE id = ${claim.attemptId}`
              return
            }
            yield* sql`UPDATE ${A} SET finished_at = ${now}, outcome = ${outcome.kind}, reason = ${reason}
              WHERE id = ${claim.attemptId}`
            if (current === undefined) return
            const newer = current.latestVersion > v
            const release = sql`claimed_by = NULL, claimed_until = NULL, updated_at = ${now}`
            switch (outcome.kind) {
              case "confirmed": {
                yield* sql`UPDATE ${E} SET status = 'confirmed', confirmed_at = ${now}
                  WHERE message_key = ${key} AND version = ${v}`
                yield* sql`UPDATE ${E} SET status = 'superseded'
                  WHERE message_key = ${key} AND version < ${v} AND status IN ('pending', 'failed')`
                if (!keepText) {
                  yield* sql`UPDATE ${E} SET request = NULL WHERE message_key = ${key} AND version < ${v}`
                }
                const confirmed = Math.max(current.confirmedVersion, v)
                if (newer) {
                  yield* sql`UPDATE ${M} SET ${release}, confirmed_version = ${confirmed}, failures = 0,
                    last_reason = NULL, next_attempt_at = ${now} WHERE message_key = ${key}`
                } else if (current.settleUntil !== undefined && current.settleUntil > now) {
                  // An attempt whose fate is unknown may still land: send the newest once more after it could have.
                  yield* sql`UPDATE ${M} SET ${release}, confirmed_version = ${confirmed}, failures = 0,
                    last_reason = 'waiting for the settle window before sending the newest text again',
                    next_attempt_at = ${current.settleUntil}, settle_until = NULL WHERE message_key = ${key}`
                } else {
                  if (!keepText) {
                    yield* sql`UPDATE ${E} SET request = NULL WHERE message_key = ${key} AND version = ${v}`
                  }
                  yield* sql`UPDATE ${M} SET ${release}, confirmed_version = ${confirmed}, failures = 0,
                    last_reason = NULL, state = 'idle', next_attempt_at = NULL, settle_until = NULL
                    WHERE message_key = ${key}`
                }
                return
              }
              case "unknown":
                yield* sql`UPDATE ${M} SET ${release}, failures = failures + 1, last_reason = ${outcome.reason},
                  next_attempt_at = ${newer ? now : outcome.retryAt}, settle_until = ${now + settleMs}
                  WHERE message_key = ${key}`
                return
              case "retryable":
                yield* sql`UPDATE ${M} SET ${release}, failures = failures + 1, last_reason = ${outcome.reason},
                  next_attempt_at = ${newer ? now : outcome.retryAt} WHERE message_key = ${key}`
                return
              case "permanent":
                yield* sql`UPDATE ${E} SET status = 'failed' WHERE message_key = ${key} AND version = ${v}`
                if (newer) {
                  yield* sql`UPDATE ${M} SET ${release}, last_reason = ${outcome.reason}, next_attempt_at = ${now}
                    WHERE message_key = ${key}`
                } else {
                  yield* sql`UPDATE ${M} SET ${release}, last_reason = ${outcome.reason}, state = 'failed',
                    next_attempt_at = NULL WHERE message_key = ${key}`
                }
                return
            }
          }),
        { discard: true }
      )
    )

  /** When the next pending message is due, if any is. */
  const nextDue = Effect.map(
    sql<{ due: unknown }>`SELECT MIN(next_attempt_at) AS due FROM ${M} WHERE state = 'pending'`,
    (rows) => optNum(rows[0]?.due)
  )

  return { claim, renew, settle, nextDue }
}

export type Claims = ReturnType<typeof make>
