/**
 * Holding requests until several are in flight, so that a test can see how
 * many requests a client really runs at once: a wrapper around a handler that
 * counts requests in flight and, when asked, holds them in groups.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import type { HoldOptions } from "./model.ts"

/** A handler that counts (and can hold) the requests it serves. */
export interface Gate {
  readonly handler: SandboxServer.Handler
  /** The most requests in flight at once since the last `hold`. */
  readonly maxInFlight: () => number
  /** Starts (or, with `undefined`, stops) holding, and starts counting `maxInFlight` afresh. */
  readonly hold: (options: HoldOptions | undefined) => void
  /** Lets every held request go. */
  readonly release: () => void
}

/** Wraps a handler in a gate. */
export const make = (inner: SandboxServer.Handler): Gate => {
  let inFlight = 0
  let maxInFlight = 0
  let holding: HoldOptions | undefined
  let held: Array<() => void> = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let groupFull = false

  const release = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    groupFull = false
    const waiting = held
    held = []
    for (const resume of waiting) resume()
  }

  const wait = (): Promise<void> => {
    const current = holding
    if (current === undefined || current.untilInFlight <= 1) return Promise.resolve()
    return new Promise((resolve) => {
      held.push(resolve)
      if (held.length >= current.untilInFlight && !groupFull) {
        groupFull = true
        if (timer !== undefined) clearTimeout(timer)
        timer = setTimeout(release, current.graceMs ?? 20)
      } else if (timer === undefined) {
        timer = setTimeout(release, current.timeoutMs)
      }
    })
  }

  const handler: SandboxServer.Handler = async (request) => {
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    try {
      await wait()
      return await inner(request)
    } finally {
      // Counted out before the answer is written: a client may send its next request as soon as it reads it.
      inFlight -= 1
    }
  }

  return {
    handler,
    maxInFlight: () => maxInFlight,
    hold: (options) => {
      release()
      holding = options
      maxInFlight = inFlight
    },
    release
  }
}
