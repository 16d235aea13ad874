/**
 * The editor for apps not written with Effect: the same port, with Promises.
 * Calls reject with the same `EditError` (an `Error` with its `reason`);
 * `updateMany` settles like `Promise.allSettled`.
 *
 * @since 0.1.0
 */
import { Cause, type Config, Effect, Exit, Layer, ManagedRuntime, Predicate, Result, Stream } from "effect"
import type { Capabilities } from "./Capabilities.ts"
import type { EditError } from "./EditError.ts"
import type { EditedMessage } from "./EditedMessage.ts"
import { type EditorOptions, MessageEditor, type Outcome, type RequestInput } from "./MessageEditor.ts"
import { type AnyDescriptor, fromEnv, fromObject, makeEditor, type SettingsObject, type Source } from "./Provider.ts"

/**
 * The result of one request of `updateMany`, shaped like `Promise.allSettled`'s.
 *
 * @since 0.1.0
 */
export type Settled =
  | { readonly status: "fulfilled"; readonly value: EditedMessage }
  | { readonly status: "rejected"; readonly reason: EditError }

/**
 * Per-call options.
 *
 * @since 0.1.0
 */
export interface CallOptions {
  /** Aborting it abandons the call (and the HTTP request in flight); the promise rejects with `signal.reason`, as `fetch` does. */
  readonly signal?: AbortSignal | undefined
}

/**
 * A message editor with a Promise API.
 *
 * @since 0.1.0
 */
export interface Editor {
  /** The provider behind this editor. */
  readonly provider: string
  /** What this provider can do. */
  readonly capabilities: Capabilities
  /** Updates one message; rejects with an `EditError`. */
  readonly update: (request: RequestInput, options?: CallOptions) => Promise<EditedMessage>
  /** Updates many messages: one settled result per request, in input order. Never rejects for one request's failure. */
  readonly updateMany: (requests: Iterable<RequestInput>, options?: CallOptions) => Promise<Array<Settled>>
  /**
   * Updates requests from an iterable or an async iterable (a file read line
   * by line, a queue) and yields one settled result per request, in input
   * order, as they complete: memory stays bounded whatever the count.
   */
  readonly updateEach: (
    requests: Iterable<RequestInput> | AsyncIterable<RequestInput>,
    options?: CallOptions
  ) => AsyncIterable<Settled>
  /** Releases what the editor holds (connections, timers). Calls after it reject. */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/**
 * The settings could not be read: unknown provider, missing or invalid setting.
 * `createEditor` rejects with it, before anything is sent.
 *
 * @since 0.1.0
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigError"
  /** The Effect `ConfigError` behind it. */
  readonly configError: Config.ConfigError
  constructor(configError: Config.ConfigError) {
    super(configError.cause.message)
    this.configError = configError
  }
}

/**
 * Options of {@link createEditor}.
 *
 * @since 0.1.0
 */
export interface CreateEditorOptions extends EditorOptions {
  /**
   * The providers this app ships with (their descriptors); `REWORD_PROVIDER`
   * (or `settings.provider`) picks one. A single descriptor needs no name.
   */
  readonly providers: ReadonlyArray<AnyDescriptor> | AnyDescriptor
  /** A plain settings object; when omitted, settings come from `env`. */
  readonly settings?: SettingsObject | undefined
  /** Environment variables to read (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * Options only one provider understands, by provider name, such as where
   * Bitrix24 keeps its rotating tokens: `{ bitrix24: { tokenStore } }`.
   */
  readonly providerOptions?: Readonly<Record<string, object>> | undefined
}

const settle = (outcome: Outcome): Settled =>
  Result.isSuccess(outcome)
    ? { status: "fulfilled", value: outcome.success }
    : { status: "rejected", reason: outcome.failure }

const sourceOf = (options: CreateEditorOptions): Source =>
  options.settings === undefined ? fromEnv(options.env ?? process.env) : fromObject(options.settings)

/** An abort rejects as `fetch` does: with the signal's reason (an `AbortError` unless the app gave another). */
const abortReason = (signal: AbortSignal | undefined): unknown =>
  signal?.reason ?? new DOMException("The operation was aborted.", "AbortError")

