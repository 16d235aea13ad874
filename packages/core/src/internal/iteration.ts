/**
 * `updateEach`'s waits, each bounded: the next result or a stop, whichever
 * comes first, and the stream's close, for at most a moment.
 */

/** The longest `updateEach` waits, once stopped, for its stream to close before it rejects. */
const CLOSE_BOUND_MILLIS = 500

/**
 * The iterator's next result, or the stop of the first of `stops` to abort
 * (the caller's signal, the editor's disposal), whichever comes first: a
 * source that stops yielding, or a request that hangs, holds no one.
 */
export const nextOrStop = <A>(
  iterator: AsyncIterator<A>,
  stops: ReadonlyArray<AbortSignal>,
  stopped: () => unknown
): Promise<IteratorResult<A>> =>
  new Promise((resolve, reject) => {
    const onStop = () => {
      cleanup()
      reject(stopped())
    }
    const cleanup = () => {
      for (const stop of stops) stop.removeEventListener("abort", onStop)
    }
    for (const stop of stops) stop.addEventListener("abort", onStop, { once: true })
    iterator.next().then(
      (result) => {
        cleanup()
        resolve(result)
      },
      (error: unknown) => {
        cleanup()
        reject(error)
      }
    )
  })

/** Closes the stream (its fibers interrupted, the source's `return()` called), waiting a bounded time for it. */
export const closeBounded = async (iterator: AsyncIterator<unknown>): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_BOUND_MILLIS)
  })
  try {
    const closing = Promise.resolve(iterator.return?.()).then(
      () => undefined,
      () => undefined
    )
    await Promise.race([closing, bound])
  } finally {
    clearTimeout(timer)
  }
}
