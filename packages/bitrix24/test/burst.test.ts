import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, RateLimiter } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Array as Arr, Effect, Result } from "effect"
import nock from "nock"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1")
})
afterAll(() => {
  nock.disableNetConnect()
})

const BURST = 300

const request = (n: number, text: string) => ({
  ids: { externalMessageId: `m-${n}`, externalChatId: "chat-1", externalAuthorId: "user-1" },
  text
})

/**
 * Slow on purpose: about two minutes of real time. The sandbox here enforces
 * the real default limit (drains 2 requests/s, refuses above 50), unscaled, so
 * 300 requests cannot finish sooner than (300 - 50) / 2 = 125 s. Scaled-down
 * buckets are tested in edit-over-http.test.ts; this one shows the default
 * limiter against the real numbers, over real HTTP.
 */
describe("a burst of 300 updates against a portal enforcing 2/s with a burst of 50 (slow: ~2 minutes)", () => {
  it.live(
    "the adapter's default limiter meets zero QUERY_LIMIT_EXCEEDED, and all 300 succeed",
    () =>
      Effect.gen(function* () {
        const server = yield* Bitrix24Sandbox.scoped({ bucket: RateLimiter.presets.standard })
        // No rateLimit or rateLimiter option: the default limiter. A call waits for the bucket only within its
        // retry budget (maxElapsed): the last of 300 waits about 125 s, so the budget here is 180 s.
        const editor = yield* Bitrix24.make(server.settings, {
          retry: { maxAttempts: 1, maxElapsed: "180 seconds" },
          // One message per call: concurrent update() calls would otherwise share calls; this test is about 300 calls.
          chunkSize: 1
        })
        const started = Date.now()
        // 300 separate imconnector.update.messages calls, all sent at once from the app's side.
        const outcomes = yield* Effect.forEach(
          Arr.range(1, BURST),
          (n) => Effect.result(editor.update(request(n, `burst ${n}`))),
          { concurrency: "unbounded" }
        )
        const seconds = (Date.now() - started) / 1000
        assert.strictEqual(server.limitHits(), 0)
        assert.strictEqual(outcomes.filter(Result.isSuccess).length, BURST)
        assert.strictEqual(server.calls("imconnector.update.messages"), BURST)
        // The limiter spent the burst at once and the rest at the drain rate: not much slower than it must be.
        assert.isAtLeast(seconds, (BURST - 50) / 2)
        assert.isBelow(seconds, (BURST - 50) / 2 + 15)
      }).pipe(Effect.scoped),
    240_000
  )
})
