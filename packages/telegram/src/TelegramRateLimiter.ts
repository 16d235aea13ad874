/**
 * Keeps a bot under the limits Telegram's Bot FAQ gives, instead of learning
 * them from 429 answers: about 30 calls a second for the whole bot, 1 a second
 * in one chat, and 20 a minute in a group (a chat whose id is negative:
 * groups, supergroups and channels, or an `@username`). Telegram publishes no
 * hard limits and answers 429 with `retry_after` whenever it wants; the
 * limiter also honours those, for the chat that got one.
 *
 * Each limit is a generic cell rate algorithm (a theoretical arrival time per
 * key): a call reserves the earliest moment every limit that applies allows,
 * in one synchronous step, then sleeps until it. No call polls, callers never
 * queue behind a turn, and a call that would wait longer than it may fails at
 * once with {@link LimitReached}. Time comes from Effect's `Clock`.
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

/** Above this many keys, keys whose time has passed are forgotten. */
const SWEEP_ABOVE = 10_000

const bucketWait = Metrics.timeRateLimitWait("telegram", "bucket")
const zeroWait = Metrics.recordRateLimitWait("telegram", "bucket", 0)

/**
 * Makes a limiter; `limits` default to {@link faq}. A limit that is not a
 * number of calls (negative, `NaN`) throws a `RangeError`.
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
  const global = intervalOf(resolved.perSecond, 1_000, "perSecond")
  const perChat = intervalOf(resolved.perChatPerSecond, 1_000, "perChatPerSecond")
  const perGroup = intervalOf(resolved.perGroupPerMinute, 60_000, "perGroupPerMinute")
  /** Each key's theoretical arrival time, Unix ms: the earliest its next call may go. */
  const tat = new Map<string, number>()

  /** The keys (and their intervals) a call to this chat counts on. */
  const keysOf = (chatId: string | number): ReadonlyArray<readonly [string, number]> => {
    const chat = String(chatId)
    const keys: Array<readonly [string, number]> = []
    if (global > 0) keys.push(["bot", global])
    if (perChat > 0) keys.push([`chat:${chat}`, perChat])
    if (perGroup > 0 && isGroup(chatId)) keys.push([`group:${chat}`, perGroup])
    return keys
  }

  const sweep = (now: number) => {
    if (tat.size <= SWEEP_ABOVE) return
    for (const [key, at] of tat) if (at <= now) tat.delete(key)
  }

  /** Reserves the earliest moment every key allows, when it is at most `maxWait` ms away: its wait, or `undefined`. */
  const reserve = (
    keys: ReadonlyArray<readonly [string, number]>,
    now: number,
    maxWait: number
  ): number | undefined => {
    let at = now
    for (const [key] of keys) at = Math.max(at, tat.get(key) ?? 0)
    const wait = at - now
    if (wait > maxWait) return undefined
    for (const [key, interval] of keys) tat.set(key, Math.max(tat.get(key) ?? 0, at) + interval)
    sweep(now)
    return wait
  }

  /** A caller interrupted before its slot gives it back. */
  const giveBack = (keys: ReadonlyArray<readonly [string, number]>) =>
    Effect.sync(() => {
      for (const [key, interval] of keys) {
        const current = tat.get(key)
        if (current !== undefined) tat.set(key, current - interval)
      }
    })

  const withPermit =
    (chatId: string | number, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E | LimitReached, R>): Effect.Effect<A, E | LimitReached, R> =>
      Effect.withFiber((fiber) => {
        const keys = keysOf(chatId)
        if (keys.length === 0) return request
        const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
        const wait = reserve(keys, now, Duration.toMillis(maxWait))
        if (wait === undefined) {
          let at = now
          for (const [key] of keys) at = Math.max(at, tat.get(key) ?? 0)
          return Effect.fail(new LimitReached(Duration.millis(Math.max(1, Math.ceil(at - now)))))
        }
        if (wait <= 0) return Effect.andThen(zeroWait, request)
        return Effect.andThen(
          bucketWait(Effect.sleep(Duration.millis(Math.ceil(wait)))).pipe(Effect.onInterrupt(() => giveBack(keys))),
          request
        )
      })

  const pause = (chatId: string | number, retryAfter: Duration.Duration): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const key = `chat:${String(chatId)}`
        tat.set(key, Math.max(tat.get(key) ?? 0, now + Duration.toMillis(retryAfter)))
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
