/**
 * `Stream.mapEffect` with a concurrency, in input order, without head-of-line
 * blocking: a slow element no longer holds the other slots idle.
 *
 * Effect's ordered `mapEffect` keeps at most `concurrency` elements between
 * start and emission, so one slow request (a retry, a provider's pause) stops
 * every slot until it ends: the others finish and wait behind it. Here the
 * slots keep working while the slow one runs; results that are ready wait in a
 * reorder buffer and leave in input order. The buffer is bounded: an element
 * starts only when it is fewer than `window` places after the oldest element
 * not yet emitted, so at most `window` results ever wait (memory stays bounded
 * over any number of elements), and at most `concurrency` run at once.
 *
 * @internal
 */
import { Effect, Stream } from "effect"

/** The size of the reorder window for a concurrency: room for 8 slots' worth of results behind a slow one. */
export const windowFor = (concurrency: number): number => Math.max(2, concurrency * 8)

interface Waiter {
  readonly index: number
  readonly resume: () => void
}

/**
 * Maps each element with `f`, running up to `concurrency` at once, and emits
 * the results in input order. An element starts once every element more than
 * `window` places before it has been emitted. `f` must not fail (an outcome
 * carries its own failure).
 */
export const mapEffect = <A, E, R, B, R2>(
  source: Stream.Stream<A, E, R>,
  f: (a: A) => Effect.Effect<B, never, R2>,
  options: { readonly concurrency: number; readonly window: number }
): Stream.Stream<B, E, R | R2> =>
  Stream.suspend(() => {
    const concurrency = Math.max(1, Math.floor(options.concurrency))
    const window = Math.max(concurrency, Math.floor(options.window))
    /** Results ready but not yet emitted, by input index. */
    const ready = new Map<number, B>()
    /** The index of the next element to emit. */
    let emitted = 0
    /** Elements waiting for the window to move, in index order (they start in index order). */
    const waiting: Array<Waiter> = []
    let head = 0

    const admit = (index: number): Effect.Effect<void> =>
      index < emitted + window
        ? Effect.void
        : Effect.callback<void>((resume) => {
            waiting.push({ index, resume: () => resume(Effect.void) })
          })

    /** The results that can leave now, in order; wakes the elements the window now takes. */
    const release = (index: number, result: B): ReadonlyArray<B> => {
      ready.set(index, result)
      if (index !== emitted) return []
      const run: Array<B> = []
      while (ready.has(emitted)) {
        run.push(ready.get(emitted) as B)
        ready.delete(emitted)
        emitted++
      }
      while (head < waiting.length && (waiting[head] as Waiter).index < emitted + window) {
        ;(waiting[head++] as Waiter).resume()
      }
      if (head === waiting.length) {
        waiting.length = 0
        head = 0
      }
      return run
    }

    return source.pipe(
      // `mapEffect` hands each element its input index, in the order it pulls them.
      Stream.mapEffect((a, index) => Effect.andThen(admit(index), () => Effect.map(f(a), (b) => [index, b] as const)), {
        concurrency,
        unordered: true
      }),
      Stream.map(([index, b]) => release(index, b)),
      Stream.flattenIterable
    )
  })
