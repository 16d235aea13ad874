import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { RetryPolicy } from "@reword/core/adapter"
import { Clock, Duration, Effect, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"

/** An operation that fails with the given reasons in turn, then succeeds; it records when each attempt began. */
const flaky = (failures: ReadonlyArray<EditError.EditErrorReason>) =>
  Effect.gen(function* () {
    const attempts = yield* Ref.make<Array<number>>([])
    const operation = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const made = yield* Ref.updateAndGet(attempts, (list) => [...list, now])
      const failure = failures[made.length - 1]
      if (failure !== undefined) return yield* Effect.fail(failure)
      return "done"
    })
    return { attempts, operation }
  })

const noJitter = (options: RetryPolicy.RetryOptions = {}) => RetryPolicy.make({ jitter: false, ...options })

describe("RetryPolicy", () => {
  it.effect("retries retryable failures with exponential backoff until success", () =>
    Effect.gen(function* () {
      const { attempts, operation } = yield* flaky([
        new EditError.Unavailable({ status: 503 }),
        new EditError.Network({ description: "reset" })
      ])
      const fiber = yield* Effect.forkChild(RetryPolicy.retry(noJitter({ initialDelay: "1 second" }))(operation))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "done")
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 1000, 3000])
    })
  )

  it.effect("waits at least the provider's retryAfter", () =>
    Effect.gen(function* () {
      const { attempts, operation } = yield* flaky([new EditError.RateLimited({ retryAfter: Duration.seconds(20) })])
      const fiber = yield* Effect.forkChild(RetryPolicy.retry(noJitter())(operation))
      yield* TestClock.adjust("19 seconds")
      assert.deepStrictEqual(yield* Ref.get(attempts), [0])
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "done")
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 20_000])
    })
  )

  it.effect("never retries a reason that is not retryable", () =>
    Effect.gen(function* () {
      const { attempts, operation } = yield* flaky([new EditError.Unauthorized({ status: 401 })])
      const error = yield* Effect.flip(RetryPolicy.retry(noJitter())(operation))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual((yield* Ref.get(attempts)).length, 1)
    })
  )

  it.effect("stops after maxAttempts and returns the last failure", () =>
    Effect.gen(function* () {
      const failures = Array.from({ length: 10 }, (_, i) => new EditError.Unavailable({ status: 500 + i }))
      const { attempts, operation } = yield* flaky(failures)
      const fiber = yield* Effect.forkChild(Effect.flip(RetryPolicy.retry(noJitter({ maxAttempts: 3 }))(operation)))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual((yield* Ref.get(attempts)).length, 3)
      assert.strictEqual(error._tag === "Unavailable" ? error.status : undefined, 502)
    })
  )

  it.effect("gives up at once when the wait would pass the time budget, keeping retryAfter for the app", () =>
    Effect.gen(function* () {
      const { attempts, operation } = yield* flaky([
        new EditError.Unavailable({}),
        new EditError.RateLimited({ retryAfter: Duration.minutes(10) })
      ])
      const fiber = yield* Effect.forkChild(
        Effect.flip(RetryPolicy.retry(noJitter({ maxElapsed: "30 seconds", initialDelay: "1 second" }))(operation))
      )
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RateLimited")
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 1000])
    })
  )

  it.effect("caps each backoff at maxDelay and spreads it with jitter within 0.8x to 1.2x", () =>
    Effect.gen(function* () {
      const failures = Array.from({ length: 5 }, () => new EditError.Unavailable({}))
      const { attempts, operation } = yield* flaky(failures)
      const policy = RetryPolicy.make({ maxAttempts: 6, initialDelay: "1 second", maxDelay: "3 seconds", jitter: true })
      const fiber = yield* Effect.forkChild(RetryPolicy.retry(policy)(operation))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Fiber.join(fiber), "done")
      const times = yield* Ref.get(attempts)
      const gaps = times.slice(1).map((time, i) => time - (times[i] as number))
      const expected = [1000, 2000, 3000, 3000, 3000]
      gaps.forEach((gap, i) => {
        const base = expected[i] as number
        assert.isAtLeast(gap, base * 0.8)
        assert.isAtMost(gap, base * 1.2)
      })
    })
  )

  it("refuses nonsense settings at construction", () => {
    assert.throws(() => RetryPolicy.make({ maxAttempts: 0 }), RangeError, "maxAttempts must be an integer at least 1")
    assert.throws(() => RetryPolicy.make({ maxDelay: Number.POSITIVE_INFINITY }), RangeError, "maxDelay")
    assert.throws(() => RetryPolicy.make({ initialDelay: Number.NaN }), RangeError, "initialDelay")
  })
})
