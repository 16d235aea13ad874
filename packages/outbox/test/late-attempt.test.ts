/**
 * The limitation pinned in test/reliability/known-bugs.slow.test.ts, through the
 * outbox: an attempt abandoned at its timeout reaches the provider late, after
 * a newer edit of the same message. A direct `update` cannot rule it out; the
 * outbox sends the newest text again once the settle window has passed, so the
 * provider ends with the newest text, and stays so.
 */
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Effect } from "effect"
import { afterAll } from "vitest"
import * as Databases from "./support/databases.ts"
import { openOutbox } from "./support/sqlite.ts"

afterAll(() => Databases.stopAll())

describe("an attempt that lands late", () => {
  it.live("an edit the outbox confirmed is not overwritten by an older attempt it abandoned", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      let first = true
      const slowFirst: typeof globalThis.fetch = async (input, init) => {
        const request = input instanceof Request ? input : new Request(input, init)
        if (!first) return fetch(request)
        first = false
        const body = await request.clone().text()
        // On its way: it arrives after reword gave up on it.
        setTimeout(() => {
          fetch(request.url, { method: request.method, headers: request.headers, body }).catch(() => undefined)
        }, 1_500)
        const signal = init?.signal ?? request.signal
        return new Promise<Response>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
      }
      const editor = yield* Effect.orDie(
        Acquire.make(sandbox.settings, {
          retry: { maxAttempts: 1 },
          // 1 s: only the held first attempt times out, not a retry's real answer on a loaded machine.
          transport: { timeout: 1_000, fetch: slowFirst }
        })
      )
      // The settle window is far longer than the late attempt's delay, timers firing late on a loaded machine included.
      const outbox = yield* openOutbox([{ editor }], {
        settleWindow: "4 seconds",
        retry: { initialDelay: 10, maxDelay: 50 }
      })
      yield* outbox.record({ ids })
      yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: "v1" })
      // The first attempt times out; the outbox's retry lands.
      for (let n = 0; n < 1_000 && sandbox.inspect(ids)?.text !== "v1"; n++) yield* Effect.sleep("10 millis")
      assert.strictEqual(sandbox.inspect(ids)?.text, "v1")
      // ... and is recorded as confirmed before v2 comes (v2 submitted while that retry is still in flight is
      // another case: the outbox then sends v2 at once, without waiting out the settle window).
      const v1Status = () =>
        Effect.map(outbox.history(ids.externalMessageId), (journal) => journal?.versions[0]?.status)
      for (let n = 0; n < 1_000 && (yield* v1Status()) !== "confirmed"; n++) yield* Effect.sleep("10 millis")
      assert.strictEqual(yield* v1Status(), "confirmed")
      yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: "v2" })
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "30 seconds" }), { pending: 0, failed: 0 })
      const history = sandbox.inspect(ids)?.history ?? []
      assert.strictEqual(history.filter((text) => text === "v1").length, 2, "the retry, then the late attempt, landed")
      assert.strictEqual(sandbox.inspect(ids)?.text, "v2")
      assert.strictEqual(history[history.length - 1], "v2")
      yield* Effect.sleep("1 second")
      assert.strictEqual(sandbox.inspect(ids)?.text, "v2", "and nothing older lands afterwards")
      const journal = yield* outbox.history(ids.externalMessageId)
      assert.strictEqual(journal?.versions[0]?.attempts[0]?.outcome, "unknown")
      assert.strictEqual(journal?.versions[1]?.status, "confirmed")
    }).pipe(Effect.scoped)
  )
})
