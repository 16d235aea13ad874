/**
 * One submit is judged alone: a field the outbox or the database cannot take
 * (a NUL, an object as `source`, a value a trigger refuses) fails that submit
 * only, with a typed error; the 50 ordinary edits submitted beside it land.
 * An edit whose ids conflict with the id map is refused, naming both ids.
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { Effect, Layer, Result } from "effect"
import type { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { StorageError } from "../src/OutboxError.ts"
import * as Databases from "./support/databases.ts"
import { poison } from "./support/poison.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const ordinary = (i: number): Outbox.Submission => ({ ids: { externalMessageId: `m-${i}` }, text: `text ${i}` })

describe.each(Databases.all)("one submit is judged alone on $name", (database) => {
  const withOutbox = <A, E>(
    body: (outbox: Outbox.Service, place: Databases.Place) => Effect.Effect<A, E, SqlClient.SqlClient>
  ) =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const scripted = ScriptedEditor.make()
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], {
          tablePrefix: place.prefix,
          worker: false,
          unknownMessages: "record"
        }),
        context
      )
      return yield* Effect.provide(body(outbox, place), context)
    }).pipe(Effect.scoped)

  it.live("50 ordinary edits land beside a NUL, an object source, and a text the database refuses", () =>
    withOutbox((outbox, place) =>
      Effect.gen(function* () {
        yield* poison(place.prefix)
        const bad: ReadonlyArray<unknown> = [
          { ids: { externalMessageId: "nul" }, text: "before\u0000after" },
          { ids: { externalMessageId: "object-source" }, text: "fine", source: { name: "agent" } },
          { ids: { externalMessageId: "poisoned" }, text: "poison" }
        ]
        const all = [...Array.from({ length: 50 }, (_, i) => ordinary(i)), ...bad]
        const results = yield* Effect.forEach(all, (edit) => Effect.result(outbox.submit(edit as Outbox.Submission)), {
          concurrency: "unbounded"
        })
        const receipts = results.slice(0, 50)
        assert.isTrue(receipts.every(Result.isSuccess), "every ordinary edit has a receipt")
        const [nul, objectSource, poisoned] = results
          .slice(50)
          .map((result) => (Result.isFailure(result) ? result.failure : undefined))
        assert.isTrue(EditError.isEditError(nul))
        assert.match(String(nul?.message), /text: must not contain NUL/)
        assert.isTrue(EditError.isEditError(objectSource))
        assert.match(String(objectSource?.message), /source: Expected string/)
        assert.instanceOf(poisoned, StorageError)
        assert.strictEqual((poisoned as StorageError).problem, "Failed")
        assert.deepStrictEqual(yield* outbox.counts, { pending: 50, failed: 0 })
      })
    )
  )

  it.live("an edit whose providerMessageId conflicts with the id map is refused, naming both ids", () =>
    withOutbox((outbox) =>
      Effect.gen(function* () {
        yield* outbox.record({ ids: { externalMessageId: "wa-1", providerMessageId: "A-100" } })
        const edit = yield* Effect.flip(
          outbox.submit({ ids: { externalMessageId: "wa-1", providerMessageId: "B-200" }, text: "x" })
        )
        assert.strictEqual(edit._tag, "EditError")
        assert.strictEqual((edit as EditError.EditError).reason._tag, "InvalidRequest")
        assert.match(edit.message, /ids\.providerMessageId: is "B-200", but the id map holds "A-100"/)
        // Recording it with one more id does not re-point the map either.
        const again = yield* Effect.flip(
          outbox.record({ ids: { externalMessageId: "wa-1", externalChatId: "c-1", providerMessageId: "B-200" } })
        )
        assert.match(again.message, /"B-200".*"A-100"/)
        const history = yield* outbox.history("wa-1")
        assert.strictEqual(history?.ids.providerMessageId, "A-100")
        assert.strictEqual(history?.latestVersion, 0)
        // The same ids, or none, are fine.
        const receipt = yield* outbox.submit({
          ids: { externalMessageId: "wa-1", providerMessageId: "A-100" },
          text: "y"
        })
        assert.strictEqual(receipt.version, 1)
      })
    )
  )
})
