/**
 * The worker's statements: claiming due messages under a lease, renewing the
 * lease while a delivery runs, settling outcomes (or handing claims back), and
 * taking a restarted worker's own claims back.
 *
 * Time is the database's: on PostgreSQL every lease, due time and settle
 * window is read from `statement_timestamp()` (a machine whose clock runs
 * ahead never takes a live claim over); SQLite is one machine, its clock the
 * process's. Row locks of messages are taken in one order (by key) everywhere,
 * and a deadlock or serialization failure is tried again, never reported.
 */
import { randomUUID } from "node:crypto"
import { Duration, Effect, Schedule } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import { type Current, type MessageUpdate, planOf, type Settled } from "./outcomes.ts"
import type { Tables } from "./schema.ts"
import * as SettleStatements from "./settleStatements.ts"
import { chunks } from "./settleStatements.ts"
import { type Dialect, type MessageRow, messageRow, num, optNum } from "./store.ts"
import * as Fair from "./tenantClaims.ts"

export type { Outcome, Settled } from "./outcomes.ts"
export type { ClaimScope } from "./tenantClaims.ts"

export interface Claim {
  readonly message: MessageRow
  readonly version: number
  /** The request as stored (JSON), or `undefined` when the journal no longer holds it. */
  readonly request: string | undefined
  readonly attemptId: string
}

/** A page of claims, and how long until the next message not claimed here may be due. */
export interface ClaimPage {
  readonly claims: ReadonlyArray<Claim>
  /**
   * Milliseconds until the next pending message (a live claim counts as due when its lease ends); none:
   * nothing pending, or the page is full (the worker claims again at once: not computed).
   */
  readonly waitMs: number | undefined
  /** Due messages may be left: claim again at once (a full page, or a tenant's full share of one). */
  readonly more: boolean
  /** Where the next fair claim starts among the tenants (round robin); "" from the first. */
  readonly cursor: string
}

/** A fair page's tenants and each one's share; none: a page in due order. */
type Shares = { readonly tenants: ReadonlyArray<string>; readonly share: number } | undefined

const isContention = (error: SqlError.SqlError): boolean =>
  error.reason._tag === "DeadlockError" || error.reason._tag === "SerializationError"

/** A transaction that lost a deadlock (or a serialization conflict) is run again: never a failure of its own. */
export const retryContention = <A, R>(
  effect: Effect.Effect<A, SqlError.SqlError, R>
): Effect.Effect<A, SqlError.SqlError, R> =>
  Effect.retry(effect, {
    while: isContention,
    times: 20,
    schedule: Schedule.jittered(Schedule.exponential(Duration.millis(10)))
  })

const processNow = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

