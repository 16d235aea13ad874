/**
 * What `reword tenants` reads and prints: the tenant registry's tenants
 * (`@reword/tenants`: provider, state, setup state and its last error) joined
 * with each tenant's backlog from the outbox's `totals`, when the outbox's
 * tables are in the same database. Nothing here decrypts: the registry's
 * `list` answers summaries without credentials, so the registry is opened
 * with a key ring of one random key made for this run (it never unwraps a
 * data key); no master key is read, and no ciphertext is ever selected.
 */
import { randomBytes } from "node:crypto"
import type { Outbox } from "@reword/outbox"
import type { TenantRegistry } from "@reword/tenants"
import { Effect, Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

/** The variable naming the registry's table prefix. */
export const REGISTRY_PREFIX_VARIABLE = "REWORD_TENANTS_TABLE_PREFIX"
/** The registry's default prefix (its table is `reword_tenants`). */
export const DEFAULT_REGISTRY_PREFIX = "reword_"
/** The variables of the app's master keys: never read here, but scrubbed from every line if set. */
export const KEY_VARIABLES = ["REWORD_TENANT_KEY", "REWORD_TENANT_OLD_KEYS"] as const

/** A tenant's backlog in the outbox. */
export interface Backlog {
  readonly pending: number
  readonly failed: number
  /** Since when the oldest pending edit waits. */
  readonly oldestPending: Date | undefined
}

/** One tenant as listed: nothing secret (no credentials, no ciphertext, no settings but the setup's). */
export interface Row {
  readonly tenant: string
  readonly provider: string
  readonly state: TenantRegistry.State
  /** `done`, `failed`, or undefined when the app sets nothing up (an Acquire account, an app that registers the connector itself). */
  readonly setup: string | undefined
  readonly setupStep: string | undefined
  readonly setupError: string | undefined
  readonly hasCredentials: boolean
  readonly updatedAt: Date
  /** `undefined` when the outbox's tables are not in the database. */
  readonly backlog: Backlog | undefined
}

/** What the command prints. */
export interface Listing {
  readonly tenants: ReadonlyArray<Row>
  /** Whether the outbox's tables are in the database (the backlog is known). */
  readonly outbox: boolean
  /** Tenants with a backlog in the outbox that the registry does not hold (`default`: a single-tenant app's). */
  readonly unregistered: ReadonlyArray<{ readonly tenant: string } & Backlog>
  /** Whether more tenants than the limit matched. */
  readonly truncated: boolean
}

/** A key ring of one random key made for this run: the registry's constructor needs one, `list` never uses it. */
export const throwawayKeys = () => {
  const id = `reword-cli-${randomBytes(4).toString("hex")}`
  return { current: id, keys: { [id]: randomBytes(32).toString("base64") } }
}

/** The master keys' values in the environment, to scrub (`id:key` pairs, comma-separated). */
export const keySecrets = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<Redacted.Redacted> =>
  KEY_VARIABLES.flatMap((name) => {
    const value = env[name]?.trim()
    if (value === undefined || value === "") return []
    const parts = value.split(",").flatMap((pair) => [pair.trim(), pair.slice(pair.indexOf(":") + 1).trim()])
    return [value, ...parts].filter((part) => part.length >= 8).map((part) => Redacted.make(part))
  })

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined

const earliest = (a: Date | undefined, b: Date | undefined): Date | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b

/** Each tenant's backlog, from the outbox's totals (one per tenant, provider and account). */
export const backlogByTenant = (totals: ReadonlyArray<Outbox.Total>): ReadonlyMap<string, Backlog> => {
  const byTenant = new Map<string, Backlog>()
  for (const total of totals) {
    const tenant = total.tenant ?? "default"
    const before = byTenant.get(tenant) ?? { pending: 0, failed: 0, oldestPending: undefined }
    byTenant.set(tenant, {
      pending: before.pending + total.pending,
      failed: before.failed + total.failed,
      oldestPending: earliest(before.oldestPending, total.oldestPending)
    })
  }
  return byTenant
}

/** The registry's summaries joined with the outbox's backlog (`undefined`: no outbox in the database). */
export const join = (
  summaries: ReadonlyArray<TenantRegistry.Summary>,
  backlogs: ReadonlyMap<string, Backlog> | undefined,
  truncated: boolean
): Listing => {
  const none: Backlog = { pending: 0, failed: 0, oldestPending: undefined }
  const tenants = summaries.map(
    (summary): Row => ({
      tenant: summary.id,
      provider: summary.provider,
      state: summary.state,
      setup: text(summary.settings.setup),
      setupStep: text(summary.settings.setupStep),
      setupError: text(summary.settings.setupError),
      hasCredentials: summary.hasCredentials,
      updatedAt: new Date(summary.updatedAt),
      backlog: backlogs === undefined ? undefined : (backlogs.get(summary.id) ?? none)
    })
  )
  const registered = new Set(summaries.map((summary) => summary.id))
  // With a truncated listing, a tenant past the limit is not "unregistered": list only when all were read.
  const unregistered =
    backlogs === undefined || truncated
      ? []
      : [...backlogs.entries()]
          .filter(([tenant, backlog]) => !registered.has(tenant) && backlog.pending + backlog.failed > 0)
          .map(([tenant, backlog]) => ({ tenant, ...backlog }))
          .sort((a, b) => a.tenant.localeCompare(b.tenant))
  return { tenants, outbox: backlogs !== undefined, unregistered, truncated }
}

/** Every summary the query chooses, a page at a time, at most `limit` (and whether more matched). */
export const listAll = <E>(
  registry: {
    readonly list: (query?: TenantRegistry.Query) => Effect.Effect<ReadonlyArray<TenantRegistry.Summary>, E>
  },
  query: { readonly state?: TenantRegistry.State | undefined; readonly provider?: string | undefined },
  limit: number
): Effect.Effect<{ readonly summaries: ReadonlyArray<TenantRegistry.Summary>; readonly truncated: boolean }, E> =>
  Effect.gen(function* () {
    const summaries: Array<TenantRegistry.Summary> = []
    const wanted = limit + 1
    let after = ""
    // Bounded: every page moves `after` on, and the loop stops at `limit` + 1 summaries or a short page.
    while (summaries.length < wanted) {
      const size = Math.min(1_000, wanted - summaries.length)
      const page = yield* registry.list({ ...query, after, limit: size })
      summaries.push(...page)
      const last = page[page.length - 1]
      if (last === undefined || page.length < size) break
      after = last.id
    }
    return { summaries: summaries.slice(0, limit), truncated: summaries.length > limit }
  })

/** Whether the database holds this table (read-only: nothing is created). */
export const tableExists = (table: string): Effect.Effect<boolean, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.onDialectOrElse({
      pg: () => sql<{ present: unknown }>`SELECT to_regclass(${table}) IS NOT NULL AS present`,
      orElse: () =>
        sql<{
          present: unknown
        }>`SELECT count(*) AS present FROM sqlite_master WHERE type = 'table' AND name = ${table}`
    })
    const present = rows[0]?.present
    return present === true || present === "t" || Number(present) > 0
  })

