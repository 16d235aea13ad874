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
import { Metric } from "effect"
import {
  ATTEMPT_BOUNDARIES,
  DURATION_BOUNDARIES,
  descriptions,
  seconds,
  WAIT_BOUNDARIES
} from "./internal/metricSpecs.ts"

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
