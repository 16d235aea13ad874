/**
 * What the journal's reads take (`pending`, `failed`, `stream`, `totals`, `series`) is one Schema decoded once
 * (issue 19): an unknown key is refused with a "did you mean", a wrong value names its field, and both are
 * an `EditError` (`InvalidRequest`) for that call alone; a good query lists as before.
 */
import { EditError } from "@reword/core"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { createOutbox } from "../src/promise.ts"
import { sqliteClient } from "../src/Sqlite.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

const refusalOf = async (promise: Promise<unknown>): Promise<EditError.EditError> => {
  const error = await promise.then(
    () => expect.fail("the read was expected to be refused"),
    (error: unknown) => error
  )
  expect(EditError.isEditError(error)).toBe(true)
  const refused = error as EditError.EditError
  expect(refused.reason._tag).toBe("InvalidRequest")
  expect(refused.operation).toBe("get")
  return refused
}

describe("a journal query", () => {
  it.each([
    [{ limt: 5 }, /limt: is not a field \(did you mean limit\?\)/],
    [{ Provider: "acquire" }, /Provider: is not a field \(did you mean provider\?\)/],
    [{ olderThan: "soon" }, /olderThan.*must be a duration/],
    [{ olderThan: "-1 hour" }, /olderThan.*must be a duration/],
    [{ limit: Number.NaN }, /limit/],
    [{ limit: "10" }, /limit/],
    [{ provider: "" }, /provider/],
    [{ account: "a\u0000b" }, /account/],
    [{ after: { provider: "acquire" } }, /after\.account/],
    ["pending", /\(query\): must be an object/]
  ])("%j is refused, naming the field", async (query, message) => {
    const { editor } = ScriptedEditor.make()
    await using outbox = await createOutbox({ editors: [{ editor }], database: ":memory:", worker: false })
    const pending = await refusalOf(outbox.pending(query as Outbox.Query))
    expect(pending.message).toMatch(message)
    const failed = await refusalOf(outbox.failed(query as Outbox.Query))
    expect(failed.message).toMatch(message)
  })

  it("lists with a good query, and pages with the last entry of a page", async () => {
    const { editor } = ScriptedEditor.make({ provider: "acquire" })
    await using outbox = await createOutbox({
      editors: [{ editor }],
      database: ":memory:",
      worker: false,
      unknownMessages: "record"
    })
    for (const id of ["m1", "m2", "m3"]) {
      await outbox.submit({ ids: { externalMessageId: id, providerMessageId: id }, text: `text of ${id}` })
    }
    const all = await outbox.pending({ provider: "acquire", account: "default", olderThan: 0, limit: 10 })
    expect(all.map((entry) => entry.ids.externalMessageId)).toEqual(["m1", "m2", "m3"])
    const first = await outbox.pending({ limit: 2 })
    const rest = await outbox.pending({ limit: 2, after: first[first.length - 1] })
    expect([...first, ...rest].map((entry) => entry.ids.externalMessageId)).toEqual(["m1", "m2", "m3"])
    expect(await outbox.pending({ olderThan: "1 hour" })).toEqual([])
  })

  it("is checked by the Effect journal's stream, totals and series too", async () => {
    const { editor } = ScriptedEditor.make()
    const program = Effect.gen(function* () {
      const outbox = yield* Outbox.makeWith([{ editor }], { worker: false })
      const streamed = yield* Effect.flip(Stream.runCollect(outbox.stream("failed", { limt: 1 } as Outbox.Query)))
      const journal = yield* Outbox.makeJournal()
      const totals = yield* Effect.flip(journal.totals({ limit: 5 } as never))
      const typo = yield* Effect.flip(journal.series({ window: "1 hour", step: 3 } as never))
      const noWindow = yield* Effect.flip(journal.series({ window: "soon" } as never))
      const drawn = yield* journal.series({ window: "1 hour", steps: 3 })
      return { streamed, totals, typo, noWindow, drawn }
    }).pipe(Effect.scoped, Effect.provide(sqliteClient({ filename: ":memory:" })))
    const { streamed, totals, typo, noWindow, drawn } = await Effect.runPromise(program)
    expect(typo.message).toMatch(/step: is not a field \(did you mean steps\?\)/)
    expect(noWindow.message).toMatch(/window.*must be a duration/)
    expect(drawn.points.length).toBeGreaterThanOrEqual(3)
    expect(drawn.points.every((point) => point.pending === 0 && point.failed === 0)).toBe(true)
    expect(streamed.message).toMatch(/limt: is not a field \(did you mean limit\?\)/)
    expect(totals.message).toMatch(/limit: is not a field/)
  })
})
