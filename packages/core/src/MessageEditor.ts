/**
 * The port: "update a message that was already sent", the same on every
 * provider. Adapters build it with {@link make}, which owns what all providers
 * share: validation before anything is sent, the retry policy, spans, the
 * edit metrics (see `Metrics`) and the one-outcome-per-request contract of
 * `updateMany`.
 *
 * @since 0.1.0
 */
import { Array as Arr, Clock, Context, Effect, Result, Stream } from "effect"
import type * as Capabilities from "./Capabilities.ts"
import type { EditError, EditErrorReason, Problem } from "./EditError.ts"
import type { EditedMessage } from "./EditedMessage.ts"
import type * as EditRequest from "./EditRequest.ts"
import type * as HttpTransport from "./HttpTransport.ts"
import * as Deadline from "./internal/deadline.ts"
import { attempt, type Measure, measured, type Send } from "./internal/editor/attempts.ts"
import { callBatch, updateGroup } from "./internal/editor/groups.ts"
import { batchSizeNow, type EditorState, stateOf } from "./internal/editor/state.ts"
import * as OrderedWindow from "./internal/orderedWindow.ts"
import * as Packer from "./internal/packer.ts"
import { isTracing } from "./internal/tracing.ts"
import * as MetricsRecorder from "./MetricsRecorder.ts"
import type * as RetryPolicy from "./RetryPolicy.ts"
import type * as Secrets from "./Secrets.ts"

/**
 * The result of one request in `updateMany`: the edited message, or why not.
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome = Result.Result<EditedMessage, EditError>

/**
 * What an app accepts as a request: the plain object, or an `EditRequest`.
 *
 * @category models
 * @since 0.1.0
 */
export type RequestInput = EditRequest.EditRequestInput | EditRequest.EditRequest

/**
 * The editor's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** The provider behind this editor (`bitrix24`, `acquire`, ...). */
  readonly provider: string
  /** What this provider can do: check before calling. */
  readonly capabilities: Capabilities.Capabilities
  /**
   * Updates one message: the message as the provider confirmed it, or an `EditError`, within its retry
   * budget plus one transport timeout from its start, waits included (else `Timeout`, or `RateLimited`).
   */
  readonly update: (request: RequestInput) => Effect.Effect<EditedMessage, EditError>
  /**
   * Updates many messages: exactly one outcome per request, in input order.
   * It never fails as a whole; one request's failure never hides another's outcome.
   */
  readonly updateMany: (requests: Iterable<RequestInput>) => Effect.Effect<Array<Outcome>>
  /**
   * Updates a stream (or an iterable) of requests, and streams one outcome per
   * request, in input order, as they complete: nothing accumulates, so it
   * serves any number of messages in bounded memory.
   */
  readonly updateStream: <E = never, R = never>(
    requests: Iterable<RequestInput> | Stream.Stream<RequestInput, E, R>
  ) => Stream.Stream<Outcome, E, R>
}

/**
 * The provider-neutral editor service.
 *
 * @example
 * ```ts
 * import { MessageEditor } from "@reword/core"
 * import { Effect } from "effect"
 *
 * const fixTypo = Effect.gen(function* () {
 *   const editor = yield* MessageEditor.MessageEditor
 *   return yield* editor.update({
 *     ids: { externalMessageId: "m-1", externalChatId: "c-1", externalAuthorId: "u-1", providerMessageId: 42 },
 *     text: "Meet at 10, not 11."
 *   })
 * })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class MessageEditor extends Context.Service<MessageEditor, Service>()("@reword/core/MessageEditor") {}

/**
 * What an adapter provides to {@link make}: the provider-specific part only.
 *
 * @category models
 * @since 0.1.0
 */
