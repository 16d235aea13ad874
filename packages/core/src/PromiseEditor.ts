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
import { type CallSite, callSite, withCallSite } from "./internal/callSite.ts"
import { closeBounded, nextOrStop } from "./internal/iteration.ts"
import * as OptionKeys from "./internal/optionKeys.ts"
import { configError } from "./internal/settings.ts"
import { problem as telemetryProblem } from "./internal/telemetryOptions.ts"
import { type EditorOptions, MessageEditor, type Outcome, type RequestInput, type Service } from "./MessageEditor.ts"
import {
  type AnyDescriptor,
  fromEnv,
  fromObject,
  type KeySet,
  makeEditor,
  type ProviderOptions,
  type SelectionOptions,
  type SettingsObject,
  type Source
} from "./Provider.ts"
import * as Telemetry from "./Telemetry.ts"

/**
 * The result of one request of `updateMany`, shaped like `Promise.allSettled`'s.
 *
 * @category models
 * @since 0.1.0
 */
export type Settled =
  | { readonly status: "fulfilled"; readonly value: EditedMessage }
  | { readonly status: "rejected"; readonly reason: EditError }

/**
 * Per-call options.
 *
 * @category options
 * @since 0.1.0
 */
export interface CallOptions {
  /** Aborting it abandons the call (and the HTTP request in flight); the promise rejects with `signal.reason`, as `fetch` does. */
  readonly signal?: AbortSignal | undefined
}

/**
 * A message editor with a Promise API.
 *
 * @category models
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
 * The configuration is wrong: unknown provider, missing or invalid setting, an
 * option in the wrong place or misspelled. `createEditor` rejects with it,
 * before anything is sent; its message names the setting or option and the
 * known ones. (The Effect API fails with Effect's `Config.ConfigError` for
 * the same problems: this class wraps it, as `configError`.)
 *
 * @category services
 * @since 0.1.0
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError"
  /** What to match on: the configuration is wrong (the message says where). */
  declare readonly reason: { readonly _tag: "InvalidConfiguration"; readonly message: string }
  /** The Effect `ConfigError` behind it. */
  declare readonly configError: Config.ConfigError
  constructor(configError: Config.ConfigError) {
    super(configError.cause.message)
    // Not enumerable: printing the error shows its message and stack, not Effect's internals twice.
    Object.defineProperty(this, "configError", { value: configError, enumerable: false })
    Object.defineProperty(this, "reason", {
      value: { _tag: "InvalidConfiguration", message: this.message },
      enumerable: false
    })
  }

  /** What `JSON.stringify(error)` writes: `_tag`, name, message and reason (no stack). */
  toJSON(): ConfigurationErrorJson {
    return { _tag: "ConfigurationError", name: this.name, message: this.message, reason: this.reason }
  }
}

/**
 * What {@link ConfigurationError}'s `toJSON` gives.
 *
 * @category models
 * @since 0.2.0
 */
export interface ConfigurationErrorJson {
  readonly _tag: "ConfigurationError"
  readonly name: "ConfigurationError"
  readonly message: string
  readonly reason: { readonly _tag: "InvalidConfiguration"; readonly message: string }
}

/**
 * Options of {@link createEditor}. Every option has one place: `retry`,
 * `concurrency` and `transport` (with `timeout`, `maxResponseBytes`, `fetch`,
 * `headers`) for every provider, `providerOptions` for one provider's own.
 *
 * @category options
 * @since 0.1.0
 */
