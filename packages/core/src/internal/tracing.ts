/**
 * Spans only when someone keeps them.
 *
 * @internal
 */
import { Effect, type Fiber, References, Tracer } from "effect"

/**
 * Whether spans made in this fiber go anywhere: a tracer other than Effect's
 * default is installed (`@effect/opentelemetry`, `Telemetry.layer`,
 * `Effect.withTracer`) and tracing is enabled. Effect's default tracer keeps
 * nothing, so a span made under it is work for nobody.
 */
export const isTracing = (fiber: Fiber.Fiber<unknown, unknown>): boolean =>
  fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer && fiber.getRef(References.TracerEnabled)

/**
 * `Effect.withSpan` (without a stack trace: the span's name says where it is)
 * when {@link isTracing}; the effect alone otherwise.
 */
export const traced = (name: string, options?: Tracer.SpanOptionsNoTrace) => {
  const spanOptions: Tracer.SpanOptions = { ...options, captureStackTrace: false }
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => (isTracing(fiber) ? Effect.withSpan(effect, name, spanOptions) : effect))
}
