/**
 * The rate limits a sandbox enforces, when asked to: sliding windows per bot,
 * per chat and per group, counting the calls they let through; a call past
 * one is answered 429 with `retry_after` (whole seconds, as Telegram does).
 */
import type { EnforcedLimits } from "./model.ts"

export interface Enforcer {
  /** Counts a call to this chat and answers `undefined`, or answers the seconds to wait (nothing counted). */
  readonly admit: (chatId: number) => number | undefined
  /** The calls refused so far. */
  readonly refused: () => number
}

/** An enforcer of `limits` on the sandbox's clock. */
export const make = (limits: EnforcedLimits, now: () => number): Enforcer => {
  const windows = new Map<string, Array<number>>()
  let refused = 0

  const rulesOf = (chatId: number): ReadonlyArray<readonly [string, number, number]> => {
    const rules: Array<readonly [string, number, number]> = []
    if (limits.perSecond !== undefined) rules.push(["bot", limits.perSecond, 1_000])
    if (limits.perChatPerSecond !== undefined) rules.push([`chat:${chatId}`, limits.perChatPerSecond, 1_000])
    if (limits.perGroupPerMinute !== undefined && chatId < 0) {
      rules.push([`group:${chatId}`, limits.perGroupPerMinute, 60_000])
    }
    return rules
  }

  const admit = (chatId: number): number | undefined => {
    const at = now()
    const rules = rulesOf(chatId)
    let wait = 0
    for (const [key, count, span] of rules) {
      const window = (windows.get(key) ?? []).filter((time) => time > at - span)
      windows.set(key, window)
      if (window.length >= count) wait = Math.max(wait, (window[window.length - count] ?? at) + span - at)
    }
    if (wait > 0) {
      refused += 1
      return Math.max(1, Math.ceil(wait / 1000))
    }
    for (const [key] of rules) windows.get(key)?.push(at)
    return undefined
  }

  return { admit, refused: () => refused }
}
