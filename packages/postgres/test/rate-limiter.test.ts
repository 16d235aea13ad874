import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, type Bitrix24MessageEditor, type RateLimiter } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Duration, Effect, Fiber, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PgRateLimiter from "../src/PgRateLimiter.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 60_000)
afterAll(() => Databases.stopAll())

const PORTAL = "https://acme.bitrix24.com"
// 20 requests/s (50 ms each), a burst of 5, 1 kept in reserve: 4 go at once.
const BUCKET = { drainPerSecond: 20, capacity: 5 }

/** Limiters sharing one fresh table of `database`, each on a client of its own (a "process"). */
const limitersOn = (database: Databases.TestDatabase) => {
  const place = database.fresh()
  const table = `${place.prefix}buckets`
  return (options: Partial<PgRateLimiter.Options> = {}) =>
    Effect.flatMap(Layer.build(place.client()), (context) =>
      Effect.provide(PgRateLimiter.make({ bucket: BUCKET, table, ...options }), context)
    )
}

const now = () => performance.now()

describe.each(Databases.all)("PgRateLimiter on $name", (database) => {
  it.live("a burst of the usable bucket goes at once; the next request waits its slot (computed, then slept)", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open()
      const start = now()
      for (let n = 0; n < 4; n++) yield* limiter.acquire(PORTAL)
      const burst = now() - start
      assert.isBelow(burst, 200, `the burst took ${burst} ms`)
      // The fifth fits only once one request drained: 50 ms after the first.
      const refused = yield* Effect.flip(limiter.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      assert.strictEqual(refused._tag, "BucketFull")
      assert.isFalse(refused.cut)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 50)
      const before = now()
      yield* limiter.withPermitWithin(PORTAL, Duration.seconds(1))(Effect.void)
      yield* limiter.acquire(PORTAL)
      // Two more at 20/s: at least ~50 ms after the burst's first slot drained.
      assert.isAtLeast(now() - start, 60)
      assert.isBelow(now() - before, 500)
    }).pipe(Effect.scoped)
  )

  it.live("two limiters (two processes) on one table share one bucket", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const b = yield* open()
      yield* a.acquire(PORTAL)
      yield* a.acquire(PORTAL)
      yield* b.acquire(PORTAL)
      yield* b.acquire(PORTAL)
      // Four taken between them: neither has room now.
      assert.strictEqual(
        (yield* Effect.flip(a.withPermitWithin(PORTAL, Duration.zero)(Effect.void)))._tag,
        "BucketFull"
      )
      assert.strictEqual(
        (yield* Effect.flip(b.withPermitWithin(PORTAL, Duration.zero)(Effect.void)))._tag,
        "BucketFull"
      )
      // Another portal has its own bucket.
      yield* b.withPermitWithin("https://other.bitrix24.com", Duration.zero)(Effect.void)
    }).pipe(Effect.scoped)
  )

  it.live("a steady stream keeps the drain rate: 24 requests take at least (24 - 4) / 20 s", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const b = yield* open()
      const start = now()
      yield* Effect.all(
        Array.from({ length: 24 }, (_, n) => (n % 2 === 0 ? a : b).acquire(PORTAL)),
        { concurrency: "unbounded" }
      )
      const elapsed = now() - start
      assert.isAtLeast(elapsed, 950, `24 requests took ${elapsed} ms`)
      assert.isBelow(elapsed, 3_000, `24 requests took ${elapsed} ms`)
    }).pipe(Effect.scoped)
  )

  it.live("QUERY_LIMIT_EXCEEDED (saturated) fills the shared bucket for every process", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const b = yield* open()
      yield* a.saturated(PORTAL)
      const refused = yield* Effect.flip(b.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      // Full (5) to usable (4) less one: two requests' drain, 100 ms.
      assert.isAtLeast(Duration.toMillis(refused.retryAfter), 60)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 100)
    }).pipe(Effect.scoped)
  )

  it.live("a caller interrupted while it waits for its slot gives the slot back", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open({ bucket: { drainPerSecond: 2, capacity: 2 }, headroom: 0 })
      yield* limiter.acquire(PORTAL)
      yield* limiter.acquire(PORTAL)
      // The third waits 500 ms for its slot; interrupted, it leaves it to the next caller.
      const waiting = yield* Effect.forkChild(limiter.acquire(PORTAL))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      yield* Effect.sleep("100 millis")
      const refused = yield* Effect.flip(limiter.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 400)
    }).pipe(Effect.scoped)
  )

  it.live("the operating time stays per process (the portal reports its own total in every answer)", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open()
      const blocked = yield* limiter.block(PORTAL, "imconnector.update.messages")
      assert.isTrue(Duration.isGreaterThan(blocked, Duration.zero))
      assert.isTrue(
        Duration.isGreaterThan(yield* limiter.blockedFor(PORTAL, "imconnector.update.messages"), Duration.zero)
      )
    }).pipe(Effect.scoped)
  )

  it.live("a database that does not answer: withPermitWithin is BucketFull (retryable), nothing hangs", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open({ statementTimeout: "1 millis" })
      const outcomes = yield* Effect.all(
        Array.from({ length: 5 }, () =>
          Effect.result(limiter.withPermitWithin(PORTAL, Duration.seconds(5))(Effect.void))
        ),
        { concurrency: "unbounded" }
      )
      // Some statements may beat 1 ms; any that did not is a cut BucketFull, never a hang or a defect.
      for (const outcome of outcomes) {
        if (outcome._tag === "Failure") assert.isTrue(outcome.failure.cut)
      }
    }).pipe(Effect.scoped)
  )

  it.live("bad options are refused at once", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const exit = yield* Effect.exit(open({ table: "Bad Name" }))
      assert.strictEqual(exit._tag, "Failure")
      const exitBucket = yield* Effect.exit(open({ bucket: { drainPerSecond: 0, capacity: 5 } }))
      assert.strictEqual(exitBucket._tag, "Failure")
    }).pipe(Effect.scoped)
  )
})

describe.each(Databases.all)(
  "two editors, each with its own PgRateLimiter, against one portal on $name",
  (database) => {
    it.live("60 updates at 20/s with a burst of 10: zero QUERY_LIMIT_EXCEEDED", () =>
      Effect.gen(function* () {
        const portalBucket = { drainPerSecond: 20, capacity: 10 }
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: portalBucket })
        const open = limitersOn(database)
        const editors: Array<Bitrix24MessageEditor.Service> = []
        for (let n = 0; n < 2; n++) {
          const rateLimiter: RateLimiter.Service = yield* open({ bucket: portalBucket, headroom: 2 })
          editors.push(yield* Bitrix24.make(sandbox.settings, { rateLimiter, retry: { maxAttempts: 1 } }))
        }
        const seeded = []
        for (let n = 0; n < 60; n++) seeded.push(yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`)))
        yield* Effect.all(
          seeded.map((ids, n) => editors[n % 2]?.update({ ids, text: `m${n} v1` }) ?? Effect.void),
          { concurrency: 8 }
        )
        assert.strictEqual(sandbox.limitHits(), 0)
        seeded.forEach((ids, n) => {
          assert.strictEqual(sandbox.inspect(ids)?.text, `m${n} v1`)
        })
      }).pipe(Effect.scoped)
    )
  }
)
