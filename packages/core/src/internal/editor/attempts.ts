/**
 * One request's way through an editor: validated before anything is sent,
 * sent (one attempt of the adapter, a defect contained as that request's
 * typed reason), retried under the policy and by its deadline, and measured
 * (metrics, and the span's outcome).
 */
import { Cause, Clock, Effect, Exit, Option, Result } from "effect"
import { type EditError, type EditErrorReason, InvalidRequest, type Operation, type Problem } from "../../EditError.ts"
import { type EditedMessage, EditedMessage as EditedMessageClass } from "../../EditedMessage.ts"
import * as EditRequest from "../../EditRequest.ts"
import type { Adapter, RequestInput } from "../../MessageEditor.ts"
import type * as MetricsRecorder from "../../MetricsRecorder.ts"
import * as CapabilityCheck from "../capabilityCheck.ts"
import * as Deadline from "../deadline.ts"
import { contained, unreadableAnswer, unreadableRequest } from "../defects.ts"
import type { Fallback } from "../fallback.ts"
import type * as Packer from "../packer.ts"
import { type EditorState, failWith } from "./state.ts"

/** Sends one attempt of a request, by its deadline when it has one. */
export type Send = (
  request: EditRequest.EditRequest,
  deadline?: Packer.Deadline
) => Effect.Effect<EditedMessage, EditErrorReason>

/**
 * A request ready to go: to edit, or (`superseding`: the refusal it falls
 * back from) to send as a new message under the `newMessage` fallback.
 */
export interface Prepared {
  readonly request: EditRequest.EditRequest
  readonly superseding?: EditErrorReason | undefined
}

/** Whether a refusal is one the `newMessage` fallback answers: the provider could never edit this message. */
const fallsBack = (refusal: EditErrorReason): boolean =>
  refusal._tag === "EditWindowClosed" ||
  refusal._tag === "EditLimitReached" ||
  (refusal._tag === "Unsupported" && refusal.capability === "edit")

/** The `newMessage` fallback asked of a provider that cannot send: a problem of the request, never ignored. */
const fallbackProblem = (adapter: Adapter, fallback: Fallback): Problem | undefined =>
  fallback.mode === "newMessage" &&
  (adapter.send === undefined || !adapter.capabilities.fallbacks.includes("newMessage"))
    ? {
        path: "fallback",
        message: `newMessage needs a provider that can send a message; ${adapter.provider} cannot (its fallbacks: ${adapter.capabilities.fallbacks.join(", ")})`
      }
    : undefined

/**
 * Validation, synchronous, at `now` (epoch millis, for edit windows): the
 * request, or why it is never sent (an exception reading it included). A
 * request the provider cannot edit goes as a new message when its fallback
 * (or the editor's) is `newMessage`.
 */
export const prepareRequest = (
  adapter: Adapter,
  input: RequestInput,
  now: number,
  editorFallback: Fallback = { mode: "fail" }
): Result.Result<Prepared, EditErrorReason> => {
  try {
    const decoded = EditRequest.decodeResult(input)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    const request = decoded.success
    const fallback = request.fallback ?? editorFallback
    const checked = CapabilityCheck.check(adapter.capabilities, request, now)
    const extra = adapter.validate?.(request)
    const misfit = fallbackProblem(adapter, fallback)
    const problems = [...checked.problems, ...(extra ?? []), ...(misfit === undefined ? [] : [misfit])]
    if (problems.length > 0) return Result.fail(new InvalidRequest({ problems }))
    const refusal = checked.refusal
    if (refusal === undefined) return Result.succeed({ request })
    return fallback.mode === "newMessage" && fallsBack(refusal) && request.text !== undefined
      ? Result.succeed({ request, superseding: refusal })
      : Result.fail(refusal)
  } catch (defect) {
    return Result.fail(unreadableRequest(defect))
  }
}

/** {@link prepareRequest} as an effect, at the `Clock`'s time. */
export const prepare = (s: EditorState, input: RequestInput): Effect.Effect<Prepared, EditErrorReason> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fromResult(prepareRequest(s.adapter, input, now, s.fallback)))

/**
 * The `newMessage` fallback: the request's text, the marker after it, sent
 * once as a new message (never repeated: a send whose outcome is unknown may
 * have been stored), answered as the new message superseding the old one.
 */
export const supersede = (
  s: EditorState,
  prepared: Prepared & { readonly superseding: EditErrorReason }
): Effect.Effect<EditedMessage, EditError> => {
  const { request, superseding } = prepared
  const send = s.adapter.send
  const fallback = request.fallback ?? s.fallback
  const marker = fallback.mode === "newMessage" ? fallback.marker : ""
  if (send === undefined) return Effect.fail(failWith(s, "send")(superseding))
  const marked = new EditRequest.EditRequest({ ...request, text: `${request.text ?? ""}${marker}` })
  return contained(unreadableAnswer)(Effect.suspend(() => send(marked))).pipe(
    Effect.map(
      (sent) => new EditedMessageClass({ ...sent, supersedes: request.ids, supersededBecause: superseding.message })
    ),
    Effect.mapError(failWith(s, "send"))
  )
}