export const make = (sql: SqlClient.SqlClient, t: Tables, dialect: Dialect) => {
  const M = sql(t.messages)
  const E = sql(t.edits)
  const A = sql(t.attempts)
  const pg = dialect.name === "pg"
  /** The time of a statement: the database's on PostgreSQL, the process's (`at`) on SQLite. */
  const nowOf = (at: number): Statement.Fragment =>
    pg ? sql.literal("(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint") : sql`${at}`
  const int = (value: number | null): Statement.Fragment => sql`CAST(${value} AS BIGINT)`
  const routesOf = (scope: Fair.ClaimScope, alias = "") => Fair.scopeCondition(sql, scope, alias)
  /** Only this message (its key), when given: a delivery of one message (`Outbox.deliver`). */
  const onlyOf = (only: string | undefined, alias = ""): Statement.Fragment =>
    only === undefined ? sql.literal("") : sql`AND ${sql.literal(alias)}message_key = ${only}`
  /** When a pending message may next be claimed: a live claim counts as due when its lease ends. */
  const dueAt = sql.literal("CASE WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END")
  const ABANDONED = "the worker stopped before the provider answered"

  /**
   * On PostgreSQL, the rest of the transaction reads rows through their
   * indexes only, joined row by row (no sequential nor bitmap scan, no hash
   * nor merge join): every statement of a claim or a settle reaches its few
   * rows by key, or by the claim-order index. The
   * planner would choose so itself with statistics; a fresh table has none
   * (autovacuum has not analyzed it yet), and it then sorts the whole backlog
   * for every claim (130 ms a page with 100,000 due, against 0.2 ms) and
   * scans whole tables for every settle.
   */
  const byKeysOnly: Effect.Effect<unknown, SqlError.SqlError> = pg
    ? sql`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
        set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`
    : Effect.void

  const claimOf = (row: Record<string, unknown>): Claim => ({
    message: messageRow(row),
    version: num(row.latest_version),
    request: row.request === null || row.request === undefined ? undefined : String(row.request),
    attemptId: String(row.attempt_id)
  })

  /**
   * PostgreSQL: one statement claims the page (`FOR UPDATE SKIP LOCKED`), marks
   * the open attempts of claims taken over as abandoned, starts the new
   * attempts, and answers the requests and when the next message is due (only
   * for a page that is not full: a full one is claimed again at once).
   *
   * Behind a backlog it runs {@link byKeysOnly}: the due messages are read in
   * claim order from their index, one page, whatever the table's statistics say.
   */
  const claimPg = (
    worker: string,
    limit: number,
    leaseMs: number,
    settleMs: number,
    routes: Fair.ClaimScope,
    only: string | undefined,
    shares: Shares
  ): Effect.Effect<ClaimPage, SqlError.SqlError> => {
    const now = nowOf(0)
    const dueNow = sql`state = 'pending' AND next_attempt_at <= ${now}
      AND (claimed_until IS NULL OR claimed_until < ${now}) AND ${routesOf(routes)} ${onlyOf(only)}`
    const due =
      shares === undefined
        ? sql`SELECT message_key FROM ${M} WHERE ${dueNow}
          ORDER BY next_attempt_at, message_key LIMIT ${limit} FOR UPDATE SKIP LOCKED`
        : Fair.fairDuePg(sql, M, dueNow, shares.tenants, shares.share)
    return Effect.map(
      sql`WITH due AS (${due}), abandoned AS (
          UPDATE ${A} SET outcome = 'abandoned', finished_at = ${now}, reason = ${ABANDONED}
          WHERE outcome IS NULL AND message_key IN (SELECT message_key FROM due) RETURNING message_key
        ), claimed AS (
          UPDATE ${M} SET claimed_by = ${worker}, claimed_until = ${now} + ${int(leaseMs)},
            settle_until = CASE WHEN ${M}.message_key IN (SELECT message_key FROM abandoned)
              THEN ${now} + ${int(settleMs)} ELSE ${M}.settle_until END
          FROM due WHERE ${M}.message_key = due.message_key RETURNING ${M}.*, gen_random_uuid()::text AS attempt_id
        ), started AS (
          INSERT INTO ${A} (id, message_key, version, worker, started_at)
          SELECT attempt_id, message_key, latest_version, ${worker}, ${now} FROM claimed
        ), next AS (
          SELECT MIN(${dueAt}) - ${now} AS wait_ms FROM ${M}
          WHERE (SELECT COUNT(*) FROM due) < ${limit}
            AND state = 'pending' AND ${routesOf(routes)} ${onlyOf(only)}
            AND message_key NOT IN (SELECT message_key FROM due)
        )
        SELECT c.*, e.request, next.wait_ms FROM next LEFT JOIN (claimed c
          LEFT JOIN ${E} e ON e.message_key = c.message_key AND e.version = c.latest_version) ON true
        ORDER BY c.next_attempt_at, c.message_key`,
      (rows) => {
        const claims = rows.filter((row) => row.message_key !== null && row.message_key !== undefined).map(claimOf)
        return { claims, waitMs: optNum(rows[0]?.wait_ms), more: moreAfter(claims, limit, shares), cursor: "" }
      }
    ).pipe(Effect.flatMap(withNewestRequests))
  }

  /**
   * The requests a claim could not see. The claim's reads share one snapshot, taken as it starts, while
   * the rows it locks are their newest versions: an edit committed in between is claimed (the message's
   * newest version) without its request. It is read again, in a snapshot of its own; one that is still
   * missing was forgotten (`keepText: false`).
   */
  const withNewestRequests = (page: ClaimPage): Effect.Effect<ClaimPage, SqlError.SqlError> => {
    const unseen = page.claims.filter((claim) => claim.request === undefined)
    if (unseen.length === 0) return Effect.succeed(page)
    return Effect.map(
      Effect.forEach(
        chunks(unseen),
        (part) =>
          sql`SELECT message_key, request FROM ${E} WHERE request IS NOT NULL AND ${sql.or(
            part.map((claim) => sql`(message_key = ${claim.message.messageKey} AND version = ${claim.version})`)
          )}`
      ),
      (found) => {
        const requests = new Map(found.flat().map((row) => [String(row.message_key), String(row.request)]))
        return {
          ...page,
          claims: page.claims.map((claim) =>
            claim.request === undefined ? { ...claim, request: requests.get(claim.message.messageKey) } : claim
          )
        }
      }
    )
  }

  /** SQLite: the same in a few statements of one `BEGIN IMMEDIATE` transaction (one writer: nothing to skip). */
  const claimSqlite = (
    worker: string,
    limit: number,
    leaseMs: number,
    settleMs: number,
    routes: Fair.ClaimScope,
    at: number,
    only: string | undefined,
    shares: Shares
  ): Effect.Effect<ClaimPage, SqlError.SqlError> =>
    Effect.gen(function* () {
      const read = (tenant: string | undefined, max: number) => sql`SELECT m.*, e.request FROM ${M} m
          LEFT JOIN ${E} e ON e.message_key = m.message_key AND e.version = m.latest_version
        WHERE m.state = 'pending' AND m.next_attempt_at <= ${at}
          AND (m.claimed_until IS NULL OR m.claimed_until < ${at}) AND ${routesOf(routes, "m.")} ${onlyOf(only, "m.")}
          ${tenant === undefined ? sql.literal("") : sql`AND m.tenant = ${tenant}`}
        ORDER BY m.next_attempt_at, m.message_key LIMIT ${max}`
      const due =
        shares === undefined
          ? yield* read(undefined, limit)
          : (yield* Effect.forEach(shares.tenants, (tenant) => read(tenant, shares.share))).flat()
      const claims = due.map((row) => claimOf({ ...row, attempt_id: randomUUID() }))
      for (const page of chunks(claims)) {
        const keys = page.map((claim) => claim.message.messageKey)
        yield* sql`UPDATE ${M} SET claimed_by = ${worker}, claimed_until = ${at + leaseMs},
            settle_until = CASE WHEN message_key IN (SELECT message_key FROM ${A}
              WHERE outcome IS NULL AND ${sql.in("message_key", keys)}) THEN ${at + settleMs} ELSE settle_until END
          WHERE ${sql.in("message_key", keys)}`
        yield* sql`UPDATE ${A} SET outcome = 'abandoned', finished_at = ${at}, reason = ${ABANDONED}
          WHERE outcome IS NULL AND ${sql.in("message_key", keys)}`
        yield* insertAttempts(page, worker, at)
      }
      // A full page: the worker claims again at once, no wait to compute (it would read every pending row).
      const more = moreAfter(claims, limit, shares)
      return { claims, waitMs: more ? undefined : yield* nextSqlite(routes, at, only), more, cursor: "" }
    })

  const moreAfter = (claims: ReadonlyArray<Claim>, limit: number, shares: Shares): boolean =>
    claims.length >= limit ||
    (shares !== undefined &&
      Fair.filledAShare(
        claims.map((claim) => claim.message.tenant),
        shares.share
      ))

  const nextSqlite = (routes: Fair.ClaimScope, at: number, only: string | undefined) =>
    Effect.map(
      sql`SELECT MIN(${dueAt}) - ${at} AS wait_ms FROM ${M}
        WHERE state = 'pending' AND ${routesOf(routes)} ${onlyOf(only)}`,
      (rows) => optNum(rows[0]?.wait_ms)
    )

  const insertAttempts = (claims: ReadonlyArray<Claim>, worker: string, at: number) => {
    const [first, ...others] = claims.map((c) => ({
      id: c.attemptId,
      message_key: c.message.messageKey,
      version: c.version,
      worker,
      started_at: at
    }))
    return first === undefined ? Effect.void : sql`INSERT INTO ${A} ${sql.insert([first, ...others])}`
  }

  /**
   * Claims up to `limit` due messages for `worker` for `leaseMs`, with the
   * newest request of each; a claim whose lease ran out is taken over, its
   * open attempt recorded as abandoned (outcome unknown: the message is sent
   * again after the settle window). `at` is the process's time (SQLite only).
   */
  const claim = (
    worker: string,
    limit: number,
    leaseMs: number,
    settleMs: number,
    routes: Fair.ClaimScope,
    at: number,
    /** Only this message (its key), when given: a delivery of one message (`Outbox.deliver`). */
    only?: string | undefined,
    /**
     * The last page was full: a backlog waits. On PostgreSQL the claim then runs {@link byKeysOnly} (one
     * statement more, in a transaction of its own): a page of any backlog is read from the claim-order
     * index. Otherwise it is one statement (a waiting worker runs one per poll interval), and the few
     * due rows it may sort cost nothing.
     */
    backlog = false,
    /** Where this claim starts among the tenants (the last page's `cursor`): round robin. */
    cursor = ""
  ): Effect.Effect<ClaimPage, SqlError.SqlError> => {
    if (Fair.isEmpty(routes)) return Effect.succeed({ claims: [], waitMs: undefined, more: false, cursor: "" })
    // A worker of many tenants shares each page between the tenants with due messages (`tenantClaims.ts`).
    const turn =
      routes.tenants && only === undefined
        ? Effect.map(Fair.turnOf(sql, M, routes, nowOf(at), cursor, limit), (found) => found)
        : Effect.succeed(undefined)
    const sharesOf = (found: Fair.Turn | undefined): Shares =>
      found === undefined || found.tenants.length <= 1
        ? undefined
        : { tenants: found.tenants, share: Fair.shareOf(limit, found.tenants.length) }
    const page = (shares: Shares): Effect.Effect<ClaimPage, SqlError.SqlError> =>
      pg
        ? backlog
          ? sql.withTransaction(
              Effect.andThen(byKeysOnly, claimPg(worker, limit, leaseMs, settleMs, routes, only, shares))
            )
          : claimPg(worker, limit, leaseMs, settleMs, routes, only, shares)
        : Effect.flatMap(nextSqlite(routes, at, only), (waitMs) =>
            // Nothing due: one read, no write transaction.
            waitMs === undefined || waitMs > 0
              ? Effect.succeed({ claims: [], waitMs, more: false, cursor: "" })
              : // The lease starts once the write lock is held: waiting for it does not shorten the lease.
                sql.withTransaction(
                  Effect.flatMap(processNow, (locked) =>
                    claimSqlite(worker, limit, leaseMs, settleMs, routes, locked, only, shares)
                  )
                )
          )
    return retryContention(
      Effect.flatMap(turn, (found) =>
        Effect.map(page(sharesOf(found)), (claimed) => ({ ...claimed, cursor: found?.cursor ?? "" }))
      )
    )
  }

  /**
   * Extends the claims of these attempts by `leaseMs` while the delivery
   * runs; answers how many were still this worker's (an attempt another
   * worker marked abandoned no longer holds its message). Rows locked by key.
   */
  const renew = (
    worker: string,
    attemptIds: ReadonlyArray<string>,
    leaseMs: number,
    at: number
  ): Effect.Effect<number, SqlError.SqlError> =>
    attemptIds.length === 0
      ? Effect.succeed(0)
      : retryContention(
          Effect.map(
            sql`WITH mine AS (
                SELECT m.message_key FROM ${M} m JOIN ${A} a ON a.message_key = m.message_key
                WHERE ${sql.in("a.id", attemptIds)} AND a.outcome IS NULL AND m.claimed_by = ${worker}
                ORDER BY m.message_key ${pg ? sql.literal("FOR UPDATE OF m") : sql.literal("")}
              )
              UPDATE ${M} SET claimed_until = ${nowOf(at)} + ${int(leaseMs)}
              WHERE message_key IN (SELECT message_key FROM mine) RETURNING message_key`,
            (rows) => rows.length
          )
        )

  const { updateAttempts, updateMessages, updateEdits } = SettleStatements.make(sql, t)

  /** The current rows of these messages, locked in key order, with the database's time. */
  const lockMessages = (keys: ReadonlyArray<string>, at: number) =>
    Effect.map(
      Effect.forEach(
        chunks([...new Set(keys)].sort()),
        (page) =>
          sql`SELECT message_key, latest_version, confirmed_version, failures, state, last_reason,
              next_attempt_at, settle_until, ${nowOf(at)} AS now
            FROM ${M} WHERE ${sql.in("message_key", page)} ORDER BY message_key ${dialect.rowLock(sql)}`
      ),
      (pages) => {
        const rows = pages.flat()
        const current = new Map<string, Current>()
        for (const row of rows) {
          current.set(String(row.message_key), {
            latestVersion: num(row.latest_version),
            confirmedVersion: num(row.confirmed_version),
            failures: num(row.failures),
            state: String(row.state),
            lastReason: row.last_reason === null || row.last_reason === undefined ? null : String(row.last_reason),
            nextAttemptAt: optNum(row.next_attempt_at) ?? null,
            settleUntil: optNum(row.settle_until) ?? null
          })
        }
        return { current, now: rows.length === 0 ? undefined : num(rows[0]?.now) }
      }
    )

  /**
   * Records the outcomes of a page of claims in one transaction, set-based:
   * the messages' rows locked in key order, then one statement per table
   * (per 500 rows). A claim another worker took over (its lease ran out: the
   * attempt was marked abandoned) only gets its attempt's outcome: the message
   * is the new claimer's. A claim `returned` is handed back as it was.
   */
  const settle = (
    settled: ReadonlyArray<Settled>,
    settleMs: number,
    keepText: boolean,
    at: number
  ): Effect.Effect<void, SqlError.SqlError> =>
    settled.length === 0 ? Effect.void : retryContention(sql.withTransaction(settleIn(settled, settleMs, keepText, at)))

  const settleIn = (settled: ReadonlyArray<Settled>, settleMs: number, keepText: boolean, at: number) =>
    Effect.gen(function* () {
      yield* byKeysOnly
      const locked = yield* lockMessages(
        settled.map((s) => s.claim.message.messageKey),
        at
      )
      const now = locked.now ?? at
      const held = new Set<string>()
      for (const page of chunks(settled.map((s) => s.claim.attemptId))) {
        const rows = yield* sql`SELECT id FROM ${A} WHERE ${sql.in("id", page)} AND outcome IS NULL`
        for (const row of rows) held.add(String(row.id))
      }
      const attempts: Array<readonly [string, string, string | null]> = []
      const erased: Array<string> = []
      const messages: Array<MessageUpdate> = []
      const own: Array<readonly [string, number, string]> = []
      const supersede: Array<readonly [string, number]> = []
      const forget: Array<readonly [string, number]> = []
      for (const item of settled) {
        const { claim, outcome } = item
        const reason =
          outcome.kind === "unknown" || outcome.kind === "retryable" || outcome.kind === "permanent"
            ? outcome.reason
            : null
        if (!held.has(claim.attemptId)) {
          // Taken over meanwhile: the attempt keeps what it learnt, the message is another worker's.
          if (outcome.kind !== "returned") {
            attempts.push([
              claim.attemptId,
              outcome.kind,
              `answered after another worker took the message over${reason === null ? "" : `: ${reason}`}`
            ])
          }
          continue
        }
        if (outcome.kind === "returned") erased.push(claim.attemptId)
        else attempts.push([claim.attemptId, outcome.kind, reason])
        const current = locked.current.get(claim.message.messageKey)
        if (current === undefined) continue
        const plan = planOf(item, current, now, settleMs)
        messages.push(plan.message)
        const key = claim.message.messageKey
        if (plan.edit !== undefined) own.push([key, claim.version, plan.edit.status])
        if (plan.supersede) supersede.push([key, claim.version])
        if (!keepText && plan.forgetUpTo !== undefined) forget.push([key, plan.forgetUpTo])
      }
      yield* updateAttempts(attempts, now)
      for (const page of chunks(erased)) yield* sql`DELETE FROM ${A} WHERE ${sql.in("id", page)}`
      yield* updateMessages(messages, now)
      yield* updateEdits(own, supersede, forget, now)
    })

  /**
   * A worker restarted with the same id, once the previous holder is provably
   * gone: its claims are released at once, their open attempts recorded as
   * abandoned (the settle window protects the order). Answers how many.
   */
  const takeBack = (worker: string, settleMs: number, at: number): Effect.Effect<number, SqlError.SqlError> =>
    retryContention(
      sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql`SELECT message_key FROM ${M} WHERE claimed_by = ${worker}
            ORDER BY message_key ${dialect.rowLock(sql)}`
          const keys = rows.map((row) => String(row.message_key))
          const now = nowOf(at)
          for (const page of chunks(keys)) {
            yield* sql`UPDATE ${A} SET outcome = 'abandoned', finished_at = ${now}, reason = ${ABANDONED}
              WHERE outcome IS NULL AND worker = ${worker} AND ${sql.in("message_key", page)}`
            yield* sql`UPDATE ${M} SET claimed_by = NULL, claimed_until = NULL, settle_until = ${now} + ${int(settleMs)}
              WHERE ${sql.in("message_key", page)}`
          }
          return keys.length
        })
      )
    )

  return { claim, renew, settle, takeBack }
}

export type Claims = ReturnType<typeof make>
