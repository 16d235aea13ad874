/**
 * The deadline on a token store's calls, and a store of either shape (Effect
 * or Promise) as one `Service`: what the editor wraps every store it is given in.
 */
import { Duration, Effect, Fiber, Option } from "effect"
import { fromPromise, type PromiseStore, type Service, TokenStore, TokenStoreError } from "../TokenStore.ts"

/**
 * How long a token store's `load` or `save` may take by default before it
 * fails with a `TokenStoreError` (`timedOut: true`): 10 seconds.
 */
export const DEFAULT_TIMEOUT: Duration.Duration = Duration.seconds(10)

/** setTimeout's limit: a longer timer fires at once. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * Checks a store deadline: a positive, finite duration of at most 2^31-1 ms
 * (about 24.8 days, Node's timer limit). Answers the problem, or undefined.
 */
export const checkTimeout = (timeout: Duration.Input | undefined): string | undefined => {
  if (timeout === undefined) return undefined
  const decoded = Duration.fromInput(timeout)
  if (Option.isNone(decoded)) return 'tokenStoreTimeout must be a duration, such as 5000 or "5 seconds"'
  const millis = Duration.toMillis(decoded.value)
  if (!Number.isFinite(millis) || millis <= 0 || millis > MAX_TIMER_MILLIS) {
    return `tokenStoreTimeout must be more than 0 and at most ${MAX_TIMER_MILLIS} ms`
  }
  return undefined
}

/**
 * Runs a store call under a deadline. Past it the call fails with a
 * `TokenStoreError` (`timedOut: true`) at once: the store's own work is
 * interrupted in the background, and never waited for, so a store that
 * ignores interruption (a promise that never settles) cannot hold the caller.
 */
const bounded = <A>(
  effect: Effect.Effect<A, TokenStoreError>,
  what: "load" | "save",
  timeout: Duration.Duration
): Effect.Effect<A, TokenStoreError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDetach(Effect.interruptible(effect)), (fiber) =>
      restore(
        Effect.interruptible(
          Fiber.join(fiber).pipe(
            Effect.timeoutOrElse({
              duration: timeout,
              orElse: () =>
                Effect.fail(
                  new TokenStoreError({
                    message: `the token store's ${what} did not finish within ${Duration.format(timeout)}`,
                    timedOut: true
                  })
                )
            })
          )
        )
      ).pipe(
        Effect.onExit((exit) => (exit._tag === "Success" ? Effect.void : Effect.forkDetach(Fiber.interrupt(fiber))))
      )
    )
  )

/**
 * A store whose `load` and `save` each fail past `timeout` (default
 * {@link DEFAULT_TIMEOUT}) with a `TokenStoreError` (`timedOut: true`). The
 * editor wraps every store it is given in one. A `withRefreshLock` is kept as
 * it is (it spans a token request, and bounds its own wait).
 */
export const withDeadline = (store: Service, timeout: Duration.Input = DEFAULT_TIMEOUT): Service => {
  const duration = Duration.fromInputUnsafe(timeout)
  return TokenStore.of({
    load: bounded(store.load, "load", duration),
    save: (tokens) =>
      bounded(
        Effect.suspend(() => store.save(tokens)),
        "save",
        duration
      ),
    // The lock spans a whole refresh (a token request included): it bounds its own wait.
    ...(store.withRefreshLock === undefined ? {} : { withRefreshLock: store.withRefreshLock })
  })
}

/**
 * Whether a value is a `PromiseStore` (its `load` is a function) rather
 * than a `Service` (its `load` is an effect).
 */
export const isPromiseStore = (store: Service | PromiseStore): store is PromiseStore => typeof store.load === "function"

/**
 * A store of either shape as a `Service`.
 */
export const fromAny = (store: Service | PromiseStore): Service => (isPromiseStore(store) ? fromPromise(store) : store)
