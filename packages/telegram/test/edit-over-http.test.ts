import { assert, describe, it } from "@effect/vitest"
import { Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Telegram, TelegramClient } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Result } from "effect"

// The limiter has its own tests (rate-limits.test.ts): here, edits go at once.
const noRetry = { retry: { maxAttempts: 1 }, limits: false } as const

describe("editing over real HTTP against a local Telegram sandbox", () => {
  it.live("sends a message, edits its text, and reads the new text back", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const chat = sandbox.openChat()
      const client = yield* TelegramClient.make(sandbox.settings)
      const editor = yield* Telegram.make(sandbox.settings, noRetry)

      const sent = yield* client.sendMessage({ chatId: chat.id, text: "Meet at 11." })
      assert.strictEqual(sent.chat.id, chat.id)
      assert.strictEqual(sent.message_id, 1)
      assert.isUndefined(sent.edit_date)

      const edited = yield* editor.update({
        ids: { providerChatId: sent.chat.id, providerMessageId: sent.message_id },
        text: "Meet at 10."
      })
      assert.strictEqual(edited.provider, "telegram")
      assert.strictEqual(edited.ids.providerMessageId, sent.message_id)
      assert.strictEqual(edited.text, "Meet at 10.")
      assert.instanceOf(edited.updatedAt, Date)
      assert.deepStrictEqual(sandbox.message(chat.id, sent.message_id)?.history, ["Meet at 11.", "Meet at 10."])
      const logged = sandbox.server.requests.at(-1)
      assert.strictEqual(logged?.method, "POST")
      assert.strictEqual(logged?.path, "/bot<redacted>/editMessageText")
      assert.deepStrictEqual(JSON.parse(logged?.text ?? "{}"), {
        chat_id: chat.id,
        message_id: 1,
        text: "Meet at 10."
      })
    })
  )

  it.live("edits a media message's caption when the request says kind: caption", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("A photo of the venue", {}, { kind: "photo" }))
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const edited = yield* editor.update({ ids, text: "The venue, from the north", kind: "caption" })
      assert.strictEqual(edited.text, "The venue, from the north")
      assert.strictEqual(sandbox.server.requests.at(-1)?.path, "/bot<redacted>/editMessageCaption")
      // A text edit of the same photo is refused by Telegram, and says which kind to use.
      const wrong = yield* Effect.flip(editor.update({ ids, text: "The venue" }))
      assert.strictEqual(wrong.reason._tag, "InvalidRequest")
      assert.include(wrong.message, "kind: caption")
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["A photo of the venue", "The venue, from the north"])
    })
  )

  it.live("an edit to the text the message already has is a success (Telegram: message is not modified)", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("Same words"))
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const edited = yield* editor.update({ ids, text: "Same words" })
      assert.strictEqual(edited.text, "Same words")
      assert.isUndefined(edited.updatedAt)
      const answer = JSON.parse(JSON.stringify(sandbox.server.requests.at(-1)))
      assert.strictEqual(answer.status, 400)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["Same words"])
    })
  )

  it.live("a business message is edited through its business connection", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const connection = sandbox.connectBusiness()
      const ids = yield* Effect.promise(() =>
        sandbox.seedMessage("Order shipped", {}, { businessConnectionId: connection })
      )
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const without = yield* Effect.flip(editor.update({ ids, text: "Order shipped today" }))
      assert.strictEqual(without.reason._tag, "NotFound")
      yield* editor.update({ ids: { ...ids, providerConnectionId: connection }, text: "Order shipped today" })
      assert.strictEqual(sandbox.inspect(ids)?.text, "Order shipped today")
      assert.strictEqual(JSON.parse(sandbox.server.requests.at(-1)?.text ?? "{}").business_connection_id, connection)
    })
  )

  it.live("is chosen by REWORD_PROVIDER=telegram, through the Promise API too", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("Helo"))
      const viaLayer = yield* Provider.makeEditor([Telegram.provider], {
        source: Provider.fromEnv(sandbox.env),
        retry: { maxAttempts: 1 },
        providerOptions: { telegram: { limits: false } }
      })
      yield* viaLayer.update({ ids, text: "Hello" })
      const editor = yield* Effect.promise(() => createEditor({ providers: [Telegram.provider], env: sandbox.env }))
      const edited = yield* Effect.promise(() => editor.update({ ids, text: "Hello!" }))
      yield* Effect.promise(() => editor.dispose())
      assert.strictEqual(edited.text, "Hello!")
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["Helo", "Hello", "Hello!"])
    }).pipe(Effect.scoped)
  )

  it.live("updateMany gives one outcome per request, in order", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const first = yield* Effect.promise(() => sandbox.seedMessage("one"))
      const second = yield* Effect.promise(() => sandbox.seedMessage("two"))
      const editor = yield* Telegram.make(sandbox.settings, noRetry)
      const outcomes = yield* editor.updateMany([
        { ids: first, text: "one!" },
        { ids: { providerChatId: first.providerChatId, providerMessageId: 999 }, text: "lost" },
        { ids: { providerMessageId: 2 }, text: "no chat" },
        { ids: second, text: "two!" }
      ])
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["ok", "NotFound", "InvalidRequest", "ok"]
      )
    })
  )
})