export interface CreateEditorOptions<D extends AnyDescriptor = AnyDescriptor> extends EditorOptions {
  /**
   * The providers this app ships with (their descriptors); `REWORD_PROVIDER`
   * (or `settings.provider`) picks one. A single descriptor needs no name.
   */
  readonly providers: ReadonlyArray<D> | D
  /** A plain settings object; when omitted, settings come from `env`. */
  readonly settings?: NoInfer<SettingsObject<D>> | undefined
  /** Environment variables to read (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * Options only one provider understands, by provider name, such as where
   * Bitrix24 keeps its rotating tokens: `{ bitrix24: { tokenStore } }`. Typed
   * from `providers`: a misspelled name or key does not compile.
   */
  readonly providerOptions?: NoInfer<ProviderOptions<D>> | undefined
  /**
   * Where the editor's spans and metrics go: the app's OpenTelemetry
   * `tracerProvider` and `meterProvider` (`trace.getTracerProvider()`,
   * `metrics.getMeterProvider()`); needs `@opentelemetry/api` installed. See
   * `Telemetry` and the `Metrics` the editor records.
   */
  readonly telemetry?: Telemetry.TelemetryOptions | undefined
}

const createKeys = {
  ...OptionKeys.editorKeys,
  providerOptions: true,
  providers: true,
  settings: true,
  env: true,
  telemetry: true
} as const satisfies KeySet<keyof CreateEditorOptions>

const settle = (outcome: Outcome): Settled =>
  Result.isSuccess(outcome)
    ? { status: "fulfilled", value: outcome.success }
    : { status: "rejected", reason: outcome.failure }

const isDescriptor = (value: unknown): value is AnyDescriptor =>
  Predicate.isObject(value) &&
  typeof (value as Partial<AnyDescriptor>).name === "string" &&
  typeof (value as Partial<AnyDescriptor>).make === "function"

/** The problem with createEditor's own options (providers, settings, env), or undefined. */
const inputProblem = (options: CreateEditorOptions, providers: ReadonlyArray<unknown>): string | undefined => {
  if (providers.length === 0 || !providers.every(isDescriptor)) {
    return "providers must be an adapter's descriptor (such as Acquire.provider) or a non-empty list of them"
  }
  if (options.settings !== undefined && !Predicate.isObject(options.settings)) return "settings must be an object"
  if (options.env !== undefined && !Predicate.isObject(options.env)) return "env must be an object of variables"
  return telemetryProblem(options.telemetry)
}

/** An abort rejects as `fetch` does: with the signal's reason (an `AbortError` unless the app gave another). */
const abortReason = (signal: AbortSignal | undefined): unknown =>
  signal?.reason ?? new DOMException("The operation was aborted.", "AbortError")

/** The signal of per-call options, read as `fetch` reads it: anything but an `AbortSignal` is a `TypeError`. */
const signalOf = (options: CallOptions | undefined): AbortSignal | undefined => {
  if (options === undefined || options === null) return undefined
  if (typeof options !== "object") throw new TypeError("The call options must be an object such as { signal }")
  const signal: unknown = options.signal
  if (signal === undefined) return undefined
  if (!(signal instanceof AbortSignal)) throw new TypeError("options.signal must be an AbortSignal")
  return signal
}

/** Settles one outcome of a call made at `site`: a failure carries the call's frames. */
const settleAt =
  (site: CallSite) =>
  (outcome: Outcome): Settled =>
    settle(Result.isFailure(outcome) ? Result.fail(withCallSite(outcome.failure, site)) : outcome)

