/**
 * Keeps an app under a portal's limits instead of discovering them: a leaky
 * bucket per portal (Bitrix24 drains 2 requests/s and blocks above 50 queued;
 * Enterprise 5/s and 250), and the operating time of each method (the server
 * time it used in the last 10 minutes), so that a blocked method waits for its
 * reset instead of hammering the portal. Time comes from Effect's `Clock`.
 *
 * The client's copy of the bucket never counts on timing: a request counts as
 * reaching the portal when its answer comes back (the latest it can have
 * reached it), and as in the bucket, not yet draining, while it is in flight.
 * So however late requests leave or travel (a stalled event loop, new
 * connections, a slow network), they can never arrive closer together than
 * the portal allows. The cost: each request starts to drain one round trip
 * later, which shrinks the burst by the drain rate times the round trip, and
 * leaves the steady rate as it is.
 *
 * @since 0.1.0
 */
import { Metrics } from "@reword/core"
import { Clock, Context, Deferred, Duration, Effect, Exit, Layer, Semaphore } from "effect"

/**
 * A bucket: how fast it drains, and how many requests it holds.
 *
 * @category models
 * @since 0.1.0
 */
export interface Bucket {
  /** Requests per second the portal forgets. */
  readonly drainPerSecond: number
  /** Requests the portal accepts in a burst. */
  readonly capacity: number
}

/**
 * The plans' buckets: `standard` (2/s, 50) and `enterprise` (5/s, 250).
 *
 * @category rate limits
 * @since 0.1.0
 */
export const presets = {
  standard: { drainPerSecond: 2, capacity: 50 },
  enterprise: { drainPerSecond: 5, capacity: 250 }
} as const satisfies Record<string, Bucket>

/**
 * @category models
 * @since 0.1.0
 */
export type Preset = keyof typeof presets

/**
 * Limiter options.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options {
  /** A plan's preset or a custom bucket. Default `standard`. */
  readonly bucket?: Preset | Bucket | undefined
  /** The operating time a method may use in 10 minutes. Default 480 s (Bitrix24 cloud). */
  readonly operatingLimit?: Duration.Input | undefined
  /** Stop this much before the operating limit. Default 5 s. */
  readonly operatingMargin?: Duration.Input | undefined
  /**
   * Requests of the bucket kept in reserve, for what the client cannot see:
   * rounding in the portal's own bookkeeping, or a request another process
   * sent with the same tokens. Default 1 (a burst of 49 on a 50 bucket).
   */
  readonly headroom?: number | undefined
  /**
   * How long a method stays blocked after `OPERATION_TIME_LIMIT` when no
   * reset time is known. Default 10 s; at most the 10-minute window.
   */
  readonly operatingFallback?: Duration.Input | undefined
}

/**
 * The limiter's interface. `portal` is the portal's origin; `method` a REST method name.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly bucket: Bucket
  /**
   * Runs one request to the portal: waits until the portal's bucket has room
   * for it (callers take turns, first come first served), counts it as in the
   * bucket while it runs, and as having reached the portal when it ends (its
   * answer came back, or it failed), from when it starts to drain.
   */
  readonly withPermit: (portal: string) => <A, E, R>(request: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * {@link Service.withPermit}, waiting at most `maxWait` for room: when the
   * projected wait (the requests in the bucket, in flight and queued ahead,
   * at the drain rate) is longer, it fails at once with {@link BucketFull},
   * and a wait that turns out longer than projected fails at `maxWait`.
   */
  readonly withPermitWithin: (
    portal: string,
    maxWait: Duration.Duration
  ) => <A, E, R>(request: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BucketFull, R>
  /** Waits until the portal's bucket has room for one more request, and takes it as having reached the portal now. */
  readonly acquire: (portal: string) => Effect.Effect<void>
  /** The portal answered `QUERY_LIMIT_EXCEEDED`: treat its bucket as full. */
  readonly saturated: (portal: string) => Effect.Effect<void>
  /**
   * Records a successful answer's `time`: `operating`, and `operating_reset_at`
   * (the portal's Unix seconds), read against the answer's own time (`finish`,
   * else `date_finish`) so that a portal clock off ours does not matter. A
   * reset more than the 10-minute window away (a value in milliseconds, a
   * broken proxy) counts as unknown.
   */
  readonly observe: (portal: string, method: string, time: ObservedTime) => Effect.Effect<void>
  /** The portal answered `OPERATION_TIME_LIMIT`: blocks the method and says for how long. */
  readonly block: (portal: string, method: string) => Effect.Effect<Duration.Duration>
  /**
   * How long the method is still blocked for; zero when it is not.
   * `expected` (seconds, optional) is the server time the caller's calls in
   * flight and the next one are expected to add: a method whose last known
   * operating time plus `expected` reaches the limit (less the margin) waits
   * for its reset, so that those calls cannot take it over the limit.
   */
  readonly blockedFor: (portal: string, method: string, expected?: number) => Effect.Effect<Duration.Duration>
}

/**
 * A request would wait longer than it may for room in the portal's bucket:
 * `retryAfter` is when room is projected to be there.
 *
 * @category errors
 * @since 0.1.0
 */
export class BucketFull {
  readonly _tag = "BucketFull"
  readonly retryAfter: Duration.Duration
  /** Whether the wait was cut at its limit (rather than refused at once). */
  readonly cut: boolean
  constructor(retryAfter: Duration.Duration, cut: boolean) {
    this.retryAfter = retryAfter
    this.cut = cut
  }
}

/**
 * What the limiter reads of an answer's `time`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ObservedTime {
  /** Seconds of server time the method used in the last 10 minutes. */
  readonly operating?: number | undefined
  /** When the oldest minute of it drops out, Unix seconds by the portal's clock. */
  readonly operating_reset_at?: number | undefined
  /** When the portal finished the request, Unix seconds by the portal's clock. */
  readonly finish?: number | undefined
  /** The same as a date (`2026-03-12T16:37:49+02:00`), used when `finish` is missing. */
  readonly date_finish?: string | undefined
}

