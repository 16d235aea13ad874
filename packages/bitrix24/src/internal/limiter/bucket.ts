/**
 * The portal's leaky bucket, per portal: requests that reached it drain at
 * the plan's rate, requests in flight hold their place until they end, and
 * callers wait for room one at a time, in order.
 *
 * @since 0.1.0
 */
import { MetricsRecorder } from "@reword/core/adapter"
import { Clock, Deferred, Duration, Effect, Exit, Semaphore } from "effect"
import type { Bucket } from "../../RateLimiter.ts"

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

/** A portal's bucket. */
export interface Level {
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

/** Every portal's bucket, under one plan. */
export interface Buckets {
  readonly bucket: Bucket
  /** Requests drained per millisecond. */
  readonly drainPerMilli: number
  /** The places a caller may take: the capacity less the headroom. */
  readonly usable: number
  readonly levels: Map<string, Level>
}

/** The buckets of a plan, keeping `headroom` places free. */
export const makeBuckets = (bucket: Bucket, headroom: number | undefined): Buckets => ({
  bucket,
  drainPerMilli: bucket.drainPerSecond / 1000,
  usable: Math.max(1, bucket.capacity - Math.max(0, headroom ?? 1)),
  levels: new Map<string, Level>()
})

const stateOf = (b: Buckets, portal: string, now: number): Level => {
  const existing = b.levels.get(portal)
  if (existing !== undefined) return existing
  const created: Level = {
    level: 0,
    at: now,
    inFlight: 0,
    waiting: 0,
    ended: Deferred.makeUnsafe<void>(),
    turn: Semaphore.makeUnsafe(1)
  }
  b.levels.set(portal, created)
  return created
}

/** The portal's state with `level` drained up to `now`. */
const drained = (b: Buckets, portal: string, now: number): Level => {
  const state = stateOf(b, portal, now)
  const at = Math.max(state.at, now)
  state.level = Math.max(0, state.level - (at - state.at) * b.drainPerMilli)
  state.at = at
  return state
}

/**
 * Waits (holding the portal's turn) until one more request fits, then takes
 * the place, all in one synchronous step. Draining is waited for by the
 * clock; a place held by a request in flight, by that request's end.
 */
const waitForRoom = (b: Buckets, portal: string, onTaken: () => void): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const state = drained(b, portal, now)
    const excess = state.level + state.inFlight + 1 - b.usable
    if (excess <= 0) {
      state.inFlight += 1
      onTaken()
      return Effect.void
    }
    const wait =
      excess <= state.level
        ? Effect.sleep(Duration.millis(Math.ceil(excess / b.drainPerMilli)))
        : Deferred.await(state.ended)
    return Effect.andThen(wait, waitForRoom(b, portal, onTaken))
  })

/** A request ended: it reached the portal by now (if ever), and drains from now. */
const release = (b: Buckets, portal: string): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      const state = drained(b, portal, now)
      state.inFlight = Math.max(0, state.inFlight - 1)
      state.level += 1
      const ended = state.ended
      state.ended = Deferred.makeUnsafe<void>()
      Deferred.doneUnsafe(ended, Exit.void)
    })
  )

/** Waits for the portal's turn, then for room, counted as waiting meanwhile. */
const queued = (b: Buckets, portal: string, now: number, onTaken: () => void): Effect.Effect<void> => {
  const state = stateOf(b, portal, now)
  return Effect.acquireUseRelease(
    Effect.sync(() => {
      state.waiting += 1
    }),
    () => state.turn.withPermits(1)(waitForRoom(b, portal, onTaken)),
    () =>
      Effect.sync(() => {
        state.waiting = Math.max(0, state.waiting - 1)
      })
  )
}

/** A pass through the bucket without a wait, recorded as one. */
const zeroBucketWait = MetricsRecorder.recordRateLimitWait("bitrix24", "bucket", 0)

/** {@link queued}, its wait recorded as `reword.rate_limit.wait` (`bucket`), zero waits and cut waits included. */
const bucketWait = MetricsRecorder.timeRateLimitWait("bitrix24", "bucket")
const waited = (b: Buckets, portal: string, now: number, onTaken: () => void): Effect.Effect<void> =>
  bucketWait(queued(b, portal, now, onTaken))

/** Runs `request` once it has a place in the portal's bucket, however long that takes. */
export const withPermit =
  (b: Buckets, portal: string) =>
  <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // Set in the same synchronous step that takes the place: whatever
      // interrupts the caller, a place taken is given back exactly once.
      let taken = false
      return waited(b, portal, now, () => (taken = true)).pipe(
        Effect.andThen(request),
        Effect.ensuring(Effect.suspend(() => (taken ? release(b, portal) : Effect.void)))
      )
    })

/**
 * How long a new caller is projected to wait for room: the requests in the
 * bucket, in flight and queued ahead of it, less what fits, at the drain
 * rate. A lower bound: requests in flight drain only once they end.
 */
const projectedWait = (b: Buckets, portal: string, now: number): number => {
  const state = drained(b, portal, now)
  const excess = state.level + state.inFlight + state.waiting + 1 - b.usable
  return excess <= 0 ? 0 : Math.ceil(excess / b.drainPerMilli)
}

/** Runs `request` once it has a place, or fails with {@link BucketFull} when that would take longer than `maxWait`. */
export const withPermitWithin =
  (b: Buckets, portal: string, maxWait: Duration.Duration) =>
  <A, E, R>(request: Effect.Effect<A, E | BucketFull, R>): Effect.Effect<A, E | BucketFull, R> =>
    Effect.withFiber((fiber) => {
      const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
      const limit = Duration.toMillis(maxWait)
      const projected = projectedWait(b, portal, now)
      if (projected > limit) return Effect.fail(new BucketFull(Duration.millis(projected), false))
      const state = stateOf(b, portal, now)
      if (projected === 0 && state.waiting === 0) {
        // Nobody queued or holding the turn, and room now: the place is taken at once, in this synchronous
        // step (what the turn and the wait below would do, without them), its release installed in the same step.
        state.inFlight += 1
        return Effect.ensuring(
          Effect.andThen(zeroBucketWait, request),
          Effect.suspend(() => release(b, portal))
        )
      }
      let taken = false
      const enter = waited(b, portal, now, () => (taken = true)).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(limit),
          orElse: () =>
            Effect.flatMap(Clock.currentTimeMillis, (at) =>
              Effect.fail(new BucketFull(Duration.millis(Math.max(1, projectedWait(b, portal, at))), true))
            )
        })
      )
      return enter.pipe(
        Effect.andThen(request),
        Effect.ensuring(Effect.suspend(() => (taken ? release(b, portal) : Effect.void)))
      )
    })

/** The portal said its bucket is full: count it full from now. */
export const saturated = (b: Buckets, portal: string): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      const state = drained(b, portal, now)
      state.level = Math.max(state.level, b.bucket.capacity)
    })
  )
