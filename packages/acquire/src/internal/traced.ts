/**
 * The client's span around each call, made only when the app has installed a
 * tracer: without one (Effect's own `nativeTracer`), nobody can read the span,
 * and making it costs more per call than the rest of the client's own work.
 */
import { Effect, References, Tracer } from "effect"
import * as AcquireConfig from "../AcquireConfig.ts"

// A stack trace per call costs more than the rest of the span; the span's name says where it is.
const options = { attributes: { "reword.provider": AcquireConfig.name }, captureStackTrace: false }

/**
 * `effect` in a span named `name`, when a tracer other than Effect's default is
 * installed and tracing is enabled (as core's editor decides for its own spans).
 */
export const traced = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) =>
    fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer && fiber.getRef(References.TracerEnabled)
      ? Effect.withSpan(effect, name, options)
      : effect
  )
