/**
 * The outbox against the providers' sandboxes: newest text of every message
 * lands, Bitrix24 still packs many messages per call within its limit, faults
 * from the sandbox (timeouts, 5xx, resets, 429s) end with the newest text.
 */
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect } from "effect"
import * as fc from "fast-check"
import { afterAll } from "vitest"
import * as Databases from "./support/databases.ts"
import { openOutbox } from "./support/sqlite.ts"

afterAll(() => Databases.stopAll())

const fast = { settleWindow: "200 millis", retry: { initialDelay: 20, maxDelay: 100 } } as const

describe("through the outbox to the sandboxes", () => {
  it.live("Acquire: three quick edits of 30 messages each land as the newest text", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const editor = yield* Effect.orDie(Acquire.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
      const outbox = yield* openOutbox([{ editor, account: sandbox.accountId }], fast)
      const seeded = []
      for (let n = 0; n < 30; n++) {
        const ids = yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`))
        seeded.push(ids)
        yield* outbox.record({ ids })
      }
      for (let v = 1; v <= 3; v++) {
        for (const ids of seeded) {
          yield* outbox.submit({
            ids: { externalMessageId: ids.externalMessageId },
            text: `${ids.externalMessageId} v${v}`,
            source: "agent"
          })
        }
      }
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      for (const ids of seeded) assert.strictEqual(sandbox.inspect(ids)?.text, `${ids.externalMessageId} v3`)
      const history = yield* outbox.history(seeded[0]?.externalMessageId ?? "")
      assert.deepStrictEqual(
        history?.versions.map((v) => v.source),
        ["agent", "agent", "agent"]
      )
    }).pipe(Effect.scoped)
  )

  it.live(
    "Bitrix24: a backlog of 120 messages (two versions each) goes in 6 packed calls, within the portal's limit",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        // A fixed 20 per call, so the call count is known (without it the size follows the portal's server time).
        const editor = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 }, chunkSize: 20 })
        )
        const outbox = yield* openOutbox([{ editor, account: `${sandbox.url}/${sandbox.connector}/${sandbox.line}` }], {
          ...fast,
          worker: false
        })
        const seeded = []
        for (let n = 0; n < 120; n++) {
          const ids = yield* Effect.promise(() => sandbox.seedMessage(`b${n} v0`))
          seeded.push(ids)
          yield* outbox.record({ ids })
        }
        for (const version of ["v1", "v2"]) {
          for (const ids of seeded) {
            yield* outbox.submit({
              ids: { externalMessageId: ids.externalMessageId },
              text: `${ids.externalMessageId} ${version}`
            })
          }
        }
        // The worker starts on a backlog (as after a restart): pages of 100, packed 20 per call.
        yield* Effect.forkScoped(outbox.runWorker)
        assert.deepStrictEqual(yield* outbox.drain({ timeout: "30 seconds" }), { pending: 0, failed: 0 })
        for (const ids of seeded) assert.strictEqual(sandbox.inspect(ids)?.text, `${ids.externalMessageId} v2`)
        assert.strictEqual(sandbox.calls("imconnector.update.messages"), 6)
        assert.strictEqual(sandbox.limitHits(), 0)
      }).pipe(Effect.scoped)
  )

  it.live("Bitrix24: edits submitted while the worker runs all land, within the portal's limit", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const editor = yield* Effect.orDie(Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
      const outbox = yield* openOutbox(
        [{ editor, account: `${sandbox.url}/${sandbox.connector}/${sandbox.line}` }],
        fast
      )
      const seeded = []
      for (let n = 0; n < 60; n++) {
        const ids = yield* Effect.promise(() => sandbox.seedMessage(`b${n} v0`))
        seeded.push(ids)
        yield* outbox.record({ ids })
      }
      yield* Effect.forEach(
        seeded,
        (ids) =>
          outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: `${ids.externalMessageId} v1` }),
        { concurrency: 16 }
      )
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "30 seconds" }), { pending: 0, failed: 0 })
      for (const ids of seeded) assert.strictEqual(sandbox.inspect(ids)?.text, `${ids.externalMessageId} v1`)
      assert.strictEqual(sandbox.limitHits(), 0)
    }).pipe(Effect.scoped)
  )

  it.live("property: bursts of edits with sandbox faults (5xx, resets, hangs, 429) end with the newest text", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
          fc.constantFrom("status", "reset", "hang", "retryAfter"),
          fc.integer({ min: 1, max: 1_000 }),
          async (messages, bursts, fault, seed) => {
            await Effect.runPromise(
              Effect.gen(function* () {
                const sandbox = yield* AcquireSandbox.scoped()
                const editor = yield* Effect.orDie(
                  Acquire.make(sandbox.settings, { retry: { maxAttempts: 1 }, transport: { timeout: 150 } })
                )
                const outbox = yield* openOutbox([{ editor }], fast)
                const faults = {
                  status: AcquireSandbox.Faults.status(503),
                  reset: AcquireSandbox.Faults.reset(),
                  hang: AcquireSandbox.Faults.hang(),
                  retryAfter: AcquireSandbox.Faults.retryAfter(0)
                } as const
                sandbox.server.inject({ fault: faults[fault], share: 0.3, seed })
                const seeded = []
                for (let n = 0; n < messages; n++) {
                  const ids = yield* Effect.promise(() => sandbox.seedMessage(`v0`))
                  seeded.push(ids)
                  yield* outbox.record({ ids })
                }
                let version = 0
                for (const burst of bursts) {
                  for (let k = 0; k < burst; k++) {
                    version++
                    for (const ids of seeded) {
                      yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: `v${version}` })
                    }
                  }
                  yield* Effect.sleep(`${(seed % 5) * 20} millis`)
                }
                const left = yield* outbox.drain({ timeout: "20 seconds" })
                sandbox.server.clearFaults()
                assert.deepStrictEqual(left, { pending: 0, failed: 0 })
                for (const ids of seeded) assert.strictEqual(sandbox.inspect(ids)?.text, `v${version}`)
              }).pipe(Effect.scoped)
            )
          }
        ),
        { numRuns: 6, seed: 14 }
      )
    )
  )
})
