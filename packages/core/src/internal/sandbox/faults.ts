/**
 * The sandbox server's fault rules: which fault, if any, a request gets.
 */
import type { Fault, FaultRule } from "../../SandboxServer.ts"

/** A small seeded generator (mulberry32), so a "share of requests" is the same share on every run. */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface ActiveRule {
  readonly rule: FaultRule
  remaining: number
  readonly random: () => number
}

/** A rule as the server keeps it: its count left and its seeded generator. */
export const activate = (rule: FaultRule): ActiveRule => ({
  rule,
  remaining: rule.times ?? 0,
  random: seededRandom(rule.seed ?? 1)
})

/** The fault the first matching rule plays on a request to `path` (counting it down), or `undefined`. */
export const faultFor = (rules: ReadonlyArray<ActiveRule>, path: string): Fault | undefined => {
  for (const active of rules) {
    const { rule } = active
    if (rule.path !== undefined && !path.includes(rule.path)) continue
    if (rule.times !== undefined) {
      if (active.remaining <= 0) continue
      active.remaining -= 1
      return rule.fault
    }
    if (rule.share !== undefined && active.random() < rule.share) return rule.fault
  }
  return undefined
}
