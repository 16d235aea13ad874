/**
 * Claims are never stranded (issue 18, items 4 and 6), with the default
 * 5-minute lease, on a SQLite file:
 *
 * - a delivery that fails (the editor dies) hands its claims back at once,
 *   recorded as unknown: the edit is sent again after the backoff, not after
 *   the lease;
 * - a graceful stop (the scope closes, as `close()` and an app's SIGTERM
 *   do) lets a delivery in flight finish within `shutdownGrace`; one that
 *   does not is recorded as unknown and handed back, so that the next worker
 *   sends it at once (before: 5 minutes later, when the lease ran out).
 */
import { assert, describe, it } from "@effect/vitest"
import type { MessageEditor } from "@reword/core"
import { Cause, Effect, Exit, Layer, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import * as Store from "../src/internal/store.ts"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

afterAll(() => Databases.stopAll())

const waitFor = (done: () => boolean, timeoutMs: number) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!done() && Date.now() - start < timeoutMs) yield* Effect.sleep("10 millis")
    return Date.now() - start
  })

/** An outbox on `place` in a scope of its own, closed by the caller. */
const openIn = (place: Databases.Place, routes: ReadonlyArray<Outbox.Route>, options: Outbox.Options = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(place.client(), scope)
    const outbox = yield* Effect.provide(
      Outbox.makeWith(routes, { tablePrefix: place.prefix, ...options }),
      context
    ).pipe(Scope.provide(scope))
    return { outbox, close: Scope.close(scope, Exit.void) }
  })

describe("a delivery that fails", () => {
  it.live("hands its claims back at once: sent again after the backoff, not after the 5-minute lease", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const scripted = ScriptedEditor.make()
      let calls = 0
      const dying: MessageEditor.Service = {
        ...scripted.editor,
        updateMany: (requests) =>
          calls++ === 0 ? Effect.die(new Error("a bug in the editor")) : scripted.editor.updateMany(requests)
      }
      const { outbox, close } = yield* openIn(place, [{ editor: dying }], {
        retry: { initialDelay: 50, maxDelay: 100 },
        settleWindow: "200 millis",
        pollInterval: "50 millis"
      })
      yield* outbox.record({ ids: { externalMessageId: "m1" } })
      yield* outbox.submit({ ids: { externalMessageId: "m1" }, text: "v1" })
      const took = yield* waitFor(() => scripted.texts.get("m1") === "v1", 10_000)
      assert.strictEqual(scripted.texts.get("m1"), "v1", `not delivered after ${took} ms`)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      const attempts = (yield* outbox.history("m1"))?.versions[0]?.attempts ?? []
      assert.strictEqual(attempts[0]?.outcome, "unknown")
      assert.include(attempts[0]?.reason ?? "", "the delivery failed")
      assert.strictEqual(attempts[attempts.length - 1]?.outcome, "confirmed")
      yield* close
    })
  )
})

