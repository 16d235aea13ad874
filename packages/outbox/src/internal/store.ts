/**
 * Every SQL statement of the outbox, written once for SQLite and PostgreSQL.
 * The dialect differences live in {@link Dialect}: how a worker claims due
 * messages (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer,
 * whose `BEGIN IMMEDIATE` transaction already excludes every other claimer).
 */
import { createHash, createHmac, randomUUID } from "node:crypto"
import { Effect, Redacted } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import type { Tables } from "./schema.ts"

export interface Dialect {
  readonly name: "sqlite" | "pg"
  /** What ends the claim query: row locks skipped by other claimers on PostgreSQL, nothing on SQLite. */
  readonly claimLock: (sql: SqlClient.SqlClient) => Statement.Fragment
  /** What ends a read of a row about to be changed: its row lock on PostgreSQL, nothing on SQLite. */
  readonly rowLock: (sql: SqlClient.SqlClient) => Statement.Fragment
}

export const dialectOf = (sql: SqlClient.SqlClient): Dialect =>
  sql.onDialectOrElse({
    pg: (): Dialect => ({
      name: "pg",
      claimLock: (sql) => sql.literal("FOR UPDATE SKIP LOCKED"),
      rowLock: (sql) => sql.literal("FOR UPDATE")
    }),
    orElse: (): Dialect => ({ name: "sqlite", claimLock: (sql) => sql.literal(""), rowLock: (sql) => sql.literal("") })
  })

/** The tenant of a single-tenant app, and of every message written before tenants existed. */
export const DEFAULT_TENANT = "default"

/**
 * A message's key: (tenant, provider, account, external id). Tenant `default`
 * keeps the key it had before tenants (provider, account, id); another
 * tenant's starts with U+001D, which no label may hold (core refuses control
 * characters): the two never meet.
 */
export const keyOf = (
  provider: string,
  account: string,
  externalMessageId: string,
  tenant: string = DEFAULT_TENANT
): string =>
  tenant === DEFAULT_TENANT
    ? `${provider}\u001f${account}\u001f${externalMessageId}`
    : `\u001d${tenant}\u001f${provider}\u001f${account}\u001f${externalMessageId}`

/**
 * The hash the journal keeps of a text: HMAC-SHA-256 under the app's key
 * (`hmac-sha256:`), or a plain SHA-256 (`sha256:`) when the app gave none
 * (then the journal keeps the text itself: `keepText` is true).
 */
export const hashOf = (text: string, key?: Redacted.Redacted<string> | undefined): string =>
  key === undefined
    ? `sha256:${createHash("sha256").update(text).digest("hex")}`
    : `hmac-sha256:${createHmac("sha256", Redacted.value(key)).update(text).digest("hex")}`

export const num = (value: unknown): number => Number(value)
export const optNum = (value: unknown): number | undefined =>
  value === null || value === undefined ? undefined : Number(value)
export const optStr = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : String(value)

export interface MessageRow {
  readonly messageKey: string
  readonly tenant: string
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
  readonly externalChatId: string | undefined
  readonly externalAuthorId: string | undefined
  readonly providerMessageId: string | undefined
  /** The provider's chat id, where it keys a message by chat (Telegram). */
  readonly providerChatId: string | undefined
  /** The provider's connection the message was sent through (Telegram's business connection). */
  readonly providerConnectionId: string | undefined
  /** What the message's text is: `text` or `caption` (a media message), where known. */
  readonly kind: "text" | "caption" | undefined
  readonly latestVersion: number
  readonly confirmedVersion: number
  readonly state: "idle" | "pending" | "failed"
  readonly nextAttemptAt: number | undefined
  readonly settleUntil: number | undefined
  readonly failures: number
  readonly lastReason: string | undefined
  readonly updatedAt: number
  /** The worker holding the message's claim (set while it delivers; left behind by a worker that stopped). */
  readonly claimedBy: string | undefined
  readonly claimedUntil: number | undefined
}

