/**
 * Telegram's capabilities (issue 21) against the sandbox over real HTTP: a business message the bot did not
 * send is editable within 48 hours of its `sentAt` only, refused before any request past it; the
 * `newMessage` fallback sends the text once (`sendMessage`) instead; the bot's own messages have no window.
 */
import { assert, describe, it } from "@effect/vitest"
import { Telegram, TelegramMessageEditor } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Duration, Effect } from "effect"

const HOUR = 3_600_000
const noRetry = { retry: { maxAttempts: 1 }, limits: false } as const

/** A sandbox with a business message its owner (not the bot) sent `agoMs` ago, and the request's ids. */
const businessMessage = (agoMs: number, from: "bot" | "user" = "user") =>
  Effect.gen(function* () {
    const sandbox = yield* TelegramSandbox.scoped()
    const connection = sandbox.connectBusiness()
    const seeded = yield* Effect.promise(() =>
      sandbox.seedMessage("Open 9 to 5", {}, { from, businessConnectionId: connection, agoMs })
    )
    const ids = { ...seeded, providerConnectionId: connection }
    return { sandbox, ids, sentAt: new Date(sandbox.now() - agoMs) }
  })

describe("Telegram's capabilities", () => {
  it("declares text and caption, the 48-hour window for others' business messages, and the newMessage fallback", () => {
    const capabilities = TelegramMessageEditor.capabilities
    assert.deepStrictEqual(capabilities.kinds, ["text", "caption"])
    assert.deepStrictEqual(
      capabilities.editWindows.map((w) => [Duration.toMillis(w.maxAge), w.appliesTo]),
      [[48 * HOUR, "business messages sent by others"]]
    )
    assert.isUndefined(capabilities.maxEdits)
    assert.deepStrictEqual(capabilities.fallbacks, ["fail", "newMessage"])
    assert.strictEqual(capabilities.edit, "messages")
  })

  it.live("refuses an edit of another's business message past 48 hours before any request", () =>
    Effect.gen(function* () {
      const { sandbox, ids, sentAt } = yield* businessMessage(72 * HOUR)
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const before = sandbox.server.requests.length
      const error = yield* Effect.flip(editor.update({ ids, text: "Open 9 to 6", sentAt, sentBy: "other" }))
      assert.strictEqual(error.reason._tag, "EditWindowClosed")
      assert.include(error.message, "telegram.update: Edit window closed: telegram: a business message the bot")
      assert.include(error.message, "3d old")
      assert.strictEqual(sandbox.server.requests.length, before)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["Open 9 to 5"])
    })
  )

  it.live("without sentAt reword cannot tell: Telegram itself refuses (message can't be edited)", () =>
    Effect.gen(function* () {
      const { sandbox, ids } = yield* businessMessage(72 * HOUR)
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const error = yield* Effect.flip(editor.update({ ids, text: "Open 9 to 6" }))
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.strictEqual(sandbox.server.requests.at(-1)?.path, "/bot<redacted>/editMessageText")
    })
  )

  it.live("the bot's own business messages have no window: the edit goes through", () =>
    Effect.gen(function* () {
      const { sandbox, ids, sentAt } = yield* businessMessage(72 * HOUR, "bot")
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const edited = yield* editor.update({ ids, text: "Open 9 to 6", sentAt, sentBy: "app" })
      assert.strictEqual(edited.text, "Open 9 to 6")
    })
  )

  it.live("the newMessage fallback sends the text with the marker once, to the same chat and connection", () =>
    Effect.gen(function* () {
      const { sandbox, ids, sentAt } = yield* businessMessage(72 * HOUR)
      const editor = yield* Telegram.make(sandbox.settings, {
        ...noRetry,
        fallback: { mode: "newMessage", marker: " (edited)" }
      })
      const before = sandbox.server.requests.length
      const sent = yield* editor.update({ ids, text: "Open 9 to 6", sentAt, sentBy: "other" })
      assert.strictEqual(sent.text, "Open 9 to 6 (edited)")
      assert.deepStrictEqual(sent.supersedes?.providerMessageId, ids.providerMessageId)
      assert.notStrictEqual(sent.ids.providerMessageId, ids.providerMessageId)
      assert.strictEqual(sent.ids.providerChatId, ids.providerChatId)
      assert.strictEqual(sent.ids.providerConnectionId, ids.providerConnectionId)
      const calls = sandbox.server.requests.slice(before)
      assert.deepStrictEqual(
        calls.map((call) => call.path),
        ["/bot<redacted>/sendMessage"]
      )
      assert.deepInclude(JSON.parse(calls[0]?.text ?? "{}"), {
        text: "Open 9 to 6 (edited)",
        business_connection_id: ids.providerConnectionId
      })
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["Open 9 to 5"])
      assert.deepStrictEqual(sandbox.inspect(sent.ids)?.history, ["Open 9 to 6 (edited)"])
    })
  )

  it.live("a failed fallback send is never repeated: it fails as a send, not retryable after an unknown outcome", () =>
    Effect.gen(function* () {
      const { sandbox, ids, sentAt } = yield* businessMessage(72 * HOUR)
      const editor = yield* Telegram.make(sandbox.settings, {
        retry: { maxAttempts: 5 },
        limits: false,
        fallback: { mode: "newMessage", marker: " (edited)" }
      })
      // The connection is cut after the request went out: whether Telegram stored the message is unknown.
      sandbox.server.inject({ fault: TelegramSandbox.Faults.reset(), times: 3 })
      const before = sandbox.server.requests.length
      const error = yield* Effect.flip(editor.update({ ids, text: "Open 9 to 6", sentAt, sentBy: "other" }))
      assert.strictEqual(error.operation, "send")
      assert.strictEqual(error.reason._tag, "Network")
      assert.isFalse(error.isRetryable)
      assert.strictEqual(sandbox.server.requests.length - before, 1)
    })
  )
})
