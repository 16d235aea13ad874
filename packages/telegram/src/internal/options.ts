/**
 * The options only Telegram understands (`limits`, `rateLimiter`), checked
 * once when the options are decoded, and the limiter they choose.
 */
import type { EditError } from "@reword/core"
import { OptionCheck } from "@reword/core/adapter"
import { Effect, Option, Predicate } from "effect"
import * as TelegramRateLimiter from "../TelegramRateLimiter.ts"

/** What the client and the editor take besides core's options. */
export interface OwnOptions {
  /**
   * The limits the bot keeps to (default the Bot FAQ's: 30 calls a second,
   * 1 a second per chat, 20 a minute per group), or `false` to turn the
   * client-side limiter off (429 answers are still honoured, by retries).
   */
  readonly limits?: TelegramRateLimiter.Limits | false | undefined
  /** A limiter shared with other editors and clients of the same bot (it wins over `limits`). */
  readonly rateLimiter?: TelegramRateLimiter.Service | undefined
}

const LIMIT_KEYS = ["perSecond", "perChatPerSecond", "perGroupPerMinute"] as const

const isLimiter = (value: unknown): value is TelegramRateLimiter.Service =>
  Predicate.isObject(value) &&
  typeof (value as Record<string, unknown>).withPermit === "function" &&
  typeof (value as Record<string, unknown>).pause === "function"

/** The problems of the options only Telegram understands, each naming its field. */
export const ownProblems = (options: OwnOptions): ReadonlyArray<EditError.Problem> => {
  const problems: Array<EditError.Problem> = []
  const { limits, rateLimiter } = options
  if (rateLimiter !== undefined && !isLimiter(rateLimiter)) {
    problems.push({ path: "rateLimiter", message: "must be a TelegramRateLimiter (TelegramRateLimiter.make())" })
  }
  if (limits === undefined || limits === false) return problems
  if (!Predicate.isObject(limits) || Array.isArray(limits)) {
    return [...problems, { path: "limits", message: "must be false or an object of limits" }]
  }
  for (const key of Object.keys(limits)) {
    if (!(LIMIT_KEYS as ReadonlyArray<string>).includes(key)) {
      problems.push({ path: `limits.${key}`, message: `is not a limit: the limits are ${LIMIT_KEYS.join(", ")}` })
    }
  }
  for (const key of LIMIT_KEYS) {
    problems.push(...OptionCheck.finite(`limits.${key}`, limits[key], { min: 0 }))
  }
  return problems
}

/** The limiter the options choose: theirs, the one in context, a new one, or none (`limits: false`). */
export const limiterOf = (options: OwnOptions): Effect.Effect<TelegramRateLimiter.Service | undefined> =>
  options.rateLimiter !== undefined
    ? Effect.succeed(options.rateLimiter)
    : options.limits === false
      ? Effect.succeed(undefined)
      : Effect.map(
          Effect.serviceOption(TelegramRateLimiter.TelegramRateLimiter),
          (shared) => Option.getOrUndefined(shared) ?? TelegramRateLimiter.make(options.limits || {})
        )
