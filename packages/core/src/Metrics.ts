/**
 * The metrics reword records, as Effect `Metric`s: export them with
 * `@effect/opentelemetry` (Effect API) or the `telemetry` option of
 * `createEditor` (Promise API), or read them with `Metric.value` /
 * `Metric.snapshot`.
 *
 * | name                     | type      | unit | attributes                                                  |
 * | ------------------------ | --------- | ---- | ----------------------------------------------------------- |
 * | `reword.edits`           | counter   |      | `reword.provider`, `reword.operation`, `reword.outcome`     |
 * | `reword.edit.duration`   | histogram | s    | `reword.provider`, `reword.operation`, `reword.outcome`     |
 * | `reword.edit.attempts`   | histogram |      | `reword.provider`, `reword.operation`, `reword.outcome`     |
 * | `reword.rate_limit.wait` | histogram | s    | `reword.provider`, `reword.wait` (`bucket`, `operating_time`) |
 * | `reword.token.refreshes` | counter   |      | `reword.provider`, `reword.outcome`                         |
 *
 * `reword.outcome` is `success` or the reason's tag (`NotFound`,
 * `RateLimited`, ...), `interrupted` for an edit that was interrupted; for a
 * token refresh, `refreshed` (the OAuth server gave a new pair), `adopted`
 * (another process sharing the token store had rotated the pair) or the
 * reason's tag. Histograms carry a `unit` attribute, which
 * `@effect/opentelemetry` reads as the instrument's unit. No attribute ever
 * holds a request's ids, text or a secret: their values come from short fixed
 * lists.
 *
 * Recording costs a map lookup and a few additions per edit: the series of
 * each provider, operation and outcome are made once and kept.
 *
 * @since 0.1.0
 */
import { Clock, type Context, Effect, Metric } from "effect"

/**
 * The metrics' names.
 *
 * @category utils
 * @since 0.1.0
 */
export const names = {
  edits: "reword.edits",
  editDuration: "reword.edit.duration",
  editAttempts: "reword.edit.attempts",
  rateLimitWait: "reword.rate_limit.wait",
  tokenRefreshes: "reword.token.refreshes"
} as const

/**
 * The attributes' keys (the spans use the same ones).
 *
 * @category utils
 * @since 0.1.0
 */
export const attributes = {
  provider: "reword.provider",
  operation: "reword.operation",
  outcome: "reword.outcome",
  wait: "reword.wait"
} as const

/**
 * What a rate-limit wait waited for: room in the client-side bucket, or a
 * method's operating time (Bitrix24) to reset.
 *
 * @category models
 * @since 0.1.0
 */
export type Wait = "bucket" | "operating_time"

/** Seconds, from 5 ms to 2 minutes: a loopback call to a long retry budget. */
const DURATION_BOUNDARIES: ReadonlyArray<number> = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
]
const ATTEMPT_BOUNDARIES: ReadonlyArray<number> = [0, 1, 2, 3, 4, 5, 6, 8, 10]
/** Seconds, from no wait (a millisecond at most) to the 10-minute operating window. */
const WAIT_BOUNDARIES: ReadonlyArray<number> = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

const descriptions = {
  edits: "Edits that ended, by provider, operation and outcome (success or the reason's tag)",
  editDuration: "How long an edit took, validation, attempts and waits between them included",
  editAttempts: "Provider calls per edit (0: refused before anything was sent)",
  rateLimitWait:
    "Time a provider call waited for the rate limit (bucket: client-side bucket; operating_time: a method's reset)",
  tokenRefreshes: "Access token refreshes, by outcome (refreshed, adopted, or the reason's tag)"
} as const

const seconds = { unit: "s" } as const

/**
 * Edits that ended: one per request, whichever API sent it.
 *
 * @category utils
 * @since 0.1.0
 */
export const edits: Metric.Counter<number> = Metric.counter(names.edits, {
  description: descriptions.edits,
  incremental: true
})

/**
 * How long each edit took, in seconds.
 *
 * @category utils
 * @since 0.1.0
 */
export const editDuration: Metric.Histogram<number> = Metric.histogram(names.editDuration, {
  description: descriptions.editDuration,
  boundaries: DURATION_BOUNDARIES,
  attributes: seconds
})

/**
 * Provider calls per edit: 1 when the first attempt settled it, more after
 * retries, 0 when the request was refused before anything was sent. In a
 * batch (Bitrix24's chunks), the attempts of the call that carried it.
 *
 * @category utils
 * @since 0.1.0
 */
export const editAttempts: Metric.Histogram<number> = Metric.histogram(names.editAttempts, {
  description: descriptions.editAttempts,
  boundaries: ATTEMPT_BOUNDARIES
})

/**
 * Seconds a provider call waited for the rate limit (`reword.wait`: `bucket`
 * for every call through the client-side bucket, zero waits included;
 * `operating_time` for each wait for a method's reset).
 *
 * @category utils
 * @since 0.1.0
 */
export const rateLimitWait: Metric.Histogram<number> = Metric.histogram(names.rateLimitWait, {
  description: descriptions.rateLimitWait,
  boundaries: WAIT_BOUNDARIES,
  attributes: seconds
})

/**
 * Access token refreshes, by outcome.
 *
 * @category utils
 * @since 0.1.0
 */
export const tokenRefreshes: Metric.Counter<number> = Metric.counter(names.tokenRefreshes, {
  description: descriptions.tokenRefreshes,
  incremental: true
})

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