const rejection = (cause: Cause.Cause<unknown>, signal: AbortSignal | undefined): unknown => {
  if (Cause.hasInterruptsOnly(cause)) return abortReason(signal)
  const error = Cause.squash(cause)
  return error instanceof Error ? error : new Error(String(error))
}

const disposedError = () => new Error("This editor was disposed: create a new one with createEditor")

interface Running {
  readonly runtime: ManagedRuntime.ManagedRuntime<MessageEditor, Config.ConfigError>
  readonly isDisposed: () => boolean
}

const run = async <A>(running: Running, effect: Effect.Effect<A, EditError>, options?: CallOptions): Promise<A> => {
  if (running.isDisposed()) throw disposedError()
  const signal = options?.signal
  if (signal?.aborted === true) throw abortReason(signal)
  const exit = await running.runtime.runPromiseExit(effect, signal === undefined ? undefined : { signal })
  if (Exit.isSuccess(exit)) return exit.value
  throw rejection(exit.cause, signal)
}

/** `updateEach`: the stream of outcomes as an async iterable that honours `dispose()` and the signal between results. */
async function* each(
  running: Running,
  outcomes: Stream.Stream<Settled, unknown>,
  options?: CallOptions
): AsyncGenerator<Settled> {
  const iterator = Stream.toAsyncIterable(outcomes)[Symbol.asyncIterator]()
  try {
    for (;;) {
      if (running.isDisposed()) throw disposedError()
      if (options?.signal?.aborted === true) throw abortReason(options.signal)
      const next = await iterator.next()
      if (next.done === true) return
      yield next.value
    }
  } finally {
    await iterator.return?.()
  }
}

/**
 * Creates an editor from configuration. Rejects with a {@link ConfigurationError}
 * when the settings are wrong, so a misconfigured app fails at start-up.
 *
 * @example
 * ```ts
 * import { createEditor } from "@reword/core/promise"
 * import { Acquire } from "@reword/acquire"
 *
 * const editor = await createEditor({
 *   providers: Acquire.provider,
 *   settings: { acquire: { accountId: "acme", apiKey: process.env.ACQUIRE_API_KEY } }
 * })
 * try {
 *   await editor.update({ ids: { providerMessageId: 1842 }, text: "Corrected text" })
 * } finally {
 *   await editor.dispose()
 * }
 * ```
 *
 * @since 0.1.0
 */
export const createEditor = async (options: CreateEditorOptions): Promise<Editor> => {
  const providers = Array.isArray(options.providers) ? options.providers : [options.providers as AnyDescriptor]
  const source = sourceOf(options)
  const single = providers.length === 1 ? providers[0] : undefined
  const build =
    single === undefined
      ? makeEditor(providers, { ...options, source })
      : makeEditor(providers, {
          ...options,
          source: withDefaultProvider(source, single.name)
        })
  const runtime = ManagedRuntime.make(Layer.effect(MessageEditor, build))
  const service = await runtime.runPromise(Effect.service(MessageEditor)).catch(async (error: unknown) => {
    await runtime.dispose()
    throw Predicate.isTagged(error, "ConfigError") ? new ConfigurationError(error as Config.ConfigError) : error
  })
  let disposed = false
  const running: Running = { runtime, isDisposed: () => disposed }
  const dispose = () => {
    disposed = true
    return runtime.dispose()
  }
  return {
    provider: service.provider,
    capabilities: service.capabilities,
    update: (request, callOptions) => run(running, service.update(request), callOptions),
    updateMany: (requests, callOptions) =>
      run(
        running,
        Effect.map(service.updateMany(requests), (outcomes) => outcomes.map(settle)),
        callOptions
      ),
    updateEach: (requests, callOptions) =>
      each(
        running,
        service
          .updateStream(
            Symbol.asyncIterator in requests ? Stream.fromAsyncIterable(requests, (error) => error) : requests
          )
          .pipe(Stream.map(settle)),
        callOptions
      ),
    dispose,
    [Symbol.asyncDispose]: dispose
  }
}

/** With one provider listed, `REWORD_PROVIDER` is not needed: it defaults to that one. */
const withDefaultProvider = (source: Source, name: string): Source => {
  if (source._tag === "Object") return fromObject({ provider: name, ...source.settings })
  return fromEnv({ REWORD_PROVIDER: name, ...(source.env ?? process.env) })
}
