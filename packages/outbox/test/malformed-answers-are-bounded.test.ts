/**
 * A provider whose answers reword cannot read (`MalformedResponse`) is not
 * retried for ever: after a few attempts in a row the message is a dead
 * letter with its reason, and a re-drive or a newer edit tries it again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MALFORMED_ATTEMPTS } from "../src/internal/delivery.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"
import { openOutbox } from "./support/sqlite.ts"

const fast = {
  unknownMessages: "record",
  settleWindow: "20 millis",
  pollInterval: "20 millis",
  retry: { initialDelay: 10, maxDelay: 20, jitter: false }
} as const

describe("malformed answers", () => {
  it.live("are tried a few times, then the message is a dead letter with its reason", () =>
    Effect.gen(function* () {
      const scripted = ScriptedEditor.make()
      scripted.faults.push(...Array.from({ length: 50 }, () => "malformed" as const))
      const outbox = yield* openOutbox([{ editor: scripted.editor }], fast)
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "hello" })
      const left = yield* outbox.drain({ timeout: "20 seconds" })
      assert.deepStrictEqual(left, { pending: 0, failed: 1 })
      assert.strictEqual(scripted.calls, MALFORMED_ATTEMPTS)
      const [dead] = yield* outbox.failed()
      assert.match(String(dead?.lastReason), /^MalformedResponse: .*5 failed attempts in a row/)
      // The provider reads again: a re-drive lands it.
      scripted.faults.length = 0
      assert.strictEqual(yield* outbox.redrive(), 1)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("m-1"), "hello")
    }).pipe(Effect.scoped)
  )
})
