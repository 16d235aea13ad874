/**
 * PgLimiter, the provider-neutral limiter in PostgreSQL: slots on named keys
 * shared by every process (each limiter here is on a client of its own),
 * spaced on the database's clock, a wait computed then slept, a slot given
 * back by an interrupted caller; and Telegram's limits on it: two editors,
 * each with its own limiter, against one sandbox enforcing the Bot FAQ's
 * limits, with no 429 and the rate held.
 */
import { assert, describe, it } from "@effect/vitest"
import { SharedLimiter } from "@reword/core/adapter"
import { Telegram, TelegramRateLimiter } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Duration, Effect, Fiber, Layer, Result } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as PgLimiter from "../src/PgLimiter.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

/** Limiters sharing one fresh table of `database`, each on a client of its own (a "process"). */
const limitersOn = (database: Databases.TestDatabase) => {
  const place = database.fresh()
  const table = `${place.prefix}limits`
  const open = (options: Partial<PgLimiter.Options> = {}) =>
    Effect.flatMap(Layer.build(place.client()), (context) =>
      Effect.provide(PgLimiter.make({ table, delay: 0, ...options }), context)
    )
  return Object.assign(open, { table })
}

/** The keys a limit table holds. */
const keysIn = (database: Databases.TestDatabase, table: string) =>
  Effect.flatMap(Layer.build(database.fresh().client()), (context) =>
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.map(sql<{ readonly key: string }>`SELECT key FROM ${sql(table)}`, (rows) => rows.map((row) => row.key))
      ),
      context
    )
  ).pipe(Effect.orDie)

const now = () => performance.now()

// 10 calls a second, no delay: slots 100 ms apart.
const rule = (key: string, count = 10): SharedLimiter.Rule => ({ key, count, per: Duration.seconds(1) })