/**
 * The operating-time window: no method is ever blocked for longer.
 *
 * @category rate limits
 * @since 0.1.0
 */
export const OPERATING_WINDOW: Duration.Duration = Duration.minutes(10)

const WINDOW_MILLIS = Duration.toMillis(OPERATING_WINDOW)
/** How far outside the window a reset may fall and still be believed (rounding, a slow answer). */
const TOLERANCE_MILLIS = 60_000

/**
 * When the method's reset falls by our clock, in Unix millis: the portal's
 * `operating_reset_at` less its own time of the answer, from our `now`; or
 * `undefined` when it is missing or absurd.
 */
const resetAtOf = (time: ObservedTime, now: number): number | undefined => {
  const reset = time.operating_reset_at
  if (reset === undefined || !Number.isFinite(reset)) return undefined
  const dated = time.date_finish === undefined ? Number.NaN : Date.parse(time.date_finish)
  // The portal's own time of the answer; our clock when it sent none.
  const answered =
    time.finish !== undefined && Number.isFinite(time.finish)
      ? time.finish * 1000
      : Number.isFinite(dated)
        ? dated
        : now
  const remaining = Math.round(reset * 1000 - answered)
  if (remaining < -TOLERANCE_MILLIS || remaining > WINDOW_MILLIS + TOLERANCE_MILLIS) return undefined
  return now + Math.min(Math.max(0, remaining), WINDOW_MILLIS)
}

/**
 * The rate limiter shared by every editor and client that uses it. Provide one
 * layer to share the portal's budget across editors; without it, each editor
 * makes its own.
 *
 * @category services
 * @since 0.1.0
 */
export class RateLimiter extends Context.Service<RateLimiter, Service>()("@reword/bitrix24/RateLimiter") {}

interface Level {
  /** Requests that reached the portal and are draining (may exceed capacity after `QUERY_LIMIT_EXCEEDED`). */
  level: number
  /** When `level` was last computed, Unix millis. */
  at: number
  /** Requests in flight: in the bucket, not yet draining. */
  inFlight: number
  /** Callers waiting for room (queued for the turn or holding it). */
  waiting: number
  /** Completed (and replaced) whenever a request in flight ends: what a caller waits for when draining alone cannot make room. */
  ended: Deferred.Deferred<void>
  /** Callers wait for room one at a time, in order. */
  readonly turn: Semaphore.Semaphore
}

interface Operating {
  operating: number
  /** Unix millis. */
  resetAt: number | undefined
  /** Unix millis until which the method is blocked. */
  blockedUntil: number
}

/**
 * The bucket of a plan's name, or `undefined` for a name that is not one of
 * {@link presets} (its own keys only: `"constructor"` is no plan).
 *
 * @category rate limits
 * @since 0.2.0
 */
export const presetOf = (name: string): Bucket | undefined =>
  Object.hasOwn(presets, name) ? presets[name as Preset] : undefined

