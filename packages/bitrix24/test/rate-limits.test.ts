import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, RateLimiter } from "@reword/bitrix24"
import { Clock, Deferred, Duration, Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import nock from "nock"
import { bodyOf, okItem, PORTAL, request, settings, success, UPDATE_PATH } from "./support/bitrix24.ts"

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

/** Runs `count` acquisitions at once and answers the virtual time at which each one got through. */
const burst = (limiter: RateLimiter.Service, count: number, portal = "https://a.test") =>
  Effect.gen(function* () {
    const passed: Array<number> = []
    const fibers = yield* Effect.forEach(Array.from({ length: count }), () =>
      Effect.forkChild(
        Effect.flatMap(limiter.acquire(portal), () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => passed.push(now)))
        )
      )
    )
    return { passed, fibers }
  })

describe("RateLimiter bucket", () => {
  it.effect("lets a burst up to the capacity through at once, then one request per drain interval", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 2, capacity: 3 }, headroom: 0 })
      const { passed, fibers } = yield* burst(limiter, 6)
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(passed, [0, 0, 0])
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(passed, [0, 0, 0, 500, 1000, 1500])
    })
  )

  it.effect("drains while idle: after a pause, a new burst goes through again", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 1, capacity: 2 }, headroom: 0 })
      const first = yield* burst(limiter, 2)
      yield* Fiber.joinAll(first.fibers)
      yield* TestClock.adjust(Duration.seconds(2))
      const second = yield* burst(limiter, 2)
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(second.passed, [2000, 2000])
    })
  )

  it.effect("keeps one bucket per portal", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 1, capacity: 1 } })
      const a = yield* burst(limiter, 1, "https://a.test")
      const b = yield* burst(limiter, 1, "https://b.test")
      yield* TestClock.adjust(0)
      assert.deepStrictEqual([...a.passed, ...b.passed], [0, 0])
    })
  )

  it.effect("has the plans' presets: standard 2/s with 50, enterprise 5/s with 250", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(RateLimiter.make().bucket, { drainPerSecond: 2, capacity: 50 })
      assert.deepStrictEqual(RateLimiter.make({ bucket: "enterprise" }).bucket, { drainPerSecond: 5, capacity: 250 })
      const enterprise = RateLimiter.make({ bucket: "enterprise", headroom: 0 })
      const { passed } = yield* burst(enterprise, 251)
      yield* TestClock.adjust(0)
      assert.strictEqual(passed.length, 250)
      yield* TestClock.adjust(Duration.millis(200))
      assert.strictEqual(passed.length, 251)
    })
  )

  it.effect("keeps one request of headroom by default", () =>
    Effect.gen(function* () {
      const { passed } = yield* burst(RateLimiter.make(), 51)
      yield* TestClock.adjust(0)
      assert.strictEqual(passed.length, 49)
      yield* TestClock.adjust(Duration.millis(500))
      assert.strictEqual(passed.length, 50)
    })
  )

  it.effect("after QUERY_LIMIT_EXCEEDED the bucket counts as full: the next request waits a drain interval", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 2, capacity: 50 }, headroom: 0 })
      yield* limiter.saturated("https://a.test")
      const { passed } = yield* burst(limiter, 1)
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(passed, [])
      yield* TestClock.adjust(Duration.millis(500))
      assert.deepStrictEqual(passed, [500])
    })
  )
})

/**
 * A portal's leaky bucket on the test clock, as the Bitrix24 sandbox keeps it:
 * `arrive` answers whether a request arriving now is accepted.
 */
const portalBucket = (bucket: RateLimiter.Bucket) => {
  let level = 0
  let at = 0
  let refused = 0
  const arrive = Effect.map(Clock.currentTimeMillis, (now) => {
    level = Math.max(0, level - ((now - at) / 1000) * bucket.drainPerSecond)
    at = now
    if (level + 1 > bucket.capacity) {
      refused += 1
      return false
    }
    level += 1
    return true
  })
  return { arrive, refused: () => refused }
}

