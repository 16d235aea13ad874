/**
 * No call waits behind the client-side bucket past its retry budget: a call
 * whose projected wait is longer fails at once with `RateLimited` and a
 * `retryAfter` (issue 10, item 9).
 */
import { assert, describe, it } from "@effect/vitest"
import { RateLimiter } from "@reword/bitrix24"
import { Duration, Effect, Exit, Fiber, Result } from "effect"
import { okItem, request, success } from "./support/bitrix24.ts"
import { bodyJson, editorOn, json } from "./support/fakeServer.ts"

const BUDGET_MS = 300
/** Scheduling slack on a loaded machine (still far below the 4 s that 40 calls at 10/s would wait unbounded). */
const SLACK_MS = 1_500

describe("the client-side bucket within the retry budget (item 9)", () => {
  it.live(
    "40 concurrent updates on a small bucket: none waits past its budget; those that cannot fit fail fast with RateLimited and retryAfter",
    () =>
      Effect.gen(function* () {
        const editor = yield* editorOn(
          (seen) => json(200, success(bodyJson(seen).MESSAGES.map((item) => okItem(item)))),
          {
            // One message per call: concurrent update() calls would otherwise share calls; this test is about 40 calls.
            chunkSize: 1,
            // 10 requests/s, 3 in a burst (2 with the default headroom).
            rateLimit: { bucket: { drainPerSecond: 10, capacity: 3 } },
            retry: { maxAttempts: 3, initialDelay: 10, maxDelay: 50, maxElapsed: BUDGET_MS, jitter: false }
          }
        )
        const timed = yield* Effect.forEach(
          Array.from({ length: 40 }, (_, n) => n),
          (n) =>
            Effect.gen(function* () {
              const started = Date.now()
              const result = yield* Effect.result(editor.update(request(n)))
              return { result, elapsed: Date.now() - started }
            }),
          { concurrency: "unbounded" }
        )
        const succeeded = timed.filter(({ result }) => Result.isSuccess(result))
        const failed = timed.filter(({ result }) => Result.isFailure(result))
        assert.isAtLeast(succeeded.length, 2)
        assert.isAtLeast(failed.length, 1)
        for (const { elapsed } of timed) assert.isAtMost(elapsed, BUDGET_MS + SLACK_MS)
        for (const { result, elapsed } of failed) {
          if (Result.isSuccess(result)) continue
          assert.strictEqual(result.failure.reason._tag, "RateLimited")
          const retryAfter = "retryAfter" in result.failure.reason ? result.failure.reason.retryAfter : undefined
          assert.isDefined(retryAfter)
          assert.isTrue(retryAfter !== undefined && Duration.toMillis(retryAfter) > 0)
          assert.isAtMost(elapsed, BUDGET_MS + SLACK_MS)
        }
        // The calls that could not fit were refused at once, not after waiting out the budget.
        assert.isTrue(failed.some(({ elapsed }) => elapsed < BUDGET_MS / 2))
      })
  )

  it.live("withPermitWithin: a projected wait longer than allowed fails at once; one within it waits its turn", () =>
    Effect.gen(function* () {
      // Slow enough for a loaded machine: the steps below may take up to a second.
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 0.5, capacity: 2 }, headroom: 0 })
      const portal = "https://acme.bitrix24.test"
      const within = limiter.withPermitWithin(portal, Duration.seconds(3))
      yield* within(Effect.void)
      yield* within(Effect.void)
      // The bucket is full: room for one more in ~2 s (within 3 s), for the next in ~4 s (not).
      const queued = yield* Effect.forkChild(within(Effect.void))
      yield* Effect.sleep("5 millis")
      const refused = yield* Effect.exit(within(Effect.void))
      assert.isTrue(Exit.isFailure(refused))
      const waited = yield* Fiber.await(queued)
      assert.isTrue(Exit.isSuccess(waited))
    })
  )
})
