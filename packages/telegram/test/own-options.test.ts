/**
 * Telegram's own options (`limits`, `rateLimiter`) are one Schema, decoded once with core's: each wrong value
 * is a configuration error naming its path, before anything is built or sent.
 */
import { Telegram } from "@reword/telegram"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"

const settings = { botToken: Redacted.make("5550001:AAownOptionsTestTokenForTheSchema") }

const problemOf = (options: object): string =>
  Effect.runSync(
    Effect.match(Effect.scoped(Telegram.make(settings, options as Telegram.Options)), {
      onFailure: (error) => error.message,
      onSuccess: () => "built"
    })
  )

describe("Telegram's own options", () => {
  it.each([
    [{ limits: { perSecnd: 5 } }, /limits\.perSecnd is not a limit: the limits are perSecond, perChatPerSecond/],
    [{ limits: { perSecond: -1 } }, /limits\.perSecond must be a finite number at least 0 \(got -1\)/],
    [{ limits: { perChatPerSecond: Number.NaN } }, /limits\.perChatPerSecond must be a finite number/],
    [{ limits: "fast" }, /limits must be false or an object of limits/],
    [{ limits: [] }, /limits must be false or an object of limits/],
    [{ rateLimiter: {} }, /rateLimiter must be a TelegramRateLimiter/]
  ])("%j is refused, naming the field", (options, message) => {
    expect(problemOf(options)).toMatch(message)
  })

  it("names every wrong field at once", () => {
    const message = problemOf({ limits: { perSecond: -1, perGroupPerMinute: "20" }, rateLimiter: 1 })
    expect(message).toMatch(/limits\.perSecond/)
    expect(message).toMatch(/limits\.perGroupPerMinute/)
    expect(message).toMatch(/rateLimiter/)
  })

  it("takes good limits, and false", () => {
    expect(problemOf({ limits: { perSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20 } })).toBe("built")
    expect(problemOf({ limits: false })).toBe("built")
  })
})
