/**
 * Messages sent in inline mode: found by `ids.providerInlineMessageId`
 * (`inline_message_id`) alone, with no chat; Telegram answers their edit with
 * `true`, not a Message. A request carries one way of finding a message,
 * whole: both, or neither, is an `InvalidRequest` naming the fields, with no
 * call made.
 */
import { assert, describe, it } from "@effect/vitest"
import { Telegram, TelegramMessageEditor } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect } from "effect"

const noRetry = { retry: { maxAttempts: 1 }, limits: false } as const

const pathsOf = (error: { readonly reason: unknown }): ReadonlyArray<string> => {
  const reason = error.reason as { readonly _tag: string; readonly problems?: ReadonlyArray<{ readonly path: string }> }
  assert.strictEqual(reason._tag, "InvalidRequest")
  return (reason.problems ?? []).map((problem) => problem.path).sort()
}

describe("inline messages (inline_message_id)", () => {
  it.live("an edit names the inline message alone, Telegram answers true, the text is what was sent", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const inline = sandbox.seedInlineMessage("Vote: lunch at 12?")
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const ids = { providerInlineMessageId: inline }
      const edited = yield* editor.update({ ids, text: "Vote: lunch at 1?" })
      assert.strictEqual(edited.text, "Vote: lunch at 1?")
      assert.strictEqual(edited.ids.providerInlineMessageId, inline)
      assert.instanceOf(edited.updatedAt, Date)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["Vote: lunch at 12?", "Vote: lunch at 1?"])
      const logged = sandbox.server.requests.at(-1)
      assert.strictEqual(logged?.path, "/bot<redacted>/editMessageText")
      assert.deepStrictEqual(JSON.parse(logged?.text ?? "{}"), { inline_message_id: inline, text: "Vote: lunch at 1?" })
      // The same text again: Telegram's 'message is not modified' is a success here too.
      const again = yield* editor.update({ ids, text: "Vote: lunch at 1?" })
      assert.strictEqual(again.text, "Vote: lunch at 1?")
      // An inline message Telegram does not know: NotFound.
      const missing = yield* Effect.flip(editor.update({ ids: { providerInlineMessageId: "AgAAAnope" }, text: "x" }))
      assert.strictEqual(missing.reason._tag, "NotFound")
    })
  )

  it.live("an answer that is not true (a Message, garbage) is a typed error, not a success", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const inline = sandbox.seedInlineMessage("Vote")
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      sandbox.server.inject({ fault: TelegramSandbox.Faults.status(200, { ok: true, result: false }), times: 1 })
      const wrong = yield* Effect.flip(editor.update({ ids: { providerInlineMessageId: inline }, text: "Vote!" }))
      assert.notStrictEqual(wrong.reason._tag, "InvalidRequest")
      assert.deepStrictEqual(sandbox.inspect({ providerInlineMessageId: inline })?.history, ["Vote"])
    })
  )

  it.live(
    "both ways of finding the message, or neither, or an inline id that is not one: InvalidRequest, no call",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* TelegramSandbox.scoped()
        const inline = sandbox.seedInlineMessage("Vote")
        const editor = yield* Telegram.make(sandbox.settings, noRetry)
        const both = yield* Effect.flip(
          editor.update({
            ids: { providerChatId: 7000001, providerMessageId: 1, providerInlineMessageId: inline },
            text: "Vote!"
          })
        )
        assert.deepStrictEqual(pathsOf(both), [
          "ids.providerChatId",
          "ids.providerInlineMessageId",
          "ids.providerMessageId"
        ])
        assert.include(both.message, "not both")
        const neither = yield* Effect.flip(editor.update({ ids: { externalMessageId: "wa-1" }, text: "Vote!" }))
        assert.deepStrictEqual(pathsOf(neither), ["ids.providerChatId", "ids.providerMessageId"])
        assert.include(neither.message, "ids.providerInlineMessageId instead")
        const half = yield* Effect.flip(editor.update({ ids: { providerChatId: 7000001 }, text: "Vote!" }))
        assert.deepStrictEqual(pathsOf(half), ["ids.providerMessageId"])
        const odd = yield* Effect.flip(editor.update({ ids: { providerInlineMessageId: "not an id" }, text: "Vote!" }))
        assert.deepStrictEqual(pathsOf(odd), ["ids.providerInlineMessageId"])
        assert.strictEqual(sandbox.server.requests.length, 0)
        assert.deepStrictEqual(sandbox.inspect({ providerInlineMessageId: inline })?.history, ["Vote"])
      })
  )

  it("the capabilities say so: chat and message id, or the inline message id instead", () => {
    assert.deepStrictEqual(TelegramMessageEditor.capabilities.requiredIds, ["providerChatId", "providerMessageId"])
    assert.deepStrictEqual(TelegramMessageEditor.capabilities.alternativeIds, ["providerInlineMessageId"])
  })
})
