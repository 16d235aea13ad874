/**
 * The chunk size chosen from what the portal reports (`time.duration` of
 * calls carrying different numbers of messages), the sandbox's server time
 * per message, and the operating-time budget kept without one
 * `OPERATION_TIME_LIMIT`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Result } from "effect"
import * as fc from "fast-check"
import nock from "nock"
import * as ServerTime from "../src/internal/serverTime.ts"

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

const UPDATE = "/rest/imconnector.update.messages"

/** The number of messages each update call carried, from the sandbox's request log. */
const chunks = (sandbox: Bitrix24Sandbox.Sandbox): Array<number> =>
  sandbox.server.requests
    .filter((request) => request.path === UPDATE)
    .map((request) => (JSON.parse(request.text) as { MESSAGES: Array<unknown> }).MESSAGES.length)

const edits = (count: number, prefix = "m") =>
  Array.from({ length: count }, (_, n) => ({
    ids: { externalMessageId: `${prefix}-${n}`, externalChatId: "chat-1", externalAuthorId: "author-1" },
    text: `edit ${n}`
  }))

describe("ServerTime: the chunk size from the server time a message costs", () => {
  it("fits a per-call and a per-message cost from calls of different sizes", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 0.0001, max: 3, noNaN: true }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 40 }),
        (perCall, perMessage, sizes) => {
          fc.pre(new Set(sizes).size > 1)
          const estimate = ServerTime.fit(sizes.map((n) => [n, perCall + perMessage * n] as const))
          assert.isDefined(estimate)
          assert.approximately(estimate?.perMessage ?? 0, perMessage, 1e-6 + perMessage * 1e-6)
          assert.approximately(estimate?.perCall ?? 0, perCall, 1e-6 + perCall * 1e-6 + perMessage * 1e-4)
        }
      )
    )
  })

  it("counts the whole cost per message when every call carried as many (an upper bound)", () => {
    assert.deepStrictEqual(ServerTime.fit([[20, 2]]), { perCall: 0, perMessage: 0.1 })
    assert.deepStrictEqual(
      ServerTime.fit([
        [10, 1],
        [10, 1]
      ]),
      { perCall: 0, perMessage: 0.1 }
    )
    assert.isUndefined(ServerTime.fit([]))
  })

  it("sizes a call to take at most the budget, from 1 to the most a call carries", () => {
    // Cheap messages: the most a call carries (50).
    assert.strictEqual(ServerTime.sizeFor({ perCall: 0.05, perMessage: 0.002 }, 30, 50), 50)
    // 1 s a message and 0.5 s a call in 30 s: 29.
    assert.strictEqual(ServerTime.sizeFor({ perCall: 0.5, perMessage: 1 }, 30, 50), 29)
    // One message alone takes longer than the budget: still 1.
    assert.strictEqual(ServerTime.sizeFor({ perCall: 0, perMessage: 100 }, 30, 50), 1)
    assert.strictEqual(ServerTime.sizeFor({ perCall: 0, perMessage: 0 }, 30, 50), 50)
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (perCall, perMessage) => {
          const size = ServerTime.sizeFor({ perCall, perMessage }, 30, 50)
          assert.isTrue(Number.isInteger(size) && size >= 1 && size <= 50)
          if (size > 1) assert.isAtMost(perCall + perMessage * size, 30 + 1e-9)
          if (size < 50) assert.isAbove(perCall + perMessage * (size + 1), 30)
        }
      )
    )
  })

  it("starts at the initial size and follows the answers", () => {
    const model = ServerTime.make({ max: 50, initial: 20, budgetSeconds: 30 })
    assert.strictEqual(model.size(), 20)
    assert.strictEqual(model.cost(20), 0)
    model.observe(20, 0.2)
    assert.strictEqual(model.size(), 50)
    model.observe(50, 50.2)
    // Two sizes: 1.6667 s a message and about -13 s a call is not physical: the whole cost per message, at most.
    assert.isBelow(model.size(), 50)
    const slow = ServerTime.make({ budgetSeconds: 30 })
    slow.observe(10, 10.5)
    slow.observe(20, 20.5)
    assert.deepStrictEqual(slow.estimate(), { perCall: 0.5, perMessage: 1 })
    assert.strictEqual(slow.size(), 29)
    assert.approximately(slow.cost(29), 29.5, 1e-9)
  })

  it("never stays at one size whose calls cannot tell a fixed cost from a per-message one", () => {
    // A portal holding every call 6 s whatever it carries, against a 7.5 s budget: one-message calls alone
    // would count all 6 s per message and keep one message a call for ever.
    const model = ServerTime.make({ budgetSeconds: 7.5 })
    model.observe(1, 6)
    assert.strictEqual(model.size(), 2, "one more message, to tell the parts apart")
    model.observe(2, 6)
    assert.strictEqual(model.size(), 50, "the cost is all fixed: the most a call carries")
    // Costs that really are per message keep the size: 7 s for one message is already near the budget.
    const costly = ServerTime.make({ budgetSeconds: 7.5 })
    costly.observe(1, 7)
    costly.observe(2, 14)
    assert.strictEqual(costly.size(), 1)
    // Over the budget, no probe: smaller calls.
    const over = ServerTime.make({ budgetSeconds: 7.5 })
    over.observe(4, 10)
    assert.strictEqual(over.size(), 3)
  })
})

