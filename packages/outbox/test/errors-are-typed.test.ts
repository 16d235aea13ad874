/**
 * Every failure of the outbox is a typed `Error` with a reason a program can
 * match and a message a person can act on, that serialises with its name,
 * message and reason: after `close()`, a submit `close()` cut short, a
 * malformed submit, an unroutable one, a database that does not exist.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EditError } from "@reword/core"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { fromSql } from "../src/OutboxError.ts"
import { createOutbox, StorageError } from "../src/promise.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

let directory: string
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "reword-outbox-errors-"))
})
afterEach(() => rmSync(directory, { recursive: true, force: true }))

const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  const error = await promise.then(
    () => expect.fail("the call was expected to reject"),
    (error: unknown) => error
  )
  expect(error).toBeInstanceOf(Error)
  return error as Error
}

const serialised = (error: Error) => JSON.parse(JSON.stringify(error)) as Record<string, unknown>

describe("the Promise outbox's errors", () => {
  it("after close(), every call rejects with a Closed StorageError that serialises", async () => {
    const { editor } = ScriptedEditor.make()
    const outbox = await createOutbox({ editors: [{ editor }], database: ":memory:", unknownMessages: "record" })
    await outbox.close()
    const error = await rejectionOf(outbox.submit({ ids: { externalMessageId: "m" }, text: "x" }))
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).reason._tag).toBe("Closed")
    expect(error.message).toMatch(/Closed: this call came after close\(\)/)
    expect(serialised(error)).toMatchObject({
      name: "StorageError",
      message: error.message,
      reason: { _tag: "Closed", isRetryable: false }
    })
    expect((await rejectionOf(outbox.counts())).name).toBe("StorageError")
    await outbox.close()
  })

  it("submits racing close() are answered or rejected with Closed: never 'All fibers interrupted'", async () => {
    const { editor } = ScriptedEditor.make()
    const outbox = await createOutbox({
      editors: [{ editor }],
      database: join(directory, "outbox.db"),
      unknownMessages: "record",
      worker: false
    })
    const submits = Array.from({ length: 300 }, (_, i) =>
      outbox.submit({ ids: { externalMessageId: `m-${i % 7}` }, text: `t ${i}` })
    )
    const closing = outbox.close()
    const late = outbox.submit({ ids: { externalMessageId: "late" }, text: "x" })
    const settled = await Promise.allSettled([...submits, late])
    await closing
    for (const result of settled) {
      if (result.status === "rejected") {
        expect(result.reason).toBeInstanceOf(StorageError)
        expect((result.reason as StorageError).reason._tag).toBe("Closed")
      }
    }
    expect(settled.at(-1)?.status).toBe("rejected")
  })

  it("submit(null), a submit without ids, and an unroutable one are InvalidRequests", async () => {
    const acquire = ScriptedEditor.make({ provider: "acquire" })
    const bitrix = ScriptedEditor.make({ provider: "bitrix24" })
    await using outbox = await createOutbox({
      editors: [{ editor: acquire.editor }, { editor: bitrix.editor }],
      database: ":memory:",
      worker: false
    })
    const none = await rejectionOf(outbox.submit(null as never))
    expect(EditError.isEditError(none)).toBe(true)
    expect((none as EditError.EditError).reason._tag).toBe("InvalidRequest")
    const noIds = await rejectionOf(outbox.submit({ text: "x" } as never))
    expect(noIds.message).toMatch(/ids/)
    const typo = await rejectionOf(outbox.submit({ ids: { externalMessageId: "m" }, txt: "x" } as never))
    expect(typo.message).toMatch(/txt: is not a field \(did you mean text\?\)/)
    const unrouted = await rejectionOf(outbox.submit({ ids: { externalMessageId: "m" }, text: "x" }))
    expect((unrouted as EditError.EditError).reason._tag).toBe("InvalidRequest")
    expect(unrouted.message).toMatch(/provider: is required: the outbox has editors of several providers/)
    expect(serialised(unrouted)).toMatchObject({ name: "EditError", reason: { _tag: "InvalidRequest" } })
  })

  it("a database path whose directory is missing, or that is a directory, is Missing", async () => {
    const { editor } = ScriptedEditor.make()
    const missing = await rejectionOf(
      createOutbox({ editors: [{ editor }], database: join(directory, "no-such-dir", "outbox.db") })
    )
    expect((missing as StorageError).reason._tag).toBe("Missing")
    expect(missing.message).not.toMatch(/try again/)
    mkdirSync(join(directory, "a-directory"))
    const aDirectory = await rejectionOf(
      createOutbox({ editors: [{ editor }], database: join(directory, "a-directory") })
    )
    expect((aDirectory as StorageError).reason._tag).toBe("Missing")
  })

  it("PostgreSQL's deadlock, missing database and refused login have reasons of their own", () => {
    const pg = (code: string) => ({ code, message: `pg ${code}` })
    expect(fromSql(pg("40P01"), "storing").problem).toBe("Conflict")
    expect(fromSql(pg("40001"), "storing").problem).toBe("Conflict")
    expect(fromSql(pg("3D000"), "connecting").problem).toBe("Missing")
    expect(fromSql(pg("28P01"), "connecting").problem).toBe("Denied")
    const error = fromSql(pg("40P01"), "storing")
    expect(error.isRetryable).toBe(true)
    expect(serialised(error)).toMatchObject({ name: "StorageError", reason: { _tag: "Conflict", isRetryable: true } })
  })
})

describe("the Effect outbox's errors", () => {
  it("submits waiting when the outbox's scope closes fail with Closed; later ones too", async () => {
    const { Effect, Exit, Fiber, Layer, Scope } = await import("effect")
    const Outbox = await import("../src/Outbox.ts")
    const { sqliteClient } = await import("../src/Sqlite.ts")
    const { editor } = ScriptedEditor.make()
    const outcomes = await Effect.runPromise(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(sqliteClient({ filename: join(directory, "outbox.db") }), scope)
        const outbox = yield* Effect.provide(
          Outbox.makeWith([{ editor }], { worker: false, unknownMessages: "record" }),
          context
        ).pipe(Scope.provide(scope))
        const fibers = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => Effect.forkDetach(outbox.submit({ ids: { externalMessageId: `m-${i % 5}` }, text: `t ${i}` }))
        )
        yield* Scope.close(scope, Exit.void)
        const late = yield* Effect.exit(outbox.submit({ ids: { externalMessageId: "late" }, text: "x" }))
        return [...(yield* Effect.forEach(fibers, Fiber.await)), late]
      })
    )
    const problemOf = (exit: (typeof outcomes)[number]) => {
      if (Exit.isSuccess(exit)) return "stored"
      const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
      return failure?._tag === "Fail" ? (failure.error as StorageError).problem : "interrupted, not a typed failure"
    }
    for (const exit of outcomes.slice(0, -1)) expect(["stored", "Closed"]).toContain(problemOf(exit))
    const late = outcomes.at(-1)
    expect(late === undefined ? "none" : problemOf(late)).toBe("Closed")
  })
})
