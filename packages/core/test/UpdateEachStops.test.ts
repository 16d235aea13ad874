import { InMemoryEditor, MessageEditor } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { createEditor, DisposedError, type Editor, type Settled } from "@reword/core/promise"
import { Config, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { recordingAdapter } from "./support/recordingAdapter.ts"

/** Within a second of the stop, as the issue asks; a loaded machine gets the rest of the test's time for the setup. */
const STOP_BOUND_MILLIS = 1_000

/** Takes a message per request (`m-<n>`), so that the in-memory store knows every id. */
const seeded = (count: number) => {
  const store = InMemoryEditor.makeStore()
  for (let n = 0; n < count; n++) store.add(`m-${n}`, `text ${n}`)
  return store
}

/** Like Bitrix24's: many messages per call, so `updateEach` groups requests and concurrent updates are packed. */
const packing = ProviderKit.describe({
  name: "packing",
  settings: [],
  config: Config.succeed({}),
  make: (_settings, options) =>
    Effect.succeed(
      MessageEditor.make(
        recordingAdapter({ batch: true, capabilities: { maxMessagesPerCall: 50, requiredIds: ["externalMessageId"] } })
          .adapter,
        options
      )
    )
})

/** A provider whose every edit hangs until interrupted. */
const hanging = ProviderKit.describe({
  name: "hanging",
  settings: [],
  config: Config.succeed({}),
  make: (_settings, options) =>
    Effect.succeed(
      MessageEditor.make(
        { provider: "hanging", capabilities: InMemoryEditor.capabilities, update: () => Effect.never },
        options
      )
    )
})

/**
 * An async source that yields `count` requests, then waits for ever (a queue
 * that went quiet), and records whether its `return()` was called.
 */
const stalling = (count: number) => {
  const state = { returned: false, pulled: 0 }
  const iterable: AsyncIterable<{ ids: { externalMessageId: string }; text: string }> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const n = state.pulled++
        return n < count
          ? Promise.resolve({ done: false, value: { ids: { externalMessageId: `m-${n}` }, text: `new ${n}` } })
          : new Promise(() => {})
      },
      return: () => {
        state.returned = true
        return Promise.resolve({ done: true, value: undefined })
      }
    })
  }
  return { iterable, state }
}

/** Iterates until `results` outcomes came, calls `stop`, and answers how the iteration ended and how long after the stop. */
const stopAfter = async (
  iteration: AsyncIterable<Settled>,
  results: number,
  stop: () => unknown
): Promise<{ readonly error: unknown; readonly settled: ReadonlyArray<Settled>; readonly millis: number }> => {
  const settled: Array<Settled> = []
  let stoppedAt = 0
  let error: unknown
  const stopSoon = () => {
    stoppedAt = performance.now()
    void stop()
  }
  if (results === 0) setTimeout(stopSoon, 50)
  try {
    for await (const outcome of iteration) {
      settled.push(outcome)
      // After the results, the source (or the request) hangs: stop it a moment later, while `next()` waits.
      if (settled.length === results) setTimeout(stopSoon, 50)
    }
  } catch (caught) {
    error = caught
  }
  return { error, settled, millis: performance.now() - stoppedAt }
}

const editors: ReadonlyArray<readonly [string, () => Promise<Editor>]> = [
  ["one message per call", () => createEditor({ providers: InMemoryEditor.providerFor(seeded(3)), settings: {} })],
  ["many messages per call (grouped)", () => createEditor({ providers: packing, settings: {} })]
]

describe("updateEach ends when its signal aborts or the editor is disposed, whatever it waits for", () => {
  for (const [name, make] of editors) {
    it(`an async source that stops yielding: the signal's abort rejects with its reason at once (${name})`, async () => {
      const editor = await make()
      try {
        const { iterable, state } = stalling(2)
        const controller = new AbortController()
        const reason = new Error("the operator cancelled the import")
        const ended = await stopAfter(editor.updateEach(iterable, { signal: controller.signal }), 2, () =>
          controller.abort(reason)
        )
        expect(ended.settled.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"])
        expect(ended.error).toBe(reason)
        expect(ended.millis).toBeLessThan(STOP_BOUND_MILLIS)
        expect(state.returned).toBe(true)
      } finally {
        await editor.dispose()
      }
    })

    it(`an async source that stops yielding: dispose() rejects the loop with a typed error at once (${name})`, async () => {
      const editor = await make()
      const { iterable, state } = stalling(1)
      const ended = await stopAfter(editor.updateEach(iterable), 1, () => editor.dispose())
      expect(ended.settled.length).toBe(1)
      expect(ended.error).toBeInstanceOf(DisposedError)
      expect(JSON.parse(JSON.stringify(ended.error))).toEqual({
        name: "DisposedError",
        message: "This editor was disposed: create a new one with createEditor",
        reason: "Disposed"
      })
      expect(ended.millis).toBeLessThan(STOP_BOUND_MILLIS)
      expect(state.returned).toBe(true)
    })
  }

  it("a request that hangs in flight: the abort rejects with an AbortError, as fetch does", async () => {
    const editor = await createEditor({ providers: hanging, settings: {} })
    try {
      const controller = new AbortController()
      const requests = [{ ids: { externalMessageId: "m-0" }, text: "new" }]
      const ended = await stopAfter(editor.updateEach(requests, { signal: controller.signal }), 0, () =>
        controller.abort()
      )
      expect(ended.settled).toEqual([])
      expect((ended.error as DOMException).name).toBe("AbortError")
      expect(ended.millis).toBeLessThan(STOP_BOUND_MILLIS)
    } finally {
      await editor.dispose()
    }
  })

  it("a request that hangs in flight: dispose() rejects the loop at once", async () => {
    const editor = await createEditor({ providers: hanging, settings: {} })
    const requests = [{ ids: { externalMessageId: "m-0" }, text: "new" }]
    const ended = await stopAfter(editor.updateEach(requests), 0, () => editor.dispose())
    expect(ended.error).toBeInstanceOf(DisposedError)
    expect(ended.millis).toBeLessThan(STOP_BOUND_MILLIS)
  })
})
