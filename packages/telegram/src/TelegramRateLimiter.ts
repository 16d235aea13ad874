/**
 * Keeps a bot under the limits Telegram's Bot FAQ gives, instead of learning
 * them from 429 answers: about 30 calls a second for the whole bot, 1 a second
 * in one chat, and 20 a minute in a group (a chat whose id is negative:
 * groups, supergroups and channels, or an `@username`). Telegram publishes no
 * hard limits and answers 429 with `retry_after` whenever it wants; the
 * limiter also honours those, for the chat that got one.
 *
 * A call reserves the earliest moment every limit that applies allows, in
 * one synchronous step, then sleeps until it (see {@link make}). No call
 * polls, callers never queue behind a turn, and a call that would wait longer
 * than it may fails at once with {@link LimitReached}. Time comes from
 * Effect's `Clock`.
 *
 * @since 0.1.0
 */
import { Metrics } from "@reword/core"
import { Clock, Context, Duration, Effect, Layer } from "effect"

/**
 * The limits, in calls: for the whole bot, per chat, per group. A limit of 0
 * or `Infinity` is off.
 *
 * @category models
 * @since 0.1.0
 */
export interface Limits {
  /** Calls a second for the whole bot. Default 30. */
  readonly perSecond?: number | undefined
  /** Calls a second in one chat. Default 1. */
  readonly perChatPerSecond?: number | undefined
  /** Calls a minute in one group, supergroup or channel. Default 20. */
  readonly perGroupPerMinute?: number | undefined
}

/**
 * The figures of Telegram's Bot FAQ: 30 calls a second overall, 1 a second per
 * chat, 20 a minute per group.
 *
 * @category rate limits
 * @since 0.1.0
 */
export const faq = { perSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20 } as const satisfies Limits

/**
 * A call would wait longer than it may for the limits: `retryAfter` is when
 * its turn is projected to come.
 *
 * @category errors
 * @since 0.1.0
 */
export class LimitReached {
  readonly _tag = "LimitReached"
  readonly retryAfter: Duration.Duration
  constructor(retryAfter: Duration.Duration) {
    this.retryAfter = retryAfter
  }
}

/**
 * The limiter's interface. A chat is its id (a number, or text as the Bot API
 * takes it: digits, or an `@username`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** The limits in force, defaults filled in. */
  readonly limits: Required<{ readonly [K in keyof Limits]: number }>
  /**
   * Runs `request` at the earliest moment every limit for the chat allows,
   * when that is at most `maxWait` away; fails at once with
   * {@link LimitReached} otherwise, taking nothing.
   */
  readonly withPermit: (
    chatId: string | number,
    maxWait: Duration.Duration
  ) => <A, E, R>(request: Effect.Effect<A, E | LimitReached, R>) => Effect.Effect<A, E | LimitReached, R>
  /** Telegram answered 429 for this chat: nothing more goes to it for `retryAfter`. */
  readonly pause: (chatId: string | number, retryAfter: Duration.Duration) => Effect.Effect<void>
}

/**
 * A limiter shared by every editor and client that uses it: provide one to
 * share a bot's budget across editors; without it, each editor makes its own.
 *
 * @category services
 * @since 0.1.0
 */
export class TelegramRateLimiter extends Context.Service<TelegramRateLimiter, Service>()(
  "@reword/telegram/TelegramRateLimiter"
) {}

/** Whether a chat is a group, a supergroup or a channel: a negative id, or a channel's `@username`. */
export const isGroup = (chatId: string | number): boolean =>
  typeof chatId === "number" ? chatId < 0 : chatId.startsWith("-") || chatId.startsWith("@")

/** One limit: the interval between two calls on one key, in ms (0: off). */
const intervalOf = (count: number, perMillis: number, name: string): number => {
  if (!(count >= 0) || Number.isNaN(count)) throw new RangeError(`${name} must be a number of calls, 0 or more`)
  return count === 0 || count === Number.POSITIVE_INFINITY ? 0 : perMillis / count
}

/**
 * The margin added to the overall interval, in ms: calls counted when they
 * leave reach Telegram a little earlier or later than that; 1 ms on each of
 * 30 calls keeps a second's worth 30 ms clear of the limit.
 */
const OVERALL_MARGIN_MS = 1

/** Above this many chats, chats whose time has passed are forgotten. */
const SWEEP_ABOVE = 10_000

const bucketWait = Metrics.timeRateLimitWait("telegram", "bucket")
const zeroWait = Metrics.recordRateLimitWait("telegram", "bucket", 0)

/**
 * The earliest time from `from` at least `interval` away from every reserved
 * time (sorted): one pass, the candidate only moving on.
 */
const earliestGap = (reserved: ReadonlyArray<number>, from: number, interval: number): number => {
  let candidate = from
  for (const at of reserved) {
    if (at <= candidate - interval) continue
    if (at >= candidate + interval) break
    candidate = at + interval
  }
  return candidate
}

