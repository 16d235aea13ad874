import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, type Bitrix24MessageEditor, type RateLimiter } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Duration, Effect, Fiber, Layer, Logger, Redacted, Result } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PgRateLimiter from "../src/PgRateLimiter.ts"
import { cuttable } from "./support/cuttable.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const PORTAL = "https://acme.bitrix24.com"
// 20 requests/s (50 ms each), a burst of 5, 1 kept in reserve: 4 go at once.
const BUCKET = { drainPerSecond: 20, capacity: 5 }
// 1 request/s, the same burst: what is checked against the clock has a second of room on a loaded machine.
const SLOW = { drainPerSecond: 1, capacity: 5 }

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
      const limiter = yield* open({ bucket: SLOW })
      const start = now()
      for (let n = 0; n < 4; n++) yield* limiter.acquire(PORTAL)
      const burst = now() - start
      assert.isBelow(burst, 900, `the burst took ${burst} ms`)
      // The fifth fits only once one request drained: 1 s after the first.
      const refused = yield* Effect.flip(limiter.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      assert.strictEqual(refused._tag, "BucketFull")
      assert.isFalse(refused.cut)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 1_000)
      yield* limiter.withPermitWithin(PORTAL, Duration.seconds(3))(Effect.void)
      yield* limiter.acquire(PORTAL)
      // Two more at 1/s: their slots are 1 s and 2 s after the burst's.
      const elapsed = now() - start
      assert.isAtLeast(elapsed, 1_900, `took ${elapsed} ms`)
      assert.isBelow(elapsed, 6_000, `took ${elapsed} ms`)
    }).pipe(Effect.scoped)
  )

  it.live("two limiters (two processes) on one table share one bucket", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open({ bucket: SLOW })
      const b = yield* open({ bucket: SLOW })
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
      // Slack for a loaded machine and a shared database server (the rate alone gives about 1 s).
      assert.isBelow(elapsed, 5_000, `24 requests took ${elapsed} ms`)
    }).pipe(Effect.scoped)
  )

  it.live("QUERY_LIMIT_EXCEEDED (saturated) fills the shared bucket for every process", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open({ bucket: SLOW })
      const b = yield* open({ bucket: SLOW })
      yield* a.saturated(PORTAL)
      const refused = yield* Effect.flip(b.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      // Full (5) to usable (4) less one: two requests' drain, 2 s.
      assert.isAtLeast(Duration.toMillis(refused.retryAfter), 1_000)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 2_000)
    }).pipe(Effect.scoped)
  )

  it.live("a caller interrupted while it waits for its slot gives the slot back", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open({ bucket: { drainPerSecond: 0.5, capacity: 2 }, headroom: 0 })
      yield* limiter.acquire(PORTAL)
      yield* limiter.acquire(PORTAL)
      // The third waits 2 s for its slot; interrupted, it leaves it to the next caller (4 s otherwise).
      const waiting = yield* Effect.forkChild(limiter.acquire(PORTAL))
      // Long enough for its reservation to be taken on a loaded machine, well before its slot.
      yield* Effect.sleep("500 millis")
      yield* Fiber.interrupt(waiting)
      yield* Effect.sleep("300 millis")
      const refused = yield* Effect.flip(limiter.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 2_000)
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

  it.live("a database that does not answer in time: this process's own bucket serves, never a full budget", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open({ statementTimeout: "1 millis" })
      const outcomes = yield* Effect.all(
        Array.from({ length: 4 }, () =>
          Effect.result(limiter.withPermitWithin(PORTAL, Duration.seconds(5))(Effect.succeed("sent")))
        ),
        { concurrency: "unbounded" }
      )
      // Within the usable burst (4): each goes, through the database or, past 1 ms, through the local bucket.
      for (const outcome of outcomes) assert.deepStrictEqual(outcome, Result.succeed("sent"))
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

describe.each(Databases.all)("PgRateLimiter when $name goes away", (database) => {
  /** A limiter whose client goes through a proxy the test can cut, and the lines it logs. */
  const cutOff = Effect.gen(function* () {
    const place = database.fresh()
    const proxy = yield* Effect.acquireRelease(
      Effect.promise(() => cuttable(place.spec.kind === "pg" ? place.spec.url : "")),
      (proxy) => Effect.promise(() => proxy.close())
    )
    const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(proxy.url), maxConnections: 1 }))
    const logged: Array<string> = []
    const logger = Logger.make(({ message }) => {
      logged.push(
        `${Math.round(performance.now())} ${(Array.isArray(message) ? message : [message]).map(String).join(" ")}`
      )
    })
    const limiter = yield* Effect.provide(
      PgRateLimiter.make({ bucket: BUCKET, table: `${place.prefix}buckets`, statementTimeout: "2 seconds" }),
      context
    )
    const logging = <A, E>(effect: Effect.Effect<A, E>) => Effect.provide(effect, Logger.layer([logger]))
    return { limiter, proxy, logged, logging }
  })

  it.live("an outage is not a full portal budget: requests go through this process's own bucket", () =>
    Effect.gen(function* () {
      const { limiter, proxy, logged, logging } = yield* cutOff
      assert.strictEqual(
        yield* limiter.withPermitWithin(PORTAL, Duration.seconds(5))(Effect.succeed("before")),
        "before"
      )
      yield* Effect.promise(() => proxy.cut())
      const during = yield* logging(
        Effect.all(
          Array.from({ length: 4 }, (_, n) =>
            Effect.result(limiter.withPermitWithin(PORTAL, Duration.seconds(5))(Effect.succeed(n)))
          )
        )
      )
      assert.deepStrictEqual(
        during,
        [0, 1, 2, 3].map((n) => Result.succeed(n))
      )
      // The local bucket still limits: with no wait allowed, a fifth is BucketFull (room soon), not cut.
      const fifth = yield* Effect.flip(limiter.withPermitWithin(PORTAL, Duration.zero)(Effect.void))
      assert.isFalse(fifth.cut)
      assert.isAtMost(Duration.toMillis(fifth.retryAfter), 1_000)
      // One warning, naming the database, for the whole outage.
      const warnings = logged.filter((line) => line.includes("PostgreSQL"))
      assert.strictEqual(warnings.length, 1, logged.join("\n"))
      assert.include(warnings[0], `could not be used`)
      assert.include(warnings[0], "own bucket")
      // acquire (withPermit) goes on too.
      yield* limiter.acquire("https://other.bitrix24.com")
    }).pipe(Effect.scoped)
  )

  it.live("an editor on that limiter edits through the outage: no RateLimited, no CLIENT_RATE_LIMIT", () =>
    Effect.gen(function* () {
      const { limiter, proxy } = yield* cutOff
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const editor = yield* Bitrix24.make(sandbox.settings, { rateLimiter: limiter, retry: { maxAttempts: 1 } })
      const seeded = []
      for (let n = 0; n < 3; n++) seeded.push(yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`)))
      yield* Effect.promise(() => proxy.cut())
      const outcomes = yield* editor.updateMany(seeded.map((ids, n) => ({ ids, text: `m${n} v1` })))
      for (const outcome of outcomes) assert.isTrue(Result.isSuccess(outcome), String(outcome))
      seeded.forEach((ids, n) => {
        assert.strictEqual(sandbox.inspect(ids)?.text, `m${n} v1`)
      })
    }).pipe(Effect.scoped)
  )

  it.live("once the database is back, the shared bucket is used again, and the log says so", () =>
    Effect.gen(function* () {
      const { limiter, proxy, logged, logging } = yield* cutOff
      yield* Effect.promise(() => proxy.cut())
      yield* logging(limiter.acquire(PORTAL))
      const cutAt = now()
      assert.strictEqual(logged.filter((line) => line.includes("could not be used")).length, 1, logged.join("\n"))
      yield* Effect.promise(() => proxy.restore())
      // Asked again after the first pause (1 s): bounded, a few tries at most.
      let back = false
      for (let attempt = 0; attempt < 40 && !back; attempt++) {
        yield* Effect.sleep("250 millis")
        yield* logging(limiter.withPermitWithin("https://third.bitrix24.com", Duration.seconds(5))(Effect.void))
        back = logged.some((line) => line.includes("is used again"))
      }
      assert.isTrue(back, logged.join("\n"))
      // Not asked before the first pause ended.
      assert.isAtLeast(now() - cutAt, 900, `${cutAt} ${logged.join("\n")}`)
    }).pipe(Effect.scoped)
  )
})
