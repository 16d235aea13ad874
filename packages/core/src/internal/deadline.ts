/**
 * An `update()`'s deadline. From the call's start, its retry budget
 * (`retry.maxElapsed`) plus one transport timeout (`transport.timeout`): no
 * retry starts past the retry budget, and whatever the request waits for past
 * the deadline (the packer's queue, a provider call waiting for the
 * provider's rate limiter, an answer) the caller stops waiting, with a typed
 * reason: `RateLimited` (code `CLIENT_QUEUE`) when its request never left
 * the queue, `Timeout` otherwise.
 */
import { Cause, Duration, Effect, Schedule } from "effect"
import { type EditErrorReason, RateLimited, Timeout } from "../EditError.ts"
import * as HttpTransport from "../HttpTransport.ts"
import type * as RetryPolicy from "../RetryPolicy.ts"
import type { Deadline } from "./packer.ts"

/** An update's time: the retry budget, and the whole (the retry budget plus one transport timeout). */
export interface Budget {
  readonly retryMillis: number
  readonly totalMillis: number
}

/** The transport's timeout as the options give it (checked before the editor is built), else its default. */
const transportTimeoutMillis = (transport: HttpTransport.TransportOptions | undefined): number => {
  const input = transport?.timeout
  const millis = Duration.toMillis(
    input === undefined ? HttpTransport.DEFAULT_TIMEOUT : Duration.fromInputUnsafe(input)
  )
  return Number.isFinite(millis) && millis > 0 ? millis : Duration.toMillis(HttpTransport.DEFAULT_TIMEOUT)
}

export const budgetOf = (
  policy: RetryPolicy.RetryPolicy,
  transport: HttpTransport.TransportOptions | undefined
): Budget => {
  const retryMillis = Duration.toMillis(policy.maxElapsed)
  return { retryMillis, totalMillis: retryMillis + transportTimeoutMillis(transport) }
}

/** The deadline of an update started at `started` (epoch millis, by its `Clock`). */
export const deadlineOf = (budget: Budget, started: number): Deadline => {
  const after = Duration.millis(budget.totalMillis)
  return {
    at: started + budget.totalMillis,
    reason: (sent): EditErrorReason =>
      sent
        ? new Timeout({ after })
        : new RateLimited({
            code: "CLIENT_QUEUE",
            description: `every provider call of this editor stayed taken (in flight, or waiting for the provider's rate limit) for this edit's whole time, ${Duration.format(after)} (the retry budget and one transport timeout): its last attempt was never sent`
          })
  }
}

/** One attempt, cut at the deadline (a `Timeout`: it may have been sent). */
export const attemptWithin =
  <A>(attempt: Effect.Effect<A, EditErrorReason>) =>
  (deadline: Deadline, now: number): Effect.Effect<A, EditErrorReason> => {
    const remaining = deadline.at - now
    if (remaining <= 0) return Effect.fail(deadline.reason(false))
    return Effect.timeoutOrElse(attempt, {
      duration: Duration.millis(remaining),
      orElse: () => Effect.fail(deadline.reason(true))
    })
  }

/**
 * The retry schedule, with no retry that would start past `lastRetryAt`: the
 * failure goes back at once, with its `retryAfter`, as when the policy's own
 * budget is spent.
 */
export const retriesUntil = <I>(
  schedule: Schedule.Schedule<number, I>,
  lastRetryAt: number
): Schedule.Schedule<number, I> =>
  Schedule.fromStep(
    Effect.map(
      Schedule.toStep(schedule),
      (step) => (now: number, input: I) =>
        Effect.flatMap(step(now, input), ([attempt, delay]) =>
          now + Duration.toMillis(delay) > lastRetryAt
            ? Cause.done(attempt)
            : Effect.succeed([attempt, delay] as [number, Duration.Duration])
        )
    )
  )
