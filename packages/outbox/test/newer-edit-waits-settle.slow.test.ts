/**
 * An attempt whose fate is unknown opens a settle window: the newest text is
 * sent again only once the unknown attempt can no longer land. A newer edit
 * submitted while the retry of the older one is in flight waits for that
 * window too (it was sent at once when the older retry was confirmed, so the
 * unknown attempt, landing late, could overwrite it until the re-send).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ScriptedEditor from "./support/scriptedEditor.ts"
import { openOutbox } from "./support/sqlite.ts"

const waitFor = (condition: () => boolean) =>
  Effect.gen(function* () {
    for (let n = 0; n < 3_000 && !condition(); n++) yield* Effect.sleep("10 millis")
    assert.isTrue(condition())
  })

describe("a newer edit and the settle window", () => {
  it.live("waits for the window of the older edit's unknown attempt, then lands", () =>
    Effect.gen(function* () {
      const scripted = ScriptedEditor.make()
      scripted.faults.push("timeout")
      scripted.delayMs = 300
      const outbox = yield* openOutbox([{ editor: scripted.editor }], {
        unknownMessages: "record",
        settleWindow: "6 seconds",
        pollInterval: "20 millis",
        retry: { initialDelay: 10, maxDelay: 20, jitter: false }
      })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "v1" })
      // The first call's outcome is unknown; the retry of v1 is in flight: v2 arrives now.
      yield* waitFor(() => scripted.calls >= 2)
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "v2" })
      yield* waitFor(() => scripted.history.get("m-1")?.length === 1)
      yield* Effect.sleep("1500 millis")
      assert.deepStrictEqual(scripted.history.get("m-1"), ["v1"], "v2 waits for the settle window")
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "30 seconds" }), { pending: 0, failed: 0 })
      assert.deepStrictEqual(scripted.history.get("m-1"), ["v1", "v2"])
    }).pipe(Effect.scoped)
  )
})
