import { assert, describe, it } from "@effect/vitest"
import { Provider } from "@reword/core"
import { Telegram, TelegramConfig } from "@reword/telegram"
import { ConfigProvider, Effect, Redacted, Result } from "effect"
import { answering, editedAnswer, ids, TOKEN } from "./support/telegram.ts"

const failureOf = (result: Result.Result<unknown, { readonly message: string }>) =>
  Result.isFailure(result) ? result.failure.message : "no failure"

describe("Telegram's settings", () => {
  it.effect("are read from TELEGRAM_* variables, each named when missing", () =>
    Effect.gen(function* () {
      const env = ConfigProvider.fromEnv({
        env: { TELEGRAM_BOT_TOKEN: ` ${TOKEN} `, TELEGRAM_TEST_ENVIRONMENT: "true" }
      })
      const settings = yield* TelegramConfig.config.parse(env)
      assert.strictEqual(Redacted.value(settings.botToken), TOKEN)
      assert.strictEqual(settings.botId, "123456789")
      assert.isTrue(settings.testEnvironment)
      assert.strictEqual(settings.serverUrl.href, "https://api.telegram.org/")
      const missing = yield* Effect.flip(Provider.readSettings(Telegram.provider, Provider.fromEnv({})))
      assert.include(missing.message, "TELEGRAM_BOT_TOKEN")
      assert.deepStrictEqual(
        TelegramConfig.settings.map((setting) => setting.env),
        ["TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_TEST_ENVIRONMENT", "TELEGRAM_ALLOW_INSECURE_LOOPBACK"]
      )
    })
  )

  it("refuses a token of the wrong shape, a server that is not https, and an unknown key with a 'did you mean'", () => {
    assert.include(failureOf(TelegramConfig.check({ botToken: "not a token" })), "is not a bot token")
    assert.include(failureOf(TelegramConfig.check({ botToken: "" })), "the bot token is empty")
    assert.include(
      failureOf(TelegramConfig.check({ botToken: TOKEN, apiUrl: "http://api.example.com" })),
      "TELEGRAM_API_URL"
    )
    assert.include(
      failureOf(TelegramConfig.check({ botToken: TOKEN, apiUrl: "http://127.0.0.1:8081" })),
      "allowInsecureLoopback"
    )
    assert.isTrue(
      Result.isSuccess(
        TelegramConfig.check({ botToken: TOKEN, apiUrl: "http://127.0.0.1:8081", allowInsecureLoopback: true })
      )
    )
    assert.include(failureOf(TelegramConfig.check({ botToken: TOKEN, testEnviroment: true } as never)), "did you mean")
  })

  it.effect("a local Bot API server and the test environment change the URL, nothing else", () =>
    Effect.gen(function* () {
      const { fetch, seen } = answering(editedAnswer(42, 7, "x"), editedAnswer(42, 7, "x"))
      const local = yield* Telegram.make(
        { botToken: TOKEN, apiUrl: "https://bots.example.com/api", testEnvironment: true },
        { limits: false, transport: { fetch } }
      )
      yield* local.update({ ids, text: "x" })
      assert.strictEqual(seen[0]?.url, `https://bots.example.com/api/bot${TOKEN}/test/editMessageText`)
    })
  )

  it.effect("requests are checked before anything is sent: chat id, message id, blank or long text, files", () =>
    Effect.gen(function* () {
      const { fetch, seen } = answering(editedAnswer(42, 7, "x"))
      const editor = yield* Telegram.make({ botToken: TOKEN }, { limits: false, transport: { fetch } })
      const refused = [
        { ids: { providerMessageId: 7 }, text: "x" },
        { ids: { providerChatId: "chat-42", providerMessageId: 7 }, text: "x" },
        { ids: { providerChatId: 42, providerMessageId: "../7" }, text: "x" },
        { ids: { providerChatId: 42, providerMessageId: 0 }, text: "x" },
        { ids, text: "   " },
        { ids, text: "x".repeat(4097) },
        { ids, text: "x".repeat(1025), kind: "caption" as const },
        { ids, kind: "photo" as never, text: "x" },
        { ids, text: "x", files: [{ url: "https://cdn.example.com/a.png" }] }
      ]
      const tags = []
      for (const request of refused) tags.push((yield* Effect.flip(editor.update(request))).reason._tag)
      assert.deepStrictEqual(tags, [...Array(8).fill("InvalidRequest"), "Unsupported"])
      assert.strictEqual(seen.length, 0)
      // A chat id and a message id given as text are taken, and sent as numbers.
      yield* editor.update({ ids: { providerChatId: "42", providerMessageId: "7" }, text: "x" })
      assert.deepStrictEqual(seen[0]?.body, { chat_id: 42, message_id: 7, text: "x" })
    })
  )
})
