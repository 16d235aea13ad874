/**
 * A message the portal refuses as a whole call (the call answers an error for all, and names no item)
 * costs only that message: the chunk is split until the message stands alone, the other messages land,
 * and the number of extra calls is bounded. Refusals that are the call's own are never split.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Result } from "effect"
import nock from "nock"
import { maxExtraCalls } from "../src/internal/split.ts"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1")
})
afterAll(() => {
  nock.disableNetConnect()
})

const UPDATE = "imconnector.update.messages"

const seeded = (sandbox: Bitrix24Sandbox.Sandbox, count: number) =>
  Effect.promise(async () => {
    const all = []
    for (let n = 0; n < count; n++) {
      all.push(
        await sandbox.seedMessage(`before ${n}`, {
          externalMessageId: `m-${n}`,
          externalChatId: "chat-1",
          externalAuthorId: "user-1"
        })
      )
    }
    return all
  })

const setup = (count: number) =>
  Effect.gen(function* () {
    const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
    const ids = yield* seeded(sandbox, count)
    const editor = yield* Bitrix24.make(sandbox.settings, {
      chunkSize: count,
      retry: { maxAttempts: 1 },
      transport: { timeout: "10 seconds" }
    })
    const edits = ids.map((one, n) => ({ ids: one, text: `after ${n}` }))
    return { sandbox, editor, edits }
  })

const landed = (sandbox: Bitrix24Sandbox.Sandbox, n: number) =>
  sandbox.inspect({ externalChatId: "chat-1", externalMessageId: `m-${n}` })?.text

describe("a chunk refused as a whole for one of its messages", () => {
  it.live("20 edits, one poisoned: 19 land, the poisoned one fails alone with the portal's reason", () =>
    Effect.gen(function* () {
      const { sandbox, editor, edits } = yield* setup(20)
      sandbox.poisonMessage("m-13")
      const outcomes = yield* editor.updateMany(edits)
      assert.strictEqual(outcomes.length, 20)
      outcomes.forEach((outcome, n) => {
        if (n === 13) {
          assert.isTrue(Result.isFailure(outcome))
          if (Result.isFailure(outcome)) {
            assert.strictEqual(outcome.failure.reason._tag, "InvalidRequest")
            assert.strictEqual((outcome.failure.reason as { code?: string }).code, "ERROR_ARGUMENT")
            assert.include(outcome.failure.message, "refused every call that carried this message")
          }
          assert.strictEqual(landed(sandbox, n), "before 13")
        } else {
          assert.isTrue(Result.isSuccess(outcome), `edit ${n}`)
          assert.strictEqual(landed(sandbox, n), `after ${n}`)
        }
      })
      // One refused call, then two per level of halving: ceil(log2 20) = 5 levels.
      assert.isAtMost(sandbox.calls(UPDATE), 1 + 2 * 5)
    }).pipe(Effect.scoped)
  )

  it.live("two poisoned messages (an unknown code, under 400): the other 18 land within the bound", () =>
    Effect.gen(function* () {
      const { sandbox, editor, edits } = yield* setup(20)
      sandbox.poisonMessage("m-2", { error: "SOMETHING_NEW", description: "the portal did not like it" })
      sandbox.poisonMessage("m-17", { error: "SOMETHING_NEW", description: "the portal did not like it" })
      const outcomes = yield* editor.updateMany(edits)
      const failed = outcomes.flatMap((outcome, n) => (Result.isFailure(outcome) ? [n] : []))
      assert.deepStrictEqual(failed, [2, 17])
      for (const n of failed) {
        const outcome = outcomes[n]
        if (outcome !== undefined && Result.isFailure(outcome)) {
          assert.strictEqual(outcome.failure.reason._tag, "Rejected")
          assert.include(outcome.failure.message, "the portal did not like it")
        }
      }
      assert.isAtMost(sandbox.calls(UPDATE), 1 + maxExtraCalls(20))
    }).pipe(Effect.scoped)
  )

  it.live("every message poisoned: the extra calls stay within the bound, and every edit fails", () =>
    Effect.gen(function* () {
      const { sandbox, editor, edits } = yield* setup(20)
      for (let n = 0; n < 20; n++) sandbox.poisonMessage(`m-${n}`)
      const outcomes = yield* editor.updateMany(edits)
      assert.isTrue(outcomes.every((outcome) => Result.isFailure(outcome)))
      assert.strictEqual(sandbox.calls(UPDATE), 1 + maxExtraCalls(20))
      assert.isBelow(maxExtraCalls(20), 2 * 20 - 2)
    }).pipe(Effect.scoped)
  )

  it.live("a refusal that is the call's own is not split: one call, every edit fails with it", () =>
    Effect.gen(function* () {
      const { sandbox, editor, edits } = yield* setup(20)
      sandbox.poisonMessage("m-5", {
        status: 403,
        error: "WRONG_AUTH_TYPE",
        description: "Application context required"
      })
      const forbidden = yield* editor.updateMany(edits)
      assert.strictEqual(sandbox.calls(UPDATE), 1)
      assert.isTrue(
        forbidden.every((outcome) => Result.isFailure(outcome) && outcome.failure.reason._tag === "Forbidden")
      )
      sandbox.curePoison()
      sandbox.setLineActive(sandbox.connector, sandbox.line, false)
      const inactive = yield* editor.updateMany(edits)
      assert.strictEqual(sandbox.calls(UPDATE), 2)
      assert.isTrue(
        inactive.every((outcome) => Result.isFailure(outcome) && outcome.failure.reason._tag === "NotFound")
      )
    }).pipe(Effect.scoped)
  )

  it.live("concurrent update() calls (core packs them into calls): only the poisoned one fails", () =>
    Effect.gen(function* () {
      const { sandbox, editor, edits } = yield* setup(8)
      sandbox.poisonMessage("m-3")
      const outcomes = yield* Effect.forEach(edits, (edit) => Effect.result(editor.update(edit)), {
        concurrency: "unbounded"
      })
      const failed = outcomes.flatMap((outcome, n) => (Result.isFailure(outcome) ? [n] : []))
      assert.deepStrictEqual(failed, [3])
      assert.strictEqual(landed(sandbox, 0), "after 0")
    }).pipe(Effect.scoped)
  )
})
