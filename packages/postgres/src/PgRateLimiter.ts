/**
 * One Bitrix24 request budget shared by every process of an app: the portal's
 * leaky bucket kept in one PostgreSQL row per portal, implementing the
 * adapter's `RateLimiter.Service`.
 *
 * The row holds the bucket as its *theoretical arrival time* (`tat`, the
 * generic cell rate algorithm): the bucket's level at time `t` is
 * `(tat - t) × drainPerSecond`. Each request reserves its slot in one atomic
 * statement (an upsert that takes the row lock, reads the database's clock,
 * moves `tat` one interval on, and answers the slot); the process then
 * sleeps until its slot and sends. No process polls the database while it
 * waits, and the database's clock is the only one that counts, so processes
 * on machines whose clocks disagree still share one budget.
 *
 * A request counts from its slot. Whatever delays it between its slot and the
 * portal (a busy event loop, the network) is covered by `headroom`: keep it
 * at least `drainPerSecond × the longest such delay` (the default 1 covers
 * 500 ms on the standard plan's 2/s).
 *
 * The operating time of each method (`time.operating`) is the portal's own
 * total over every process, reported in each answer: each process tracks it
 * from the answers it gets, with the adapter's in-process limiter.
 *
 * @since 0.1.0
 */
import { RateLimiter } from "@reword/bitrix24"
import { Duration, Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Outage from "./internal/outage.ts"
import { checkName, createBucketTable, DEFAULT_BUCKET_TABLE, describe } from "./internal/tables.ts"
import * as PgError from "./PgError.ts"

/**
 * The adapter's limiter options (`bucket`, `headroom`, the operating time),
 * plus where the buckets live.
 *
 * @since 0.1.0
 */
export interface Options extends RateLimiter.Options {
  /** The table. Default `reword_bitrix24_buckets` (created when missing). */
  readonly table?: string | undefined
  /**
   * How long one reservation statement may take (a database that does not
   * answer). Past it, or when the database fails, `withPermit` and
   * `withPermitWithin` fall back to this process's own bucket (the adapter's
   * in-process limiter, with the same options), with one warning in the log
   * naming the database; the database is asked again after a pause that
   * doubles while it stays away (1 s, up to 30 s), and one line in the log
   * says when it is back. A database outage is never reported as the
   * portal's budget being full. Default 5 s.
   */
  readonly statementTimeout?: Duration.Input | undefined
}

/** A reservation: the slot was taken and is `wait` ms away; or none was taken, room being `retryAfter` ms away. */
type Reservation =
  | { readonly _tag: "Reserved"; readonly wait: number }
  | { readonly _tag: "Full"; readonly retryAfter: number }

/** Longer than any wait a caller can ask for (a bound the statement compares against). */
const NO_LIMIT = 1e12

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::double precision"

/**
 * A limiter on the `SqlClient` in context (PostgreSQL). Creates the table
 * when missing. Every process of an app that talks to a portal must use the
 * same bucket and headroom, and the same table.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<RateLimiter.Service, PgError.PgError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // The in-process limiter checks the options, tracks the operating time, and is the fallback.
    const { local, table } = yield* Effect.try({
      try: () => ({
        local: RateLimiter.make(options),
        table: checkName(options.table ?? DEFAULT_BUCKET_TABLE, "table")
      }),
      catch: (error) =>
        new PgError.PgError({
          reason: new PgError.InvalidOptions({ description: error instanceof Error ? error.message : String(error) })
        })
    })
    yield* createBucketTable(sql, table).pipe(
      Effect.mapError((error) => PgError.fromSql(error, `creating the bucket table ${table}`))
    )
    const T = sql(table)
    const bucket = local.bucket
    const usable = Math.max(1, bucket.capacity - Math.max(0, options.headroom ?? 1))
    /** One request's share of the bucket, in ms of drain. */
    const interval = 1000 / bucket.drainPerSecond
    /** How far ahead of `tat` a request may go: the burst of `usable` requests. */
    const tolerance = (usable - 1) * interval
    const full = bucket.capacity * interval
    const timeout = Duration.fromInputUnsafe(options.statementTimeout ?? "5 seconds")
    const now = sql.literal(NOW_MS)

    const bounded = <A>(statement: Effect.Effect<A, SqlError.SqlError>): Effect.Effect<A, string> =>
      statement.pipe(
        Effect.mapError(describe),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(`no answer within ${Duration.format(timeout)}`)
        })
      )

    /** Takes the portal's next slot when it is at most `maxWait` ms away, in one statement. */
    const reserve = (portal: string, maxWait: number): Effect.Effect<Reservation, string> =>
      bounded(
        sql<{ readonly tat: number; readonly now: number }>`
          INSERT INTO ${T} AS b (portal, tat) VALUES (${portal}, ${now} + ${interval})
          ON CONFLICT (portal) DO UPDATE SET tat = greatest(b.tat, ${now}) + ${interval}
          WHERE b.tat - ${tolerance} - ${now} <= ${maxWait}
          RETURNING tat, ${now} AS now`
      ).pipe(
        Effect.flatMap((rows) => {
          const row = rows[0]
          if (row !== undefined) {
            const slot = Number(row.tat) - interval - tolerance
            return Effect.succeed<Reservation>({
              _tag: "Reserved",
              wait: Math.max(0, Math.ceil(slot - Number(row.now)))
            })
          }
          return bounded(
            sql<{
              readonly wait: number
            }>`SELECT b.tat - ${tolerance} - ${now} AS wait FROM ${T} AS b WHERE b.portal = ${portal}`
          ).pipe(
            Effect.map(
              (found): Reservation => ({
                _tag: "Full",
                retryAfter: Math.max(1, Math.ceil(Number(found[0]?.wait ?? interval)))
              })
            )
          )
        })
      )

    /** Gives a slot back: its caller was interrupted before its request left. */
    const giveBack = (portal: string): Effect.Effect<void> =>
      Effect.ignore(bounded(sql`UPDATE ${T} SET tat = tat - ${interval} WHERE portal = ${portal}`))

    /** Sleeps until the slot; a caller interrupted meanwhile gives it back (in the background). */
    const awaitSlot = (portal: string, wait: number): Effect.Effect<void> =>
      wait <= 0
        ? Effect.void
        : Effect.sleep(Duration.millis(wait)).pipe(Effect.onInterrupt(() => Effect.forkDetach(giveBack(portal))))

    const outage = Outage.make(`Bitrix24: the shared rate limit in PostgreSQL (table ${table})`)
    /** A statement on the shared limits, unless the database is away (`undefined` then: use the local one). */
    const shared = outage.guard

    const withPermit =
      (portal: string) =>
      <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
        Effect.flatMap(shared(reserve(portal, NO_LIMIT)), (reserved) =>
          reserved === undefined
            ? local.withPermit(portal)(request)
            : Effect.andThen(awaitSlot(portal, reserved._tag === "Reserved" ? reserved.wait : 0), request)
        )

    const withPermitWithin =
      (portal: string, maxWait: Duration.Duration) =>
      <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E | RateLimiter.BucketFull, R> =>
        Effect.flatMap(
          shared(reserve(portal, Duration.toMillis(maxWait))),
          (reserved): Effect.Effect<A, E | RateLimiter.BucketFull, R> => {
            if (reserved === undefined) return local.withPermitWithin(portal, maxWait)(request)
            if (reserved._tag === "Full")
              return Effect.fail(new RateLimiter.BucketFull(Duration.millis(reserved.retryAfter), false))
            return Effect.andThen(awaitSlot(portal, reserved.wait), request)
          }
        )

    const saturated = (portal: string): Effect.Effect<void> =>
      Effect.andThen(
        local.saturated(portal),
        Effect.asVoid(
          shared(
            bounded(
              sql`INSERT INTO ${T} AS b (portal, tat) VALUES (${portal}, ${now} + ${full})
                  ON CONFLICT (portal) DO UPDATE SET tat = greatest(b.tat, ${now} + ${full})`
            )
          )
        )
      )

    return RateLimiter.RateLimiter.of({
      bucket,
      withPermit,
      withPermitWithin,
      acquire: (portal) => withPermit(portal)(Effect.void),
      saturated,
      observe: local.observe,
      block: local.block,
      blockedFor: local.blockedFor
    })
  })

/**
 * The limiter as a `RateLimiter` layer, over the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<RateLimiter.RateLimiter, PgError.PgError, SqlClient.SqlClient> =>
  Layer.effect(RateLimiter.RateLimiter, make(options))