describe("RateLimiter requests in flight", () => {
  it.effect("a request in flight holds its place, and drains only from when its answer is back", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 1, capacity: 2 }, headroom: 0 })
      const answers = [Deferred.makeUnsafe<void>(), Deferred.makeUnsafe<void>()] as const
      const inFlight = (answer: Deferred.Deferred<void>) =>
        Effect.forkChild(limiter.withPermit("https://a.test")(Deferred.await(answer)))
      const first = yield* inFlight(answers[0])
      const second = yield* inFlight(answers[1])
      const { passed } = yield* burst(limiter, 1)
      yield* TestClock.adjust(Duration.seconds(10))
      // Ten seconds of a drain of 1/s, but both places are still taken by requests in flight.
      assert.deepStrictEqual(passed, [])
      yield* Deferred.succeed(answers[0], undefined)
      yield* Fiber.join(first)
      yield* TestClock.adjust(Duration.millis(999))
      assert.deepStrictEqual(passed, [])
      yield* TestClock.adjust(Duration.millis(1))
      assert.deepStrictEqual(passed, [11_000])
      yield* Deferred.succeed(answers[1], undefined)
      yield* Fiber.join(second)
    })
  )

  it.effect("requests that leave late cannot bunch up at the portal: a stalled start does not cost a refusal", () =>
    Effect.gen(function* () {
      const bucket = { drainPerSecond: 2, capacity: 5 }
      const limiter = RateLimiter.make({ bucket, headroom: 0 })
      const portal = portalBucket(bucket)
      // The first burst reaches the portal 700 ms late (a stalled event loop, new connections); the rest at once.
      const outcomes = yield* Effect.forkChild(
        Effect.forEach(
          Array.from({ length: 12 }, (_, index) => index),
          (index) =>
            limiter.withPermit("https://a.test")(
              Effect.andThen(Effect.sleep(Duration.millis(index < bucket.capacity ? 700 : 0)), portal.arrive)
            ),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust(Duration.seconds(10))
      const accepted = yield* Fiber.join(outcomes)
      assert.strictEqual(portal.refused(), 0)
      assert.isTrue(accepted.every((ok) => ok))
    })
  )

  it.effect("an interrupted request gives its place back; an interrupted wait takes none", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 1, capacity: 1 }, headroom: 0 })
      const holder = yield* Effect.forkChild(limiter.withPermit("https://a.test")(Effect.never))
      const waiter = yield* Effect.forkChild(limiter.withPermit("https://a.test")(Effect.void))
      yield* TestClock.adjust(0)
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(holder)
      // The holder's place drains in one second; the interrupted waiter left nothing behind.
      const { passed } = yield* burst(limiter, 1)
      yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual(passed, [1000])
    })
  )
})

describe("RateLimiter options", () => {
  it.effect("an editor given a bad rateLimit fails with a ConfigError, not a defect", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Bitrix24.make(settings(), { rateLimit: { bucket: { drainPerSecond: 0, capacity: 50 } } })
      )
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(error.message, "drainPerSecond")
    })
  )
})

