/**
 * Keeps an app under a portal's limits instead of discovering them: a leaky
 * bucket per portal (Bitrix24 drains 2 requests/s and blocks above 50 queued;
 * Enterprise 5/s and 250), and the operating time of each method (the server
 * time it used in the last 10 minutes), so that a blocked method waits for its
 * reset instead of hammering the portal. Time comes from Effect's `Clock`.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"

/**
 * A bucket: how fast it drains, and how many requests it holds.
 *
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
 * @since 0.1.0
 */
export const presets = {
  standard: { drainPerSecond: 2, capacity: 50 },
  enterprise: { drainPerSecond: 5, capacity: 250 }
} as const satisfies Record<string, Bucket>

/**
 * @since 0.1.0
 */
export type Preset = keyof typeof presets

/**
 * Limiter options.
 *
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
   * Requests of the bucket kept in reserve, for network jitter: the first
   * requests of a burst often reach the portal late (new connections) and the
   * later ones early, so a client that fills the bucket exactly can still meet
   * `QUERY_LIMIT_EXCEEDED`. Default 1 (a burst of 49 on a 50 bucket).
   */
  readonly headroom?: number | undefined
  /** How long a method stays blocked after `OPERATION_TIME_LIMIT` when no reset time is known. Default 10 s. */
  readonly operatingFallback?: Duration.Input | undefined
}

/**
 * The limiter's interface. `portal` is the portal's origin; `method` a REST method name.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly bucket: Bucket
  /** Waits until the portal's bucket has room for one more request, and takes it. */
  readonly acquire: (portal: string) => Effect.Effect<void>
  /** The portal answered `QUERY_LIMIT_EXCEEDED`: treat its bucket as full. */
  readonly saturated: (portal: string) => Effect.Effect<void>
  /** Records a successful answer's `time` (`operating`, `operating_reset_at` in Unix seconds). */
  readonly observe: (
    portal: string,
    method: string,
    time: { readonly operating?: number | undefined; readonly operating_reset_at?: number | undefined }
  ) => Effect.Effect<void>
  /** The portal answered `OPERATION_TIME_LIMIT`: blocks the method and says for how long. */
  readonly block: (portal: string, method: string) => Effect.Effect<Duration.Duration>
  /** How long the method is still blocked for; zero when it is not. */
  readonly blockedFor: (portal: string, method: string) => Effect.Effect<Duration.Duration>
}

/**
 * The rate limiter shared by every editor and client that uses it. Provide one
 * layer to share the portal's budget across editors; without it, each editor
 * makes its own.
 *
 * @since 0.1.0
 */
export class RateLimiter extends Context.Service<RateLimiter, Service>()("@reword/bitrix24/RateLimiter") {}

interface Level {
  /** Requests in the bucket (may exceed capacity: those are waiting their turn). */
  level: number
  /** When `level` was last computed, Unix millis. */
  at: number
}

interface Operating {
  operating: number
  /** Unix millis. */
  resetAt: number | undefined
  /** Unix millis until which the method is blocked. */
  blockedUntil: number
}

const bucketOf = (option: Options["bucket"]): Bucket =>
  option === undefined ? presets.standard : typeof option === "string" ? presets[option] : option

/**
 * Makes a limiter.
 *
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
  const fallback = Duration.toMillis(Duration.fromInputUnsafe(options.operatingFallback ?? "10 seconds"))
  const levels = new Map<string, Level>()
  const methods = new Map<string, Operating>()

  const drained = (portal: string, now: number): Level => {
    const current = levels.get(portal) ?? { level: 0, at: now }
    const at = Math.max(current.at, now)
    const level = Math.max(0, current.level - (at - current.at) * drainPerMilli)
    const next = { level, at }
    levels.set(portal, next)
    return next
  }

  const acquire = (portal: string): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // Reserve the slot now (atomically), then wait for our turn: concurrent
      // callers queue in order without a lock.
      const state = drained(portal, now)
      state.level += 1
      const waitMillis = Math.max(0, (state.level - usable) / drainPerMilli)
      return waitMillis <= 0 ? Effect.void : Effect.sleep(Duration.millis(Math.ceil(waitMillis)))
    })

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
    Effect.sync(() => {
      const state = operatingOf(portal, method)
      if (time.operating !== undefined && Number.isFinite(time.operating)) state.operating = time.operating
      if (time.operating_reset_at !== undefined && Number.isFinite(time.operating_reset_at)) {
        state.resetAt = time.operating_reset_at * 1000
      }
    })

  const block = (portal: string, method: string): Effect.Effect<Duration.Duration> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = operatingOf(portal, method)
        const until = state.resetAt !== undefined && state.resetAt > now ? state.resetAt : now + fallback
        state.blockedUntil = Math.max(state.blockedUntil, until)
        return Duration.millis(state.blockedUntil - now)
      })
    )

  const blockedFor = (portal: string, method: string): Effect.Effect<Duration.Duration> =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const state = methods.get(keyOf(portal, method))
      if (state === undefined) return Duration.zero
      let until = state.blockedUntil
      const nearLimit = state.operating >= limitSeconds - marginSeconds
      if (nearLimit && state.resetAt !== undefined) until = Math.max(until, state.resetAt)
      return until > now ? Duration.millis(until - now) : Duration.zero
    })

  return RateLimiter.of({ bucket, acquire, saturated, observe, block, blockedFor })
}

/**
 * A shared {@link RateLimiter}.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimiter> => Layer.sync(RateLimiter, () => make(options))
