/**
 * `updateMany` and `updateStream` on an adapter that takes many messages per
 * call: a group of requests in as few provider calls as its batch size
 * allows, the invalid ones never sent, one outcome per request in order.
 */
import { Array as Arr, Clock, Effect, Result } from "effect"
import type * as EditRequest from "../../EditRequest.ts"
import type { Adapter, Outcome, RequestInput } from "../../MessageEditor.ts"
import type * as MetricsRecorder from "../../MetricsRecorder.ts"
import { itemsOf, oneAttempt, recordGroup } from "../batchResults.ts"
import { contained, unreadableAnswer } from "../defects.ts"
import type * as Packer from "../packer.ts"
import { prepare, retrying, supersede } from "./attempts.ts"
import { batchSizeNow, type EditorState, failWith } from "./state.ts"

export type UpdateBatch = NonNullable<Adapter["updateBatch"]>

/** A group cut into the fewest parts of at most `size`, as even as can be (50 at 24: 17, 17, 16). */
export const splitEvenly = <A>(
  items: Arr.NonEmptyReadonlyArray<A>,
  size: number
): ReadonlyArray<Arr.NonEmptyReadonlyArray<A>> => {
  if (items.length <= size) return [items]
  const parts = Math.ceil(items.length / size)
  const result: Array<Arr.NonEmptyReadonlyArray<A>> = []
  let start = 0
  for (let part = 0; part < parts; part++) {
    const length = Math.ceil((items.length - start) / (parts - part))
    result.push(items.slice(start, start + length) as unknown as Arr.NonEmptyReadonlyArray<A>)
    start += length
  }
  return result
}

/**
 * One provider call for prepared requests (retried as a whole, or one
 * attempt): one result per request, in order, never a failure. A call that
 * fails, or answers a wrong number of results, is every request's reason.
 */
export const callBatch = (
  s: EditorState,
  updateBatch: UpdateBatch,
  requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>,
  retried: boolean
): Effect.Effect<Array<Packer.ItemResult>> => {
  const call = Effect.suspend(() => updateBatch(requests))
  if (retried) {
    return retrying(s, contained(unreadableAnswer)(call)).pipe(
      Effect.result,
      Effect.map((answered) => itemsOf(unreadableAnswer, requests, answered))
    )
  }
  return oneAttempt(unreadableAnswer, call, requests)
}

/** A group of requests in one provider call: the invalid ones never leave, the others share the call's fate. */
export const updateGroup = Effect.fnUntraced(function* (
  s: EditorState,
  recorder: MetricsRecorder.EditRecorder,
  updateBatch: UpdateBatch,
  inputs: Arr.NonEmptyReadonlyArray<RequestInput>
) {
  const toError = failWith(s, "updateMany")
  const outcomes: Array<Outcome> = new Array(inputs.length)
  // Metrics: each request's provider calls (0 for the ones refused before sending), recorded when the group ends.
  const attempts: Array<number> = new Array(inputs.length).fill(0)
  const started = yield* Clock.currentTimeMillis
  const ready: Array<{ readonly index: number; readonly request: EditRequest.EditRequest }> = []
  const prepared = yield* Effect.forEach(inputs, (input) => Effect.result(prepare(s, input)))
  for (const [index, result] of prepared.entries()) {
    if (Result.isFailure(result)) outcomes[index] = Result.fail(toError(result.failure))
    else if (result.success.superseding === undefined) ready.push({ index, request: result.success.request })
    else {
      // The newMessage fallback: its own single send, never part of a batch of edits.
      attempts[index] = 1
      const superseding = result.success.superseding
      outcomes[index] = yield* Effect.result(supersede(s, { request: result.success.request, superseding }))
    }
  }
  if (!Arr.isArrayNonEmpty(ready)) {
    yield* recordGroup(recorder, started, outcomes, attempts)
    return outcomes
  }
  const requests = Arr.map(ready, (entry) => entry.request)
  let offset = 0
  for (const part of splitEvenly(requests, batchSizeNow(s))) {
    let calls = 0
    const counted: UpdateBatch = (batch) => {
      calls += 1
      return updateBatch(batch)
    }
    const results = yield* callBatch(s, counted, part, true)
    results.forEach((result, position) => {
      const index = (ready[offset + position] as { readonly index: number }).index
      attempts[index] = calls
      outcomes[index] = Result.isFailure(result) ? Result.fail(toError(result.failure)) : Result.succeed(result.success)
    })
    offset += part.length
  }
  yield* recordGroup(recorder, started, outcomes, attempts)
  return outcomes
})