describe.each(Databases.all)("PgLimiter on $name", (database) => {
  it.live("two limiters (two processes) share one key: slots spaced by the rate, other keys apart", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const b = yield* open()
      const start = now()
      yield* Effect.all(
        Array.from({ length: 12 }, (_, n) =>
          (n % 2 === 0 ? a : b).withPermit([rule("bot")], Duration.seconds(30))(Effect.void)
        ),
        { concurrency: "unbounded" }
      )
      const elapsed = now() - start
      // 12 slots 100 ms apart: the last one 1.1 s after the first.
      assert.isAtLeast(elapsed, 1_050, `12 calls took ${elapsed} ms`)
      assert.isBelow(elapsed, 6_000, `12 calls took ${elapsed} ms`)
      // The key is taken up to about 1.2 s on: no room now, in either process; another key is free.
      const refused = yield* Effect.flip(a.withPermit([rule("bot")], Duration.zero)(Effect.void))
      assert.instanceOf(refused, SharedLimiter.LimitFull)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 100)
      yield* b.withPermit([rule("other")], Duration.zero)(Effect.void)
    }).pipe(Effect.scoped)
  )

  it.live("a call on several keys waits for the busiest one, and a refused call takes nothing", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const slow = rule("chat", 1)
      yield* a.withPermit([slow], Duration.zero)(Effect.void)
      // The chat's next slot is 1 s away: refused at once within 500 ms, and nothing taken on "bot" either.
      const refused = yield* Effect.flip(a.withPermit([rule("bot"), slow], Duration.millis(500))(Effect.void))
      assert.isAbove(Duration.toMillis(refused.retryAfter), 500)
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 1_000)
      yield* a.withPermit([rule("bot")], Duration.zero)(Effect.void)
      const start = now()
      yield* a.withPermit([rule("bot2"), slow], Duration.seconds(5))(Effect.void)
      assert.isAtLeast(now() - start, 300, "waited for the chat's slot")
    }).pipe(Effect.scoped)
  )

  it.live("a caller interrupted while it waits for its slot gives the slot back", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const limiter = yield* open()
      const slow: SharedLimiter.Rule = { key: "k", count: 1, per: Duration.seconds(2) }
      yield* limiter.withPermit([slow], Duration.zero)(Effect.void)
      // The second waits 2 s for its slot; interrupted, it leaves it to the next caller (4 s otherwise).
      const waiting = yield* Effect.forkChild(limiter.withPermit([slow], Duration.seconds(10))(Effect.void))
      yield* Effect.sleep("500 millis")
      yield* Fiber.interrupt(waiting)
      yield* Effect.sleep("300 millis")
      const refused = yield* Effect.flip(limiter.withPermit([slow], Duration.zero)(Effect.void))
      assert.isAtMost(Duration.toMillis(refused.retryAfter), 2_000)
    }).pipe(Effect.scoped)
  )

  it.live("fromAnswer counts a call from its answer; pause holds a key for every process", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const a = yield* open()
      const b = yield* open()
      const chat: SharedLimiter.Rule = { key: "chat", count: 5, per: Duration.seconds(1), fromAnswer: true }
      // A call that takes 600 ms: the next slot is 200 ms after its answer, not 200 ms after its slot.
      yield* a.withPermit([chat], Duration.zero)(Effect.sleep("600 millis"))
      const refused = yield* Effect.flip(b.withPermit([chat], Duration.zero)(Effect.void))
      assert.isAbove(Duration.toMillis(refused.retryAfter), 100)
      yield* a.pause("paused", Duration.seconds(20))
      const paused = yield* Effect.flip(b.withPermit([rule("paused")], Duration.seconds(5))(Effect.void))
      assert.isAbove(Duration.toMillis(paused.retryAfter), 15_000)
    }).pipe(Effect.scoped)
  )

  it.live("Telegram: two editors, each with its own limiter, against one sandbox: no 429, the rate held", () =>
    Effect.gen(function* () {
      const open = limitersOn(database)
      const sandbox = yield* TelegramSandbox.scoped({ limits: "faq" })
      const messages = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, n) => n),
        (n) => Effect.promise(() => sandbox.seedMessage(`m${n}`, { externalChatId: `chat-${n}` }))
      )
      const editorOf = (name: string) =>
        Effect.gen(function* () {
          // The database (PGlite runs in this process), the sandbox and both editors share one event loop, on a
          // machine that may be loaded (a CPU burner beside the tests): a call may reach the sandbox up to a
          // second after its slot, and the slots are spaced for it (15 calls a second, one every 2 s per chat).
          const limiter = TelegramRateLimiter.shared(yield* open({ delay: "1 second" }), {
            botToken: sandbox.settings.botToken
          })
          const editor = yield* Telegram.make(sandbox.settings, {
            rateLimiter: limiter,
            retry: { maxAttempts: 1, maxElapsed: "30 seconds" },
            concurrency: 40
          })
          return messages.map((ids) => editor.update({ ids, text: `${name} was here` }))
        })
      const edits = [...(yield* editorOf("a")), ...(yield* editorOf("b"))]
      const start = now()
      const outcomes = yield* Effect.all(edits.map(Effect.result), { concurrency: "unbounded" })
      const elapsed = now() - start
      assert.deepStrictEqual(
        outcomes.filter(Result.isFailure).map((outcome) => outcome.failure.message),
        []
      )
      assert.strictEqual(sandbox.refusedByLimits(), 0)
      // 40 calls at 15 a second (slots 2000 / 30 ms apart), each chat twice 2 s apart: the limiters held the rate.
      assert.isAtLeast(elapsed, 2_000, `40 edits took ${elapsed} ms`)
      assert.isBelow(elapsed, 20_000, `40 edits took ${elapsed} ms`)
      for (const ids of messages) assert.strictEqual(sandbox.inspect(ids)?.history.length, 3)
      // Keyed by the bot's id, never its token.
      const keys = yield* keysIn(database, open.table)
      const [botId, secret] = sandbox.botToken.split(":") as [string, string]
      assert.include(keys, `telegram:${botId}`)
      assert.include(keys, `telegram:${botId}:chat:${messages[0]?.providerChatId}`)
      for (const key of keys) assert.notInclude(key, secret)
    }).pipe(Effect.scoped)
  )
})