describe("a graceful stop", () => {
  it.live("a delivery in flight past the grace is handed back: the next worker sends it at once", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const hanging = ScriptedEditor.make()
      hanging.delayMs = 600_000
      const first = yield* openIn(place, [{ editor: hanging.editor }], { shutdownGrace: "300 millis" })
      yield* first.outbox.record({ ids: { externalMessageId: "m1" } })
      yield* first.outbox.submit({ ids: { externalMessageId: "m1" }, text: "v1" })
      yield* waitFor(() => hanging.calls > 0, 10_000)
      assert.strictEqual(hanging.calls, 1, "the delivery started")

      const stopping = Date.now()
      yield* first.close
      const stopMs = Date.now() - stopping
      assert.isAtMost(stopMs, 3_000, "the stop waits the grace, not the delivery")

      // A restart (default options: the 5-minute lease, a 1-second poll).
      const working = ScriptedEditor.make()
      const restarted = Date.now()
      const second = yield* openIn(place, [{ editor: working.editor }])
      yield* waitFor(() => working.texts.get("m1") === "v1", 20_000)
      const deliveredMs = Date.now() - restarted
      console.log(`stop: ${stopMs} ms; delivered ${deliveredMs} ms after the restart`)
      assert.strictEqual(working.texts.get("m1"), "v1")
      assert.isAtMost(deliveredMs, 5_000)
      const attempts = (yield* second.outbox.history("m1"))?.versions[0]?.attempts ?? []
      assert.deepStrictEqual(
        attempts.map((attempt) => [attempt.outcome, attempt.reason]),
        [
          ["unknown", "the worker stopped before the provider answered"],
          ["confirmed", undefined]
        ]
      )
      yield* second.close
    })
  )

  it.live("a delivery that ends within the grace is recorded as it ended; nothing is left to send", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const slow = ScriptedEditor.make()
      slow.delayMs = 700
      const first = yield* openIn(place, [{ editor: slow.editor }])
      yield* first.outbox.record({ ids: { externalMessageId: "m1" } })
      yield* first.outbox.submit({ ids: { externalMessageId: "m1" }, text: "v1" })
      yield* waitFor(() => slow.calls > 0, 10_000)
      yield* first.close
      assert.strictEqual(slow.texts.get("m1"), "v1")

      const second = yield* openIn(place, [{ editor: slow.editor }], { worker: false })
      assert.deepStrictEqual(yield* second.outbox.counts, { pending: 0, failed: 0 })
      const attempts = (yield* second.outbox.history("m1"))?.versions[0]?.attempts ?? []
      assert.deepStrictEqual(
        attempts.map((attempt) => attempt.outcome),
        ["confirmed"]
      )
      yield* second.close
    })
  )
})

describe("a stable workerId", () => {
  it.live("a second live worker of the same id fails to start, naming workerId; after a stop the id is free", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const scripted = ScriptedEditor.make()
      const first = yield* openIn(place, [{ editor: scripted.editor }], { workerId: "host-a" })
      const second = yield* Effect.exit(openIn(place, [{ editor: scripted.editor }], { workerId: "host-a" }))
      assert.strictEqual(second._tag, "Failure")
      assert.include(String(second._tag === "Failure" ? Cause.squash(second.cause) : ""), "workerId")
      // Another id, and an outbox without a worker, are not held back.
      const other = yield* openIn(place, [{ editor: scripted.editor }], { workerId: "host-b" })
      const reader = yield* openIn(place, [{ editor: scripted.editor }], { workerId: "host-a", worker: false })
      yield* other.close
      yield* reader.close
      yield* first.close
      const again = yield* openIn(place, [{ editor: scripted.editor }], { workerId: "host-a" })
      yield* again.close
    })
  )

  it.live("a worker restarted after a crash takes its own claims back at once, not after the 5-minute lease", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const scripted = ScriptedEditor.make()
      const app = yield* openIn(place, [{ editor: scripted.editor }], { worker: false })
      yield* app.outbox.record({ ids: { externalMessageId: "m1" } })
      yield* app.outbox.submit({ ids: { externalMessageId: "m1" }, text: "v1" })
      // The process of worker host-a died mid-delivery: its claim (5-minute lease) and its open attempt remain.
      const sql = yield* Effect.provide(SqlClient.SqlClient, yield* Layer.build(place.client()))
      const now = Date.now()
      yield* sql`UPDATE ${sql(`${place.prefix}messages`)} SET claimed_by = 'host-a', claimed_until = ${now + 300_000}`
      yield* sql`INSERT INTO ${sql(`${place.prefix}attempts`)} ${sql.insert({
        id: "crashed-attempt",
        message_key: Store.keyOf("scripted", "default", "m1"),
        version: 1,
        worker: "host-a",
        started_at: now
      })}`

      const restarted = Date.now()
      const worker = yield* openIn(place, [{ editor: scripted.editor }], { workerId: "host-a" })
      yield* waitFor(() => scripted.texts.get("m1") === "v1", 20_000)
      const deliveredMs = Date.now() - restarted
      console.log(`delivered ${deliveredMs} ms after the restart`)
      assert.strictEqual(scripted.texts.get("m1"), "v1")
      assert.isAtMost(deliveredMs, 5_000)
      const attempts = (yield* worker.outbox.history("m1"))?.versions[0]?.attempts ?? []
      assert.deepStrictEqual(
        attempts.map((attempt) => attempt.outcome),
        ["abandoned", "confirmed"]
      )
      yield* worker.close
      yield* app.close
    }).pipe(Effect.scoped)
  )
})
