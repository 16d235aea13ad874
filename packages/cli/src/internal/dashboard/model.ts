/**
 * What the dashboard shows, read through the outbox's public `Journal`: the
 * backlog (pending edits and dead letters) by provider, account and age, the
 * chart's series (`Journal.series`: the backlog over time, from the
 * journal's own timestamps), the dead letters, and one message's
 * histories. Every read is bounded: at most `CAP` entries of each state.
 */

import { EditError } from "@reword/core"
import type { Outbox, OutboxError } from "@reword/outbox"
import { Effect, Stream } from "effect"

/** At most this many entries of each state are read for one page. */
export const CAP = 10_000

/** The age buckets of the backlog table: under a minute, an hour, a day, and older. */
export const AGES = [
  { label: "< 1 min", upTo: 60_000 },
  { label: "< 1 h", upTo: 3_600_000 },
  { label: "< 1 d", upTo: 86_400_000 },
  { label: "≥ 1 d", upTo: Number.POSITIVE_INFINITY }
] as const

/** One tenant, provider and account's backlog (or one tenant's: provider and account empty). */
export interface Group {
  /** `default` for a single-tenant app's messages. */
  readonly tenant: string
  readonly provider: string
  readonly account: string
  pending: number
  failed: number
  /** How many of them (pending or failed) are of each age in `AGES`. */
  readonly ages: Array<number>
  oldest: Date
}

/** The chart's windows, by the name the page's links use. */
export const WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const
export type WindowName = keyof typeof WINDOWS

/** One point of the chart: at this time, how many messages were pending, and how many dead letters. */
export interface Point {
  readonly at: number
  readonly pending: number
  readonly failed: number
}

/** The overview: counts, groups, the chart's points. */
export interface Overview {
  readonly now: number
  readonly counts: Outbox.Counts
  readonly groups: ReadonlyArray<Group>
  /** The backlog by tenant. */
  readonly tenants: ReadonlyArray<Group>
  /** The tenant the page is filtered on, if any (the chart still counts every tenant). */
  readonly tenant: string | undefined
  readonly window: WindowName
  readonly points: ReadonlyArray<Point>
  /** Whether there were more entries than `CAP` of a state (the groups and chart show the first ones). */
  readonly truncated: boolean
}

/** A query the journal cannot refuse: its refusal would be a defect of this file. */
const fixed = <A, E, R>(
  effect: Effect.Effect<A, E | EditError.EditError, R>
): Effect.Effect<A, Exclude<E, EditError.EditError>, R> =>
  Effect.catchIf(effect, EditError.isEditError, Effect.die) as Effect.Effect<A, Exclude<E, EditError.EditError>, R>

const collect = (journal: Outbox.Journal, state: "pending" | "failed", tenant: string | undefined) =>
  fixed(journal.stream(state, { tenant, limit: 1_000 }).pipe(Stream.take(CAP), Stream.runCollect))

/** The backlog by tenant, provider and account (or by tenant alone), each split by age. */
export const groupsOf = (
  entries: ReadonlyArray<Outbox.Entry>,
  now: number,
  by: "account" | "tenant" = "account"
): ReadonlyArray<Group> => {
  const groups = new Map<string, Group>()
  for (const entry of entries) {
    const tenant = entry.tenant ?? "default"
    const key = JSON.stringify(by === "tenant" ? [tenant] : [tenant, entry.provider, entry.account])
    const group = groups.get(key) ?? {
      tenant,
      provider: by === "tenant" ? "" : entry.provider,
      account: by === "tenant" ? "" : entry.account,
      pending: 0,
      failed: 0,
      ages: AGES.map(() => 0),
      oldest: entry.since
    }
    if (entry.state === "failed") group.failed++
    else group.pending++
    const age = now - entry.since.getTime()
    const found = AGES.findIndex((candidate) => age < candidate.upTo)
    const bucket = found === -1 ? AGES.length - 1 : found
    group.ages[bucket] = (group.ages[bucket] ?? 0) + 1
    if (entry.since < group.oldest) group.oldest = entry.since
    groups.set(key, group)
  }
  return [...groups.values()].sort(
    (a, b) =>
      a.tenant.localeCompare(b.tenant) || a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account)
  )
}

/** Reads the overview. */
export const overview = (
  journal: Outbox.Journal,
  now: number,
  window: WindowName,
  tenant?: string | undefined
): Effect.Effect<Overview, OutboxError.StorageError> =>
  Effect.gen(function* () {
    const [counts, pending, failed, series] = yield* Effect.all([
      countsOf(journal, tenant),
      collect(journal, "pending", tenant),
      collect(journal, "failed", tenant),
      fixed(journal.series({ window: `${WINDOWS[window]} millis`, steps: 48 }))
    ])
    const entries = [...pending, ...failed]
    return {
      now,
      counts,
      groups: groupsOf(entries, now),
      tenants: groupsOf(entries, now, "tenant"),
      tenant,
      window,
      points: series.points.map((point) => ({ at: point.at.getTime(), pending: point.pending, failed: point.failed })),
      truncated: pending.length >= CAP || failed.length >= CAP || series.truncated
    }
  })

/** The counts of every message, or of one tenant's (from the journal's totals). */
const countsOf = (
  journal: Outbox.Journal,
  tenant: string | undefined
): Effect.Effect<Outbox.Counts, OutboxError.StorageError> =>
  tenant === undefined
    ? journal.counts
    : Effect.map(fixed(journal.totals({ tenant })), (totals) => ({
        pending: totals.reduce((sum, total) => sum + total.pending, 0),
        failed: totals.reduce((sum, total) => sum + total.failed, 0)
      }))

/** The dead letters (of one tenant, when named), oldest first: at most `limit`, and how many there are. */
export const deadLetters = (
  journal: Outbox.Journal,
  limit: number,
  tenant?: string | undefined
): Effect.Effect<{ readonly entries: ReadonlyArray<Outbox.Entry>; readonly total: number }, OutboxError.StorageError> =>
  Effect.map(
    Effect.all([fixed(journal.failed({ tenant, limit })), countsOf(journal, tenant)]),
    ([entries, counts]) => ({
      entries,
      total: counts.failed
    })
  )

/** What one event of a message's timeline is. */
export type Event =
  | { readonly kind: "asked"; readonly at: Date; readonly version: Outbox.Version }
  | { readonly kind: "attempt"; readonly at: Date; readonly version: number; readonly attempt: Outbox.Attempt }
  | { readonly kind: "confirmed"; readonly at: Date; readonly version: number }

/** A history's events in time order (an attempt at its start, with its outcome). */
export const eventsOf = (history: Outbox.History): ReadonlyArray<Event> => {
  const events: Array<Event> = []
  for (const version of history.versions) {
    events.push({ kind: "asked", at: version.askedAt, version })
    for (const attempt of version.attempts) {
      events.push({ kind: "attempt", at: attempt.startedAt, version: version.version, attempt })
    }
    if (version.confirmedAt !== undefined) {
      events.push({ kind: "confirmed", at: version.confirmedAt, version: version.version })
    }
  }
  const order = { asked: 0, attempt: 1, confirmed: 2 } as const
  return events
    .map((event, index) => ({ event, index }))
    .sort(
      (a, b) =>
        a.event.at.getTime() - b.event.at.getTime() || order[a.event.kind] - order[b.event.kind] || a.index - b.index
    )
    .map(({ event }) => event)
}
