/**
 * Load: 1,000 updates at once across both providers, under the sandboxes'
 * rate limits. No limit error ever reaches the app (and the Bitrix24 sandbox
 * never even had to refuse a call: the adapter's limiter kept under its
 * bucket), every edit lands, and memory stays bounded.
 *
 * Memory, three ways (the sandboxes run in this process, so both ends of
 * every connection are counted):
 * - the first burst may grow resident memory by less than 200 MB: V8 sizes
 *   its heap for 1,000 requests in flight on both ends of the wire (about
 *   2,000 sockets with their parsers and buffers, a fiber and a promise per
 *   call, answers of a few KB) and compiles the code; measured, about 130 MB;
 * - a second burst of the same size grows it by less than 100 MB more: the
 *   heap's last resizing, not growth per request (measured: about 30 MB after
 *   the first burst's 130 MB, 52 MB once on a loaded machine, where garbage
 *   is collected later; 100 KB kept per request would pass it);
 * - after a full garbage collection, the heap holds less than 20 MB more than
 *   before the burst (the sandboxes' logs and message histories; measured:
 *   under 10 MB): nothing reword does is kept.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24, RateLimiter } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import type { MessageEditor } from "@reword/core"
import { createEditor, type Editor, type Settled } from "@reword/core/promise"
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect, Result } from "effect"

const PER_PROVIDER = 500
const MB = 1024 * 1024
const FIRST_BURST_BOUND = 200 * MB
const NEXT_BURST_BOUND = 100 * MB
const RETAINED_BOUND = 20 * MB

// A full collection on demand, to tell memory kept from memory not yet collected.
setFlagsFromString("--expose_gc")
const gc = runInNewContext("gc") as () => void

interface Memory {
  /** Peak resident memory during the run, over before it. */
  readonly growth: number
  /** Heap in use after a full collection, over the same before the run. */
  readonly retained: number
}

/** Samples resident memory while `run` runs. */
const measuringMemory = async <A>(run: () => Promise<A>): Promise<{ readonly result: A } & Memory> => {
  gc()
  const before = process.memoryUsage()
  let peak = before.rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  try {
    const result = await run()
    peak = Math.max(peak, process.memoryUsage().rss)
    gc()
    return { result, growth: peak - before.rss, retained: process.memoryUsage().heapUsed - before.heapUsed }
  } finally {
    clearInterval(sampler)
  }
}

const seed = (sandbox: SandboxServer.ProviderSandbox, prefix: string) =>
  Promise.all(Array.from({ length: PER_PROVIDER }, (_, n) => sandbox.seedMessage(`${prefix} ${n}`)))

const failuresOf = (settled: ReadonlyArray<Settled>) =>
  settled.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason.reason._tag] : []))

/** One burst at the default limits: Bitrix24's 500 through updateMany, Acquire's 500 as separate updates, all at once. */
const burst = async (
  bitrix24: Bitrix24Sandbox.Sandbox,
  acquire: AcquireSandbox.Sandbox,
  bitrixEditor: Editor,
  acquireEditor: Editor,
  bitrixIds: ReadonlyArray<SandboxServer.RelayedIds>,
  acquireIds: ReadonlyArray<SandboxServer.RelayedIds>,
  round: number
) => {
  const calls = bitrix24.calls("imconnector.update.messages")
  const requests = acquire.server.requests.length
  const started = Date.now()
  const { result, growth, retained } = await measuringMemory(() =>
    Promise.all([
      // 500 separate calls at 2/s would take minutes: updateMany packs them, 20 to a call.
      bitrixEditor.updateMany(bitrixIds.map((ids, n) => ({ ids, text: `bitrix24 ${n}, edit ${round}` }))),
      Promise.allSettled(
        acquireIds.map((ids, n) => acquireEditor.update({ ids, text: `acquire ${n}, edit ${round}` }))
      ).then((settled) =>
        settled.map(
          (outcome): Settled =>
            outcome.status === "fulfilled"
              ? outcome
              : { status: "rejected", reason: outcome.reason as Extract<Settled, { status: "rejected" }>["reason"] }
        )
      )
    ])
  )
  const [bitrixOutcomes, acquireOutcomes] = result
  assert.lengthOf(bitrixOutcomes, PER_PROVIDER)
  assert.lengthOf(acquireOutcomes, PER_PROVIDER)
  assert.deepStrictEqual(failuresOf(bitrixOutcomes), [], "no Bitrix24 edit failed, for a limit or otherwise")
  assert.deepStrictEqual(failuresOf(acquireOutcomes), [], "no Acquire edit failed")
  assert.strictEqual(bitrix24.limitHits(), 0, "the portal never refused a call for its bucket")
  assert.strictEqual(bitrix24.calls("imconnector.update.messages") - calls, PER_PROVIDER / 20)
  assert.strictEqual(acquire.server.requests.length - requests, PER_PROVIDER)
  bitrixIds.forEach((ids, n) => {
    assert.strictEqual(bitrix24.inspect(ids)?.text, `bitrix24 ${n}, edit ${round}`)
  })
  acquireIds.forEach((ids, n) => {
    assert.strictEqual(acquire.inspect(ids)?.text, `acquire ${n}, edit ${round}`)
  })
  return { seconds: (Date.now() - started) / 1000, growth, retained }
}

