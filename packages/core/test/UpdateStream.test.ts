import { assert, describe, it } from "@effect/vitest"
import { EditError, InMemoryEditor, MessageEditor } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Effect, Result, Stream } from "effect"
import { expect, it as plainIt } from "vitest"
import { recordingAdapter } from "./support/recordingAdapter.ts"

const request = (id: string) => ({ ids: { externalMessageId: id }, text: `text of ${id}` })
const label = (outcome: MessageEditor.Outcome) =>
  Result.isSuccess(outcome) ? (outcome.success.ids.externalMessageId ?? "") : outcome.failure.reason._tag

function* endless() {
  for (let n = 0; ; n++) yield request(`m-${n}`)
}

describe("updateStream", () => {
  it.live("streams outcomes in input order even when later requests finish first", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({})
      const slowFirst: MessageEditor.Adapter = {
        ...adapter,
        update: (req) =>
          Effect.sleep(req.ids.externalMessageId === "m-0" ? 60 : 1).pipe(Effect.andThen(adapter.update(req)))
      }
      const editor = MessageEditor.make(slowFirst, { concurrency: 4 })
      const outcomes = yield* Stream.runCollect(editor.updateStream(["m-0", "m-1", "m-2", "m-3"].map(request)))
      assert.deepStrictEqual(outcomes.map(label), ["m-0", "m-1", "m-2", "m-3"])
    })
  )

  it.effect("pulls requests only as it needs them: an endless source works", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({})
      const editor = MessageEditor.make(adapter, { concurrency: 2 })
      const first = yield* Stream.runCollect(editor.updateStream(endless()).pipe(Stream.take(5)))
      assert.deepStrictEqual(first.map(label), ["m-0", "m-1", "m-2", "m-3", "m-4"])
      assert.isAtMost(sent.length, 10)
    })
  )

  it.effect("packs a stream into provider calls too, keeping one outcome per request", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({
        batch: true,
        capabilities: { maxMessagesPerCall: 3 },
        answer: (req) => (req.ids.externalMessageId === "m-4" ? new EditError.NotFound({}) : undefined)
      })
      const editor = MessageEditor.make(adapter, { retry: { maxAttempts: 1 } })
      const source = Stream.fromIterable([
        request("m-0"),
        { ids: {}, text: "x" },
        request("m-2"),
        request("m-3"),
        request("m-4")
      ])
      const outcomes = yield* Stream.runCollect(editor.updateStream(source))
      assert.deepStrictEqual(outcomes.map(label), ["m-0", "InvalidRequest", "m-2", "m-3", "NotFound"])
      assert.deepStrictEqual(batches, [2, 2])
    })
  )
})

describe("updateEach (Promise API)", () => {
  plainIt("yields one settled result per request from an async iterable, in order", async () => {
    const store = InMemoryEditor.makeStore()
    for (let n = 0; n < 50; n++) store.add(`m-${n}`, "old")
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    async function* lines() {
      for (let n = 0; n < 51; n++) yield request(`m-${n}`)
    }
    const statuses: Array<string> = []
    for await (const settled of editor.updateEach(lines())) statuses.push(settled.status)
    expect(statuses.length).toBe(51)
    expect(statuses.slice(0, 50).every((status) => status === "fulfilled")).toBe(true)
    expect(statuses[50]).toBe("rejected")
    expect(store.messages.get("m-49")?.text).toBe("text of m-49")
  })

  plainIt("rejects the iteration when the source itself fails", async () => {
    await using editor = await createEditor({ providers: InMemoryEditor.provider, settings: {} })
    async function* broken() {
      yield request("m-0")
      throw new Error("the queue went away")
    }
    const seen: Array<string> = []
    await expect(
      (async () => {
        for await (const settled of editor.updateEach(broken())) seen.push(settled.status)
      })()
    ).rejects.toThrow("the queue went away")
  })
})

describe("updateStream with a provider that packs messages", () => {
  it.live("does not hold a lone request back waiting for a full group", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({ batch: true, capabilities: { maxMessagesPerCall: 20 } })
      const editor = MessageEditor.make(adapter)
      // A source that yields one request and then waits (as a queue does) until the app has its outcome.
      const outcomes = yield* editor
        .updateStream(Stream.concat(Stream.make(request("m-0")), Stream.never))
        .pipe(Stream.take(1), Stream.runCollect, Effect.timeout("2 seconds"))
      assert.deepStrictEqual(outcomes.map(label), ["m-0"])
      assert.deepStrictEqual(batches, [1])
    })
  )
})
