/**
 * Keeps a bot under the limits Telegram's Bot FAQ gives, instead of learning
 * them from 429 answers: about 30 calls a second for the whole bot, 1 a second
 * in one chat, and 20 a minute in a group (a chat whose id is negative:
 * groups, supergroups and channels, or an `@username`). Telegram publishes no
 * hard limits and answers 429 with `retry_after` whenever it wants; the
 * limiter also honours those, for the chat that got one.
 *
 * A call takes its chat's turn in one synchronous step, then the bot's
 * overall turn (see {@link make}). No call polls, and a call that would wait
 * longer than it may fails with {@link LimitReached}, at once when the wait
 * is projected to be longer. Time comes from Effect's `Clock`.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import { MetricsRecorder, SharedLimiter } from "@reword/core/adapter"
import { Clock, Context, Deferred, Duration, Effect, Exit, Layer, Redacted } from "effect"
import * as Overall from "./internal/overall.ts"

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

/** The limits with the defaults filled in, each checked (a `RangeError` for one that is not a number of calls). */
const resolve = (limits: Limits): Service["limits"] => {
  const resolved = {
    perSecond: limits.perSecond ?? faq.perSecond,
    perChatPerSecond: limits.perChatPerSecond ?? faq.perChatPerSecond,
    perGroupPerMinute: limits.perGroupPerMinute ?? faq.perGroupPerMinute
  }
  intervalOf(resolved.perSecond, 1_000, "perSecond")
  intervalOf(resolved.perChatPerSecond, 1_000, "perChatPerSecond")
  intervalOf(resolved.perGroupPerMinute, 60_000, "perGroupPerMinute")
  return resolved
}

/** Above this many chats, chats whose time has passed are forgotten. */
const SWEEP_ABOVE = 10_000

const bucketWait = MetricsRecorder.timeRateLimitWait("telegram", "bucket")
const zeroWait = MetricsRecorder.recordRateLimitWait("telegram", "bucket", 0)

