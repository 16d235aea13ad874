/**
 * A chunk the portal refuses as a whole because of one of its messages: the
 * portal answers the whole `imconnector.update.messages` call with an error
 * (`400 ERROR_ARGUMENT`, a code it does not document...) and names no item.
 * Splitting the chunk in halves, and each refused half again, finds the
 * message at fault in about `2 × log2(n)` more calls: the other messages land,
 * and only the one the portal refuses alone fails, with the portal's reason.
 * Refusals that are the call's (authorization, the line, the connector, the
 * limits, an outage) are never split: splitting cannot change them.
 *
 * @internal
 */
import { EditError } from "@reword/core"
import { type Array as Arr, Effect, Result } from "effect"
import { rowOf } from "./errors.ts"

type Reason = EditError.EditErrorReason

/** The codes of the table that say something about one message, not the call: worth a split. */
const ITEM_CODES: ReadonlySet<string> = new Set(["ERROR_ARGUMENT", "ERROR_BATCH_LENGTH_EXCEEDED"])

/** The codes core gives the call itself (a redirect is the portal's, never a message's). */
const CALL_CODES: ReadonlySet<string> = new Set(["REDIRECT"])

/**
 * Whether a refusal of a whole call may be one message's doing: a refusal of
 * the request (`InvalidRequest`, `Rejected`) that the table does not give to
 * the call itself (an unknown code, no code, `ERROR_ARGUMENT`, a call too large).
 */
export const maySplit = (reason: Reason): boolean => {
  if (reason._tag !== "InvalidRequest" && reason._tag !== "Rejected") return false
  const code = reason.code
  if (code === undefined) return true
  if (CALL_CODES.has(code.toUpperCase())) return false
  const row = rowOf(code)
  return row === undefined || ITEM_CODES.has(code.toUpperCase())
}

/**
 * The most extra calls one chunk of `size` may cost: enough to isolate two
 * messages at fault (`4 × ⌈log2 size⌉`); beyond it, the messages not yet
 * sent on their own fail with the refusal of the smallest call that carried them.
 */
export const maxExtraCalls = (size: number): number => (size <= 1 ? 0 : 4 * Math.ceil(Math.log2(size)))

const alone = (reason: Reason, size: number): Reason => {
  if (size > 1 || !("description" in reason)) return reason
  const note =
    "the portal refused every call that carried this message; the other messages of its chunk were sent without it"
  const description = reason.description === undefined ? note : `${reason.description} (${note})`
  switch (reason._tag) {
    case "InvalidRequest":
      return new EditError.InvalidRequest({ ...reason, description })
    case "Rejected":
      return new EditError.Rejected({ ...reason, description })
    default:
      return reason
  }
}

/**
 * Sends `count` messages through `send` (one call for the indices given);
 * when the call is refused as a whole for a reason {@link maySplit} allows,
 * sends each half apart, and so on, within {@link maxExtraCalls}. A refusal
 * that may not be split fails the first call as before (the caller's reason).
 */
export const sendSplitting = <A>(
  count: number,
  send: (indices: Arr.NonEmptyReadonlyArray<number>) => Effect.Effect<ReadonlyArray<Result.Result<A, Reason>>, Reason>
): Effect.Effect<ReadonlyArray<Result.Result<A, Reason>>, Reason> =>
  Effect.suspend(() => {
    const all = Array.from({ length: count }, (_, index) => index) as unknown as Arr.NonEmptyReadonlyArray<number>
    const outcomes = new Array<Result.Result<A, Reason>>(count)
    let budget = maxExtraCalls(count)
    const failAll = (indices: ReadonlyArray<number>, reason: Reason) => {
      for (const index of indices) outcomes[index] = Result.fail(alone(reason, indices.length))
    }
    const place = (indices: ReadonlyArray<number>, results: ReadonlyArray<Result.Result<A, Reason>>) =>
      indices.forEach((index, at) => {
        outcomes[index] =
          results[at] ?? Result.fail(new EditError.MalformedResponse({ description: `no result item ${at}` }))
      })
    /** One call of a part (after a refused whole), split again while the budget lasts. */
    const part = (indices: Arr.NonEmptyReadonlyArray<number>): Effect.Effect<void> =>
      Effect.matchEffect(send(indices), {
        onSuccess: (results) => Effect.sync(() => place(indices, results)),
        onFailure: (reason) => afterRefusal(indices, reason)
      })
    const afterRefusal = (indices: Arr.NonEmptyReadonlyArray<number>, reason: Reason): Effect.Effect<void> => {
      if (indices.length === 1 || !maySplit(reason) || budget < 2) {
        return Effect.sync(() => failAll(indices, reason))
      }
      budget -= 2
      const middle = Math.ceil(indices.length / 2)
      const left = indices.slice(0, middle) as unknown as Arr.NonEmptyReadonlyArray<number>
      const right = indices.slice(middle) as unknown as Arr.NonEmptyReadonlyArray<number>
      return Effect.andThen(part(left), part(right))
    }
    return Effect.matchEffect(send(all), {
      onSuccess: (results) => Effect.succeed(results),
      onFailure: (reason) =>
        count <= 1 || !maySplit(reason)
          ? Effect.fail(reason)
          : Effect.as(afterRefusal(all, reason), outcomes as ReadonlyArray<Result.Result<A, Reason>>)
    })
  })
