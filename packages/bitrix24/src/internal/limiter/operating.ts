/**
 * The operating-time limit, per portal and method: what the portal's answers
 * said of the time a method used, and until when a method is blocked.
 *
 * @since 0.1.0
 */
import { MetricsRecorder } from "@reword/core/adapter"
import { Clock, Duration, Effect } from "effect"
import type { ObservedTime, Service } from "../../RateLimiter.ts"

/**
 * The operating-time window: no method is ever blocked for longer.
 *
 * @category rate limits
 * @since 0.1.0
 */
export const OPERATING_WINDOW: Duration.Duration = Duration.minutes(10)

export const WINDOW_MILLIS = Duration.toMillis(OPERATING_WINDOW)

const operatingWait = MetricsRecorder.timeRateLimitWait("bitrix24", "operating_time")

/**
 * Waits `wait` for a method's operating time to reset (what a client does
 * when `RateLimiter.Service.blockedFor` is not zero), recorded as
 * `reword.rate_limit.wait` with `reword.wait: operating_time`.
 */
export const waitForReset = (wait: Duration.Duration): Effect.Effect<void> => operatingWait(Effect.sleep(wait))
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

/** A method's operating time. */
export interface Operating {
  operating: number
  /** Unix millis. */
  resetAt: number | undefined
  /** Unix millis until which the method is blocked. */
  blockedUntil: number
}

/** Every method's operating time, under one limit. */
export interface Methods {
  /** The operating limit, in seconds. */
  readonly limitSeconds: number
  /** How near the limit a method is blocked until its reset, in seconds. */
  readonly marginSeconds: number
  /** How long a method is blocked when the portal gave no reset, in milliseconds. */
  readonly fallback: number
  readonly methods: Map<string, Operating>
}

export const makeMethods = (options: {
  readonly operatingLimit?: Duration.Input | undefined
  readonly operatingMargin?: Duration.Input | undefined
  readonly operatingFallback?: Duration.Input | undefined
}): Methods => ({
  limitSeconds: Duration.toSeconds(Duration.fromInputUnsafe(options.operatingLimit ?? "480 seconds")),
  marginSeconds: Duration.toSeconds(Duration.fromInputUnsafe(options.operatingMargin ?? "5 seconds")),
  fallback: Math.min(
    WINDOW_MILLIS,
    Duration.toMillis(Duration.fromInputUnsafe(options.operatingFallback ?? "10 seconds"))
  ),
  methods: new Map<string, Operating>()
})

const keyOf = (portal: string, method: string) => `${portal} ${method.toLowerCase()}`

const operatingOf = (m: Methods, portal: string, method: string): Operating => {
  const key = keyOf(portal, method)
  const existing = m.methods.get(key)
  if (existing !== undefined) return existing
  const created: Operating = { operating: 0, resetAt: undefined, blockedUntil: 0 }
  m.methods.set(key, created)
  return created
}

/** Keeps what an answer's `time` says of a method. */
export const observe =
  (m: Methods): Service["observe"] =>
  (portal, method, time) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const state = operatingOf(m, portal, method)
        if (time.operating !== undefined && Number.isFinite(time.operating)) state.operating = time.operating
        if (time.operating_reset_at !== undefined) state.resetAt = resetAtOf(time, now)
      })
    )

/** The portal refused a method for its operating time: blocks it until its reset (at most the window). */
export const block = (m: Methods, portal: string, method: string): Effect.Effect<Duration.Duration> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      const state = operatingOf(m, portal, method)
      const until = state.resetAt !== undefined && state.resetAt > now ? state.resetAt : now + m.fallback
      state.blockedUntil = Math.min(Math.max(state.blockedUntil, until), now + WINDOW_MILLIS)
      return Duration.millis(state.blockedUntil - now)
    })
  )

/** How long a method is blocked still, counting the `expected` seconds a call would add. */
export const blockedFor = (
  m: Methods,
  portal: string,
  method: string,
  expected = 0
): Effect.Effect<Duration.Duration> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const state = m.methods.get(keyOf(portal, method))
    if (state === undefined) return Duration.zero
    let until = state.blockedUntil
    const added = Number.isFinite(expected) && expected > 0 ? expected : 0
    const nearLimit = state.operating + added >= m.limitSeconds - m.marginSeconds
    if (nearLimit && state.resetAt !== undefined) until = Math.max(until, state.resetAt)
    return until > now ? Duration.millis(Math.min(until - now, WINDOW_MILLIS)) : Duration.zero
  })