const bucketOf = (option: Options["bucket"]): Bucket => {
  if (option === undefined) return presets.standard
  if (typeof option !== "string") return option
  const preset = presetOf(option)
  if (preset === undefined)
    throw new RangeError(`bucket must be one of ${Object.keys(presets).join(", ")}, or a custom bucket`)
  return preset
}

/**
 * Makes a limiter.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}): Service => {
  const bucket = bucketOf(options.bucket)
  if (!(bucket.drainPerSecond > 0) || !(bucket.capacity >= 1)) {
    throw new RangeError("a bucket needs drainPerSecond > 0 and capacity >= 1")
  }
  const drainPerMilli = bucket.drainPerSecond / 1000
  const usable = Math.max(1, bucket.capacity - Math.max(0, options.headroom ?? 1))
  const limitSeconds = Duration.toSeconds(Duration.fromInputUnsafe(options.operatingLimit ?? "480 seconds"))
  const marginSeconds = Duration.toSeconds(Duration.fromInputUnsafe(options.operatingMargin ?? "5 seconds"))
  const fallback = Math.min(
    WINDOW_MILLIS,
    Duration.toMillis(Duration.fromInputUnsafe(options.operatingFallback ?? "10 seconds"))
  )
  const levels = new Map<string, Level>()
  const methods = new Map<string, Operating>()

  const stateOf = (portal: string, now: number): Level => {
    const existing = levels.get(portal)
    if (existing !== undefined) return existing
    const created: Level = {
      level: 0,
      at: now,
      inFlight: 0,
      waiting: 0,
      ended: Deferred.makeUnsafe<void>(),
      turn: Semaphore.makeUnsafe(1)
    }
    levels.set(portal, created)
    return created
  }

  /** The portal's state with `level` drained up to `now`. */
  const drained = (portal: string, now: number): Level => {
    const state = stateOf(portal, now)
    const at = Math.max(state.at, now)
    state.level = Math.max(0, state.level - (at - state.at) * drainPerMilli)
    state.at = at
    return state
  }

  /**
   * Waits (holding the portal's turn) until one more request fits, then takes
   * the place, all in one synchronous step. Draining is waited for by the
   * clock; a place held by a request in flight, by that request's end.
   */
  const waitForRoom = (portal: string, onTaken: () => void): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const state = drained(portal, now)
      const excess = state.level + state.inFlight + 1 - usable
      if (excess <= 0) {
        state.inFlight += 1
        onTaken()
        return Effect.void
      }
      const wait =
        excess <= state.level
          ? Effect.sleep(Duration.millis(Math.ceil(excess / drainPerMilli)))
          : Deferred.await(state.ended)
      return Effect.andThen(wait, waitForRoom(portal, onTaken))
    })

  /** A request ended: it reached the portal by now (if ever), and drains from now. */
  const release = (portal: string): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = drained(portal, now)
        state.inFlight = Math.max(0, state.inFlight - 1)
        state.level += 1
        const ended = state.ended
        state.ended = Deferred.makeUnsafe<void>()
        Deferred.doneUnsafe(ended, Exit.void)
      })
    )

  /** Waits for the portal's turn, then for room, counted as waiting meanwhile. */
  const queued = (portal: string, now: number, onTaken: () => void): Effect.Effect<void> => {
    const state = stateOf(portal, now)
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        state.waiting += 1
      }),
      () => state.turn.withPermits(1)(waitForRoom(portal, onTaken)),
      () =>
        Effect.sync(() => {
          state.waiting = Math.max(0, state.waiting - 1)
        })
    )
  }

  /** A pass through the bucket without a wait, recorded as one. */
  const zeroBucketWait = Metrics.recordRateLimitWait("bitrix24", "bucket", 0)

  /** {@link queued}, its wait recorded as `reword.rate_limit.wait` (`bucket`), zero waits and cut waits included. */
  const bucketWait = Metrics.timeRateLimitWait("bitrix24", "bucket")
  const waited = (portal: string, now: number, onTaken: () => void): Effect.Effect<void> =>
    bucketWait(queued(portal, now, onTaken))

  const withPermit =
    (portal: string) =>
    <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        // Set in the same synchronous step that takes the place: whatever
        // interrupts the caller, a place taken is given back exactly once.
        let taken = false
        return waited(portal, now, () => (taken = true)).pipe(
          Effect.andThen(request),
          Effect.ensuring(Effect.suspend(() => (taken ? release(portal) : Effect.void)))
        )
      })

  /**
   * How long a new caller is projected to wait for room: the requests in the
   * bucket, in flight and queued ahead of it, less what fits, at the drain
   * rate. A lower bound: requests in flight drain only once they end.
   */
  const projectedWait = (portal: string, now: number): number => {
    const state = drained(portal, now)
    const excess = state.level + state.inFlight + state.waiting + 1 - usable
    return excess <= 0 ? 0 : Math.ceil(excess / drainPerMilli)
  }

  const withPermitWithin =
    (portal: string, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E | BucketFull, R>): Effect.Effect<A, E | BucketFull, R> =>
      Effect.withFiber((fiber) => {
        const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
        const limit = Duration.toMillis(maxWait)
        const projected = projectedWait(portal, now)
        if (projected > limit) return Effect.fail(new BucketFull(Duration.millis(projected), false))
        const state = stateOf(portal, now)
        if (projected === 0 && state.waiting === 0) {
          // Nobody queued or holding the turn, and room now: the place is taken at once, in this synchronous
          // step (what the turn and the wait below would do, without them), its release installed in the same step.
          state.inFlight += 1
          return Effect.ensuring(
            Effect.andThen(zeroBucketWait, request),
            Effect.suspend(() => release(portal))
          )
        }
        let taken = false
        const enter = waited(portal, now, () => (taken = true)).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(limit),
            orElse: () =>
              Effect.flatMap(Clock.currentTimeMillis, (at) =>
                Effect.fail(new BucketFull(Duration.millis(Math.max(1, projectedWait(portal, at))), true))
              )
          })
        )
        return enter.pipe(
          Effect.andThen(request),
          Effect.ensuring(Effect.suspend(() => (taken ? release(portal) : Effect.void)))
        )
      })

  const acquire = (portal: string): Effect.Effect<void> => withPermit(portal)(Effect.void)

  const saturated = (portal: string): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = drained(portal, now)
        state.level = Math.max(state.level, bucket.capacity)
      })
    )

  const keyOf = (portal: string, method: string) => `${portal} ${method.toLowerCase()}`

  const operatingOf = (portal: string, method: string): Operating => {
    const key = keyOf(portal, method)
    const existing = methods.get(key)
    if (existing !== undefined) return existing
    const created: Operating = { operating: 0, resetAt: undefined, blockedUntil: 0 }
    methods.set(key, created)
    return created
  }

  const observe: Service["observe"] = (portal, method, time) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = operatingOf(portal, method)
        if (time.operating !== undefined && Number.isFinite(time.operating)) state.operating = time.operating
        if (time.operating_reset_at !== undefined) state.resetAt = resetAtOf(time, now)
      })
    )

  const block = (portal: string, method: string): Effect.Effect<Duration.Duration> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = operatingOf(portal, method)
        const until = state.resetAt !== undefined && state.resetAt > now ? state.resetAt : now + fallback
        state.blockedUntil = Math.min(Math.max(state.blockedUntil, until), now + WINDOW_MILLIS)
        return Duration.millis(state.blockedUntil - now)
      })
    )

  const blockedFor = (portal: string, method: string, expected = 0): Effect.Effect<Duration.Duration> =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const state = methods.get(keyOf(portal, method))
      if (state === undefined) return Duration.zero
      let until = state.blockedUntil
      const added = Number.isFinite(expected) && expected > 0 ? expected : 0
      const nearLimit = state.operating + added >= limitSeconds - marginSeconds
      if (nearLimit && state.resetAt !== undefined) until = Math.max(until, state.resetAt)
      return until > now ? Duration.millis(Math.min(until - now, WINDOW_MILLIS)) : Duration.zero
    })

  return RateLimiter.of({ bucket, withPermit, withPermitWithin, acquire, saturated, observe, block, blockedFor })
}

const operatingWait = Metrics.timeRateLimitWait("bitrix24", "operating_time")

/**
 * Waits `wait` for a method's operating time to reset (what a client does
 * when {@link Service.blockedFor} is not zero), recorded as
 * `reword.rate_limit.wait` with `reword.wait: operating_time`.
 *
 * @category rate limits
 * @since 0.1.0
 */
export const waitForReset = (wait: Duration.Duration): Effect.Effect<void> => operatingWait(Effect.sleep(wait))

/**
 * A shared {@link RateLimiter}.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimiter> => Layer.sync(RateLimiter, () => make(options))
