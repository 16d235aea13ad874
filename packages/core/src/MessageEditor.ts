/**
 * The port: "update a message that was already sent", the same on every
 * provider. Adapters build it with {@link make}, which owns what all providers
 * share: validation before anything is sent, the retry policy, spans, the
 * edit metrics (see `Metrics`) and the one-outcome-per-request contract of
 * `updateMany`.
 *
 * @since 0.1.0
 */
import { Array as Arr, Cause, Clock, Context, Effect, Exit, Option, Result, Stream } from "effect"
import * as Capabilities from "./Capabilities.ts"
import { EditError, type EditErrorReason, InvalidRequest, type Operation, type Problem } from "./EditError.ts"
import type { EditedMessage } from "./EditedMessage.ts"
import * as EditRequest from "./EditRequest.ts"
import type * as HttpTransport from "./HttpTransport.ts"
import { itemsOf, oneAttempt, recordGroup } from "./internal/batchResults.ts"
import * as Deadline from "./internal/deadline.ts"
import { contained, unreadableAnswer, unreadableRequest } from "./internal/defects.ts"
import * as OrderedWindow from "./internal/orderedWindow.ts"
import * as Packer from "./internal/packer.ts"
import { isTracing } from "./internal/tracing.ts"
import * as Metrics from "./Metrics.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
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
}

const DEFAULT_CONCURRENCY = 4

