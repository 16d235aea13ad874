/**
 * The Bot FAQ's limits, kept by the client: 30 calls a second overall, 1 a
 * second per chat, 20 a minute per group; a wait longer than the call may
 * take is `RateLimited` at once; a 429 pauses the chat. The limiter on a
 * test clock, then against the sandbox enforcing the same limits.
 */
import { assert, describe, it } from "@effect/vitest"
import { Telegram, TelegramRateLimiter } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Duration, Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"

/** Runs `count` calls to `chat` at once through the limiter, answering when each one went (test-clock ms). */
const startTimes = (limiter: TelegramRateLimiter.Service, chats: ReadonlyArray<number | string>) =>
  Effect.gen(function* () {
    const start = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
    const times: Array<number> = []
    const fiber = yield* Effect.forkChild(
      Effect.forEach(
        chats,
        (chat) =>
          limiter.withPermit(
            chat,
            Duration.hours(1)
          )(Effect.clockWith((clock) => Effect.sync(() => times.push(clock.currentTimeMillisUnsafe())))),
        { concurrency: "unbounded" }
      )
    )
    yield* TestClock.adjust("10 minutes")
    yield* Fiber.join(fiber)
    return times.map((at) => at - start).sort((a, b) => a - b)
  })

describe("the client-side limiter", () => {
  it.effect("lets one call a second into a private chat", () =>
    Effect.gen(function* () {
      const times = yield* startTimes(TelegramRateLimiter.make(), [42, 42, 42])
      assert.deepStrictEqual(times, [0, 1_000, 2_000])
    })
  )

  it.effect("lets 20 calls a minute into a group (one every 3 s), and 30 a second overall", () =>
    Effect.gen(function* () {
      const group = yield* startTimes(TelegramRateLimiter.make(), [-100123, -100123, -100123])
      assert.deepStrictEqual(group, [0, 3_000, 6_000])
      const chats = Array.from({ length: 61 }, (_, n) => n + 1)
      const overall = yield* startTimes(TelegramRateLimiter.make(), chats)
      // 30 a second: the next 30 go once the first 30 answers are a second old.
      assert.deepStrictEqual(
        [0, 1_000, 2_000].map((at) => overall.filter((time) => time === at).length),
        [30, 30, 1]
      )
    })
  )

  it.effect("calls into one chat never overlap: each leaves a second after the answer before it", () =>
    Effect.gen(function* () {
      const limiter = TelegramRateLimiter.make()
      const start = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
      const times: Array<number> = []
      // Each call takes 300 ms to answer: with slots alone, the second would leave at 1 s, 700 ms after that answer.
      const slow = Effect.clockWith((clock) =>
        Effect.andThen(
          Effect.sync(() => times.push(clock.currentTimeMillisUnsafe() - start)),
          Effect.sleep("300 millis")
        )
      )
      const fiber = yield* Effect.forkChild(
        Effect.all(
          [0, 1, 2].map(() => limiter.withPermit(42, Duration.hours(1))(slow)),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        times.sort((a, b) => a - b),
        [0, 1_300, 2_600]
      )
    })
  )

  it.effect("refuses at once a call that would wait longer than it may, taking nothing", () =>
    Effect.gen(function* () {
      const limiter = TelegramRateLimiter.make()
      yield* limiter.withPermit(7, Duration.seconds(1))(Effect.void)
      const refused = yield* Effect.flip(limiter.withPermit(7, Duration.millis(500))(Effect.void))
      assert.instanceOf(refused, TelegramRateLimiter.LimitReached)
      assert.deepStrictEqual(refused.retryAfter, Duration.seconds(1))
      // The refused call took no place: the next one goes at 1 s.
      const times = yield* startTimes(limiter, [7])
      assert.deepStrictEqual(times, [1_000])
    })
  )

  it.effect("pauses a chat for as long as a 429 said; other chats go on", () =>
    Effect.gen(function* () {
      const limiter = TelegramRateLimiter.make()
      yield* limiter.pause(5, Duration.seconds(30))
      const times = yield* startTimes(limiter, [5, 6])
      assert.deepStrictEqual(times, [0, 30_000])
    })
  )

  it("takes its limits as options, 0 turning one off, and refuses what is not a number of calls", () => {
    const limiter = TelegramRateLimiter.make({ perChatPerSecond: 0, perSecond: 100 })
    assert.deepStrictEqual(limiter.limits, { perSecond: 100, perChatPerSecond: 0, perGroupPerMinute: 20 })
    assert.throws(() => TelegramRateLimiter.make({ perSecond: -1 }), RangeError)
    assert.isTrue(TelegramRateLimiter.isGroup(-5) && TelegramRateLimiter.isGroup("@news"))
    assert.isFalse(TelegramRateLimiter.isGroup(5))
  })

  it.effect("options: limits are checked once, limits: false turns the limiter off", () =>
    Effect.gen(function* () {
      const settings = { botToken: "123:abc" }
      const wrong = yield* Effect.flip(Telegram.make(settings, { limits: { perSecnd: 3 } as never }))
      assert.include(wrong.message, "limits.perSecnd")
      const negative = yield* Effect.flip(Telegram.make(settings, { limits: { perSecond: -3 } }))
      assert.include(negative.message, "limits.perSecond")
      const off = yield* Effect.result(Telegram.make(settings, { limits: false }))
      assert.isTrue(Result.isSuccess(off))
    })
  )
})

describe("the limiter against a sandbox enforcing the Bot FAQ's limits", () => {
  it.live("edits twice in one chat and in 40 chats with no 429 at all (about 3 s, real time)", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped({ limits: "faq" })
      const editor = yield* Telegram.make(sandbox.settings, { retry: { maxAttempts: 1 }, concurrency: 50 })
      const one = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      for (const text of ["v1", "v2"]) yield* editor.update({ ids: one, text })
      const many = yield* Effect.forEach(
        Array.from({ length: 40 }, (_, n) => n),
        (n) => Effect.promise(() => sandbox.seedMessage(`m${n}`, { externalChatId: `chat-${n}` }))
      )
      const outcomes = yield* editor.updateMany(many.map((ids, n) => ({ ids, text: `m${n}!` })))
      assert.deepStrictEqual(
        outcomes.filter(Result.isFailure).map((outcome) => outcome.failure.message),
        []
      )
      assert.strictEqual(sandbox.refusedByLimits(), 0)
      assert.deepStrictEqual(sandbox.inspect(one)?.history, ["v0", "v1", "v2"])
    })
  )

  it.live("without the limiter (limits: false) the same edits meet 429s, which the retries then honour", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped({ limits: "faq" })
      const editor = yield* Telegram.make(sandbox.settings, { limits: false, retry: { maxAttempts: 3 } })
      const one = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      for (const text of ["v1", "v2"]) yield* editor.update({ ids: one, text })
      assert.strictEqual(sandbox.refusedByLimits(), 1)
      assert.strictEqual(sandbox.inspect(one)?.text, "v2")
    })
  )
})
