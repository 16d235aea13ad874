/**
 * The one retry policy every provider shares: exponential backoff with jitter,
 * for retryable reasons only, honouring the provider's `retryAfter`, bounded
 * in attempts and in total time.
 *
 * @since 0.1.0
 */
import { Cause, Data, Duration, Effect, Random, Result, Schedule, Schema, SchemaTransformation } from "effect"
import type { Problem } from "./EditError.ts"
import * as Check from "./internal/options.ts"

/**
 * How hard to try: retry options decoded ({@link decode}, {@link make}), every
 * field checked once and its default filled in ({@link defaults}).
 *
 * @category services
 * @since 0.1.0
 */
export class RetryPolicy extends Data.Class<{
  /** Attempts in all, the first included: 1 means never retry. */
  readonly maxAttempts: number
  /** The delay before the first retry; each next one doubles, up to `maxDelay`. */
  readonly initialDelay: Duration.Duration
  /** The longest backoff between two attempts (a provider's `retryAfter` may ask for more). */
  readonly maxDelay: Duration.Duration
  /**
   * The most time from the first failure to the last retry, attempts and
   * waits included. A retry whose wait would go past it is not made: the error
   * is returned at once, with its `retryAfter`, so the app can decide.
   */
  readonly maxElapsed: Duration.Duration
  /** Whether to spread each delay randomly (0.8x to 1.2x) so that clients do not retry in lockstep. */
  readonly jitter: boolean
}> {}

/**
 * Four attempts, 250 ms doubling to at most 10 s, at most 60 s of waiting, with jitter.
 *
 * @category utils
 * @since 0.1.0
 */
export const defaults: RetryPolicy = new RetryPolicy({
  maxAttempts: 4,
  initialDelay: Duration.millis(250),
  maxDelay: Duration.seconds(10),
  maxElapsed: Duration.seconds(60),
  jitter: true
})

/**
 * Options to change some of the defaults; durations accept `"2 seconds"`, millis, or a `Duration`.
 * Every duration lies from 0 to 2^31-1 ms (about 24.8 days, the longest timer
 * Node keeps); `maxAttempts` is an integer of at least 1. A `maxDelay` below
 * `initialDelay` caps every backoff at `maxDelay`.
 *
 * @category options
 * @since 0.1.0
 */
export interface RetryOptions {
  readonly maxAttempts?: number | undefined
  readonly initialDelay?: Duration.Input | undefined
  readonly maxDelay?: Duration.Input | undefined
  readonly maxElapsed?: Duration.Input | undefined
  readonly jitter?: boolean | undefined
}

const delayBounds = { minMillis: 0, maxMillis: Check.MAX_TIMER_MILLIS }

const fields = {
  maxAttempts: Check.option<number>((value) => Check.integer("", value, { min: 1 })),
  initialDelay: Check.option<Duration.Input>((value) => Check.duration("", value, delayBounds)),
  maxDelay: Check.option<Duration.Input>((value) => Check.duration("", value, delayBounds)),
  maxElapsed: Check.option<Duration.Input>((value) => Check.duration("", value, delayBounds)),
  jitter: Check.option<boolean>((value) => Check.boolean("", value))
} satisfies { readonly [K in keyof Required<RetryOptions>]: Schema.Top }

/**
 * The retry options, declared once: each field with its check. What
 * `createEditor`, `Provider`, every adapter and the outbox decode `retry`
 * with, once.
 *
 * @category options
 * @since 0.3.0
 */
export const RetryOptionsSchema = Check.options(fields, "must be an object of retry options")

/** A policy from valid options, over the defaults. */
const fromValid = (valid: RetryOptions): RetryPolicy =>
  new RetryPolicy({
    maxAttempts: valid.maxAttempts ?? defaults.maxAttempts,
    initialDelay:
      valid.initialDelay === undefined ? defaults.initialDelay : Duration.fromInputUnsafe(valid.initialDelay),
    maxDelay: valid.maxDelay === undefined ? defaults.maxDelay : Duration.fromInputUnsafe(valid.maxDelay),
    maxElapsed: valid.maxElapsed === undefined ? defaults.maxElapsed : Duration.fromInputUnsafe(valid.maxElapsed),
    jitter: valid.jitter ?? defaults.jitter
  })

