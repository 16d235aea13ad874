/**
 * The options only Telegram understands (`limits`, `rateLimiter`), checked
 * once when the options are decoded, and the limiter they choose.
 */
import type { EditError } from "@reword/core"
import { OptionCheck } from "@reword/core/adapter"
import { Effect, Option, Predicate, Result } from "effect"
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

/** `limits`: `false`, or an object of the three limits (each a finite number of at least 0). */
const limitsProblems = (limits: unknown): ReadonlyArray<EditError.Problem> => {
  if (limits === false) return []
  if (!Predicate.isObject(limits) || Array.isArray(limits))
    return [{ path: "", message: "must be false or an object of limits" }]
  const given = limits as Record<string, unknown>
  return [
    ...Object.keys(given)
      .filter((key) => !(LIMIT_KEYS as ReadonlyArray<string>).includes(key))
      .map((key) => ({ path: key, message: `is not a limit: the limits are ${LIMIT_KEYS.join(", ")}` })),
    ...LIMIT_KEYS.flatMap((key) => OptionCheck.finite(key, given[key], { min: 0 }))
  ]
}

/** The options only Telegram understands, declared once and decoded once with core's. */
export const OwnOptionsSchema = OptionCheck.struct({
  limits: OptionCheck.field<OwnOptions["limits"]>(limitsProblems),
  rateLimiter: OptionCheck.field<OwnOptions["rateLimiter"]>((value) =>
    isLimiter(value) ? [] : [{ path: "", message: "must be a TelegramRateLimiter (TelegramRateLimiter.make())" }]
  )
})

/** The problems of the options only Telegram understands, each naming its field. */
export const ownProblems = (options: OwnOptions): ReadonlyArray<EditError.Problem> => {
  const decoded = OptionCheck.decode(OwnOptionsSchema, options)
  return Result.isFailure(decoded) ? decoded.failure : []
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