describe("the sandbox's server time per message, and the editor's chunks", () => {
  it.live("a call's duration and operating time grow with the messages it carries", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({
        bucket: false,
        operatingLimit: { costPerCall: 0.05, costPerMessage: 0.01 }
      })
      const editor = yield* Bitrix24.make(sandbox.settings, { chunkSize: 40 })
      const answer = yield* editor.client.updateMessages({
        messages: edits(40).map((edit) => ({
          user: { id: edit.ids.externalAuthorId },
          message: { id: edit.ids.externalMessageId, text: edit.text },
          chat: { id: edit.ids.externalChatId }
        })) as never
      })
      assert.approximately(answer.time?.duration ?? 0, 0.45, 1e-9)
      assert.approximately(sandbox.operating("imconnector.update.messages").operating, 0.45, 1e-6)
    }).pipe(Effect.scoped)
  )

  it.live("without a chunkSize, the editor carries 20 first, then 50 when messages are cheap", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const editor = yield* Bitrix24.make(sandbox.settings, { concurrency: 1 })
      const outcomes = yield* editor.updateMany(edits(170))
      assert.isTrue(outcomes.every(Result.isSuccess))
      const sizes = chunks(sandbox)
      // The first group of 50 goes in three calls of at most 20 (17, 17, 16); then 50 a call, and the rest.
      assert.deepStrictEqual(sizes, [17, 17, 16, 50, 50, 20])
      assert.strictEqual(
        sizes.reduce((sum, size) => sum + size, 0),
        170
      )
      assert.strictEqual(editor.capabilities.maxMessagesPerCall, 50)
    }).pipe(Effect.scoped)
  )

  it.live("costly messages: each call carries what half of the transport's timeout allows", () =>
    Effect.gen(function* () {
      // 0.9 s a message (reported, not waited for): at the default 30 s timeout, 15 s a call holds 16.
      const sandbox = yield* Bitrix24Sandbox.scoped({
        bucket: false,
        operatingLimit: { costPerCall: 0.1, costPerMessage: 0.9, limitSeconds: 10_000 }
      })
      const editor = yield* Bitrix24.make(sandbox.settings, { concurrency: 1 })
      const outcomes = yield* editor.updateMany(edits(100))
      assert.isTrue(outcomes.every(Result.isSuccess))
      // 17, 17 and 16 first (50 at most 20 a call); the answers fit 0.1 s a call and 0.9 s a message: 16 a call,
      // so the next 50 go in 4 calls.
      assert.deepStrictEqual(chunks(sandbox), [17, 17, 16, 13, 13, 12, 12])
      // A shorter transport timeout, smaller calls: 4 s a call holds 4.
      const quick = yield* Bitrix24.make(sandbox.settings, {
        concurrency: 1,
        transport: { timeout: "8 seconds" }
      })
      const before = chunks(sandbox).length
      yield* quick.updateMany(edits(60, "q"))
      assert.isTrue(
        chunks(sandbox)
          .slice(before + 3)
          .every((size) => size <= 4)
      )
    }).pipe(Effect.scoped)
  )

  it.live(
    "the operating-time budget is kept: calls stop before the limit, the portal never answers OPERATION_TIME_LIMIT",
    () =>
      Effect.gen(function* () {
        // 10 s of server time a window; each message 0.1 s: about 100 messages fit.
        const sandbox = yield* Bitrix24Sandbox.scoped({
          bucket: false,
          operatingLimit: { limitSeconds: 10, costPerCall: 0.05, costPerMessage: 0.1 }
        })
        const editor = yield* Bitrix24.make(sandbox.settings, {
          concurrency: 4,
          onOperatingLimit: "fail",
          retry: { maxAttempts: 1 },
          rateLimit: { operatingLimit: "10 seconds", operatingMargin: "0.5 seconds" }
        })
        const outcomes = yield* editor.updateMany(edits(300))
        const succeeded = outcomes.filter(Result.isSuccess).length
        assert.strictEqual(sandbox.errorAnswers("OPERATION_TIME_LIMIT"), 0)
        assert.isAtLeast(succeeded, 40)
        // The first calls leave before any answer told what a message costs: they may take it a call over.
        assert.isAtMost(sandbox.operating("imconnector.update.messages").operating, 10 + 1.75)
        const refused = outcomes.filter(
          (outcome) =>
            Result.isFailure(outcome) &&
            outcome.failure.reason._tag === "RateLimited" &&
            outcome.failure.reason.code === "OPERATION_TIME_LIMIT"
        )
        assert.strictEqual(refused.length, 300 - succeeded)
      }).pipe(Effect.scoped)
  )

  it.live("the sandbox answers OPERATION_TIME_LIMIT once the budget is spent", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({
        bucket: false,
        operatingLimit: { limitSeconds: 1, costPerCall: 0, costPerMessage: 0.1 }
      })
      const editor = yield* Bitrix24.make(sandbox.settings, { chunkSize: 20, retry: { maxAttempts: 1 } })
      // One call of 20: 2 s, over the limit (the call that takes it over still runs); the next is refused.
      const first = yield* editor.updateMany(edits(20))
      assert.isTrue(first.every(Result.isSuccess))
      const second = yield* Effect.result(
        editor.client.updateMessages({
          messages: [{ user: { id: "a" }, message: { id: "x", text: "t" }, chat: { id: "c" } }]
        })
      )
      assert.isTrue(Result.isFailure(second) && second.failure.reason._tag === "RateLimited")
      assert.strictEqual(sandbox.errorAnswers("OPERATION_TIME_LIMIT"), 1)
      assert.isTrue(sandbox.operating("imconnector.update.messages").blocked)
    }).pipe(Effect.scoped)
  )
})