const rejection = (cause: Cause.Cause<unknown>, signal: AbortSignal | undefined): unknown => {
  if (Cause.hasInterruptsOnly(cause)) return abortReason(signal)
  const error = Cause.squash(cause)
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * The editor was disposed: every call made after `dispose()` rejects with it,
 * and so does an `updateEach` loop still running when `dispose()` is called.
 * Match it by `name` (or `reason`, `"Disposed"`); it serialises (JSON) with
 * its name, message and reason.
 *
 * @category errors
 * @since 0.1.0
 */
export class DisposedError extends Error {
  override readonly name = "DisposedError"
  readonly reason = "Disposed"
  constructor() {
    super("This editor was disposed: create a new one with createEditor")
  }
  /** @since 0.1.0 */
  toJSON(): { readonly name: string; readonly message: string; readonly reason: string } {
    return { name: this.name, message: this.message, reason: this.reason }
  }
}

const disposedError = () => new DisposedError()

const isIterable = (value: unknown): value is Iterable<unknown> =>
  value !== null && value !== undefined && typeof (value as Iterable<unknown>)[Symbol.iterator] === "function"

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  value !== null && value !== undefined && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"

const notIterable = () => new TypeError("requests must be an iterable of requests (an array, a Set, a generator)")

interface Running {
  readonly runtime: ManagedRuntime.ManagedRuntime<MessageEditor, Config.ConfigError>
  readonly isDisposed: () => boolean
  /** Aborted by `dispose()`: what waits (an `updateEach` loop) stops at once. */
  readonly disposal: AbortSignal
}

/**
 * Runs one call. Async from its first line: whatever the arguments, the caller
 * gets a promise (a request that cannot be read is that request's
 * `InvalidRequest`; options that cannot be read reject with a `TypeError`).
 */
const run = async <A>(
  running: Running,
  effect: () => Effect.Effect<A, EditError>,
  options: CallOptions | undefined,
  site: CallSite
): Promise<A> => {
  if (running.isDisposed()) throw disposedError()
  const signal = signalOf(options)
  if (signal?.aborted === true) throw abortReason(signal)
  const exit = await running.runtime.runPromiseExit(
    Effect.suspend(effect),
    signal === undefined ? undefined : { signal }
  )
  if (Exit.isSuccess(exit)) return exit.value
  throw withCallSite(rejection(exit.cause, signal), site)
}

/**
 * `updateEach`: the stream of outcomes as an async iterable. The caller's
 * signal and `dispose()` end it at once, even while it waits for the source
 * (an async source that stops yielding) or for a request in flight: the
 * iteration rejects with the signal's reason (or the disposal's error), and
 * the stream is closed (the requests in flight abandoned, the source's
 * `return()` called).
 */
async function* each(
  running: Running,
  service: Service,
  requests: unknown,
  options: CallOptions | undefined,
  site: CallSite
): AsyncGenerator<Settled> {
  // Everything happens here, in the generator: calling updateEach never throws, its iteration rejects.
  if (running.isDisposed()) throw disposedError()
  const signal = signalOf(options)
  const source: Iterable<RequestInput> | Stream.Stream<RequestInput, unknown> = isAsyncIterable(requests)
    ? Stream.fromAsyncIterable(requests as AsyncIterable<RequestInput>, (error) => error)
    : isIterable(requests)
      ? (requests as Iterable<RequestInput>)
      : Stream.fail(notIterable())
  const outcomes = service.updateStream(source).pipe(Stream.map(settleAt(site)))
  // In the editor's context: its tracer and metric registry (telemetry) apply here too.
  const context = await running.runtime.context()
  const iterator = Stream.toAsyncIterableWith(outcomes, context)[Symbol.asyncIterator]()
  const stops = signal === undefined ? [running.disposal] : [running.disposal, signal]
  const stopped = () => (running.isDisposed() ? disposedError() : abortReason(signal))
  try {
    for (;;) {
      if (running.isDisposed()) throw disposedError()
      if (signal?.aborted === true) throw abortReason(signal)
      const next = await nextOrStop(iterator, stops, stopped)
      if (next.done === true) return
      yield next.value
    }
  } finally {
    await closeBounded(iterator)
  }
}

/**
 * Creates an editor from configuration. Rejects with a {@link ConfigurationError}
 * when the configuration is wrong (an unknown provider, a missing setting, an
 * option in the wrong place), so a misconfigured app fails at start-up.
 *
 * @example
 * ```ts
 * import { createEditor } from "@reword/core/promise"
 * import { Acquire } from "@reword/acquire"
 *
 * const editor = await createEditor({
 *   providers: Acquire.provider,
 *   settings: { acquire: { accountId: "acme", apiKey: process.env.ACQUIRE_API_KEY } },
 *   transport: { timeout: "10 seconds" }
 * })
 * try {
 *   await editor.update({ ids: { providerMessageId: 1842 }, text: "Corrected text" })
 * } finally {
 *   await editor.dispose()
 * }
 * ```
 *
 * @category utils
 * @since 0.1.0
 */
export const createEditor = async <const D extends AnyDescriptor>(options: CreateEditorOptions<D>): Promise<Editor> => {
  const prepared = prepare(options as CreateEditorOptions)
  if (typeof prepared === "string") throw new ConfigurationError(configError(prepared))
  const { providers, selection, telemetry } = prepared
  const editorLayer = Layer.effect(MessageEditor, makeEditor(providers, selection))
  const runtime = ManagedRuntime.make(
    telemetry === undefined ? editorLayer : Layer.provideMerge(editorLayer, Telemetry.layer(telemetry))
  )
  const service = await runtime.runPromise(Effect.service(MessageEditor)).catch(async (error: unknown) => {
    await runtime.dispose()
    throw Predicate.isTagged(error, "ConfigError") ? new ConfigurationError(error as Config.ConfigError) : error
  })
  let disposed = false
  const disposal = new AbortController()
  const running: Running = { runtime, isDisposed: () => disposed, disposal: disposal.signal }
  const dispose = () => {
    disposed = true
    disposal.abort()
    return runtime.dispose()
  }
  const update: Editor["update"] = (request, callOptions) =>
    run(running, () => service.update(request), callOptions, callSite(update))
  const updateMany: Editor["updateMany"] = (requests, callOptions) => {
    const site = callSite(updateMany)
    const settleHere = settleAt(site)
    return run(
      running,
      () =>
        isIterable(requests)
          ? Effect.map(service.updateMany(requests), (outcomes) => outcomes.map(settleHere))
          : Effect.die(notIterable()),
      callOptions,
      site
    )
  }
  const updateEach: Editor["updateEach"] = (requests, callOptions) =>
    each(running, service, requests, callOptions, callSite(updateEach))
  return {
    provider: service.provider,
    capabilities: service.capabilities,
    update,
    updateMany,
    updateEach,
    dispose,
    [Symbol.asyncDispose]: dispose
  }
}

/** Reads createEditor's options once (they may come from untyped code): the providers and the selection, or the problem. */
const prepare = (
  options: CreateEditorOptions
):
  | string
  | {
      readonly providers: ReadonlyArray<AnyDescriptor>
      readonly selection: SelectionOptions<AnyDescriptor>
      readonly telemetry: Telemetry.TelemetryOptions | undefined
    } => {
  try {
    if (!Predicate.isObject(options)) return "createEditor takes an options object: { providers, settings? }"
    const raw: unknown = options.providers
    const providers: ReadonlyArray<unknown> = Array.isArray(raw) ? raw : [raw]
    const problem =
      inputProblem(options, providers) ??
      OptionKeys.checkOptions(providers as ReadonlyArray<AnyDescriptor>, options, createKeys)
    if (problem !== undefined) return problem
    const descriptors = providers as ReadonlyArray<AnyDescriptor>
    const { providers: _providers, settings, env, telemetry, ...selection } = options
    const source: Source = settings === undefined ? fromEnv(env ?? process.env) : fromObject(settings)
    const single = descriptors.length === 1 ? descriptors[0] : undefined
    return {
      providers: descriptors,
      telemetry,
      // Its keys are checked here: makeEditor does not check them again.
      selection: OptionKeys.markChecked({
        ...selection,
        source: single === undefined ? source : withDefaultProvider(source, single.name)
      })
    }
  } catch (error) {
    return `The options could not be read: ${error instanceof Error ? error.message : "reading them threw"}`
  }
}

/** With one provider listed, `REWORD_PROVIDER` is not needed: it defaults to that one. */
const withDefaultProvider = (source: Source, name: string): Source => {
  if (source._tag === "Object") return fromObject({ provider: name, ...source.settings })
  return fromEnv({ REWORD_PROVIDER: name, ...(source.env ?? process.env) })
}
