/**
 * What records reword's metrics (see `Metrics` for the instruments, their
 * names and attributes): `MessageEditor.make` records each edit; an adapter
 * records its rate-limit waits and token refreshes. For adapter authors
 * (`@reword/core/adapter`).
 *
 * @since 0.4.0
 */
import { Clock, type Context, Effect, Metric } from "effect"
import {
  ATTEMPT_BOUNDARIES,
  DURATION_BOUNDARIES,
  descriptions,
  seconds,
  WAIT_BOUNDARIES
} from "./internal/metricSpecs.ts"
import { attributes, names, type Wait } from "./Metrics.ts"

/** A series per key, made once: an update is then a map lookup and the metric's own addition. */
const cached = <M>(make: (key: string) => M) => {
  const series = new Map<string, M>()
  return (key: string): M => {
    let found = series.get(key)
    if (found === undefined) {
      found = make(key)
      series.set(key, found)
    }
    return found
  }
}

interface EditSeries {
  readonly edits: Metric.Metric<number, unknown>
  readonly duration: Metric.Metric<number, unknown>
  readonly attempts: Metric.Metric<number, unknown>
}

/**
 * The edit metrics of one provider and operation.
 *
 * @category models
 * @since 0.1.0
 */
export interface EditRecorder {
  /** Records one edit that ended: its outcome, duration in seconds and provider calls. */
  readonly record: (context: Context.Context<never>, outcome: string, seconds: number, attempts: number) => void
}

/**
 * The edit metrics of one provider and operation (`MessageEditor.make` records
 * them; an adapter has nothing to do).
 *
 * @category utils
 * @since 0.1.0
 */
export const editRecorder = (provider: string, operation: string): EditRecorder => {
  const seriesOf = cached((outcome): EditSeries => {
    const labels = { [attributes.provider]: provider, [attributes.operation]: operation, [attributes.outcome]: outcome }
    return {
      edits: Metric.counter(names.edits, { description: descriptions.edits, incremental: true, attributes: labels }),
      duration: Metric.histogram(names.editDuration, {
        description: descriptions.editDuration,
        boundaries: DURATION_BOUNDARIES,
        attributes: { ...seconds, ...labels }
      }),
      attempts: Metric.histogram(names.editAttempts, {
        description: descriptions.editAttempts,
        boundaries: ATTEMPT_BOUNDARIES,
        attributes: labels
      })
    }
  })
  return {
    record: (context, outcome, seconds, attempts) => {
      const series = seriesOf(outcome)
      series.edits.updateUnsafe(1, context)
      series.duration.updateUnsafe(seconds, context)
      series.attempts.updateUnsafe(attempts, context)
    }
  }
}

const waitSeries = cached((key) => {
  const [provider, wait] = key.split("\n") as [string, string]
  return Metric.histogram(names.rateLimitWait, {
    description: descriptions.rateLimitWait,
    boundaries: WAIT_BOUNDARIES,
    attributes: { ...seconds, [attributes.provider]: provider, [attributes.wait]: wait }
  })
})

/**
 * Records one wait for the rate limit, in milliseconds.
 *
 * @category utils
 * @since 0.1.0
 */
export const recordRateLimitWait = (provider: string, wait: Wait, millis: number): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    waitSeries(`${provider}\n${wait}`).updateUnsafe(Math.max(0, millis) / 1000, fiber.context)
    return Effect.void
  })

/**
 * Runs `effect` (a wait for the rate limit) and records how long it took,
 * by the current `Clock`, whatever its end.
 *
 * @category utils
 * @since 0.1.0
 */
export const timeRateLimitWait =
  (provider: string, wait: Wait) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const started = clock.currentTimeMillisUnsafe()
      return Effect.onExit(effect, () => recordRateLimitWait(provider, wait, clock.currentTimeMillisUnsafe() - started))
    })

const refreshSeries = cached((key) => {
  const [provider, outcome] = key.split("\n") as [string, string]
  return Metric.counter(names.tokenRefreshes, {
    description: descriptions.tokenRefreshes,
    incremental: true,
    attributes: { [attributes.provider]: provider, [attributes.outcome]: outcome }
  })
})

/**
 * Records one access token refresh and its outcome (`refreshed`, `adopted`,
 * or the reason's tag).
 *
 * @category utils
 * @since 0.1.0
 */
export const recordTokenRefresh = (provider: string, outcome: string): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    refreshSeries(`${provider}\n${outcome}`).updateUnsafe(1, fiber.context)
    return Effect.void
  })