/**
 * Makes a limiter; `limits` default to {@link faq}. A limit that is not a
 * number of calls (negative, `NaN`) throws a `RangeError`.
 *
 * Each limit counts a call from when its answer came back (the latest it can
 * have reached Telegram), so that however the network delays calls, Telegram
 * never sees them closer together than the limit: a chat's (and a group's)
 * next call leaves one interval after the previous one was answered, and at
 * most `perSecond` calls leave in any second that did not see that many
 * answers (see `internal/overall.ts`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (limits: Limits = {}): Service => {
  const resolved = resolve(limits)
  const overall =
    resolved.perSecond === 0 || resolved.perSecond === Number.POSITIVE_INFINITY
      ? undefined
      : Overall.make(resolved.perSecond)
  const perChat = intervalOf(resolved.perChatPerSecond, 1_000, "perChatPerSecond")
  const perGroup = intervalOf(resolved.perGroupPerMinute, 60_000, "perGroupPerMinute")
  /** Each chat key's earliest next call, Unix ms. */
  const next = new Map<string, number>()

  /** The chat keys (and their intervals) a call to this chat counts on. */
  const keysOf = (chatId: string | number): ReadonlyArray<readonly [string, number]> => {
    const chat = String(chatId)
    const keys: Array<readonly [string, number]> = []
    if (perChat > 0) keys.push([`chat:${chat}`, perChat])
    if (perGroup > 0 && isGroup(chatId)) keys.push([`group:${chat}`, perGroup])
    return keys
  }

  const sweep = (now: number) => {
    if (next.size <= SWEEP_ABOVE) return
    for (const [key, at] of next) if (at <= now) next.delete(key)
  }

  /** The chat's turn: the earliest moment its keys allow, taken (its next call one interval on), or `undefined`. */
  const chatTurn = (keys: ReadonlyArray<readonly [string, number]>, now: number, maxWait: number) => {
    let at = now
    for (const [key] of keys) at = Math.max(at, next.get(key) ?? 0)
    if (at - now > maxWait) return { _tag: "Full" as const, wait: at - now }
    for (const [key, interval] of keys) next.set(key, at + interval)
    sweep(now)
    return { _tag: "Taken" as const, at }
  }

  /** A caller interrupted before its turn gives it back. */
  const giveBack = (keys: ReadonlyArray<readonly [string, number]>, at: number) =>
    Effect.sync(() => {
      for (const [key, interval] of keys) if (next.get(key) === at + interval) next.set(key, at)
    })

  /** A call ended: its chat's next call may leave one interval from now. */
  const ended = (keys: ReadonlyArray<readonly [string, number]>) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const end = clock.currentTimeMillisUnsafe()
        for (const [key, interval] of keys) next.set(key, Math.max(next.get(key) ?? 0, end + interval))
      })
    )

  /** The overall turn, within what is left of `maxWait`; the call counted until a second after it ends. */
  const overallTurn = <A, E, R>(
    request: Effect.Effect<A, E | LimitReached, R>,
    started: number,
    maxWait: number
  ): Effect.Effect<A, E | LimitReached, R> => {
    if (overall === undefined) return request
    return Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const now = clock.currentTimeMillisUnsafe()
      const left = maxWait - (now - started)
      const projected = overall.projected(now)
      if (projected > left) return Effect.fail(new LimitReached(Duration.millis(projected)))
      let taken = false
      const enter = overall
        .enter(() => (taken = true))
        .pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(Math.max(0, left)),
            orElse: () =>
              Effect.fail(new LimitReached(Duration.millis(overall.projected(clock.currentTimeMillisUnsafe()))))
          })
        )
      return Effect.ensuring(
        Effect.andThen(enter, request),
        Effect.suspend(() => (taken ? overall.leave : Effect.void))
      )
    })
  }

  /**
   * Each chat key's latest call: when it ended (Unix ms), once it did. A
   * call to a chat leaves only after the one before it ended, one interval
   * after its answer: calls to one chat never overlap, so that however late
   * each reaches Telegram, Telegram never sees two closer than the limit.
   */
  const latest = new Map<string, Deferred.Deferred<number>>()

  /** The call's place after the chat's previous calls: what it waits for, and its own end to announce. */
  const queue = (keys: ReadonlyArray<readonly [string, number]>) => {
    const before = keys.flatMap(([key, interval]) => {
      const previous = latest.get(key)
      return previous === undefined ? [] : [[previous, interval] as const]
    })
    const mine = Deferred.makeUnsafe<number>()
    for (const [key] of keys) latest.set(key, mine)
    const settle = (end: number) =>
      Effect.sync(() => {
        Deferred.doneUnsafe(mine, Exit.succeed(end))
        for (const [key] of keys) if (latest.get(key) === mine) latest.delete(key)
      })
    /** Waits for the calls before to end, then one interval more; within `left` ms. */
    const after = (left: number): Effect.Effect<void, LimitReached> =>
      before.length === 0
        ? Effect.void
        : Effect.forEach(before, ([previous, interval]) =>
            Effect.map(Deferred.await(previous), (end) => end + interval)
          ).pipe(
            Effect.flatMap((ends) =>
              Effect.clockWith((clock) => {
                const wait = Math.max(0, ...ends) - clock.currentTimeMillisUnsafe()
                return wait > 0 ? Effect.sleep(Duration.millis(Math.ceil(wait))) : Effect.void
              })
            ),
            Effect.timeoutOrElse({
              duration: Duration.millis(Math.max(0, left)),
              orElse: () => Effect.fail(new LimitReached(Duration.seconds(1)))
            })
          )
    /** A call that never ran passes the end of the calls before it on (in the background). */
    const passOn =
      before.length === 0
        ? settle(0)
        : Effect.asVoid(
            Effect.forkDetach(
              Effect.flatMap(
                Effect.forEach(before, ([previous]) => Deferred.await(previous)),
                (ends) => settle(Math.max(0, ...ends))
              )
            )
          )
    return { after, settle, passOn }
  }

  const withPermit =
    (chatId: string | number, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E | LimitReached, R>): Effect.Effect<A, E | LimitReached, R> =>
      Effect.withFiber((fiber) => {
        const keys = keysOf(chatId)
        if (keys.length === 0 && overall === undefined) return request
        const clock = fiber.getRef(Clock.Clock)
        const now = clock.currentTimeMillisUnsafe()
        const max = Duration.toMillis(maxWait)
        const turn = chatTurn(keys, now, max)
        if (turn._tag === "Full")
          return Effect.fail(new LimitReached(Duration.millis(Math.max(1, Math.ceil(turn.wait)))))
        if (keys.length === 0) return Effect.andThen(zeroWait, overallTurn(request, now, max))
        const place = queue(keys)
        let endedAt: number | undefined
        const counted = Effect.ensuring(
          overallTurn(request, now, max),
          Effect.andThen(
            ended(keys),
            Effect.sync(() => {
              endedAt = clock.currentTimeMillisUnsafe()
            })
          )
        )
        const ordered = Effect.andThen(
          Effect.suspend(() => place.after(max - (clock.currentTimeMillisUnsafe() - now))),
          counted
        )
        const wait = turn.at - now
        const waited =
          wait <= 0
            ? Effect.andThen(zeroWait, ordered)
            : Effect.andThen(
                bucketWait(Effect.sleep(Duration.millis(Math.ceil(wait)))).pipe(
                  Effect.onInterrupt(() => giveBack(keys, turn.at))
                ),
                ordered
              )
        return Effect.ensuring(
          waited,
          Effect.suspend(() => (endedAt === undefined ? place.passOn : place.settle(endedAt)))
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

/**
 * What a limiter shared by several processes needs: the bot (its token,
 * of which only the bot id, the digits before the colon, is kept; a token
 * of another form is kept as a SHA-256 hash, never as it is), and the limits
 * (default {@link faq}).
 *
 * @category models
 * @since 0.4.0
 */
export interface SharedOptions {
  readonly botToken: Redacted.Redacted<string> | string
  readonly limits?: Limits | undefined
}

/** The bot's key in a shared limiter: `telegram:<bot id>`, or a hash of a token without one. */
const botKeyOf = (botToken: Redacted.Redacted<string> | string): string => {
  const token = typeof botToken === "string" ? botToken : Redacted.value(botToken)
  const id = /^([0-9]{1,20}):/.exec(token)?.[1]
  return `telegram:${id ?? `sha256-${createHash("sha256").update(token).digest("hex").slice(0, 32)}`}`
}

/** A limit that is on (neither 0 nor `Infinity`). */
const on = (count: number): boolean => count > 0 && count !== Number.POSITIVE_INFINITY

/**
 * The bot's limits on a limiter shared by every process of the app (core's
 * `SharedLimiter`: `@reword/postgres`'s `PgLimiter` keeps it in
 * PostgreSQL, on the database's clock): the bot's calls a second on the key
 * `telegram:<bot id>`, a chat's on `telegram:<bot id>:chat:<chat id>` and a
 * group's on `telegram:<bot id>:group:<chat id>`, each chat's and group's
 * counted from its answer too. Every process of one bot must give the same
 * limits. A limit that is not a number of calls throws a `RangeError`.
 *
 * @category constructors
 * @since 0.4.0
 */
export const shared = (limiter: SharedLimiter.Service, options: SharedOptions): Service => {
  const resolved = resolve(options.limits ?? {})
  const bot = botKeyOf(options.botToken)
  const second = Duration.seconds(1)
  const overall: ReadonlyArray<SharedLimiter.Rule> = on(resolved.perSecond)
    ? [{ key: bot, count: resolved.perSecond, per: second }]
    : []
  const rulesOf = (chatId: string | number): ReadonlyArray<SharedLimiter.Rule> => {
    const chat = String(chatId)
    const rules = [...overall]
    if (on(resolved.perChatPerSecond)) {
      rules.push({ key: `${bot}:chat:${chat}`, count: resolved.perChatPerSecond, per: second, fromAnswer: true })
    }
    if (on(resolved.perGroupPerMinute) && isGroup(chatId)) {
      const minute = Duration.minutes(1)
      rules.push({ key: `${bot}:group:${chat}`, count: resolved.perGroupPerMinute, per: minute, fromAnswer: true })
    }
    return rules
  }
  const withPermit =
    (chatId: string | number, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E | LimitReached, R>): Effect.Effect<A, E | LimitReached, R> =>
      limiter
        .withPermit(
          rulesOf(chatId),
          maxWait
        )(request)
        .pipe(
          Effect.catchIf(
            (error): error is SharedLimiter.LimitFull => error instanceof SharedLimiter.LimitFull,
            (full) => Effect.fail(new LimitReached(full.retryAfter))
          )
        )
  return TelegramRateLimiter.of({
    limits: resolved,
    withPermit,
    pause: (chatId, retryAfter) => limiter.pause(`${bot}:chat:${String(chatId)}`, retryAfter)
  })
}

/**
 * {@link shared} as a layer, over the `SharedLimiter` in context (such as
 * `PgLimiter.layer()` of `@reword/postgres`).
 *
 * @category layers
 * @since 0.4.0
 */
export const layerShared = (
  options: SharedOptions
): Layer.Layer<TelegramRateLimiter, never, SharedLimiter.SharedLimiter> =>
  Layer.effect(
    TelegramRateLimiter,
    Effect.gen(function* () {
      return shared(yield* SharedLimiter.SharedLimiter, options)
    })
  )