/** One attempt of the adapter, a defect (an exception) included as that request's typed reason. */
export const attempt = (s: EditorState, request: EditRequest.EditRequest) =>
  contained(unreadableAnswer)(Effect.suspend(() => s.adapter.update(request)))

const logFailure = (s: EditorState, reason: EditErrorReason) =>
  Effect.logDebug(`${s.provider}: attempt failed: ${reason.message}`)

/**
 * Retries under the policy, at no cost to a first attempt that succeeds:
 * the schedule starts at the first failure (as `Effect.retry`'s does), by
 * replaying that failure to it, then runs the next attempts; none that
 * would start past `lastRetryAt` (epoch millis) when given.
 */
export const retrying = <A>(
  s: EditorState,
  attempt: Effect.Effect<A, EditErrorReason>,
  lastRetryAt?: number
): Effect.Effect<A, EditErrorReason> => {
  const logged = Effect.tapError(attempt, (reason) => logFailure(s, reason))
  return s.policy.maxAttempts <= 1
    ? logged
    : Effect.catch(attempt, (reason) => {
        let first = true
        const replay = Effect.suspend(() => {
          if (!first) return logged
          first = false
          return Effect.fail(reason)
        })
        const retried =
          lastRetryAt === undefined
            ? s.retry(replay)
            : Effect.retry(replay, Deadline.retriesUntil(s.retrySchedule, lastRetryAt))
        return Effect.andThen(logFailure(s, reason), retried)
      })
}

/** An edit's outcome as the metrics and the span name it: `success`, its reason's tag, or `interrupted`. */
const outcomeOf = (exit: Exit.Exit<unknown, EditError>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const error = Cause.findErrorOption(exit.cause)
  return Option.isSome(error) ? error.value.reason._tag : "interrupted"
}

/** What {@link measured} records to and how it sends. */
export interface Measure {
  readonly recorder: MetricsRecorder.EditRecorder
  readonly operation: Operation
  /** Whether the outcome goes to the current span. */
  readonly annotate: boolean
  readonly send: Send
}

/**
 * One edit, measured: its outcome, duration (by the current `Clock`) and
 * attempts go to the metrics (see `Metrics`), and its outcome to the
 * current span when `annotate`. An `update()` has a deadline from its
 * start (`../deadline.ts`): no retry past its retry budget, no wait
 * past the budget plus one transport timeout.
 */
export const measured = (s: EditorState, m: Measure, input: RequestInput): Effect.Effect<EditedMessage, EditError> =>
  Effect.withFiber((fiber) => {
    const clock = fiber.getRef(Clock.Clock)
    const started = clock.currentTimeMillisUnsafe()
    const fail = failWith(s, m.operation)
    const prepared = prepareRequest(s.adapter, input, started, s.fallback)
    if (Result.isFailure(prepared)) {
      // Refused before anything was sent: no provider call.
      const error = fail(prepared.failure)
      const outcome = error.reason._tag
      m.recorder.record(fiber.context, outcome, (clock.currentTimeMillisUnsafe() - started) / 1000, 0)
      const failed = Effect.fail(error)
      return m.annotate ? Effect.andThen(Effect.annotateCurrentSpan("reword.outcome", outcome), failed) : failed
    }
    const superseding = prepared.success.superseding
    if (superseding !== undefined) {
      return supersede(s, { request: prepared.success.request, superseding }).pipe(
        Effect.onExit((exit) => {
          const outcome = outcomeOf(exit)
          m.recorder.record(fiber.context, outcome, (clock.currentTimeMillisUnsafe() - started) / 1000, 1)
          return m.annotate ? Effect.annotateCurrentSpan("reword.outcome", outcome) : Effect.void
        })
      )
    }
    const request = prepared.success.request
    const deadline = m.operation === "update" ? Deadline.deadlineOf(s.budget, started) : undefined
    let attempts = 0
    const sending = Effect.suspend(() => {
      attempts += 1
      return m.send(request, deadline)
    })
    return retrying(s, sending, deadline === undefined ? undefined : started + s.budget.retryMillis).pipe(
      Effect.mapError(fail),
      Effect.onExit((exit) => {
        const outcome = outcomeOf(exit)
        m.recorder.record(fiber.context, outcome, (clock.currentTimeMillisUnsafe() - started) / 1000, attempts)
        return m.annotate ? Effect.annotateCurrentSpan("reword.outcome", outcome) : Effect.void
      })
    )
  })
