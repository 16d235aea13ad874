/**
 * Core's provider-neutral limiter, in one process (`SharedLimiter.local`, what
 * a shared limiter falls back to): slots spaced `(per + delay) / count` apart
 * on every key a call names, a call that would wait too long refused taking
 * nothing, a slot given back by an interrupted caller, `fromAnswer`, `pause`.
 */
import { assert, describe, it } from "@effect/vitest"
import { SharedLimiter } from "@reword/core/adapter"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

const rule = (key: string, count: number, fromAnswer = false): SharedLimiter.Rule => ({
  key,
  count,
  per: Duration.seconds(1),
  fromAnswer
})

/** When each call ran (test-clock ms), the calls started together. */
const startTimes = (limiter: SharedLimiter.Service, calls: ReadonlyArray<ReadonlyArray<SharedLimiter.Rule>>) =>
  Effect.gen(function* () {
    const start = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
    const times: Array<number> = []
    const fiber = yield* Effect.forkChild(
      Effect.all(
        calls.map((rules) =>
          limiter.withPermit(
            rules,
            Duration.hours(1)
          )(Effect.clockWith((clock) => Effect.sync(() => times.push(clock.currentTimeMillisUnsafe()))))
        ),
        { concurrency: "unbounded" }
      )
    )
    yield* TestClock.adjust("1 minute")
    yield* Fiber.join(fiber)
    return times.map((at) => at - start).sort((a, b) => a - b)
  })

describe("SharedLimiter.local", () => {
  it.effect("spaces a key's slots by (per + delay) / count; a call on two keys waits for the busier", () =>
    Effect.gen(function* () {
      const limiter = SharedLimiter.local({ delay: "100 millis" })
      // 11 a second with 100 ms of delay: 100 ms apart.
      assert.deepStrictEqual(
        yield* startTimes(
          limiter,
          [0, 1, 2].map(() => [rule("bot", 11)])
        ),
        [0, 100, 200]
      )
      const both = yield* startTimes(SharedLimiter.local({ delay: 0 }), [
        [rule("chat", 1)],
        [rule("chat", 1), rule("bot", 100)]
      ])
      assert.deepStrictEqual(both, [0, 1_000])
    })
  )

  it.effect("refuses at once a call that would wait too long, taking nothing; pause holds a key", () =>
    Effect.gen(function* () {
      const limiter = SharedLimiter.local({ delay: 0 })
      yield* limiter.withPermit([rule("k", 1)], Duration.zero)(Effect.void)
      const refused = yield* Effect.flip(
        limiter.withPermit([rule("k", 1), rule("j", 1)], Duration.millis(500))(Effect.void)
      )
      assert.instanceOf(refused, SharedLimiter.LimitFull)
      assert.strictEqual(Duration.toMillis(refused.retryAfter), 1_000)
      // Nothing was taken on "j".
      yield* limiter.withPermit([rule("j", 1)], Duration.zero)(Effect.void)
      yield* limiter.pause("p", Duration.seconds(30))
      const paused = yield* Effect.flip(limiter.withPermit([rule("p", 1)], Duration.seconds(5))(Effect.void))
      assert.strictEqual(Duration.toMillis(paused.retryAfter), 30_000)
    })
  )

  it.effect("an interrupted waiter gives its slot back; fromAnswer counts from the answer", () =>
    Effect.gen(function* () {
      const limiter = SharedLimiter.local({ delay: 0 })
      yield* limiter.withPermit([rule("k", 1)], Duration.zero)(Effect.void)
      const waiting = yield* Effect.forkChild(limiter.withPermit([rule("k", 1)], Duration.hours(1))(Effect.void))
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(waiting)
      const refused = yield* Effect.flip(limiter.withPermit([rule("k", 1)], Duration.zero)(Effect.void))
      assert.strictEqual(Duration.toMillis(refused.retryAfter), 900)
      const answered = SharedLimiter.local({ delay: 0 })
      const slow = Effect.sleep("400 millis")
      const fiber = yield* Effect.forkChild(answered.withPermit([rule("c", 1, true)], Duration.zero)(slow))
      yield* TestClock.adjust("400 millis")
      yield* Fiber.join(fiber)
      const next = yield* Effect.flip(answered.withPermit([rule("c", 1, true)], Duration.zero)(Effect.void))
      assert.strictEqual(Duration.toMillis(next.retryAfter), 1_000)
    })
  )
})
