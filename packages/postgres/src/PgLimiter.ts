/**
 * Rate limits shared by every process of an app, for any provider: core's
 * provider-neutral `SharedLimiter` kept in PostgreSQL, one row per key (a
 * bot, a chat, a group: the adapter names them; Telegram's
 * `TelegramRateLimiter.shared` maps its Bot FAQ limits onto keys).
 *
 * Each row holds its key's next slot (`tat`, a theoretical arrival time, in
 * Unix ms on the database's clock). A call reserves a slot on all its keys at
 * once in one statement (it locks their rows, reads the database's clock,
 * takes the latest of their next slots and moves each one spacing on), then
 * sleeps until its slot and runs: no process polls the database while it
 * waits, and the database's clock is the only one that counts. A call that
 * would wait longer than it may takes nothing and fails with `LimitFull`; a
 * caller interrupted while it waits gives its slot back.
 *
 * Slots of one key are `(per + delay) / count` apart, so that the provider,
 * counting calls over sliding windows, never sees more than `count` in a
 * window though each call reaches it up to `delay` after its slot.
 *
 * @since 0.4.0
 */
import { SharedLimiter } from "@reword/core/adapter"
import { Duration, Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as DbClock from "./internal/dbClock.ts"
import * as Outage from "./internal/outage.ts"
import { checkName, createLimitTable, DEFAULT_LIMIT_TABLE, describe } from "./internal/tables.ts"
import * as PgError from "./PgError.ts"

/**
 * Where the limits live and how late a call may reach its provider.
 *
 * @since 0.4.0
 */
export interface Options {
  /** The table. Default `reword_shared_limits` (created when missing). */
  readonly table?: string | undefined
  /**
   * How late a call may reach the provider after its slot (a busy event
   * loop, the network): the slots are spaced to cover it. Every process
   * sharing the table must use the same. Default 100 ms.
   */
  readonly delay?: Duration.Input | undefined
  /**
   * How long one statement may take. Past it, or when the database fails,
   * calls use this process's own limiter (`SharedLimiter.local`, the same
   * rules) with one warning in the log; the database is asked again after a
   * pause that doubles while it stays away (1 s, up to 30 s). Default 5 s.
   */
  readonly statementTimeout?: Duration.Input | undefined
}

/** A reservation: the slot was taken at `at` (database ms); none was taken, room being `retryAfter` ms away; rows missing. */
type Reservation =
  | { readonly _tag: "Reserved"; readonly at: number }
  | { readonly _tag: "Full"; readonly retryAfter: number }
  | { readonly _tag: "Missing" }

/** How late a call may reach its provider after its slot, by default (as `SharedLimiter.local`'s). */
const DEFAULT_DELAY = Duration.millis(100)

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::double precision"

/** A rule with its spacing, in ms. */
type Spaced = readonly [SharedLimiter.Rule, number]

const checkOptions = (options: Options) =>
  Effect.try({
    try: () => {
      const delay = Duration.fromInputUnsafe(options.delay ?? DEFAULT_DELAY)
      if (Duration.toMillis(delay) < 0) throw new RangeError("delay must not be negative")
      return {
        table: checkName(options.table ?? DEFAULT_LIMIT_TABLE, "table"),
        delay: Duration.toMillis(delay),
        timeout: Duration.fromInputUnsafe(options.statementTimeout ?? "5 seconds")
      }
    },
    catch: (error) =>
      new PgError.PgError({
        reason: new PgError.InvalidOptions({ description: error instanceof Error ? error.message : String(error) })
      })
  })

/**
 * A shared limiter on the `SqlClient` in context (PostgreSQL). Creates the
 * table when missing.
 *
 * @since 0.4.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<SharedLimiter.Service, PgError.PgError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const { table, delay, timeout } = yield* checkOptions(options)
    yield* createLimitTable(sql, table).pipe(
      Effect.mapError((error) => PgError.fromSql(error, `creating the limit table ${table}`))
    )
    const T = sql(table)
    const now = sql.literal(NOW_MS)
    const local = SharedLimiter.local({ delay })
    const dbClock = DbClock.make()

    const bounded = <A>(statement: Effect.Effect<A, SqlError.SqlError>): Effect.Effect<A, string> =>
      statement.pipe(
        Effect.mapError(describe),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(`no answer within ${Duration.format(timeout)}`)
        })
      )

    /** The rules as a `VALUES` list of (key, spacing). */
    const valuesOf = (spaced: ReadonlyArray<Spaced>) =>
      sql.join(", ", false)(spaced.map(([rule, spacing]) => sql`(${rule.key}::text, ${spacing}::double precision)`))

    /** Takes the slot every key allows, when it is at most `maxWait` ms away, in one statement. */
    const reserve = (spaced: ReadonlyArray<Spaced>, maxWait: number): Effect.Effect<Reservation, string> =>
      bounded(
        sql<{
          readonly at: number
          readonly now: number
          readonly found: number | string
          readonly taken: number | string
        }>`
          WITH input (key, spacing) AS (VALUES ${valuesOf(spaced)}),
          cur AS (
            SELECT b.key, b.tat, i.spacing FROM ${T} AS b JOIN input AS i ON i.key = b.key
            ORDER BY b.key FOR UPDATE OF b
          ),
          slot AS (SELECT greatest(${now}, max(cur.tat)) AS at, ${now} AS now, count(*) AS found FROM cur),
          upd AS (
            UPDATE ${T} AS b SET tat = greatest(cur.tat, slot.at) + cur.spacing FROM cur, slot
            WHERE b.key = cur.key AND slot.found = ${spaced.length} AND slot.at - slot.now <= ${maxWait}
            RETURNING b.key
          )
          SELECT slot.at, slot.now, slot.found, (SELECT count(*) FROM upd) AS taken FROM slot`
      ).pipe(
        Effect.flatMap((rows) =>
          Effect.clockWith((clock) => {
            const row = rows[0]
            const at = Number(row?.at ?? 0)
            const dbNow = Number(row?.now ?? 0)
            if (row !== undefined) dbClock.observe(dbNow, Number(clock.monotonicTimeNanosUnsafe()) / 1e6)
            if (Number(row?.found ?? 0) < spaced.length) return Effect.succeed<Reservation>({ _tag: "Missing" })
            return Effect.succeed<Reservation>(
              Number(row?.taken ?? 0) > 0
                ? { _tag: "Reserved", at }
                : { _tag: "Full", retryAfter: Math.max(1, Math.ceil(at - dbNow)) }
            )
          })
        )
      )

    /** Creates the rows of keys seen for the first time (their first slot is now). */
    const insertMissing = (spaced: ReadonlyArray<Spaced>) =>
      bounded(
        sql`INSERT INTO ${T} (key, tat) SELECT i.key, 0 FROM (VALUES ${valuesOf(spaced)}) AS i (key, spacing)
            ON CONFLICT (key) DO NOTHING`
      )

    const reserveCreating = (spaced: ReadonlyArray<Spaced>, maxWait: number) =>
      Effect.flatMap(reserve(spaced, maxWait), (reserved) =>
        reserved._tag === "Missing"
          ? Effect.andThen(
              insertMissing(spaced),
              Effect.flatMap(reserve(spaced, maxWait), (again) =>
                again._tag === "Missing"
                  ? Effect.fail("the limit rows vanished while a call took its slot")
                  : Effect.succeed(again)
              )
            )
          : Effect.succeed(reserved)
      )

    /** Gives a slot back: its caller was interrupted before its request left. */
    const giveBack = (spaced: ReadonlyArray<Spaced>): Effect.Effect<void> =>
      Effect.ignore(
        bounded(
          sql`UPDATE ${T} AS b SET tat = b.tat - i.spacing FROM (VALUES ${valuesOf(spaced)}) AS i (key, spacing)
              WHERE b.key = i.key`
        )
      )

    /** A call was answered: the keys counted from the answer have their next slot one spacing on from now. */
    const answered = (spaced: ReadonlyArray<Spaced>): Effect.Effect<void> =>
      Effect.ignore(
        bounded(
          sql`UPDATE ${T} AS b SET tat = greatest(b.tat, ${now} + i.spacing)
              FROM (VALUES ${valuesOf(spaced)}) AS i (key, spacing) WHERE b.key = i.key`
        )
      )

    /** How long until a slot on the database's clock comes, by this process's clock (ms). */
    const waitFor = (at: number): Effect.Effect<number> =>
      Effect.clockWith((clock) => Effect.succeed(dbClock.localAt(at) - Number(clock.monotonicTimeNanosUnsafe()) / 1e6))

    const outage = Outage.make(`the shared rate limits in PostgreSQL (table ${table})`)
    /** A statement on the shared limits, unless the database is away (`undefined` then: use the local one). */
    const shared = outage.guard

    const withPermit =
      (rules: ReadonlyArray<SharedLimiter.Rule>, maxWait: Duration.Duration) =>
      <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E | SharedLimiter.LimitFull, R> =>
        Effect.suspend(() => {
          if (rules.length === 0) return request
          const spaced = rules.map((rule): Spaced => [rule, SharedLimiter.spacingOf(rule, delay)])
          const fromAnswer = spaced.filter(([rule]) => rule.fromAnswer === true)
          return Effect.flatMap(
            shared(reserveCreating(spaced, Duration.toMillis(maxWait))),
            (reserved): Effect.Effect<A, E | SharedLimiter.LimitFull, R> => {
              if (reserved === undefined) return local.withPermit(rules, maxWait)(request)
              if (reserved._tag !== "Reserved") {
                const retryAfter = reserved._tag === "Full" ? reserved.retryAfter : 1
                return Effect.fail(new SharedLimiter.LimitFull(Duration.millis(retryAfter)))
              }
              return Effect.flatMap(waitFor(reserved.at), (wait) =>
                SharedLimiter.runReserved(
                  wait,
                  request,
                  Effect.asVoid(Effect.forkDetach(giveBack(spaced))),
                  fromAnswer.length === 0 ? undefined : answered(fromAnswer)
                )
              )
            }
          )
        })

    const pause = (key: string, duration: Duration.Duration): Effect.Effect<void> =>
      Effect.andThen(
        local.pause(key, duration),
        Effect.asVoid(
          shared(
            bounded(
              sql`INSERT INTO ${T} AS b (key, tat) VALUES (${key}, ${now} + ${Duration.toMillis(duration)})
                  ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, excluded.tat)`
            )
          )
        )
      )

    return SharedLimiter.SharedLimiter.of({ withPermit, pause })
  })

/**
 * The limiter as core's `SharedLimiter` layer, over the `SqlClient` in
 * context: an adapter's shared limiter takes it from there (Telegram:
 * `TelegramRateLimiter.layerShared`).
 *
 * @since 0.4.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<SharedLimiter.SharedLimiter, PgError.PgError, SqlClient.SqlClient> =>
  Layer.effect(SharedLimiter.SharedLimiter, make(options))