export interface Adapter {
  readonly provider: string
  readonly capabilities: Capabilities.Capabilities
  /** Provider-specific checks beyond the required ids, run before anything is sent. */
  readonly validate?: ((request: EditRequest.EditRequest) => ReadonlyArray<Problem>) | undefined
  /** Sends one edit (one attempt: core retries). */
  readonly update: (request: EditRequest.EditRequest) => Effect.Effect<EditedMessage, EditErrorReason>
  /**
   * Sends the request's text as a new message in the request's chat (one
   * attempt, never repeated: a send whose outcome is unknown may have been
   * stored), answering the new message's ids. Only for a provider that can
   * send: it makes the `newMessage` fallback possible (`capabilities.fallbacks`
   * then holds `newMessage`).
   *
   * @since 0.4.0
   */
  readonly send?: ((request: EditRequest.EditRequest) => Effect.Effect<EditedMessage, EditErrorReason>) | undefined
  /**
   * Sends several edits in one provider call (one attempt: core retries the
   * call). It answers one result per request, in order, or fails as a whole.
   * When present (and `capabilities.maxMessagesPerCall` is above 1), `updateMany`
   * groups requests by `capabilities.maxMessagesPerCall`, and concurrent
   * `update` calls are packed into shared calls.
   */
  readonly updateBatch?:
    | ((
        requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
      ) => Effect.Effect<ReadonlyArray<Result.Result<EditedMessage, EditErrorReason>>, EditErrorReason>)
    | undefined
  /**
   * How many requests the next `updateBatch` call should carry now (from 1 to
   * `capabilities.maxMessagesPerCall`), when the provider's own answers say
   * (its server time per message, say). Read before every call; default
   * `capabilities.maxMessagesPerCall`.
   */
  readonly batchSize?: (() => number) | undefined
  /**
   * The context the editor was built in (its `Clock`, logger, tracer, metric
   * registry): shared calls (concurrent `update` calls packed into one
   * provider call) run in it, never in one of their callers'. Default:
   * Effect's defaults. A call that carries one caller's request alone runs in
   * that caller's context.
   */
  readonly context?: Context.Context<never> | undefined
  /**
   * Every secret the adapter knows (configured, stored, refreshed), kept up to
   * date: each reason is scrubbed of them once more before it leaves, in every
   * common encoding (the transport already scrubbed what it kept).
   */
  readonly secrets?: Secrets.Secrets | undefined
}

/**
 * What every editor can be tuned with, whatever the provider.
 *
 * @category options
 * @since 0.1.0
 */
export interface EditorOptions {
  /** The retry policy (see `RetryPolicy.defaults`). */
  readonly retry?: RetryPolicy.RetryOptions | undefined
  /** How many provider calls `updateMany` runs at once. Default 4. */
  readonly concurrency?: number | undefined
  /** How adapters talk HTTP: per-request timeout, body cap, a custom `fetch`, extra headers. */
  readonly transport?: HttpTransport.TransportOptions | undefined
  /**
   * What to do when the provider cannot edit a message (its edit window is
   * closed, its edits are used up, or it cannot edit at all): `{ mode: "fail" }`
   * (the default), or `{ mode: "newMessage", marker: " (edited)" }` where the
   * provider can send (see `Capabilities.fallbacks`). A request's own
   * `fallback` overrides it.
   *
   * @since 0.4.0
   */
  readonly fallback?: Capabilities.Fallback | undefined
}

/** The longest a request waits for others to share its provider call. */
const BATCH_WINDOW = "20 millis"

/**
 * Concurrent `update` calls share provider calls when the adapter takes many
 * messages per call: one attempt per call, each caller retrying its own
 * request (a retry joins whatever call leaves next). Without batches, one
 * attempt of the adapter, by the request's deadline.
 */
const senderOf = (s: EditorState): Send => {
  const updateBatch = s.adapter.updateBatch
  if (updateBatch !== undefined && s.capabilities.maxMessagesPerCall > 1) {
    return Packer.make({
      size: () => batchSizeNow(s),
      slots: s.concurrency,
      send: (requests) => callBatch(s, updateBatch, requests, false),
      ...(s.adapter.context === undefined ? {} : { context: s.adapter.context })
    }).submit
  }
  return (request, deadline) =>
    deadline === undefined
      ? attempt(s, request)
      : Effect.withFiber((fiber) =>
          Deadline.attemptWithin(attempt(s, request))(deadline, fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())
        )
}

