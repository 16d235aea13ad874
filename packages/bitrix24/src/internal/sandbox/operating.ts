/**
 * The operating-time limit, per method (the sandbox serves one application):
 * the server time a method used is kept in ten baskets, each opened by the
 * first call of its tenth of the window (a minute, on a real portal) and
 * dropped when the window has passed since. `operating` is the total of the
 * baskets kept; `operating_reset_at` when the oldest one drops out (Unix
 * seconds). A call is refused (`429 OPERATION_TIME_LIMIT`) while the total
 * exceeds the limit; the call that takes it over the limit still runs.
 * A call costs `costPerCall` plus `costPerMessage` for each message it
 * carries: its server time, as `time.duration` reports it.
 */

export interface Settings {
  /** The operating time a method may use in the window, in seconds. */
  readonly limitSeconds: number
  /** The window, in seconds (600 on a real portal). */
  readonly windowSeconds: number
  /** The operating time each call is counted as using, in seconds. */
  readonly costPerCall: number
  /** The operating time each message a call carries adds, in seconds. */
  readonly costPerMessage: number
}

interface Basket {
  /** Unix seconds (whole, as the portal keeps them). */
  readonly start: number
  total: number
}

/** A method's state, as an answer's `time` reports it. */
export interface Snapshot {
  /** Seconds used in the window. */
  readonly operating: number
  /** When the oldest basket drops out, Unix seconds (`undefined` when nothing is kept). */
  readonly resetAt: number | undefined
}

export interface Operating {
  readonly settings: Settings
  /** The method's state at `now` (Unix millis). */
  readonly snapshot: (method: string, now: number) => Snapshot
  /** Whether the method is blocked at `now`. */
  readonly blocked: (method: string, now: number) => boolean
  /** The server time a call carrying `messages` costs, in seconds. */
  readonly costOf: (messages: number) => number
  /** Counts one call of the method carrying `messages` at `now`, and answers the state after it. */
  readonly record: (method: string, now: number, messages?: number) => Snapshot
}

export const make = (settings: Settings): Operating => {
  const methods = new Map<string, Array<Basket>>()
  const basketSeconds = settings.windowSeconds / 10

  const kept = (method: string, now: number): Array<Basket> => {
    const seconds = now / 1000
    const baskets = (methods.get(method) ?? []).filter((basket) => basket.start + settings.windowSeconds > seconds)
    methods.set(method, baskets)
    return baskets
  }

  const snapshot = (method: string, now: number): Snapshot => {
    const baskets = kept(method, now)
    const [oldest] = baskets
    const total = baskets.reduce((sum, basket) => sum + basket.total, 0)
    return {
      // Rounded to the microsecond, as the portal's own floats are.
      operating: Math.round(total * 1e6) / 1e6,
      resetAt: oldest === undefined ? undefined : oldest.start + settings.windowSeconds
    }
  }

  const costOf = (messages: number) => settings.costPerCall + settings.costPerMessage * Math.max(0, messages)

  return {
    settings,
    snapshot,
    costOf,
    blocked: (method, now) => snapshot(method, now).operating > settings.limitSeconds,
    record: (method, now, messages = 0) => {
      const baskets = kept(method, now)
      const seconds = now / 1000
      const cost = costOf(messages)
      const last = baskets.at(-1)
      if (last !== undefined && seconds < last.start + basketSeconds) last.total += cost
      else baskets.push({ start: Math.floor(seconds), total: cost })
      return snapshot(method, now)
    }
  }
}