export const messageRow = (row: Record<string, unknown>): MessageRow => ({
  messageKey: String(row.message_key),
  tenant: row.tenant === null || row.tenant === undefined ? DEFAULT_TENANT : String(row.tenant),
  provider: String(row.provider),
  account: String(row.account),
  externalMessageId: String(row.external_message_id),
  externalChatId: optStr(row.external_chat_id),
  externalAuthorId: optStr(row.external_author_id),
  providerMessageId: optStr(row.provider_message_id),
  providerChatId: optStr(row.provider_chat_id),
  providerConnectionId: optStr(row.provider_connection_id),
  kind: optStr(row.kind) as MessageRow["kind"],
  latestVersion: num(row.latest_version),
  confirmedVersion: num(row.confirmed_version),
  state: String(row.state) as MessageRow["state"],
  nextAttemptAt: optNum(row.next_attempt_at),
  settleUntil: optNum(row.settle_until),
  failures: num(row.failures),
  lastReason: optStr(row.last_reason),
  updatedAt: num(row.updated_at),
  claimedBy: optStr(row.claimed_by),
  claimedUntil: optNum(row.claimed_until)
})

export interface EditRow {
  readonly version: number
  readonly text: string | undefined
  readonly textHash: string
  readonly source: string | undefined
  readonly askedAt: number
  readonly status: "pending" | "superseded" | "confirmed" | "failed"
  readonly confirmedAt: number | undefined
}

export interface AttemptRow {
  readonly version: number
  readonly worker: string
  readonly startedAt: number
  readonly finishedAt: number | undefined
  readonly outcome: "confirmed" | "unknown" | "retryable" | "permanent" | "abandoned" | "repointed" | undefined
  readonly reason: string | undefined
}

/** An id of the id map a re-point changes (and the message's kind, which a new message may change). */
export type IdField =
  | "externalChatId"
  | "externalAuthorId"
  | "providerMessageId"
  | "providerChatId"
  | "providerConnectionId"
  | "kind"

const ID_COLUMNS: Readonly<Record<IdField, string>> = {
  externalChatId: "external_chat_id",
  externalAuthorId: "external_author_id",
  providerMessageId: "provider_message_id",
  providerChatId: "provider_chat_id",
  providerConnectionId: "provider_connection_id",
  kind: "kind"
}

/** One change of the id map, as the journal keeps it. */
export interface IdChange {
  readonly field: IdField
  readonly from: string | undefined
  readonly to: string
  readonly source: string | undefined
}

/** Which messages of an external id a history names (all, unless named). */
export interface Where {
  readonly tenant?: string | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
}

export interface ListQuery {
  readonly state: "pending" | "failed"
  readonly tenant?: string | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
  /** Only messages whose state has not changed since before this time (ms since the epoch). */
  readonly before?: number | undefined
  /** Keyset paging: messages after this key. */
  readonly after?: string | undefined
  readonly limit: number
}

/** The most values one statement lists (`IN (...)`): far within every database's limit on variables. */
export const MAX_LIST = 1_000

/** A list in slices of at most {@link MAX_LIST}. */
export const chunked = <A>(values: ReadonlyArray<A>, size = MAX_LIST): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(values.length / size) }, (_, i) => values.slice(i * size, (i + 1) * size))

/** Which messages {@link make}'s `totals` counts. */
export type TotalsQuery = Pick<ListQuery, "tenant" | "provider" | "account" | "before">

/** How many messages of one provider and account are in one state, and since when the oldest is. */
export interface TotalRow {
  readonly tenant: string
  readonly provider: string
  readonly account: string
  readonly state: "pending" | "failed"
  readonly count: number
  readonly oldest: number
}

/** The most (provider, account, state) groups `totals` answers. */
export const MAX_TOTALS = 10_000

