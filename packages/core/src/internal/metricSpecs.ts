/** The descriptions and bucket boundaries of the metrics of `Metrics.ts`, shared with `MetricsRecorder.ts`. */

/** Seconds, from 5 ms to 2 minutes: a loopback call to a long retry budget. */
export const DURATION_BOUNDARIES: ReadonlyArray<number> = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
]
export const ATTEMPT_BOUNDARIES: ReadonlyArray<number> = [0, 1, 2, 3, 4, 5, 6, 8, 10]
/** Seconds, from no wait (a millisecond at most) to the 10-minute operating window. */
export const WAIT_BOUNDARIES: ReadonlyArray<number> = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export const descriptions = {
  edits: "Edits that ended, by provider, operation and outcome (success or the reason's tag)",
  editDuration: "How long an edit took, validation, attempts and waits between them included",
  editAttempts: "Provider calls per edit (0: refused before anything was sent)",
  rateLimitWait:
    "Time a provider call waited for the rate limit (bucket: client-side bucket; operating_time: a method's reset)",
  tokenRefreshes: "Access token refreshes, by outcome (refreshed, adopted, or the reason's tag)"
} as const

export const seconds = { unit: "s" } as const