/**
 * `update`: with a tracer installed, the call is the span
 * `MessageEditor.update` with its outcome; with none (Effect's default tracer
 * keeps nothing) no span is made at all.
 */
const updateOf = (s: EditorState): Service["update"] => {
  const recorder = MetricsRecorder.editRecorder(s.provider, "update")
  const send = senderOf(s)
  const span = {
    attributes: { "reword.provider": s.provider, "reword.operation": "update" },
    // A stack trace per call costs more than the rest of the span; the span's name says where it is.
    captureStackTrace: false
  }
  const plain: Measure = { recorder, operation: "update", annotate: false, send }
  const annotated: Measure = { ...plain, annotate: true }
  return (input) =>
    Effect.withFiber((fiber) =>
      isTracing(fiber)
        ? Effect.withSpan(measured(s, annotated, input), "MessageEditor.update", span)
        : measured(s, plain, input)
    )
}

/**
 * `updateStream`: one outcome per request, in input order; on an adapter
 * that takes many messages per call, requests grouped into calls (a full
 * group goes at once, a trickle waits at most {@link BATCH_WINDOW}).
 */
const updateStreamOf = (s: EditorState): Service["updateStream"] => {
  const recorder = MetricsRecorder.editRecorder(s.provider, "updateMany")
  const one: Measure = { recorder, operation: "updateMany", annotate: false, send: (request) => attempt(s, request) }
  /** One request, end to end: validated, sent with retries, and always an outcome. */
  const updateOne = (input: RequestInput): Effect.Effect<Outcome> => Effect.result(measured(s, one, input))
  const inOrder = { concurrency: s.concurrency, window: OrderedWindow.windowFor(s.concurrency) }
  return <E, R>(inputs: Iterable<RequestInput> | Stream.Stream<RequestInput, E, R>): Stream.Stream<Outcome, E, R> => {
    const source: Stream.Stream<RequestInput, E, R> = Stream.isStream(inputs) ? inputs : Stream.fromIterable(inputs)
    const updateBatch = s.adapter.updateBatch
    if (updateBatch !== undefined && s.capabilities.maxMessagesPerCall > 1) {
      return source.pipe(
        Stream.groupedWithin(s.capabilities.maxMessagesPerCall, BATCH_WINDOW),
        Stream.filter(Arr.isArrayNonEmpty),
        (groups) => OrderedWindow.mapEffect(groups, (group) => updateGroup(s, recorder, updateBatch, group), inOrder),
        Stream.flattenIterable
      )
    }
    // In input order, but a slow request never holds the other slots idle (see `internal/orderedWindow.ts`).
    return OrderedWindow.mapEffect(source, updateOne, inOrder)
  }
}

/**
 * Builds a `MessageEditor` from an adapter: what every provider shares
 * (validation, retries, deadlines, metrics, spans) around its calls. The
 * parts live in `internal/editor/` as functions over the editor's state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (adapter: Adapter, options: EditorOptions = {}): Service => {
  const s = stateOf(adapter, options)
  const updateStream = updateStreamOf(s)
  const updateMany = Effect.fn("MessageEditor.updateMany")(function* (inputs: Iterable<RequestInput>) {
    yield* Effect.annotateCurrentSpan({ "reword.provider": s.provider, "reword.operation": "updateMany" })
    const outcomes = yield* Stream.runCollect(updateStream<never, never>(inputs))
    yield* Effect.annotateCurrentSpan({
      "reword.requests": outcomes.length,
      "reword.failures": outcomes.filter(Result.isFailure).length
    })
    return outcomes
  })
  return MessageEditor.of({
    provider: s.provider,
    capabilities: s.capabilities,
    update: updateOf(s),
    updateMany,
    updateStream
  })
}
