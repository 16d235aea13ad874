/**
 * A provider-neutral rate limiter over named keys, the shape a limiter shared
 * by several processes takes (`@reword/postgres`'s `PgLimiter` keeps it in
 * PostgreSQL): a call names the rules it counts on (at most `count` calls in
 * any window of `per` on one key: a bot, a chat, a group), takes a slot on
 * all of them at once, sleeps until it (no polling), and runs. An adapter
 * maps its provider's limits onto keys (Telegram: per bot, per chat, per
 * group). For adapter authors (`@reword/core/adapter`).
 *
 * The slots of one key are spaced so that a provider that counts calls over
 * sliding windows never sees more than `count` in a window, though each call
 * reaches it up to `delay` after its slot (a busy event loop, the network):
 * `(per + delay) / count` apart. {@link local} is the same limiter in one
 * process (a shared one falls back to it while its store is away).
 *
 * @since 0.4.0
 */
import { Clock, Context, Duration, Effect } from "effect"

/**
 * One limit a call counts on: at most `count` calls in any window of `per`
 * on `key`. With `fromAnswer`, a call counts from when its answer came back
 * too (the latest it can have reached the provider): the key's next call is
 * one spacing after the answer at the earliest.
 *
 * @category models
 * @since 0.4.0
 */
export interface Rule {
  readonly key: string
  readonly count: number
  readonly per: Duration.Duration
  readonly fromAnswer?: boolean | undefined
}

/**
 * A call would wait longer than it may: `retryAfter` is when its slot is
 * projected to come. Nothing was taken.
 *
 * @category errors
 * @since 0.4.0
 */
export class LimitFull {
  readonly _tag = "LimitFull"
  readonly retryAfter: Duration.Duration
  constructor(retryAfter: Duration.Duration) {
    this.retryAfter = retryAfter
  }
}

/**
 * The limiter's interface.
 *
 * @category models
 * @since 0.4.0
 */
export interface Service {
  /**
   * Runs `request` at the earliest moment every rule allows, when that is at
   * most `maxWait` away (the slot is taken on every key at once); fails at
   * once with {@link LimitFull} otherwise, taking nothing. A caller
   * interrupted while it waits gives its slot back.
   */
  readonly withPermit: (
    rules: ReadonlyArray<Rule>,
    maxWait: Duration.Duration
  ) => <A, E, R>(request: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LimitFull, R>
  /** The provider said to wait (a 429): nothing more goes on `key` for `duration`. */
  readonly pause: (key: string, duration: Duration.Duration) => Effect.Effect<void>
}

/**
 * The shared limiter in context (`PgLimiter.layer` provides one).
 *
 * @category services
 * @since 0.4.0
 */
export class SharedLimiter extends Context.Service<SharedLimiter, Service>()("@reword/core/SharedLimiter") {}

/** The default `delay`: how late a call may reach the provider after its slot. */
const DEFAULT_DELAY = Duration.millis(100)

/**
 * The spacing of a rule's slots, in ms, for calls reaching the provider up
 * to `delayMs` after their slot. Throws a `RangeError` for a rule that is not
 * a number of calls over a positive window.
 *
 * @category utils
 * @since 0.4.0
 */
export const spacingOf = (rule: Rule, delayMs: number): number => {
  const per = Duration.toMillis(rule.per)
  if (!(rule.count > 0) || !Number.isFinite(rule.count)) {
    throw new RangeError(`the limit on ${rule.key} must be a positive number of calls`)
  }
  if (!(per > 0) || !Number.isFinite(per)) throw new RangeError(`the window of ${rule.key} must be positive`)
  return (per + Math.max(0, delayMs)) / rule.count
}

/**
 * What a limiter does with one reservation, whatever keeps its slots (this
 * process, or a database): sleep `wait` ms (giving the slot back when
 * interrupted meanwhile), run the request, then count the answer on the keys
 * of rules `fromAnswer` (`answered`).
 *
 * @category utils
 * @since 0.5.0
 */
export const runReserved = <A, E, R>(
  wait: number,
  request: Effect.Effect<A, E, R>,
  giveBack: Effect.Effect<void>,
  answered: Effect.Effect<void> | undefined
): Effect.Effect<A, E, R> => {
  const counted = answered === undefined ? request : Effect.ensuring(request, answered)
  if (wait <= 0) return counted
  return Effect.andThen(
    Effect.sleep(Duration.millis(Math.ceil(wait))).pipe(Effect.onInterrupt(() => giveBack)),
    counted
  )
}

/**
 * The limiter in this process only, on Effect's `Clock` (what a shared
 * limiter falls back to while its store is away). `delay` as above, default
 * 100 ms.
 *
 * @category constructors
 * @since 0.4.0
 */
export const local = (options: { readonly delay?: Duration.Input | undefined } = {}): Service => {
  const delay = Duration.toMillis(Duration.fromInputUnsafe(options.delay ?? DEFAULT_DELAY))
  /** Each key's theoretical arrival time: its next slot, Unix ms. */
  const tat = new Map<string, number>()
  const sweep = (now: number) => {
    if (tat.size > 10_000) for (const [key, at] of tat) if (at <= now) tat.delete(key)
  }
  const withPermit =
    (rules: ReadonlyArray<Rule>, maxWait: Duration.Duration) =>
    <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E | LimitFull, R> =>
      Effect.withFiber((fiber): Effect.Effect<A, E | LimitFull, R> => {
        if (rules.length === 0) return request
        const spaced = rules.map((rule) => [rule, spacingOf(rule, delay)] as const)
        const clock = fiber.getRef(Clock.Clock)
        const now = clock.currentTimeMillisUnsafe()
        let at = now
        for (const [rule] of spaced) at = Math.max(at, tat.get(rule.key) ?? 0)
        if (at - now > Duration.toMillis(maxWait)) {
          return Effect.fail(new LimitFull(Duration.millis(Math.max(1, Math.ceil(at - now)))))
        }
        for (const [rule, spacing] of spaced) tat.set(rule.key, at + spacing)
        sweep(now)
        const giveBack = Effect.sync(() => {
          for (const [rule, spacing] of spaced) if (tat.get(rule.key) === at + spacing) tat.set(rule.key, at)
        })
        const fromAnswer = spaced.filter(([rule]) => rule.fromAnswer === true)
        const answered =
          fromAnswer.length === 0
            ? undefined
            : Effect.sync(() => {
                const end = clock.currentTimeMillisUnsafe()
                for (const [rule, spacing] of fromAnswer) {
                  tat.set(rule.key, Math.max(tat.get(rule.key) ?? 0, end + spacing))
                }
              })
        return runReserved(at - now, request, giveBack, answered)
      })
  const pause = (key: string, duration: Duration.Duration): Effect.Effect<void> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const until = clock.currentTimeMillisUnsafe() + Duration.toMillis(duration)
        tat.set(key, Math.max(tat.get(key) ?? 0, until))
      })
    )
  return SharedLimiter.of({ withPermit, pause })
}