export const make = (sql: SqlClient.SqlClient, t: Tables) => {
  const M = sql(t.messages)
  const E = sql(t.edits)
  const A = sql(t.attempts)

  const lookup = (key: string): Effect.Effect<MessageRow | undefined, SqlError.SqlError> =>
    Effect.map(sql`SELECT * FROM ${M} WHERE message_key = ${key}`, (rows) =>
      rows[0] === undefined ? undefined : messageRow(rows[0])
    )

  /** Every message with this external id (of any tenant, provider and account, unless named). */
  const find = (externalMessageId: string, where: Where): Effect.Effect<ReadonlyArray<MessageRow>, SqlError.SqlError> =>
    Effect.map(
      sql`SELECT * FROM ${M} WHERE ${sql.and([
        sql`external_message_id = ${externalMessageId}`,
        ...(where.tenant === undefined ? [] : [sql`tenant = ${where.tenant}`]),
        ...(where.provider === undefined ? [] : [sql`provider = ${where.provider}`]),
        ...(where.account === undefined ? [] : [sql`account = ${where.account}`])
      ])} ORDER BY message_key LIMIT 100`,
      (rows) => rows.map(messageRow)
    )

  /** Whether any message is pending: one row of the index, whatever the backlog (a `drain`'s poll). */
  const hasPending = Effect.map(
    sql`SELECT 1 AS one FROM ${M} WHERE state = 'pending' LIMIT 1`,
    (rows) => rows.length > 0
  )

  const counts = Effect.map(
    sql<{
      state: string
      n: unknown
    }>`SELECT state, COUNT(*) AS n FROM ${M} WHERE state IN ('pending', 'failed') GROUP BY state`,
    (rows) => {
      const of = (state: string) => num(rows.find((row) => row.state === state)?.n ?? 0)
      return { pending: of("pending"), failed: of("failed") }
    }
  )

  const scope = (query: TotalsQuery) => [
    ...(query.tenant === undefined ? [] : [sql`tenant = ${query.tenant}`]),
    ...(query.provider === undefined ? [] : [sql`provider = ${query.provider}`]),
    ...(query.account === undefined ? [] : [sql`account = ${query.account}`]),
    ...(query.before === undefined ? [] : [sql`updated_at <= ${query.before}`])
  ]

  /** Every pending and failed message the query chooses, counted by provider, account and state (all rows). */
  const totals = (query: TotalsQuery): Effect.Effect<ReadonlyArray<TotalRow>, SqlError.SqlError> =>
    Effect.map(
      sql`SELECT tenant, provider, account, state, COUNT(*) AS n, MIN(updated_at) AS oldest FROM ${M}
        WHERE ${sql.and([sql`state IN ('pending', 'failed')`, ...scope(query)])}
        GROUP BY tenant, provider, account, state ORDER BY tenant, provider, account, state LIMIT ${MAX_TOTALS}`,
      (rows) =>
        rows.map(
          (row): TotalRow => ({
            tenant: String(row.tenant),
            provider: String(row.provider),
            account: String(row.account),
            state: String(row.state) as TotalRow["state"],
            count: num(row.n),
            oldest: num(row.oldest)
          })
        )
    )

  const list = (query: ListQuery): Effect.Effect<ReadonlyArray<MessageRow>, SqlError.SqlError> => {
    const conditions = [
      sql`state = ${query.state}`,
      ...scope(query),
      ...(query.after === undefined ? [] : [sql`message_key > ${query.after}`])
    ]
    return Effect.map(
      sql`SELECT * FROM ${M} WHERE ${sql.and(conditions)} ORDER BY message_key LIMIT ${query.limit}`,
      (rows) => rows.map(messageRow)
    )
  }

  const history = (key: string) =>
    Effect.gen(function* () {
      const edits = yield* sql`SELECT * FROM ${E} WHERE message_key = ${key} ORDER BY version`
      const attempts = yield* sql`SELECT * FROM ${A} WHERE message_key = ${key} ORDER BY started_at, version`
      return {
        edits: edits.map(
          (row): EditRow => ({
            version: num(row.version),
            text: optStr(row.text),
            textHash: String(row.text_hash),
            source: optStr(row.source),
            askedAt: num(row.asked_at),
            status: String(row.status) as EditRow["status"],
            confirmedAt: optNum(row.confirmed_at)
          })
        ),
        attempts: attempts.map(
          (row): AttemptRow => ({
            version: num(row.version),
            worker: String(row.worker),
            startedAt: num(row.started_at),
            finishedAt: optNum(row.finished_at),
            outcome: optStr(row.outcome) as AttemptRow["outcome"],
            reason: optStr(row.reason)
          })
        )
      }
    })

  /**
   * Puts dead letters back (all, or the ones keyed), answering how many. The
   * keys go in lists of {@link MAX_LIST} (every statement stays far within
   * SQLite's 32,766 variables and PostgreSQL's 65,535 parameters), in one
   * transaction.
   */
  const redrive = (keys: ReadonlyArray<string> | undefined, now: number): Effect.Effect<number, SqlError.SqlError> => {
    const set = sql`state = 'pending', next_attempt_at = ${now}, failures = 0, updated_at = ${now}`
    if (keys === undefined) {
      return Effect.map(sql`UPDATE ${M} SET ${set} WHERE state = 'failed' RETURNING message_key`, (rows) => rows.length)
    }
    if (keys.length === 0) return Effect.succeed(0)
    return sql.withTransaction(
      Effect.reduce(
        chunked(keys),
        () => 0,
        (count, chunk) =>
          Effect.map(
            sql`UPDATE ${M} SET ${set} WHERE state = 'failed' AND ${sql.in("message_key", chunk)} RETURNING message_key`,
            (rows) => count + rows.length
          )
      )
    )
  }

  /**
   * Points a message at other ids, in one transaction: each id given that
   * differs is changed, and the change is kept in the journal (as an entry of
   * the attempts table, outcome `repointed`: the worker never reads those).
   * Answers the changes made; `undefined` when the id map has no such message.
   */
  const repoint = (
    key: string,
    ids: Partial<Record<IdField, string>>,
    source: string | undefined,
    now: number
  ): Effect.Effect<ReadonlyArray<IdChange> | undefined, SqlError.SqlError> =>
    sql.withTransaction(
      Effect.gen(function* () {
        const lock = sql.onDialectOrElse({ pg: () => sql.literal("FOR UPDATE"), orElse: () => sql.literal("") })
        const [row] = (yield* sql`SELECT * FROM ${M} WHERE message_key = ${key} ${lock}`).map(messageRow)
        if (row === undefined) return undefined
        const changes: Array<IdChange> = []
        for (const field of Object.keys(ID_COLUMNS) as Array<IdField>) {
          const to = ids[field]
          if (to === undefined || to === row[field]) continue
          changes.push({ field, from: row[field], to, source })
          yield* sql`UPDATE ${M} SET ${sql(ID_COLUMNS[field])} = ${to} WHERE message_key = ${key}`
          yield* sql`INSERT INTO ${A} ${sql.insert({
            id: randomUUID(),
            message_key: key,
            version: row.latestVersion,
            worker: "id map",
            started_at: now,
            finished_at: now,
            outcome: "repointed",
            reason: JSON.stringify({ field, from: row[field] ?? null, to, source: source ?? null })
          })}`
        }
        return changes
      })
    )

  /**
   * Dead-letters every pending message of a tenant that no worker holds now, with this reason, in one
   * transaction; answers their keys (none when called again: idempotent). A message a worker holds is
   * settled by it, and its next attempt finds the tenant gone.
   */
  const failTenant = (
    tenant: string,
    reason: string,
    now: number
  ): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError> =>
    sql.withTransaction(
      Effect.gen(function* () {
        // Leases are on the database's clock (PostgreSQL's), as the claims set them.
        const clock = sql.onDialectOrElse({
          pg: () => sql.literal("(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint"),
          orElse: () => sql`${now}`
        })
        const rows = yield* sql`UPDATE ${M} SET state = 'failed', last_reason = ${reason}, next_attempt_at = NULL,
            updated_at = ${now}, failures = failures + 1
          WHERE tenant = ${tenant} AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ${clock})
          RETURNING message_key`
        const keys = rows.map((row) => String(row.message_key))
        for (const chunk of chunked(keys)) {
          yield* sql`UPDATE ${E} SET status = 'failed' WHERE status = 'pending' AND ${sql.in("message_key", chunk)}`
        }
        return keys
      })
    )

  return { lookup, find, hasPending, counts, totals, list, history, redrive, repoint, failTenant }
}

export type Store = ReturnType<typeof make>
