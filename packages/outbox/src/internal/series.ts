/**
 * The backlog over time, from the journal's own timestamps: at each of
 * `steps + 1` instants over a window ending now, how many messages were
 * pending (a version asked and not yet confirmed, failed or replaced) and how
 * many were dead letters (their newest version failed for good). Each
 * version's life is read from the edits table (`asked_at`, `confirmed_at`,
 * `status`) and, for a failed one, its last attempt's `finished_at`; a
 * message's segments (pending from an ask to its outcome or the next ask,
 * dead from a failure to the next ask) are added to the instants they cover.
 *
 * Read: every version of each message that was not idle for the whole window
 * (a version asked, confirmed or failed in it, or one still pending or
 * failed), at most {@link ROWS} versions; `truncated` says when there were
 * more. A re-driven dead letter's earlier failure is not kept by the journal:
 * it shows as pending from its first ask.
 */
import { Duration, Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import type { Tables } from "./schema.ts"

/** At most this many versions are read for one series. */
export const ROWS = 100_000

/**
 * Which series {@link seriesOf} reads: a window ending now (`"24 hours"`), cut
 * into `steps` (2 to 1,000; 48 by default), of one provider and account or all.
 *
 * @since 0.2.0
 */
export interface SeriesQuery {
  readonly window: Duration.Input
  readonly steps?: number | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
}

/**
 * One instant of a series: how many messages were pending, and how many dead letters, at `at`.
 *
 * @since 0.2.0
 */
export interface SeriesPoint {
  readonly at: Date
  readonly pending: number
  readonly failed: number
}

/**
 * The backlog over a window, oldest instant first; `truncated` when more
 * versions were in the window than a series reads ({@link ROWS}).
 *
 * @since 0.2.0
 */
export interface Series {
  readonly points: ReadonlyArray<SeriesPoint>
  readonly truncated: boolean
}

interface VersionRow {
  readonly messageKey: string
  readonly askedAt: number
  readonly status: string
  readonly confirmedAt: number | undefined
  readonly endedAt: number | undefined
}

const num = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value))

/** The versions of every message not idle for the whole window, by message and version. */
const versionsOf = (
  sql: SqlClient.SqlClient,
  t: Tables,
  from: number,
  where: Pick<SeriesQuery, "provider" | "account">
): Effect.Effect<ReadonlyArray<VersionRow>, SqlError.SqlError> => {
  const [M, E, A] = [sql(t.messages), sql(t.edits), sql(t.attempts)]
  const provider = where.provider === undefined ? sql`` : sql`AND m.provider = ${where.provider}`
  const account = where.account === undefined ? sql`` : sql`AND m.account = ${where.account}`
  return Effect.map(
    sql<Record<string, unknown>>`SELECT e.message_key, e.asked_at, e.status, e.confirmed_at,
        (SELECT MAX(a.finished_at) FROM ${A} a WHERE a.message_key = e.message_key AND a.version = e.version) AS ended_at
      FROM ${E} e
      WHERE e.message_key IN (
        SELECT DISTINCT x.message_key FROM ${E} x JOIN ${M} m ON m.message_key = x.message_key
        WHERE (x.asked_at >= ${from} OR x.confirmed_at >= ${from} OR x.status IN ('pending', 'failed'))
          ${provider} ${account}
      )
      ORDER BY e.message_key, e.version
      LIMIT ${ROWS + 1}`,
    (rows) =>
      rows.map((row) => ({
        messageKey: String(row.message_key),
        askedAt: Number(row.asked_at),
        status: String(row.status),
        confirmedAt: num(row.confirmed_at),
        endedAt: num(row.ended_at)
      }))
  )
}

/** A span of a message's life in one state: from `start` (included) to `end` (excluded). */
interface Segment {
  readonly state: "pending" | "failed"
  readonly start: number
  readonly end: number
}

/** One message's segments, from its versions in order. */
const segmentsOf = (versions: ReadonlyArray<VersionRow>): Array<Segment> => {
  const segments: Array<Segment> = []
  versions.forEach((version, n) => {
    const next = versions[n + 1]?.askedAt ?? Number.POSITIVE_INFINITY
    const confirmed = version.confirmedAt
    const failedAt = version.status === "failed" ? (version.endedAt ?? version.askedAt) : undefined
    const outcome = Math.min(confirmed ?? Number.POSITIVE_INFINITY, failedAt ?? Number.POSITIVE_INFINITY)
    segments.push({ state: "pending", start: version.askedAt, end: Math.min(outcome, next) })
    if (failedAt !== undefined && confirmed === undefined && failedAt < next) {
      segments.push({ state: "failed", start: failedAt, end: next })
    }
  })
  return segments.filter((segment) => segment.end > segment.start)
}

/** Adds each segment to the instants it covers (difference arrays: one pass over segments, one over instants). */
const pointsOf = (segments: ReadonlyArray<Segment>, from: number, span: number, steps: number): Array<SeriesPoint> => {
  const pending = new Array<number>(steps + 2).fill(0)
  const failed = new Array<number>(steps + 2).fill(0)
  const instant = (k: number) => from + (span * k) / steps
  /** The first instant at or after `time` (steps + 1 when none). */
  const firstAtOrAfter = (time: number) =>
    time <= from ? 0 : time > instant(steps) ? steps + 1 : Math.ceil(((time - from) * steps) / span - 1e-9)
  for (const segment of segments) {
    const counts = segment.state === "pending" ? pending : failed
    const first = firstAtOrAfter(segment.start)
    const last = firstAtOrAfter(segment.end)
    if (first >= last) continue
    counts[first] = (counts[first] ?? 0) + 1
    counts[last] = (counts[last] ?? 0) - 1
  }
  const points: Array<SeriesPoint> = []
  let [p, f] = [0, 0]
  for (let k = 0; k <= steps; k++) {
    p += pending[k] ?? 0
    f += failed[k] ?? 0
    points.push({ at: new Date(instant(k)), pending: p, failed: f })
  }
  return points
}

/** The series of `query`, ending at `now` (the caller's clock, as the journal's timestamps). */
export const seriesOf =
  (sql: SqlClient.SqlClient, t: Tables) =>
  (query: SeriesQuery, now: number): Effect.Effect<Series, SqlError.SqlError> =>
    Effect.gen(function* () {
      const span = Math.max(1, Duration.toMillis(Duration.fromInputUnsafe(query.window)))
      const steps = Math.max(2, Math.min(1_000, Math.floor(query.steps ?? 48)))
      const from = now - span
      const rows = yield* versionsOf(sql, t, from, query)
      const truncated = rows.length > ROWS
      const kept = truncated ? rows.slice(0, ROWS) : rows
      const segments: Array<Segment> = []
      let start = 0
      for (let n = 1; n <= kept.length; n++) {
        if (n === kept.length || kept[n]?.messageKey !== kept[start]?.messageKey) {
          segments.push(...segmentsOf(kept.slice(start, n)))
          start = n
        }
      }
      return { points: pointsOf(segments, from, span, steps), truncated }
    })
