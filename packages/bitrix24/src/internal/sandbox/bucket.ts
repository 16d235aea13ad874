/**
 * A portal's leaky bucket: each request adds one, the level drains at a fixed
 * rate, and a request that would take the level above the capacity is refused
 * (`503 QUERY_LIMIT_EXCEEDED`) without counting.
 */

export interface Settings {
  readonly drainPerSecond: number
  readonly capacity: number
}

export interface Bucket {
  readonly settings: Settings
  /** Takes a place for a request arriving at `now` (Unix millis); `false` when the bucket is full. */
  readonly take: (now: number) => boolean
  /** The level at `now`. */
  readonly level: (now: number) => number
}

export const make = (settings: Settings, start: number): Bucket => {
  let level = 0
  let at = start
  const drain = (now: number) => {
    const later = Math.max(at, now)
    level = Math.max(0, level - ((later - at) / 1000) * settings.drainPerSecond)
    at = later
  }
  return {
    settings,
    take: (now) => {
      drain(now)
      if (level + 1 > settings.capacity) return false
      level += 1
      return true
    },
    level: (now) => {
      drain(now)
      return level
    }
  }
}
