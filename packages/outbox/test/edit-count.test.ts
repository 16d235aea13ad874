/**
 * `editCount` from the journal (issue 21): to a provider whose capabilities declare `maxEdits` (the
 * in-memory provider's), the outbox says how many edits of the message the provider confirmed before, so
 * that core refuses an edit past the count before any call (`EditLimitReached`), with no counting by the
 * app; after the `newMessage` fallback, edits of the new message count from none. SQLite and PGlite.
 */
import { assert, describe, it } from "@effect/vitest"
import { InMemoryEditor, type MessageEditor } from "@reword/core"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const openIn = (place: Databases.Place, editor: MessageEditor.Service) =>
  Effect.flatMap(Layer.build(place.client()), (context) =>
    Effect.provide(
      Outbox.makeWith([{ editor }], {
        worker: false,
        settleWindow: "50 millis",
        pollInterval: "20 millis",
        tablePrefix: place.prefix
      }),
      context
    )
  )

/** Submits and delivers one edit; answers the message's history then. */
const edit = (outbox: Outbox.Service, text: string) =>
  Effect.flatMap(outbox.submit({ ids: { externalMessageId: "wa-1" }, text }), (receipt) => outbox.deliver(receipt))

describe.each([Databases.sqliteMemory, Databases.pgliteDatabase])("editCount from the journal on $name", (database) => {
  it.live("an edit past maxEdits is refused before any call, the journal counting the confirmed edits", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      store.add("wa-1", "Open 9 to 5")
      const outbox = yield* openIn(database.fresh(), InMemoryEditor.make(store, { maxEdits: 2 }))
      yield* outbox.record({ ids: { externalMessageId: "wa-1" } })
      assert.strictEqual((yield* edit(outbox, "Open 9 to 6"))?.state, "idle")
      assert.strictEqual((yield* edit(outbox, "Open 9 to 7"))?.state, "idle")
      const refused = yield* edit(outbox, "Open 9 to 8")
      assert.strictEqual(refused?.state, "failed")
      assert.match(refused?.lastReason ?? "", /^EditLimitReached: .*at most 2 edits of a message, and it had 2/)
      // Core refused it: the provider was never called for it.
      assert.deepStrictEqual(store.calls, { update: 2, send: 0 })
      assert.deepStrictEqual(
        store.messages.get("wa-1")?.history.map((v) => v.text),
        ["Open 9 to 5", "Open 9 to 6", "Open 9 to 7"]
      )
    }).pipe(Effect.scoped)
  )

  it.live("after the newMessage fallback, the new message's edits count from none", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      store.add("wa-1", "Open 9 to 5")
      const editor = InMemoryEditor.make(store, { maxEdits: 1, fallback: { mode: "newMessage", marker: " (edited)" } })
      const outbox = yield* openIn(database.fresh(), editor)
      yield* outbox.record({ ids: { externalMessageId: "wa-1" } })
      yield* edit(outbox, "Open 9 to 6")
      const superseded = yield* edit(outbox, "Open 9 to 7")
      assert.strictEqual(superseded?.ids.providerMessageId, "wa-1+1")
      assert.deepStrictEqual(store.calls, { update: 1, send: 1 })
      // The new message had no edit: this one is made; the next is past its count and sends another.
      assert.strictEqual((yield* edit(outbox, "Open 9 to 8"))?.state, "idle")
      assert.deepStrictEqual(store.calls, { update: 2, send: 1 })
      assert.deepStrictEqual(
        store.messages.get("wa-1+1")?.history.map((v) => v.text),
        ["Open 9 to 7 (edited)", "Open 9 to 8"]
      )
      const again = yield* edit(outbox, "Open 9 to 9")
      assert.deepStrictEqual(store.calls, { update: 2, send: 2 })
      assert.strictEqual(again?.ids.providerMessageId, "wa-1+2")
    }).pipe(Effect.scoped)
  )
})
