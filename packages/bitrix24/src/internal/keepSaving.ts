/**
 * A refreshed pair the token store could not take lives only in this
 * process: refresh tokens rotate, so every other process sharing the store
 * holds a dead one until it is stored. The saver keeps trying to store it in
 * the background, with a pause that doubles from {@link FIRST_PAUSE} up to
 * {@link MAX_PAUSE}, until it is stored, a newer pair takes its place, or the
 * session closes (which tries once more, bounded).
 *
 * @internal
 */
import { Duration, Effect, Fiber } from "effect"

/** The first pause before the store is asked again. */
export const FIRST_PAUSE = Duration.millis(250)
/** The longest pause between two tries. */
export const MAX_PAUSE = Duration.seconds(30)

export interface Saver {
  /** Starts the background tries, unless they run already. */
  readonly start: Effect.Effect<void>
  /** Stops them. */
  readonly stop: Effect.Effect<void>
}

/**
 * A saver of `save` (one try; it succeeds once the pair is stored), while
 * `pending()` says a pair waits to be stored.
 */
export const make = <E>(save: Effect.Effect<void, E>, pending: () => boolean): Saver => {
  let active = false
  let running: Fiber.Fiber<void> | undefined
  let stopped = false
  const loop = Effect.gen(function* () {
    let pause = Duration.toMillis(FIRST_PAUSE)
    while (pending() && !stopped) {
      yield* Effect.sleep(Duration.millis(pause))
      if (!pending() || stopped) return
      const tried = yield* Effect.result(save)
      if (tried._tag === "Success") {
        yield* Effect.logInfo(
          "Bitrix24: the refreshed token pair is stored now: the other processes sharing the token store can use it"
        )
        return
      }
      pause = Math.min(pause * 2, Duration.toMillis(MAX_PAUSE))
    }
  }).pipe(
    Effect.ensuring(
      Effect.sync(() => {
        active = false
        running = undefined
      })
    )
  )
  return {
    start: Effect.suspend(() => {
      if (active || stopped) return Effect.void
      active = true
      return Effect.map(Effect.forkDetach(loop), (fiber) => {
        // A loop that ended at once has already said so.
        if (active) running = fiber
      })
    }),
    stop: Effect.suspend(() => {
      stopped = true
      const fiber = running
      return fiber === undefined ? Effect.void : Fiber.interrupt(fiber)
    })
  }
}
