/**
 * The reads and the one delivery a tool (`reword`) needs beside the app's
 * workers: `deliver` lands one submitted edit in the calling process and
 * touches no other message, leaves a message another worker holds to it, and
 * sends one held back (due later) when it is due; `Journal.totals` counts
 * every pending and failed row the filters choose, not a page; an entry
 * shows who holds its claim and until when. On every database of the
 * contract suite.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as Scripted from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

describe.each(Databases.all)("deliver, totals and claims on $name", (database) => {
  it.live("deliver lands the one edit submitted, as its own worker, and no other message", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const scripted = Scripted.make()
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], {
          worker: false,
          workerId: "a-tool",
          tablePrefix: place.prefix
        }),
        context
      )
      for (const id of ["m-1", "m-2"]) {
        yield* outbox.record({ ids: { externalMessageId: id } })
        yield* outbox.submit({ ids: { externalMessageId: id }, text: `text of ${id}` })
      }
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "fixed", source: "cli" })
      const history = yield* outbox.deliver(receipt, { timeout: "10 seconds" })
      assert.strictEqual(history?.state, "idle")
      assert.strictEqual(history?.confirmedVersion, 2)
      const own = history?.versions.find((version) => version.version === 2)
      assert.deepStrictEqual(
        [own?.status, own?.source, own?.attempts.map((attempt) => [attempt.worker, attempt.outcome])],
        ["confirmed", "cli", [["a-tool", "confirmed"]]]
      )
      assert.strictEqual(scripted.texts.get("m-1"), "fixed")
      assert.isFalse(scripted.texts.has("m-2"))
      assert.deepStrictEqual(yield* outbox.counts, { pending: 1, failed: 0 })
    }).pipe(Effect.scoped)
  )

  it.live("deliver leaves a message another worker holds to it, and the entry names the holder until when", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const app = Scripted.make()
      app.delayMs = 60_000 // the app's delivery is in flight for the whole test
      const appOutbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: app.editor }], {
          workerId: "app-worker",
          lease: "10 minutes",
          pollInterval: "20 millis",
          tablePrefix: place.prefix
        }),
        context
      )
      yield* appOutbox.record({ ids: { externalMessageId: "held" } })
      yield* appOutbox.submit({ ids: { externalMessageId: "held" }, text: "from the app" })
      let claimed = yield* appOutbox.history("held")
      for (let n = 0; n < 500 && claimed?.claim === undefined; n++) {
        yield* Effect.sleep("10 millis")
        claimed = yield* appOutbox.history("held")
      }
      assert.strictEqual(claimed?.claim?.worker, "app-worker")
      assert.isAbove(claimed?.claim?.until.getTime() ?? 0, Date.now() + 8 * 60_000)

      const tool = Scripted.make()
      const toolOutbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: tool.editor }], { worker: false, workerId: "a-tool", tablePrefix: place.prefix }),
        context
      )
      const receipt = yield* toolOutbox.submit({ ids: { externalMessageId: "held" }, text: "by hand", source: "cli" })
      const started = Date.now()
      const history = yield* toolOutbox.deliver(receipt, { timeout: "300 millis" })
      assert.isBelow(Date.now() - started, 5_000)
      assert.strictEqual(tool.calls, 0)
      assert.strictEqual(history?.state, "pending")
      assert.strictEqual(history?.claim?.worker, "app-worker")
      assert.deepStrictEqual(
        history?.versions.map((version) => [version.version, version.status]),
        [
          [1, "pending"],
          [2, "pending"]
        ]
      )
    }).pipe(Effect.scoped)
  )

  it.live("deliver sends a message held back (due later) once it is due, within the timeout", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const scripted = Scripted.make()
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], {
          worker: false,
          tablePrefix: place.prefix,
          retry: { initialDelay: 400, maxDelay: 400, jitter: false }
        }),
        context
      )
      yield* outbox.record({ ids: { externalMessageId: "m" } })
      scripted.faults.push("rateLimited")
      const first = yield* outbox.submit({ ids: { externalMessageId: "m" }, text: "v1" })
      // Refused for now: the message waits for its backoff.
      const waiting = yield* outbox.deliver(first, { timeout: "0 millis" })
      assert.strictEqual(waiting?.state, "pending")
      const refused = yield* outbox.deliver(first, { timeout: "50 millis" })
      assert.strictEqual(refused?.failures, 1)
      assert.isAbove(refused?.nextAttemptAt?.getTime() ?? 0, Date.now())
      const second = yield* outbox.submit({ ids: { externalMessageId: "m" }, text: "v2", source: "cli" })
      const history = yield* outbox.deliver(second, { timeout: "10 seconds" })
      assert.strictEqual(history?.state, "idle")
      assert.strictEqual(scripted.texts.get("m"), "v2")
      assert.deepStrictEqual(scripted.history.get("m"), ["v2"])
    }).pipe(Effect.scoped)
  )

  it.live("totals count every pending and failed row the filters choose, by provider and account", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const one = Scripted.make({ provider: "one" })
      const two = Scripted.make({ provider: "two" })
      const outbox = yield* Effect.provide(
        Outbox.makeWith(
          [
            { editor: one.editor, account: "a" },
            { editor: one.editor, account: "b" },
            { editor: two.editor, account: "a" }
          ],
          { worker: false, tablePrefix: place.prefix }
        ),
        context
      )
      const put = (provider: string, account: string, count: number) =>
        Effect.forEach(
          Array.from({ length: count }, (_, n) => `${provider}-${account}-${n}`),
          (id) =>
            Effect.andThen(outbox.record({ provider, account, ids: { externalMessageId: id } }), () =>
              outbox.submit({ provider, account, ids: { externalMessageId: id }, text: id })
            )
        )
      yield* put("one", "a", 12)
      yield* put("one", "b", 3)
      yield* put("two", "a", 5)
      const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)
      assert.lengthOf(yield* journal.pending({ limit: 2 }), 2)
      const all = yield* journal.totals()
      assert.deepStrictEqual(
        all.map((total) => [total.provider, total.account, total.pending, total.failed]),
        [
          ["one", "a", 12, 0],
          ["one", "b", 3, 0],
          ["two", "a", 5, 0]
        ]
      )
      assert.isDefined(all[0]?.oldestPending)
      assert.deepStrictEqual(
        (yield* journal.totals({ provider: "one" })).map((total) => total.pending),
        [12, 3]
      )
      assert.deepStrictEqual(
        (yield* journal.totals({ account: "a" })).map((total) => total.pending),
        [12, 5]
      )
      assert.deepStrictEqual(yield* journal.totals({ olderThan: "1 hour" }), [])
    }).pipe(Effect.scoped)
  )
})
