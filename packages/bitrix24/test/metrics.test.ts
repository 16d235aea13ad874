import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, RateLimiter } from "@reword/bitrix24"
import { Metrics } from "@reword/core"
import { Clock, Duration, Effect, Fiber, Metric } from "effect"
import { TestClock } from "effect/testing"
import nock from "nock"
import {
  ACCESS,
  bodyOf,
  NEW_ACCESS,
  NEW_REFRESH,
  OAUTH,
  okItem,
  PORTAL,
  REFRESH,
  request,
  SECRET,
  settings,
  success,
  TOKEN_PATH,
  UPDATE_PATH
} from "./support/bitrix24.ts"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.disableNetConnect()
})
afterEach(() => {
  nock.cleanAll()
})

/** `reword.rate_limit.wait` of Bitrix24 for one kind of wait: how many, and how many seconds in all. */
const waits = (wait: Metrics.Wait) =>
  Effect.map(
    Metric.value(Metric.withAttributes(Metrics.rateLimitWait, { "reword.provider": "bitrix24", "reword.wait": wait })),
    (state) => ({ count: state.count, seconds: state.sum })
  )

/** `reword.token.refreshes` of Bitrix24 for one outcome. */
const refreshes = (outcome: string) =>
  Effect.map(
    Metric.value(
      Metric.withAttributes(Metrics.tokenRefreshes, { "reword.provider": "bitrix24", "reword.outcome": outcome })
    ),
    (state) => state.count
  )

/** A portal that accepts only `valid` tokens and says `expired_token` to the others. */
const portalAccepting = (valid: ReadonlySet<string>) =>
  nock(PORTAL)
    .post(UPDATE_PATH)
    .reply(async (req: Request) => {
      const body = await bodyOf(req)
      return valid.has(body.auth)
        ? [200, success(body.MESSAGES.map((item) => okItem(item)))]
        : [401, { error: "expired_token", error_description: "The access token provided has expired" }]
    })
    .persist()

describe("Bitrix24 metrics", () => {
  it.effect("every pass through the bucket records its wait, zero waits included", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 2, capacity: 3 }, headroom: 0 })
      const passed: Array<number> = []
      const fibers = yield* Effect.forEach(Array.from({ length: 6 }), () =>
        Effect.forkChild(
          Effect.andThen(
            limiter.acquire("https://a.test"),
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => passed.push(now)))
          )
        )
      )
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(passed, [0, 0, 0, 500, 1000, 1500])
      // Three went at once, then one each 500 ms: 0 + 0 + 0 + 0.5 + 1 + 1.5 s.
      assert.deepStrictEqual(yield* waits("bucket"), { count: 6, seconds: 3 })
      assert.deepStrictEqual(yield* waits("operating_time"), { count: 0, seconds: 0 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("a wait for a blocked method's operating time is recorded as operating_time", () =>
    Effect.gen(function* () {
      portalAccepting(new Set([ACCESS]))
      const limiter = RateLimiter.make({ operatingFallback: "10 seconds" })
      // The portal said OPERATION_TIME_LIMIT for this method a moment ago: blocked for 10 s.
      yield* limiter.block(new URL(PORTAL).origin, "imconnector.update.messages")
      // One message per call: the call leaves at once, without waiting for others to share it.
      const editor = yield* Bitrix24.make(settings(), {
        rateLimiter: limiter,
        chunkSize: 1,
        retry: { maxAttempts: 1 }
      })
      const fiber = yield* Effect.forkChild(editor.update(request(1)))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* waits("operating_time"), { count: 1, seconds: 10 })
      const bucket = yield* waits("bucket")
      assert.deepStrictEqual(bucket, { count: 1, seconds: 0 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.live("token refreshes by outcome, and no token or secret in any metric", () =>
    Effect.gen(function* () {
      portalAccepting(new Set([NEW_ACCESS]))
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(200, { access_token: NEW_ACCESS, refresh_token: NEW_REFRESH, expires_in: 3600 })
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      yield* editor.update(request(1))
      assert.strictEqual(yield* refreshes("refreshed"), 1)

      // Another session whose refresh token the OAuth server refuses.
      nock(OAUTH).post(TOKEN_PATH).reply(400, { error: "invalid_grant", error_description: "refresh token expired" })
      const refused = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      const failure = yield* Effect.flip(refused.update(request(2)))
      assert.strictEqual(failure.reason._tag, "Unauthorized")
      assert.strictEqual(yield* refreshes("Unauthorized"), 1)
      assert.strictEqual(yield* refreshes("refreshed"), 1)

      const everything = JSON.stringify(yield* Metric.snapshot, (_, value) =>
        value instanceof Map ? [...value] : typeof value === "bigint" ? String(value) : value
      )
      for (const secret of [ACCESS, REFRESH, SECRET, NEW_ACCESS, NEW_REFRESH]) {
        assert.notInclude(everything, secret)
      }
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
