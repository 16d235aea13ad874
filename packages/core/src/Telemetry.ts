/**
 * Sends reword's spans and metrics (see `Metrics`) to the OpenTelemetry SDK an
 * app already runs, through its API objects: a `TracerProvider` and a
 * `MeterProvider` (`trace.getTracerProvider()` and `metrics.getMeterProvider()`
 * of `@opentelemetry/api` once the SDK is started, or the SDK's providers).
 * `createEditor`'s `telemetry` option is this layer. Needs
 * `@opentelemetry/api` 1.x installed (loaded only when telemetry is asked
 * for). Effect apps can use `@effect/opentelemetry` instead.
 *
 * @example
 * ```ts
 * import { Telemetry } from "@reword/core"
 * import { metrics, trace } from "@opentelemetry/api"
 *
 * // Provide it with the editor's layer: every span and metric reword makes goes to the SDK.
 * const TelemetryLive = Telemetry.layer({
 *   tracerProvider: trace.getTracerProvider(),
 *   meterProvider: metrics.getMeterProvider()
 * })
 * ```
 *
 * @since 0.1.0
 */
import { type Config, Effect, type Fiber, Layer, Metric, Tracer } from "effect"
import type { Api } from "./internal/otel.ts"
import { ForwardingRegistry, makeTracer, SCOPE } from "./internal/otel.ts"
import { configError } from "./internal/settings.ts"
import { problem } from "./internal/telemetryOptions.ts"
import * as Tracing from "./internal/tracing.ts"

/**
 * Whether spans made in a fiber go anywhere: a tracer other than Effect's
 * default is installed (`@effect/opentelemetry`, {@link layer},
 * `Effect.withTracer`) and tracing is enabled. reword makes its spans only
 * then: Effect's default tracer keeps nothing.
 *
 * @category guards
 * @since 0.2.0
 */
export const isTracing: (fiber: Fiber.Fiber<unknown, unknown>) => boolean = Tracing.isTracing

/**
 * `Effect.withSpan` without a stack trace when {@link isTracing}, and the
 * effect alone otherwise: how reword's adapters make their spans.
 *
 * @category utils
 * @since 0.2.0
 */
export const traced: (
  name: string,
  options?: Tracer.SpanOptionsNoTrace
) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = Tracing.traced

/**
 * What reword needs of an OpenTelemetry `TracerProvider` (the API's type fits).
 *
 * @category models
 * @since 0.1.0
 */
export interface TracerProvider {
  getTracer(name: string, version?: string): object
}

/**
 * What reword needs of an OpenTelemetry `MeterProvider` (the API's type fits).
 *
 * @category models
 * @since 0.1.0
 */
export interface MeterProvider {
  getMeter(name: string, version?: string): object
}

/**
 * Where reword's spans and metrics go. Either may be left out.
 *
 * @category options
 * @since 0.1.0
 */
export interface TelemetryOptions {
  /** Spans (`MessageEditor.update`, `MessageEditor.updateMany`, each provider call) become spans of this provider's tracer `@reword/core`. */
  readonly tracerProvider?: TracerProvider | undefined
  /** Metrics (`reword.edits`, ...) are recorded on this provider's meter `@reword/core` as they happen. */
  readonly meterProvider?: MeterProvider | undefined
}

const loadApi: Effect.Effect<Api, Config.ConfigError> = Effect.tryPromise({
  try: () => import("@opentelemetry/api"),
  catch: () => configError("telemetry needs the package @opentelemetry/api (1.x): install it beside @reword/core")
})

/**
 * A layer that sends the spans and metrics of whatever it is provided to
 * (an editor's layer, a whole app) to `options`' providers: the current
 * tracer becomes the provider's tracer, and the metric registry forwards each
 * update to the provider's meter as it happens (the Effect metrics still hold
 * their values). It fails with a `ConfigError` when the options are not
 * providers, or when `@opentelemetry/api` is not installed.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: TelemetryOptions): Layer.Layer<never, Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const wrong = problem(options)
      if (wrong !== undefined) return yield* Effect.fail(configError(wrong))
      const { tracerProvider, meterProvider } = options
      if (tracerProvider === undefined && meterProvider === undefined) return Layer.empty
      const api = yield* loadApi
      const tracing =
        tracerProvider === undefined
          ? Layer.empty
          : Layer.succeed(Tracer.Tracer)(makeTracer(api, tracerProvider.getTracer(SCOPE) as never))
      const metering =
        meterProvider === undefined
          ? Layer.empty
          : Layer.succeed(Metric.MetricRegistry)(new ForwardingRegistry(meterProvider.getMeter(SCOPE) as never))
      return Layer.mergeAll(tracing, metering)
    })
  )