/** Inserts a time into a sorted array. */
const insertSorted = (sorted: Array<number>, at: number): void => {
  let index = sorted.length
  while (index > 0 && (sorted[index - 1] ?? 0) > at) index -= 1
  sorted.splice(index, 0, at)
}

/**
 * Makes a limiter; `limits` default to {@link faq}. A limit that is not a
 * number of calls (negative, `NaN`) throws a `RangeError`.
 *
 * A chat's (and a group's) next call may leave one interval after the
 * previous call to it was answered (not sent): however the network delays
 * them, two calls can never reach Telegram closer together than the limit.
 * Calls overall are spaced one interval (plus 1 ms) apart when they leave,
 * in any order: a call that waits for its chat does not hold the others back.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (limits: Limits = {}): Service => {
  const resolved = {
    perSecond: limits.perSecond ?? faq.perSecond,
    perChatPerSecond: limits.perChatPerSecond ?? faq.perChatPerSecond,
    perGroupPerMinute: limits.perGroupPerMinute ?? faq.perGroupPerMinute
  }
  const overallInterval = intervalOf(resolved.perSecond, 1_000, "perSecond")
  const overall = overallInterval === 0 ? 0 : overallInterval + OVERALL_MARGIN_MS
  const perChat = intervalOf(resolved.perChatPerSecond, 1_000, "perChatPerSecond")
  const perGroup = intervalOf(resolved.perGroupPerMinute, 60_000, "perGroupPerMinute")
  /** Each chat key's earliest next call, Unix ms. */
  const next = new Map<string, number>()
  /** The times reserved overall (sorted): those in the last interval and every one to come. */
  const reserved: Array<number> = []

  /** The chat keys (and their intervals) a call to this chat counts on. */
  const keysOf = (chatId: string | number): ReadonlyArray<readonly [string, number]> => {
    const chat = String(chatId)
    const keys: Array<readonly [string, number]> = []
    if (perChat > 0) keys.push([`chat:${chat}`, perChat])
    if (perGroup > 0 && isGroup(chatId)) keys.push([`group:${chat}`, perGroup])
    return keys
  }

  const forget = (now: number) => {
    while (reserved.length > 0 && (reserved[0] ?? 0) <= now - overall) reserved.shift()
    if (next.size <= SWEEP_ABOVE) return
    for (const [key, at] of next) if (at <= now) next.delete(key)
  }

  /** The earliest moment every limit allows a call to these keys. */
  const earliest = (keys: ReadonlyArray<readonly [string, number]>, now: number): number => {
    let at = now
    for (const [key] of keys) at = Math.max(at, next.get(key) ?? 0)
    return overall > 0 ? earliestGap(reserved, at, overall) : at
  }

  const take = (keys: ReadonlyArray<readonly [string, number]>, at: number) => {
    for (const [key, interval] of keys) next.set(key, Math.max(next.get(key) ?? 0, at + interval))
    if (overall > 0) insertSorted(reserved, at)
  }

  /** A caller interrupted before its time gives it back. */
  const giveBack = (keys: ReadonlyArray<readonly [string, number]>, at: number) =>
    Effect.sync(() => {
      for (const [key, interval] of keys) if (next.get(key) === at + interval) next.set(key, at)
      const index = reserved.indexOf(at)
      if (index >= 0) reserved.splice(index, 1)
    })

  /** A call ended: its chat's next call may leave one interval from now. */
  const ended = (keys: ReadonlyArray<readonly [string, number]>) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const end = clock.currentTimeMillisUnsafe()
        for (const [key, interval] of keys) next.set(key, Math.max(next.get(key) ?? 0, end + interval))
      })
    )

  const withPermit =
    (chatId: string | number, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E | LimitReached, R>): Effect.Effect<A, E | LimitReached, R> =>
      Effect.withFiber((fiber) => {
        const keys = keysOf(chatId)
        if (keys.length === 0 && overall === 0) return request
        const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
        forget(now)
        const at = earliest(keys, now)
        const wait = at - now
        if (wait > Duration.toMillis(maxWait)) {
          return Effect.fail(new LimitReached(Duration.millis(Math.max(1, Math.ceil(wait)))))
        }
        take(keys, at)
        const counted = keys.length === 0 ? request : Effect.ensuring(request, ended(keys))
        if (wait <= 0) return Effect.andThen(zeroWait, counted)
        return Effect.andThen(
          bucketWait(Effect.sleep(Duration.millis(Math.ceil(wait)))).pipe(Effect.onInterrupt(() => giveBack(keys, at))),
          counted
        )
      })

  const pause = (chatId: string | number, retryAfter: Duration.Duration): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const key = `chat:${String(chatId)}`
        next.set(key, Math.max(next.get(key) ?? 0, now + Duration.toMillis(retryAfter)))
      })
    )

  return TelegramRateLimiter.of({ limits: resolved, withPermit, pause })
}

/**
 * A shared {@link TelegramRateLimiter}.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (limits: Limits = {}): Layer.Layer<TelegramRateLimiter> =>
  Layer.sync(TelegramRateLimiter, () => make(limits))
