/**
 * The database's clock seen from this process: when a slot read on the
 * database's clock comes, on this process's monotonic clock, at the latest.
 *
 * Every answer carries the database's time `now`, read before the answer
 * left; the answer came back at `received` (local). So `now - received` is
 * a lower bound of the offset between the two clocks, and the best bound
 * seen (the answer that came back quickest) is kept, aged by a drift
 * allowance of 100 ppm (clocks drift apart by far less). A slot mapped with
 * it is never early, and late only by the quickest round trip seen: a call
 * leaves at its slot, not at its slot plus however late its answer came back
 * (a busy event loop, a queue of statements), which would bunch calls up.
 */

/** How fast two clocks may drift apart (100 ppm). */
const DRIFT = 1e-4

export interface DbClock {
  /** One answer: the database's time in it (ms) and when it came back (local monotonic ms). */
  readonly observe: (dbNow: number, received: number) => void
  /** The local monotonic ms at which the database's clock reads `dbTime`, at the latest. */
  readonly localAt: (dbTime: number) => number
}

export const make = (): DbClock => {
  let offset = Number.NEGATIVE_INFINITY
  let at = 0
  return {
    observe: (dbNow, received) => {
      const aged = offset - Math.max(0, received - at) * DRIFT
      offset = Math.max(dbNow - received, aged)
      at = received
    },
    localAt: (dbTime) => dbTime - offset
  }
}
