/**
 * The bot's overall limit (calls a second), kept the way Telegram counts it:
 * a call reaches Telegram somewhere between when it leaves and when its
 * answer comes back, so a call counts from when it leaves until one second
 * after its answer came back (the latest it can have reached Telegram). A new
 * call leaves only while fewer than the limit count: however late calls
 * travel (a busy event loop, new connections), Telegram can never see more
 * than the limit in a second. Callers take turns, first come first served;
 * a caller waits for the oldest answer to age out, or for a call in flight to
 * end, never polling.
 */
import { Clock, Deferred, Duration, Effect, Exit, Semaphore } from "effect"

export interface Overall {
  /** Waits for room (in turn), then counts the call as in flight: `onTaken` runs in that same synchronous step. */
  readonly enter: (onTaken: () => void) => Effect.Effect<void>
  /** A call that entered ended: it counts for one more second. */
  readonly leave: Effect.Effect<void>
  /** How long a caller arriving now is projected to wait, in ms (a lower bound). */
  readonly projected: (now: number) => number
}

const WINDOW_MS = 1_000

export const make = (perSecond: number): Overall => {
  /** When each call of the last second was answered, oldest first. */
  const ends: Array<number> = []
  let inFlight = 0
  let waiting = 0
  let ended = Deferred.makeUnsafe<void>()
  const turn = Semaphore.makeUnsafe(1)

  const forget = (now: number) => {
    while (ends.length > 0 && (ends[0] ?? 0) <= now - WINDOW_MS) ends.shift()
  }

  const room = (onTaken: () => void): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      forget(now)
      if (ends.length + inFlight < perSecond) {
        inFlight += 1
        onTaken()
        return Effect.void
      }
      const oldest = ends[0]
      const aged = oldest === undefined ? Effect.never : Effect.sleep(Duration.millis(oldest + WINDOW_MS - now))
      return Effect.andThen(Effect.raceFirst(aged, Deferred.await(ended)), room(onTaken))
    })

  return {
    enter: (onTaken) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          waiting += 1
        }),
        () => turn.withPermits(1)(room(onTaken)),
        () =>
          Effect.sync(() => {
            waiting -= 1
          })
      ),
    leave: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        inFlight = Math.max(0, inFlight - 1)
        ends.push(now)
        const done = ended
        ended = Deferred.makeUnsafe<void>()
        Deferred.doneUnsafe(done, Exit.void)
      })
    ),
    projected: (now) => {
      forget(now)
      const excess = ends.length + inFlight + waiting + 1 - perSecond
      if (excess <= 0) return 0
      // At best, the calls ahead leave as the answers of the last second age out.
      const index = Math.min(ends.length - 1, excess - 1)
      const at = index >= 0 ? (ends[index] ?? now) + WINDOW_MS : now + WINDOW_MS / perSecond
      return Math.max(1, Math.ceil(at - now))
    }
  }
}