/** A group cut into the fewest parts of at most `size`, as even as can be (50 at 24: 17, 17, 16). */
const splitEvenly = <A>(
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
/** Sends one attempt of a request, by its deadline when it has one. */
type Send = (
  request: EditRequest.EditRequest,
  deadline?: Packer.Deadline
) => Effect.Effect<EditedMessage, EditErrorReason>

/** The longest a request waits for others to share its provider call. */
const BATCH_WINDOW = "20 millis"

/**
 * Builds a `MessageEditor` from an adapter.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (adapter: Adapter, options: EditorOptions = {}): Service => {
  const { provider, capabilities } = adapter
  const policy = RetryPolicy.make(options.retry)
  const concurrency = Number.isFinite(options.concurrency)
    ? Math.max(1, Math.floor(options.concurrency as number))
    : DEFAULT_CONCURRENCY
  const retry = RetryPolicy.retry(policy)
  const retrySchedule = RetryPolicy.schedule(policy)
  const budget = Deadline.budgetOf(policy, options.transport)
  const logFailure = (reason: EditErrorReason) => Effect.logDebug(`${provider}: attempt failed: ${reason.message}`)
  /**
   * Retries under the policy, at no cost to a first attempt that succeeds:
   * the schedule starts at the first failure (as `Effect.retry`'s does), by
   * replaying that failure to it, then runs the next attempts; none that
   * would start past `lastRetryAt` (epoch millis) when given.
   */
  const retrying = <A>(
    attempt: Effect.Effect<A, EditErrorReason>,
    lastRetryAt?: number
  ): Effect.Effect<A, EditErrorReason> => {
    const logged = Effect.tapError(attempt, logFailure)
    return policy.maxAttempts <= 1
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
              ? retry(replay)
              : Effect.retry(replay, Deadline.retriesUntil(retrySchedule, lastRetryAt))
          return Effect.andThen(logFailure(reason), retried)
        })
  }

  const secrets = adapter.secrets
  const fail = (operation: Operation) => (reason: EditErrorReason) =>
    new EditError({ provider, operation, reason: secrets === undefined ? reason : secrets.scrubReason(reason) })

  /** Validation, synchronous: the request, or why it is never sent (an exception reading it included). */
  const prepareNow = (input: RequestInput) => prepareRequest(adapter, input)
  const prepare = (input: RequestInput): Effect.Effect<EditRequest.EditRequest, EditErrorReason> =>
    Effect.suspend(() => Effect.fromResult(prepareNow(input)))

  /** One attempt of the adapter, a defect (an exception) included as that request's typed reason. */
  const attempt = (request: EditRequest.EditRequest) =>
    contained(unreadableAnswer)(Effect.suspend(() => adapter.update(request)))

  /**
   * Concurrent `update` calls share provider calls when the adapter takes many
   * messages per call: one attempt per call, each caller retrying its own
   * request (a retry joins whatever call leaves next).
   */
  const packer =
    adapter.updateBatch !== undefined && capabilities.maxMessagesPerCall > 1
      ? Packer.make({
          size: () => batchSizeNow(),
          slots: concurrency,
          send: (requests) => callBatch(adapter.updateBatch as NonNullable<Adapter["updateBatch"]>, requests, false),
          ...(adapter.context === undefined ? {} : { context: adapter.context })
        })
      : undefined
  /** One attempt of an `update()`, by its deadline (whatever it waits for: see `internal/deadline.ts`). */
  const sendOne: Send =
    packer === undefined
      ? (request, deadline) =>
          deadline === undefined
            ? attempt(request)
            : Effect.withFiber((fiber) =>
                Deadline.attemptWithin(attempt(request))(deadline, fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())
              )
      : packer.submit

  /**
   * One edit, measured: its outcome, duration (by the current `Clock`) and
   * attempts go to the metrics (see `Metrics`), and its outcome to the
   * current span when `annotate`. An `update()` has a deadline from its
   * start (`internal/deadline.ts`): no retry past its retry budget, no wait
   * past the budget plus one transport timeout.
   */
  const measured = (
    recorder: Metrics.EditRecorder,
    operation: Operation,
    annotate: boolean,
    send: Send,
    input: RequestInput
  ): Effect.Effect<EditedMessage, EditError> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const started = clock.currentTimeMillisUnsafe()
      const prepared = prepareNow(input)
      if (Result.isFailure(prepared)) {
        // Refused before anything was sent: no provider call.
        const error = fail(operation)(prepared.failure)
        const outcome = error.reason._tag
        recorder.record(fiber.context, outcome, (clock.currentTimeMillisUnsafe() - started) / 1000, 0)
        const failed = Effect.fail(error)
        return annotate ? Effect.andThen(Effect.annotateCurrentSpan("reword.outcome", outcome), failed) : failed
      }
      const request = prepared.success
      const deadline = operation === "update" ? Deadline.deadlineOf(budget, started) : undefined
      let attempts = 0
      const sending = Effect.suspend(() => {
        attempts += 1
        return send(request, deadline)
      })
      return retrying(sending, deadline === undefined ? undefined : started + budget.retryMillis).pipe(
        Effect.mapError(fail(operation)),
        Effect.onExit((exit) => {
          const outcome = outcomeOf(exit)
          recorder.record(fiber.context, outcome, (clock.currentTimeMillisUnsafe() - started) / 1000, attempts)
          return annotate ? Effect.annotateCurrentSpan("reword.outcome", outcome) : Effect.void
        })
      )
    })

  const updateRecorder = Metrics.editRecorder(provider, "update")
  const updateSpan = {
    attributes: { "reword.provider": provider, "reword.operation": "update" },
    // A stack trace per call costs more than the rest of the span; the span's name says where it is.
    captureStackTrace: false
  }
  /**
   * With a tracer installed, the call is the span `MessageEditor.update` with
   * its outcome; with none (Effect's default tracer keeps nothing) no span is
   * made at all.
   */
  const update = (input: RequestInput): Effect.Effect<EditedMessage, EditError> =>
    Effect.withFiber((fiber) =>
      isTracing(fiber)
        ? Effect.withSpan(measured(updateRecorder, "update", true, sendOne, input), "MessageEditor.update", updateSpan)
        : measured(updateRecorder, "update", false, sendOne, input)
    )

  const toError = fail("updateMany")
  const manyRecorder = Metrics.editRecorder(provider, "updateMany")

  /** One request, end to end: validated, sent with retries, and always an outcome. */
  const updateOne = (input: RequestInput): Effect.Effect<Outcome> =>
    Effect.result(measured(manyRecorder, "updateMany", false, attempt, input))

  const batchSizeNow = (): number => {
    const size = Math.floor(adapter.batchSize?.() ?? capabilities.maxMessagesPerCall)
    return Number.isFinite(size) ? Math.min(Math.max(1, size), capabilities.maxMessagesPerCall) : 1
  }

  /**
   * One provider call for prepared requests (retried as a whole, or one
   * attempt): one result per request, in order, never a failure. A call that
   * fails, or answers a wrong number of results, is every request's reason.
   */
  const callBatch = (
    updateBatch: NonNullable<Adapter["updateBatch"]>,
    requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>,
    retried: boolean
  ): Effect.Effect<Array<Packer.ItemResult>> => {
    const call = Effect.suspend(() => updateBatch(requests))
    if (retried) {
      return contained(unreadableAnswer)(call).pipe(
        retrying,
        Effect.result,
        Effect.map((answered) => itemsOf(unreadableAnswer, requests, answered))
      )
    }
    return oneAttempt(unreadableAnswer, call, requests)
  }

  /** A group of requests in one provider call: the invalid ones never leave, the others share the call's fate. */
  const updateGroup = Effect.fnUntraced(function* (
    updateBatch: NonNullable<Adapter["updateBatch"]>,
    inputs: Arr.NonEmptyReadonlyArray<RequestInput>
  ) {
    const outcomes: Array<Outcome> = new Array(inputs.length)
    // Metrics: each request's provider calls (0 for the ones refused before sending), recorded when the group ends.
    const attempts: Array<number> = new Array(inputs.length).fill(0)
    const started = yield* Clock.currentTimeMillis
    const ready: Array<{ readonly index: number; readonly request: EditRequest.EditRequest }> = []
    const prepared = yield* Effect.forEach(inputs, (input) => Effect.result(prepare(input)))
    prepared.forEach((result, index) => {
      if (Result.isSuccess(result)) ready.push({ index, request: result.success })
      else outcomes[index] = Result.fail(toError(result.failure))
    })
    if (!Arr.isArrayNonEmpty(ready)) {
      yield* recordGroup(manyRecorder, started, outcomes, attempts)
      return outcomes
    }
    const requests = Arr.map(ready, (entry) => entry.request)
    let offset = 0
    for (const part of splitEvenly(requests, batchSizeNow())) {
      let calls = 0
      const counted: typeof updateBatch = (batch) => {
        calls += 1
        return updateBatch(batch)
      }
      const results = yield* callBatch(counted, part, true)
      results.forEach((result, position) => {
        const index = (ready[offset + position] as { readonly index: number }).index
        attempts[index] = calls
        outcomes[index] = Result.isFailure(result)
          ? Result.fail(toError(result.failure))
          : Result.succeed(result.success)
      })
      offset += part.length
    }
    yield* recordGroup(manyRecorder, started, outcomes, attempts)
    return outcomes
  })

  const inOrder = { concurrency, window: OrderedWindow.windowFor(concurrency) }
  const updateStream = <E, R>(
    inputs: Iterable<RequestInput> | Stream.Stream<RequestInput, E, R>
  ): Stream.Stream<Outcome, E, R> => {
    const source: Stream.Stream<RequestInput, E, R> = Stream.isStream(inputs) ? inputs : Stream.fromIterable(inputs)
    const updateBatch = adapter.updateBatch
    if (updateBatch !== undefined && capabilities.maxMessagesPerCall > 1) {
      return source.pipe(
        // A full group goes at once; a trickle (a queue, a file read line by line) waits at most a moment.
        Stream.groupedWithin(capabilities.maxMessagesPerCall, BATCH_WINDOW),
        Stream.filter(Arr.isArrayNonEmpty),
        (groups) => OrderedWindow.mapEffect(groups, (group) => updateGroup(updateBatch, group), inOrder),
        Stream.flattenIterable
      )
    }
    // In input order, but a slow request never holds the other slots idle (see `internal/orderedWindow.ts`).
    return OrderedWindow.mapEffect(source, updateOne, inOrder)
  }

  const updateMany = Effect.fn("MessageEditor.updateMany")(function* (inputs: Iterable<RequestInput>) {
    yield* Effect.annotateCurrentSpan({ "reword.provider": provider, "reword.operation": "updateMany" })
    const outcomes = yield* Stream.runCollect(updateStream<never, never>(inputs))
    yield* Effect.annotateCurrentSpan({
      "reword.requests": outcomes.length,
      "reword.failures": outcomes.filter(Result.isFailure).length
    })
    return outcomes
  })

  return MessageEditor.of({ provider, capabilities, update, updateMany, updateStream })
}

/** Validation, synchronous: the request, or why it is never sent (an exception reading it included). */
const prepareRequest = (
  adapter: Adapter,
  input: RequestInput
): Result.Result<EditRequest.EditRequest, EditErrorReason> => {
  try {
    const decoded = EditRequest.decodeResult(input)
    if (Result.isFailure(decoded)) return decoded
    const request = decoded.success
    const checked = Capabilities.check(adapter.capabilities, request)
    const extra = adapter.validate?.(request)
    const problems = extra === undefined || extra.length === 0 ? checked.problems : [...checked.problems, ...extra]
    if (problems.length > 0) return Result.fail(new InvalidRequest({ problems: [...problems] }))
    if (checked.unsupported !== undefined) return Result.fail(checked.unsupported)
    return Result.succeed(request)
  } catch (defect) {
    return Result.fail(unreadableRequest(defect))
  }
}

/** An edit's outcome as the metrics and the span name it: `success`, its reason's tag, or `interrupted`. */
const outcomeOf = (exit: Exit.Exit<unknown, EditError>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const error = Cause.findErrorOption(exit.cause)
  return Option.isSome(error) ? error.value.reason._tag : "interrupted"
}