describe("RateLimiter operating time", () => {
  it.effect("blocks a method that nears its operating limit until operating_reset_at", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make()
      yield* limiter.observe("https://a.test", "imconnector.update.messages", {
        operating: 476,
        operating_reset_at: 60
      })
      assert.deepStrictEqual(
        yield* limiter.blockedFor("https://a.test", "imconnector.update.messages"),
        Duration.seconds(60)
      )
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "imconnector.send.messages"), Duration.zero)
      yield* TestClock.adjust(Duration.seconds(60))
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "imconnector.update.messages"), Duration.zero)
    })
  )

  it.effect("does not block a method well under its limit", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make()
      yield* limiter.observe("https://a.test", "m", { operating: 100, operating_reset_at: 60 })
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "m"), Duration.zero)
    })
  )

  it.effect("after OPERATION_TIME_LIMIT with no known reset, blocks for the fallback", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ operatingFallback: "15 seconds" })
      assert.deepStrictEqual(yield* limiter.block("https://a.test", "m"), Duration.seconds(15))
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "m"), Duration.seconds(15))
    })
  )

  it.effect("reads operating_reset_at against the answer's own time: a portal clock an hour off changes nothing", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make()
      // Our clock says 0; the portal's says one hour (finish, or date_finish when finish is missing).
      yield* limiter.observe("https://a.test", "m", { operating: 476, finish: 3600.4, operating_reset_at: 3660 })
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "m"), Duration.millis(59_600))
      yield* limiter.observe("https://b.test", "m", {
        operating: 476,
        date_finish: "1970-01-01T02:00:00+01:00",
        operating_reset_at: 3645
      })
      assert.deepStrictEqual(yield* limiter.blockedFor("https://b.test", "m"), Duration.seconds(45))
    })
  )

  it.effect("an absurd operating_reset_at (milliseconds, or past the 10-minute window) counts as unknown", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ operatingFallback: "15 seconds" })
      yield* limiter.observe("https://a.test", "m", { operating: 476, finish: 1000, operating_reset_at: 1_060_000 })
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "m"), Duration.zero)
      assert.deepStrictEqual(yield* limiter.block("https://a.test", "m"), Duration.seconds(15))
      // Without the portal's own time, the reset is read against ours, with the same bounds.
      yield* limiter.observe("https://b.test", "m", { operating: 476, operating_reset_at: 3600 })
      assert.deepStrictEqual(yield* limiter.blockedFor("https://b.test", "m"), Duration.zero)
    })
  )

  it.effect("never blocks a method for longer than the 10-minute window", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make({ operatingFallback: "1 hour" })
      assert.deepStrictEqual(yield* limiter.block("https://a.test", "m"), Duration.minutes(10))
      assert.deepStrictEqual(yield* limiter.blockedFor("https://a.test", "m"), Duration.minutes(10))
    })
  )

  it.effect("an editor does not wait past its retry budget: a longer block fails at once with retryAfter", () =>
    Effect.gen(function* () {
      let calls = 0
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) => {
          calls += 1
          return success(
            (await bodyOf(req)).MESSAGES.map((item) => okItem(item)),
            { operating: 479, finish: 1000, operating_reset_at: 1045 }
          )
        })
      const editor = yield* Bitrix24.make(settings(), {
        retry: { maxAttempts: 1, maxElapsed: "10 seconds" }
      })
      yield* editor.update(request(1))
      const result = yield* Effect.result(editor.update(request(2)))
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) {
        assert.strictEqual(result.failure.reason._tag, "RateLimited")
        assert.deepStrictEqual(result.failure.retryAfter, Duration.seconds(45))
      }
      assert.strictEqual(calls, 1)
    })
  )

  it.effect("an editor waits for a blocked method's reset before calling the portal (onOperatingLimit: wait)", () =>
    Effect.gen(function* () {
      let calls = 0
      nock(PORTAL)
        .post(UPDATE_PATH)
        .times(2)
        .reply(200, async (req: Request) => {
          calls += 1
          return success(
            (await bodyOf(req)).MESSAGES.map((item) => okItem(item)),
            { operating: 479, finish: 1000, operating_reset_at: 1045 }
          )
        })
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      yield* editor.update(request(1))
      assert.strictEqual(calls, 1)
      const second = yield* Effect.forkChild(editor.update(request(2)))
      yield* TestClock.adjust(Duration.seconds(44))
      assert.strictEqual(calls, 1)
      yield* TestClock.adjust(Duration.seconds(1))
      const edited = yield* Fiber.join(second)
      assert.strictEqual(edited.ids.externalMessageId, "m-2")
      assert.strictEqual(calls, 2)
    })
  )

  it.effect("an editor fails at once with RateLimited and retryAfter when asked to (onOperatingLimit: fail)", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success(
            (await bodyOf(req)).MESSAGES.map((item) => okItem(item)),
            { operating: 479, finish: 1000, operating_reset_at: 1045 }
          )
        )
      const editor = yield* Bitrix24.make(settings(), {
        retry: { maxAttempts: 1 },
        onOperatingLimit: "fail"
      })
      yield* editor.update(request(1))
      const result = yield* Effect.result(editor.update(request(2)))
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) {
        assert.strictEqual(result.failure.reason._tag, "RateLimited")
        assert.deepStrictEqual(result.failure.retryAfter, Duration.seconds(45))
      }
    })
  )

  it.effect("editors given one RateLimiter share the portal's bucket", () =>
    Effect.gen(function* () {
      let calls = 0
      nock(PORTAL)
        .post(UPDATE_PATH)
        .times(2)
        .reply(200, async (req: Request) => {
          calls += 1
          return success((await bodyOf(req)).MESSAGES.map((item) => okItem(item)))
        })
      const limiter = RateLimiter.make({ bucket: { drainPerSecond: 1, capacity: 1 } })
      const a = yield* Bitrix24.make(settings(), { rateLimiter: limiter, retry: { maxAttempts: 1 } })
      const b = yield* Bitrix24.make(settings(), { rateLimiter: limiter, retry: { maxAttempts: 1 } })
      yield* a.update(request(1))
      const second = yield* Effect.forkChild(b.update(request(2)))
      yield* TestClock.adjust(0)
      // Real time for b's request to arrive, were it not waiting for the shared bucket.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      assert.strictEqual(calls, 1)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(second)
      assert.strictEqual(calls, 2)
    })
  )
})
