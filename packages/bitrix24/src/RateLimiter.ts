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
import { Context, type Duration, Effect, Layer } from "effect"
import type { BucketFull } from "./internal/limiter/bucket.ts"
import * as Buckets from "./internal/limiter/bucket.ts"
import * as Operating from "./internal/limiter/operating.ts"

export { BucketFull } from "./internal/limiter/bucket.ts"

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
 * The rate limiter shared by every editor and client that uses it. Provide one
 * layer to share the portal's budget across editors; without it, each editor
 * makes its own.
 *
 * @category services
 * @since 0.1.0
 */
export class RateLimiter extends Context.Service<RateLimiter, Service>()("@reword/bitrix24/RateLimiter") {}

const bucketOf = (option: Options["bucket"]): Bucket => {
  if (option === undefined) return presets.standard
  if (typeof option !== "string") return option
  const preset = Object.hasOwn(presets, option) ? presets[option as Preset] : undefined
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
  const buckets = Buckets.makeBuckets(bucket, options.headroom)
  const methods = Operating.makeMethods(options)
  return RateLimiter.of({
    bucket,
    withPermit: (portal) => Buckets.withPermit(buckets, portal),
    withPermitWithin: (portal, maxWait) => Buckets.withPermitWithin(buckets, portal, maxWait),
    acquire: (portal) => Buckets.withPermit(buckets, portal)(Effect.void),
    saturated: (portal) => Buckets.saturated(buckets, portal),
    observe: Operating.observe(methods),
    block: (portal, method) => Operating.block(methods, portal, method),
    blockedFor: (portal, method, expected) => Operating.blockedFor(methods, portal, method, expected)
  })
}

/**
 * A shared {@link RateLimiter}.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimiter> => Layer.sync(RateLimiter, () => make(options))
