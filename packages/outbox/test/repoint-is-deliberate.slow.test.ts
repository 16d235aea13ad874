/**
 * Pointing a message at another provider id is a call of its own, `repoint`,
 * kept in the journal; `record` and `submit` never re-point the id map.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

describe.each([Databases.sqliteMemory, Databases.pgliteDatabase])("repoint on $name", (database) => {
  it.live("re-points the id map, keeps the change in the history, and later edits follow it", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const { editor } = ScriptedEditor.make()
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor }], { tablePrefix: place.prefix, worker: false }),
        context
      )
      yield* outbox.record({ ids: { externalMessageId: "wa-1", providerMessageId: "A-100" } })
      yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "first" })
      yield* outbox.repoint({ ids: { externalMessageId: "wa-1", providerMessageId: "B-200" }, source: "agent" })
      const history = yield* outbox.history("wa-1")
      assert.strictEqual(history?.ids.providerMessageId, "B-200")
      assert.deepStrictEqual(
        history?.idChanges.map(({ field, from, to, source }) => ({ field, from, to, source })),
        [{ field: "providerMessageId", from: "A-100", to: "B-200", source: "agent" }]
      )
      assert.deepStrictEqual(history?.versions[0]?.attempts, [])
      // The old id is now the conflicting one.
      const stale = yield* Effect.flip(
        outbox.submit({ ids: { externalMessageId: "wa-1", providerMessageId: "A-100" }, text: "x" })
      )
      assert.match(stale.message, /"A-100", but the id map holds "B-200"/)
      const receipt = yield* outbox.submit({
        ids: { externalMessageId: "wa-1", providerMessageId: "B-200" },
        text: "y"
      })
      assert.strictEqual(receipt.version, 2)
      const unknown = yield* Effect.flip(outbox.repoint({ ids: { externalMessageId: "nope", providerMessageId: "C" } }))
      assert.strictEqual(unknown._tag, "NotFound")
    }).pipe(Effect.scoped)
  )
})