describe("1,000 concurrent updates across both providers, under the sandboxes' rate limits", () => {
  it("at the default limits (Bitrix24 standard: 2/s, burst 50), through the Promise API, twice: Bitrix24's 500 packed by updateMany", async () => {
    const bitrix24 = await Bitrix24Sandbox.start() // the standard bucket, enforced
    const acquire = await AcquireSandbox.start()
    try {
      const bitrixIds = await seed(bitrix24, "bitrix24")
      const acquireIds = await seed(acquire, "acquire")
      // Configured as an app is, with the default retry policy and limiter.
      // A fixed chunk size, so the call count is known: 20 to a call (the size the portal's answers would otherwise set).
      const bitrixEditor = await createEditor({
        providers: [Bitrix24.provider, Acquire.provider],
        env: bitrix24.env,
        providerOptions: { bitrix24: { chunkSize: 20 } }
      })
      const acquireEditor = await createEditor({ providers: [Bitrix24.provider, Acquire.provider], env: acquire.env })
      try {
        const first = await burst(bitrix24, acquire, bitrixEditor, acquireEditor, bitrixIds, acquireIds, 1)
        const second = await burst(bitrix24, acquire, bitrixEditor, acquireEditor, bitrixIds, acquireIds, 2)
        assert.isBelow(first.growth, FIRST_BURST_BOUND, "the first burst")
        assert.isBelow(second.growth, NEXT_BURST_BOUND, "the next burst: nothing grows per request")
        assert.isBelow(first.retained, RETAINED_BOUND, "kept after the first burst")
        assert.isBelow(second.retained, RETAINED_BOUND, "kept after the next burst")
        if (process.env.RELIABILITY_SUMMARY === "1") {
          console.info({
            first: { ...first, growth: first.growth / MB, retained: first.retained / MB },
            second: { ...second, growth: second.growth / MB, retained: second.retained / MB }
          })
        }
      } finally {
        await bitrixEditor.dispose()
        await acquireEditor.dispose()
      }
    } finally {
      await bitrix24.stop()
      await acquire.stop()
    }
  }, 180_000)

  it.live(
    "500 concurrent Bitrix24 update calls (one call each) under a bucket 100 times faster (200/s, burst 50) on both sides, with Acquire's 500 at the same time",
    () =>
      Effect.gen(function* () {
        const bucket = { drainPerSecond: 200, capacity: 50 }
        const bitrix24 = yield* Bitrix24Sandbox.scoped({ bucket })
        const acquire = yield* AcquireSandbox.scoped()
        const bitrixIds = yield* Effect.promise(() => seed(bitrix24, "bitrix24"))
        const acquireIds = yield* Effect.promise(() => seed(acquire, "acquire"))
        // The limiter's bucket is the portal's, scaled with it.
        const bitrixEditor = yield* Effect.orDie(
          // chunkSize 1: one portal call per update, so the limiter meets all 500 (update() would pack them otherwise).
          Bitrix24.make(bitrix24.settings, { rateLimiter: RateLimiter.make({ bucket }), chunkSize: 1 })
        )
        const acquireEditor = yield* Effect.orDie(Acquire.make(acquire.settings))
        const all = (editor: MessageEditor.Service, ids: ReadonlyArray<SandboxServer.RelayedIds>, prefix: string) =>
          Effect.forEach(ids, (one, n) => Effect.result(editor.update({ ids: one, text: `${prefix} ${n}, edited` })), {
            concurrency: "unbounded"
          })
        const started = Date.now()
        const { result, growth, retained } = yield* Effect.promise(() =>
          measuringMemory(() =>
            Effect.runPromise(
              Effect.all([all(bitrixEditor, bitrixIds, "bitrix24"), all(acquireEditor, acquireIds, "acquire")], {
                concurrency: "unbounded"
              })
            )
          )
        )
        const seconds = (Date.now() - started) / 1000
        const [bitrixOutcomes, acquireOutcomes] = result
        const failures = [...bitrixOutcomes, ...acquireOutcomes].flatMap((outcome) =>
          Result.isFailure(outcome) ? [outcome.failure.reason._tag] : []
        )
        assert.deepStrictEqual(failures, [], "no limit error (and no other) reached the app")
        assert.strictEqual(bitrix24.limitHits(), 0, "the portal never refused a call for its bucket")
        assert.strictEqual(bitrix24.calls("imconnector.update.messages"), PER_PROVIDER)
        // The limiter spent the burst, then kept to the drain rate: no faster than the portal allows.
        assert.isAtLeast(seconds, (PER_PROVIDER - bucket.capacity) / bucket.drainPerSecond)
        bitrixIds.forEach((ids, n) => {
          assert.strictEqual(bitrix24.inspect(ids)?.text, `bitrix24 ${n}, edited`)
        })
        acquireIds.forEach((ids, n) => {
          assert.strictEqual(acquire.inspect(ids)?.text, `acquire ${n}, edited`)
        })
        assert.isBelow(growth, FIRST_BURST_BOUND)
        assert.isBelow(retained, RETAINED_BOUND)
        if (process.env.RELIABILITY_SUMMARY === "1") {
          console.info({ seconds, growth: growth / MB, retained: retained / MB })
        }
      }),
    60_000
  )
})
