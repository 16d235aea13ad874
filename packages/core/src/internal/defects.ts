/**
 * Defects (exceptions thrown on one request's path) as that request's typed
 * reason: the raw error never becomes the reason's text, only its name does.
 */
import { Cause, Effect } from "effect"
import { type EditErrorReason, InvalidRequest, MalformedResponse } from "../EditError.ts"

/**
 * A defect (an exception thrown on one request's path, such as a stack
 * overflow on a hostile answer) as that request's typed reason. Interruption
 * is never caught; the raw error (its message may hold anything the answer
 * held) never becomes the reason's text: only its name does.
 */
export const contained =
  (reasonOf: (defect: unknown) => EditErrorReason) =>
  <A, R>(effect: Effect.Effect<A, EditErrorReason, R>): Effect.Effect<A, EditErrorReason, R> =>
    Effect.catchCause(effect, (cause) =>
      Cause.hasInterrupts(cause) || !Cause.hasDies(cause)
        ? Effect.failCause(cause)
        : Effect.fail(reasonOf(Cause.squash(cause)))
    )

const defectName = (defect: unknown): string => {
  try {
    const name = defect instanceof Error ? defect.name : typeof defect
    return /^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(name) ? name : "an exception"
  } catch {
    return "an exception"
  }
}

export const unreadableAnswer = (defect: unknown): EditErrorReason =>
  new MalformedResponse({
    description: `the provider's answer could not be read (${defectName(defect)} while reading it)`
  })

export const unreadableRequest = (defect: unknown): EditErrorReason =>
  new InvalidRequest({
    problems: [{ path: "(request)", message: `the request could not be read (${defectName(defect)} while reading it)` }]
  })