/** How long ago, as printed. */
const age = (date: Date | undefined, now: number, ago: (date: Date, now: number) => string): string =>
  date === undefined ? "-" : ago(date, now)

/** The listing as printed without --json: one line per tenant, a setup's error on the next. */
export const lines = (
  listing: Listing,
  now: number,
  ago: (date: Date, now: number) => string
): ReadonlyArray<string> => {
  const states = new Map<string, number>()
  for (const row of listing.tenants) states.set(row.state, (states.get(row.state) ?? 0) + 1)
  const byState = [...states.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([state, count]) => `${count} ${state}`)
    .join(", ")
  const backlog = listing.tenants.reduce(
    (sum, row) => ({
      pending: sum.pending + (row.backlog?.pending ?? 0),
      failed: sum.failed + (row.backlog?.failed ?? 0)
    }),
    { pending: 0, failed: 0 }
  )
  const out = [
    `${listing.tenants.length} tenant${listing.tenants.length === 1 ? "" : "s"}${byState === "" ? "" : ` (${byState})`}${listing.truncated ? " (the first ones: --limit shows more)" : ""}${listing.outbox ? `; outbox: ${backlog.pending} pending, ${backlog.failed} dead letters` : "; no outbox tables in this database: no backlog"}`
  ]
  if (listing.tenants.length === 0) return out
  const table = [
    ["TENANT", "PROVIDER", "STATE", "SETUP", ...(listing.outbox ? ["PENDING", "DEAD", "OLDEST PENDING"] : [])],
    ...listing.tenants.map((row) => [
      row.tenant,
      row.provider,
      row.state,
      row.setup === undefined
        ? "-"
        : row.setupStep === undefined || row.setup !== "failed"
          ? row.setup
          : `failed (${row.setupStep})`,
      ...(row.backlog === undefined
        ? []
        : [String(row.backlog.pending), String(row.backlog.failed), age(row.backlog.oldestPending, now, ago)])
    ])
  ]
  const widths = table[0]?.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? "").length))) ?? []
  for (const [index, cells] of table.entries()) {
    out.push(
      cells
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd()
    )
    const row = index === 0 ? undefined : listing.tenants[index - 1]
    if (row?.setupError !== undefined) out.push(`  setup error: ${row.setupError}`)
  }
  for (const other of listing.unregistered) {
    out.push(
      `not in the registry: tenant ${other.tenant}: ${other.pending} pending, ${other.failed} dead letters${other.oldestPending === undefined ? "" : `, the oldest pending for ${ago(other.oldestPending, now)}`}`
    )
  }
  return out
}

/** The listing as JSON: dates as ISO strings, the oldest pending edit's age in milliseconds. */
export const json = (listing: Listing, now: number) => {
  const backlogJson = (backlog: Backlog) => ({
    pending: backlog.pending,
    failed: backlog.failed,
    oldestPendingSince: backlog.oldestPending?.toISOString() ?? null,
    oldestPendingAgeMs: backlog.oldestPending === undefined ? null : Math.max(0, now - backlog.oldestPending.getTime())
  })
  return {
    tenants: listing.tenants.map((row) => ({
      tenant: row.tenant,
      provider: row.provider,
      state: row.state,
      setup: row.setup ?? null,
      setupStep: row.setupStep ?? null,
      setupError: row.setupError ?? null,
      hasCredentials: row.hasCredentials,
      updatedAt: row.updatedAt.toISOString(),
      backlog: row.backlog === undefined ? null : backlogJson(row.backlog)
    })),
    outbox: listing.outbox,
    unregistered: listing.unregistered.map((other) => ({ tenant: other.tenant, ...backlogJson(other) })),
    truncated: listing.truncated
  }
}