/**
 * Retry options decoded into a policy, over the defaults, in one pass: the
 * `retry` field of `OptionCheck.EditorOptionsSchema`.
 *
 * @category options
 * @since 0.3.0
 */
export const RetryPolicyFromOptions = RetryOptionsSchema.pipe(
  Schema.decodeTo(
    Schema.instanceOf(RetryPolicy),
    SchemaTransformation.transform<RetryPolicy, typeof RetryOptionsSchema.Type>({
      decode: fromValid,
      encode: (policy) => policy
    })
  )
)

/**
 * Decodes retry options once into a policy, over the defaults: every problem
 * is named by its path under `prefix` (`retry.maxAttempts`). A policy is
 * answered as it is.
 *
 * @category options
 * @since 0.3.0
 */
export const decode = (
  options: RetryOptions | undefined,
  prefix = "retry"
): Result.Result<RetryPolicy, ReadonlyArray<Problem>> => {
  if (options instanceof RetryPolicy) return Result.succeed(options)
  if (options === undefined) return Result.succeed(defaults)
  return Check.decode(RetryPolicyFromOptions, options, prefix)
}

/**
 * The problems of retry options, each naming its field under `prefix`
 * (`retry.maxAttempts`); none when they are usable (see {@link decode}).
 *
 * @category utils
 * @since 0.1.0
 */
export const validate = (options: RetryOptions | undefined, prefix = "retry"): ReadonlyArray<Problem> =>
  options === undefined ? [] : Check.problemsOf(decode(options, prefix))

/**
 * Builds a policy from options over the defaults. Throws a `RangeError`
 * naming each field that makes no sense (see {@link validate}), which are
 * programming errors; adapters' `make` report them as a `ConfigError` instead.
 * A policy (options decoded at the edge) is taken as it is.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: RetryOptions = {}): RetryPolicy => Check.getOrThrow(decode(options, ""))

/**
 * What the policy looks at in a failure.
 *
 * @category models
 * @since 0.1.0
 */
export interface Retryable {
  readonly isRetryable: boolean
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * The policy as a `Schedule` over failures: it continues only for retryable
 * failures, while attempts and the time budget last, and waits at least the
 * failure's `retryAfter`.
 *
 * @category utils
 * @since 0.1.0
 */
export const schedule = (policy: RetryPolicy): Schedule.Schedule<number, Retryable> => {
  const initial = Duration.toMillis(policy.initialDelay)
  const cap = Duration.toMillis(policy.maxDelay)
  const budget = Duration.toMillis(policy.maxElapsed)
  return Schedule.fromStepWithMetadata(
    Effect.succeed((meta: Schedule.InputMetadata<Retryable>) => {
      const failure = meta.input
      if (!failure.isRetryable || meta.attempt >= policy.maxAttempts) return Cause.done(meta.attempt)
      const backoff = Math.min(cap, initial * 2 ** (meta.attempt - 1))
      const requested = failure.retryAfter === undefined ? 0 : Duration.toMillis(failure.retryAfter)
      return Effect.map(policy.jitter ? Random.next : Effect.succeed(0.5), (random) => {
        const jittered = policy.jitter ? backoff * (0.8 + 0.4 * random) : backoff
        const delay = Math.max(jittered, requested)
        return meta.elapsed + delay > budget
          ? Cause.done(meta.attempt)
          : Effect.succeed([meta.attempt, Duration.millis(delay)] as [number, Duration.Duration])
      }).pipe(Effect.flatten)
    })
  )
}

/**
 * Retries an effect under the policy.
 *
 * @category utils
 * @since 0.1.0
 */
export const retry = (policy: RetryPolicy) => {
  // Built once per policy, not once per call.
  const built = schedule(policy)
  return <A, E extends Retryable, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    policy.maxAttempts <= 1 ? self : Effect.retry(self, built)
}
