/**
 * Whether the database of a shared limiter is away: after a failure, the
 * process's own limiter serves every call for a pause (doubling while
 * failures go on, 1 s up to 30 s), then the database is asked again. One
 * warning when it goes away, one line when it is back.
 */
import { Clock, Duration, Effect } from "effect"

/** The first pause before the database is asked again after it failed; it doubles up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 1_000
const MAX_PAUSE_MS = 30_000

export interface Outage {
  /** Whether the database is away now (the local limiter serves). */
  readonly away: Effect.Effect<boolean>
  /** A statement failed for this reason. */
  readonly failed: (problem: string) => Effect.Effect<void>
  /** A statement was answered. */
  readonly answered: Effect.Effect<void>
  /** Runs a statement on the shared limits unless the database is away: `undefined` then (use the local limiter). */
  readonly guard: <A>(statement: Effect.Effect<A, string>) => Effect.Effect<A | undefined>
}

/** `what` names the shared limit in the log lines, such as "Bitrix24: the shared rate limit in PostgreSQL (table t)". */
export const make = (what: string): Outage => {
  let pause = 0
  let until = 0
  let down = false
  const away = Effect.map(Clock.currentTimeMillis, (now) => down && now < until)
  const failed = (problem: string): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      pause = Math.min(MAX_PAUSE_MS, pause === 0 ? FIRST_PAUSE_MS : pause * 2)
      until = now + pause
      if (down) return Effect.void
      down = true
      return Effect.logWarning(
        `${what} could not be used (${problem}); this process's own bucket is used until the database answers again (asked again in ${Duration.format(Duration.millis(pause))}, then less and less often)`
      )
    })
  const answered = Effect.suspend(() => {
    pause = 0
    if (!down) return Effect.void
    down = false
    return Effect.logInfo(`${what} is used again`)
  })
  return {
    away,
    failed,
    answered,
    guard: (statement) =>
      Effect.flatMap(away, (isAway) =>
        isAway
          ? Effect.succeed(undefined)
          : Effect.matchEffect(statement, {
              onFailure: (problem) => Effect.as(failed(problem), undefined),
              onSuccess: (value) => Effect.as(answered, value)
            })
      )
  }
}
