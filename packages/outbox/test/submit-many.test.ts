/**
 * `submitMany` and `recordMany`: many edits (messages) in few transactions,
 * each judged alone, on every database. A wrong, unknown or conflicting edit,
 * or one the database refuses, fails for itself: the others land. Several
 * edits of one message in one list take its versions in list order.
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { Effect, Layer, Result } from "effect"
import type { SqlClient } from "effect/sql"
import { afterAll, beforeAll, expect } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { NotFound, StorageError } from "../src/OutboxError.ts"
import { createOutbox } from "../src/promise.ts"
import * as Databases from "./support/databases.ts"
import { poison } from "./support/poison.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const edit = (id: string, text: string): Outbox.Submission => ({ ids: { externalMessageId: id }, text })

const failureOf = <A, E>(result: Result.Result<A, E> | undefined): E | undefined =>
  result !== undefined && Result.isFailure(result) ? result.failure : undefined

describe.each(Databases.all)("submitMany and recordMany on $name", (database) => {
  const withOutbox = <A, E>(
    options: Outbox.Options,
    body: (outbox: Outbox.Service, place: Databases.Place) => Effect.Effect<A, E, SqlClient.SqlClient>
  ) =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], {
          tablePrefix: place.prefix,
          worker: false,
          ...options
        }),
        context
      )
      return yield* Effect.provide(body(outbox, place), context)
    }).pipe(Effect.scoped)

  it.live("answers one receipt per edit, in order; edits of one message take its versions in list order", () =>
    withOutbox({ unknownMessages: "record" }, (outbox) =>
      Effect.gen(function* () {
        const results = yield* outbox.submitMany([
          edit("m-1", "a"),
          edit("m-2", "b"),
          edit("m-1", "c"),
          edit("m-1", "d")
        ])
        assert.deepStrictEqual(
          results.map((result) =>
            Result.isSuccess(result) ? [result.success.externalMessageId, result.success.version] : result.failure
          ),
          [
            ["m-1", 1],
            ["m-2", 1],
            ["m-1", 2],
            ["m-1", 3]
          ]
        )
        const history = yield* outbox.history("m-1")
        assert.deepStrictEqual(
          history?.versions.map((version) => [version.version, version.text, version.status]),
          [
            [1, "a", "pending"],
            [2, "c", "pending"],
            [3, "d", "pending"]
          ]
        )
        assert.strictEqual(history?.latestVersion, 3)
        assert.deepStrictEqual(yield* outbox.counts, { pending: 2, failed: 0 })
        const [next] = yield* outbox.submitMany([edit("m-1", "e")])
        assert.strictEqual(next !== undefined && Result.isSuccess(next) ? next.success.version : undefined, 4)
      })
    )
  )

  it.live("judges each edit alone: a NUL, an unknown message, conflicting ids, a text the database refuses", () =>
    withOutbox({}, (outbox, place) =>
      Effect.gen(function* () {
        yield* poison(place.prefix)
        const ordinary = Array.from({ length: 50 }, (_, i) => `m-${i}`)
        const recorded = yield* outbox.recordMany(
          [...ordinary, "wa-1", "poisoned"].map((id) => ({
            ids: { externalMessageId: id, ...(id === "wa-1" ? { providerMessageId: "A-100" } : {}) }
          }))
        )
        assert.isTrue(recorded.every(Result.isSuccess), "every message is recorded")
        const results = yield* outbox.submitMany([
          ...ordinary.map((id) => edit(id, `text of ${id}`)),
          edit("m-0", "before\u0000after"),
          edit("nope", "to a message the id map does not hold"),
          { ids: { externalMessageId: "wa-1", providerMessageId: "B-200" }, text: "x" },
          edit("poisoned", "poison")
        ])
        assert.strictEqual(results.length, 54)
        assert.isTrue(results.slice(0, 50).every(Result.isSuccess), "every ordinary edit has a receipt")
        const [nul, unknown, conflicting, poisoned] = results.slice(50).map(failureOf)
        assert.isTrue(EditError.isEditError(nul))
        assert.match(String(nul?.message), /text: must not contain NUL/)
        assert.instanceOf(unknown, NotFound)
        assert.isTrue(EditError.isEditError(conflicting))
        assert.match(String(conflicting?.message), /ids\.providerMessageId: is "B-200", but the id map holds "A-100"/)
        assert.instanceOf(poisoned, StorageError)
        assert.strictEqual((poisoned as StorageError).problem, "Failed")
        assert.deepStrictEqual(yield* outbox.counts, { pending: 50, failed: 0 })
        const wa1 = yield* outbox.history("wa-1")
        assert.strictEqual(wa1?.ids.providerMessageId, "A-100")
        assert.strictEqual(wa1?.latestVersion, 0)
        assert.strictEqual((yield* outbox.history("poisoned"))?.latestVersion, 0)
        assert.strictEqual((yield* outbox.history("m-0"))?.versions[0]?.text, "text of m-0")
      })
    )
  )

  it.live("records each message alone: a conflicting one is refused naming both ids, the others are recorded", () =>
    withOutbox({}, (outbox) =>
      Effect.gen(function* () {
        yield* outbox.record({ ids: { externalMessageId: "wa-1", providerMessageId: "A-100" } })
        const results = yield* outbox.recordMany([
          { ids: { externalMessageId: "wa-1", providerMessageId: "B-200" } },
          { ids: { externalMessageId: "wa-2", providerMessageId: 202 } },
          { ids: { externalMessageId: "wa-3", externalChatId: "chat-3" } },
          { ids: { externalMessageId: "wa-4" }, color: "red" } as unknown as Outbox.Recorded,
          { ids: { externalMessageId: "wa-3", providerMessageId: "P-3" } }
        ])
        assert.deepStrictEqual(results.map(Result.isSuccess), [false, true, true, false, true])
        assert.match(String(failureOf(results[0])?.message), /"B-200", but the id map holds "A-100"/)
        assert.match(String(failureOf(results[3])?.message), /color/)
        assert.strictEqual((yield* outbox.history("wa-1"))?.ids.providerMessageId, "A-100")
        assert.strictEqual((yield* outbox.history("wa-2"))?.ids.providerMessageId, "202")
        const wa3 = yield* outbox.history("wa-3")
        assert.deepStrictEqual([wa3?.ids.externalChatId, wa3?.ids.providerMessageId], ["chat-3", "P-3"])
        assert.strictEqual(yield* outbox.history("wa-4"), undefined)
        // A recorded message takes edits (unknownMessages: "reject").
        const [receipt] = yield* outbox.submitMany([edit("wa-2", "hello")])
        assert.isTrue(receipt !== undefined && Result.isSuccess(receipt))
      })
    )
  )

  it.live("refuses as a whole a list that is not one, or that holds more than 100,000 edits", () =>
    withOutbox({ unknownMessages: "record" }, (outbox) =>
      Effect.gen(function* () {
        const notAList = yield* Effect.flip(outbox.submitMany(null as never))
        assert.isTrue(EditError.isEditError(notAList))
        assert.strictEqual(notAList.reason._tag, "InvalidRequest")
        assert.match(notAList.message, /must be an array/)
        const tooMany = yield* Effect.flip(outbox.submitMany(new Array(100_001).fill(edit("m-1", "x"))))
        assert.match(tooMany.message, /at most 100,000/)
        const generated = yield* outbox.submitMany(
          (function* () {
            for (let n = 0; n < 3; n++) yield edit(`g-${n}`, `text ${n}`)
          })()
        )
        assert.isTrue(generated.length === 3 && generated.every(Result.isSuccess))
        assert.deepStrictEqual(yield* outbox.counts, { pending: 3, failed: 0 })
      })
    )
  )
})

describe("submitMany and recordMany with Promises", () => {
  it("settle like Promise.allSettled: a receipt, or the typed Error of that edit alone", async () => {
    const outbox = await createOutbox({
      editors: [{ editor: ScriptedEditor.make().editor }],
      database: ":memory:",
      worker: false
    })
    try {
      const recorded = await outbox.recordMany([{ ids: { externalMessageId: "wa-1" } }, { ids: {} } as never])
      assert.deepStrictEqual(
        recorded.map((result) => result.status),
        ["fulfilled", "rejected"]
      )
      const settled = await outbox.submitMany([edit("wa-1", "Meet at 10."), edit("wa-9", "to no message")])
      const [first, second] = settled
      assert.deepStrictEqual(first, {
        status: "fulfilled",
        value: { provider: "scripted", account: "default", externalMessageId: "wa-1", version: 1 }
      })
      assert.strictEqual(second?.status, "rejected")
      const reason = second?.status === "rejected" ? second.reason : undefined
      assert.instanceOf(reason, NotFound)
      assert.match(JSON.stringify(reason), /wa-9/)
      await expect(outbox.submitMany(42 as never)).rejects.toThrow(/must be an array/)
    } finally {
      await outbox.close()
    }
    await expect(outbox.submitMany([edit("wa-1", "late")])).rejects.toThrow(/after close/)
  })
})
