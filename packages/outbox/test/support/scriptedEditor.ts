/**
 * An editor whose provider is a map in memory and whose answers a test scripts:
 * a fault for the next calls, a delay, and a log of every call.
 */
import { Capabilities, EditError, EditedMessage, MessageEditor } from "@reword/core"
import { Duration, Effect, Result } from "effect"

export type Fault = "timeout" | "rateLimited" | "notFound" | "unavailable" | "malformed"

export interface Scripted {
  readonly editor: MessageEditor.Service
  /** Text now, by external message id. */
  readonly texts: Map<string, string>
  /** Every text each message received, in order. */
  readonly history: Map<string, Array<string>>
  /** Provider calls made (a batch is one call). */
  calls: number
  /** Faults for the next calls, taken one per call. */
  readonly faults: Array<Fault>
  /** Messages that fail as `NotFound` until removed. */
  readonly missing: Set<string>
  delayMs: number
}

export const make = (options: { readonly provider?: string; readonly perCall?: number } = {}): Scripted => {
  const provider = options.provider ?? "scripted"
  const perCall = options.perCall ?? 1
  const state: Scripted = {
    editor: undefined as never,
    texts: new Map(),
    history: new Map(),
    calls: 0,
    faults: [],
    missing: new Set(),
    delayMs: 0
  }
  const apply = (request: { ids: { externalMessageId?: string | undefined }; text?: string | undefined }) => {
    const id = request.ids.externalMessageId ?? ""
    if (state.missing.has(id)) return Result.fail(new EditError.NotFound({ description: `no message ${id}` }))
    state.texts.set(id, request.text ?? "")
    const history = state.history.get(id) ?? []
    history.push(request.text ?? "")
    state.history.set(id, history)
    return Result.succeed(
      new EditedMessage.EditedMessage({
        provider,
        ids: request.ids,
        text: request.text,
        files: [],
        updatedAt: new Date()
      })
    )
  }
  const fault = Effect.suspend((): Effect.Effect<void, EditError.EditErrorReason> => {
    state.calls++
    const next = state.faults.shift()
    const wait = state.delayMs > 0 ? Effect.sleep(Duration.millis(state.delayMs)) : Effect.void
    switch (next) {
      case "timeout":
        return Effect.andThen(wait, Effect.fail(new EditError.Timeout({ after: Duration.millis(100) })))
      case "rateLimited":
        return Effect.andThen(wait, Effect.fail(new EditError.RateLimited({ retryAfter: Duration.millis(50) })))
      case "unavailable":
        return Effect.andThen(wait, Effect.fail(new EditError.Unavailable({ status: 503 })))
      case "notFound":
        return Effect.andThen(wait, Effect.fail(new EditError.NotFound({})))
      case "malformed":
        return Effect.andThen(wait, Effect.fail(new EditError.MalformedResponse({ description: "not the shape" })))
      default:
        return wait
    }
  })
  ;(state as { editor: MessageEditor.Service }).editor = MessageEditor.make(
    {
      provider,
      capabilities: new Capabilities.Capabilities({
        requiredIds: ["externalMessageId"],
        files: false,
        authorDetails: false,
        chatDetails: false,
        language: false,
        maxMessagesPerCall: perCall
      }),
      update: (request) =>
        Effect.andThen(fault, () => {
          const result = apply(request)
          return Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)
        }),
      ...(perCall > 1
        ? { updateBatch: (requests) => Effect.andThen(fault, () => Effect.succeed(requests.map(apply))) }
        : {})
    },
    { retry: { maxAttempts: 1 }, concurrency: 4 }
  )
  return state
}
