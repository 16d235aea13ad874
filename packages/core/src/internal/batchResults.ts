/**
 * The results of a provider call for many messages, one per request, and the
 * metrics of a group of them: the editor's batch path (`MessageEditor`).
 */
import { type Array as Arr, Cause, Clock, Effect, Option, Result } from "effect"
import type { EditErrorReason } from "../EditError.ts"
import { MalformedResponse } from "../EditError.ts"
import type { EditedMessage } from "../EditedMessage.ts"
import type * as EditRequest from "../EditRequest.ts"
import type { Outcome } from "../MessageEditor.ts"
import type * as MetricsRecorder from "../MetricsRecorder.ts"
import * as Packer from "./packer.ts"

/**
 * The results of one provider call for its requests, one per request in
 * order: a call that failed, or answered a wrong number of results, is every
 * request's reason; an unreadable result is its request's.
 */
export const itemsOf = (
  unreadable: (defect: unknown) => EditErrorReason,
  requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>,
  answered: Result.Result<ReadonlyArray<unknown>, EditErrorReason>
): Array<Packer.ItemResult> => {
  if (Result.isSuccess(answered) && answered.success.length !== requests.length) {
    const wrong = new MalformedResponse({
      description: `the provider answered ${answered.success.length} results for ${requests.length} messages`
    })
    return requests.map(() => Result.fail(wrong))
  }
  return requests.map((_, position): Packer.ItemResult => {
    if (Result.isFailure(answered)) return Result.fail(answered.failure)
    const result: unknown = answered.success[position]
    return !Packer.isItemResult(result)
      ? Result.fail(unreadable(undefined))
      : Result.isFailure(result)
        ? Result.fail(result.failure as EditErrorReason)
        : Result.succeed(result.success as EditedMessage)
  })
}

/** One attempt of a call (a packed call): one step for its answer, whatever it is. */
export const oneAttempt = (
  unreadable: (defect: unknown) => EditErrorReason,
  call: Effect.Effect<ReadonlyArray<unknown>, EditErrorReason>,
  requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
): Effect.Effect<Array<Packer.ItemResult>> =>
  Effect.matchCauseEffect(call, {
    onSuccess: (results) => Effect.succeed(itemsOf(unreadable, requests, Result.succeed(results))),
    onFailure: (cause) => {
      // Interruption (every caller left) goes on as such: it holds no typed failure.
      if (Cause.hasInterrupts(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      if (Cause.hasDies(cause)) {
        return Effect.succeed(itemsOf(unreadable, requests, Result.fail(unreadable(Cause.squash(cause)))))
      }
      const error = Cause.findErrorOption(cause)
      return Option.isSome(error)
        ? Effect.succeed(itemsOf(unreadable, requests, Result.fail(error.value)))
        : Effect.failCause(cause as Cause.Cause<never>)
    }
  })

/** Records the metrics of a group's outcomes (a group interrupted before its end records none). */
export const recordGroup = (
  recorder: MetricsRecorder.EditRecorder,
  started: number,
  outcomes: ReadonlyArray<Outcome>,
  attempts: ReadonlyArray<number>
) =>
  Effect.withFiber((fiber) => {
    const elapsed = (fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() - started) / 1000
    outcomes.forEach((outcome, index) => {
      const tag = Result.isSuccess(outcome) ? "success" : outcome.failure.reason._tag
      recorder.record(fiber.context, tag, elapsed, attempts[index] ?? 0)
    })
    return Effect.void
  })
