/**
 * Claims fair between tenants. A worker that delivers many tenants (it has
 * `editorsFor`) first lists the tenants with due messages, one probe of the
 * `(state, tenant, next_attempt_at)` index each, at most a page's size of
 * them, starting after the last tenant it served (round robin); then it takes
 * at most `ceil(page / tenants)` due messages of each. A tenant with a backlog
 * of 100,000 edits gets its share of every page, and a quiet tenant's single
 * edit is in the next page claimed, whatever the backlog. A page that filled a
 * tenant's share is full: the worker claims again at once.
 *
 * A worker of one tenant (no `editorsFor`) claims as before: tenant `default`
 * only, in due order, one statement.
 */
import { Effect } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import { DEFAULT_TENANT } from "./store.ts"

/** Which messages a worker may claim: the provider and account pairs it has editors of, and its tenants. */
export interface ClaimScope {
  /** The (provider, account) pairs of the outbox's `editors`: tenant `default`'s. */
  readonly routes: ReadonlyArray<readonly [provider: string, account: string]>
  /** It delivers every tenant (`editorsFor`): those but `default`, and `default` too when `routes` is empty. */
  readonly tenants: boolean
}

/** Whether the scope holds nothing to claim. */
export const isEmpty = (scope: ClaimScope): boolean => scope.routes.length === 0 && !scope.tenants

/** The condition a claimable message meets (columns unqualified, or under `alias`). */
export const scopeCondition = (sql: SqlClient.SqlClient, scope: ClaimScope, alias = ""): Statement.Fragment => {
  const col = (name: string) => sql.literal(`${alias}${name}`)
  const routes =
    scope.routes.length === 0
      ? sql.literal("1 = 0")
      : sql.or(
          scope.routes.map(
            ([provider, account]) => sql`(${col("provider")} = ${provider} AND ${col("account")} = ${account})`
          )
        )
  const ofDefault = sql`(${col("tenant")} = ${DEFAULT_TENANT} AND ${routes})`
  if (!scope.tenants) return ofDefault
  if (scope.routes.length === 0) return sql.literal("1 = 1")
  return sql`(${ofDefault} OR ${col("tenant")} <> ${DEFAULT_TENANT})`
}

/**
 * Up to `max` tenants with messages due at `now` (a statement's time), in
 * tenant order after `after` ("" for the first), one index probe each.
 */
const tenantsAfter = (
  sql: SqlClient.SqlClient,
  messages: Statement.Identifier,
  condition: Statement.Fragment,
  now: Statement.Fragment,
  after: string,
  max: number
): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError> => {
  const due = sql`state = 'pending' AND next_attempt_at <= ${now}
    AND (claimed_until IS NULL OR claimed_until < ${now}) AND ${condition}`
  return Effect.map(
    sql`WITH RECURSIVE t(tenant, n) AS (
        SELECT (SELECT tenant FROM ${messages} WHERE ${due} AND tenant > ${after} ORDER BY tenant LIMIT 1), 1
        UNION ALL
        SELECT (SELECT tenant FROM ${messages} WHERE ${due} AND tenant > t.tenant ORDER BY tenant LIMIT 1), t.n + 1
        FROM t WHERE t.tenant IS NOT NULL AND t.n < ${max}
      )
      SELECT tenant FROM t WHERE tenant IS NOT NULL`,
    (rows) => rows.map((row) => String(row.tenant))
  )
}

/** The tenants a fair claim serves, and where the next one starts. */
export interface Turn {
  readonly tenants: ReadonlyArray<string>
  /** The last tenant served when more may wait beyond it; "" to start from the first next time. */
  readonly cursor: string
}

/** The tenants with due messages, at most `max`, round robin from `cursor` (wrapping to the first). */
export const turnOf = (
  sql: SqlClient.SqlClient,
  messages: Statement.Identifier,
  scope: ClaimScope,
  now: Statement.Fragment,
  cursor: string,
  max: number
): Effect.Effect<Turn, SqlError.SqlError> =>
  Effect.gen(function* () {
    const condition = scopeCondition(sql, scope)
    const first = yield* tenantsAfter(sql, messages, condition, now, cursor, max)
    const wrapped =
      cursor === "" || first.length >= max
        ? []
        : (yield* tenantsAfter(sql, messages, condition, now, "", max - first.length)).filter(
            (tenant) => tenant <= cursor && !first.includes(tenant)
          )
    const tenants = [...first, ...wrapped]
    return { tenants, cursor: tenants.length >= max ? (tenants[tenants.length - 1] ?? "") : "" }
  })

/** Each tenant's share of a page of `limit`. */
export const shareOf = (limit: number, tenants: number): number => Math.max(1, Math.ceil(limit / Math.max(1, tenants)))

/**
 * PostgreSQL: the keys of a fair page, locked (`SKIP LOCKED`): at most `share` due messages of each
 * tenant, in claim order, each tenant's read from the index.
 */
export const fairDuePg = (
  sql: SqlClient.SqlClient,
  messages: Statement.Identifier,
  due: Statement.Fragment,
  tenants: ReadonlyArray<string>,
  share: number
): Statement.Fragment =>
  sql`SELECT d.message_key FROM (VALUES ${sql.csv(tenants.map((tenant) => sql`(${tenant})`))}) AS wanted(tenant_id)
    CROSS JOIN LATERAL (
      SELECT message_key FROM ${messages} WHERE tenant = wanted.tenant_id AND ${due}
      ORDER BY next_attempt_at, message_key LIMIT ${share} FOR UPDATE SKIP LOCKED
    ) d`

/** Whether a fair page may leave due messages behind: a tenant got its whole share. */
export const filledAShare = (tenantsOfClaims: ReadonlyArray<string>, share: number): boolean => {
  const counts = new Map<string, number>()
  for (const tenant of tenantsOfClaims) counts.set(tenant, (counts.get(tenant) ?? 0) + 1)
  return [...counts.values()].some((count) => count >= share)
}
