import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, Bitrix24Client, Bitrix24Config } from "@reword/bitrix24"
import { MessageEditor, Provider } from "@reword/core"
import { ConfigProvider, Effect, Layer, Redacted, Result } from "effect"

const env = {
  BITRIX24_PORTAL_URL: "https://acme.bitrix24.com",
  BITRIX24_ACCESS_TOKEN: "access-token-0001-aaaa",
  BITRIX24_REFRESH_TOKEN: "refresh-token-0001-bbbb",
  BITRIX24_CLIENT_ID: "local.65f0c0ffee.12345678",
  BITRIX24_CLIENT_SECRET: "client-secret-0001-cccc",
  BITRIX24_CONNECTOR: "my_connector",
  BITRIX24_LINE: "7"
}

const read = (values: Record<string, string>) => Bitrix24Config.config.parse(ConfigProvider.fromEnv({ env: values }))

const messageOf = (values: Record<string, string>) =>
  Effect.gen(function* () {
    const result = yield* Effect.result(read(values))
    if (Result.isSuccess(result)) throw new Error("expected a configuration error")
    return result.failure.message
  })

describe("Bitrix24Config from the environment", () => {
  it.effect("reads every setting, with secrets Redacted and the default OAuth server", () =>
    Effect.gen(function* () {
      const settings = yield* read(env)
      assert.strictEqual(settings.portalUrl.href, "https://acme.bitrix24.com/")
      assert.strictEqual(settings.oauthUrl.href, "https://oauth.bitrix.info/")
      assert.strictEqual(settings.clientId, "local.65f0c0ffee.12345678")
      assert.strictEqual(settings.connector, "my_connector")
      assert.strictEqual(settings.line, 7)
      assert.isFalse(settings.allowInsecureLoopback)
      assert.strictEqual(Redacted.value(settings.accessToken), "access-token-0001-aaaa")
      const printed = [String(settings.accessToken), JSON.stringify(settings), String(settings.clientSecret)].join(" ")
      for (const secret of ["access-token-0001-aaaa", "refresh-token-0001-bbbb", "client-secret-0001-cccc"]) {
        assert.notInclude(printed, secret)
      }
    })
  )

  it.effect("takes an OAuth server of another zone, and the REST base form of the portal URL", () =>
    Effect.gen(function* () {
      const settings = yield* read({
        ...env,
        BITRIX24_PORTAL_URL: "https://acme.bitrix24.ru/rest/",
        BITRIX24_OAUTH_URL: "https://oauth.bitrix24.tech"
      })
      assert.strictEqual(settings.portalUrl.href, "https://acme.bitrix24.ru/")
      assert.strictEqual(settings.oauthUrl.origin, "https://oauth.bitrix24.tech")
    })
  )

  it.effect("refuses an incoming-webhook URL at configuration time, saying why, without echoing its code", () =>
    Effect.gen(function* () {
      const message = yield* messageOf({
        ...env,
        BITRIX24_PORTAL_URL: "https://acme.bitrix24.com/rest/1/s3cr3tw3bh00kcode/"
      })
      assert.include(message, "BITRIX24_PORTAL_URL")
      assert.include(message, "incoming-webhook")
      assert.include(message, "application context")
      assert.notInclude(message, "s3cr3tw3bh00kcode")
    })
  )

  it.effect("refuses a webhook URL given in place of a token, without echoing it", () =>
    Effect.gen(function* () {
      const message = yield* messageOf({
        ...env,
        BITRIX24_ACCESS_TOKEN: "https://acme.bitrix24.com/rest/1/s3cr3tw3bh00kcode/"
      })
      assert.include(message, "BITRIX24_ACCESS_TOKEN")
      assert.notInclude(message, "s3cr3tw3bh00kcode")
    })
  )

  it.effect("refuses plain http, except to a loopback address when explicitly allowed", () =>
    Effect.gen(function* () {
      assert.include(yield* messageOf({ ...env, BITRIX24_PORTAL_URL: "http://acme.bitrix24.com" }), "https")
      assert.include(
        yield* messageOf({ ...env, BITRIX24_PORTAL_URL: "http://127.0.0.1:8080" }),
        "allowInsecureLoopback"
      )
      const settings = yield* read({
        ...env,
        BITRIX24_PORTAL_URL: "http://127.0.0.1:8080",
        BITRIX24_OAUTH_URL: "http://127.0.0.1:8080",
        BITRIX24_ALLOW_INSECURE_LOOPBACK: "true"
      })
      assert.strictEqual(settings.portalUrl.href, "http://127.0.0.1:8080/")
      assert.isTrue(settings.allowInsecureLoopback)
    })
  )

  it.effect("never prints a secret pasted into another setting", () =>
    Effect.gen(function* () {
      const message = yield* messageOf({
        ...env,
        BITRIX24_PORTAL_URL: env.BITRIX24_ACCESS_TOKEN,
        BITRIX24_OAUTH_URL: env.BITRIX24_CLIENT_SECRET,
        BITRIX24_CONNECTOR: `x${env.BITRIX24_REFRESH_TOKEN}`,
        BITRIX24_LINE: env.BITRIX24_REFRESH_TOKEN
      })
      assert.include(message, "BITRIX24_PORTAL_URL")
      assert.include(message, "BITRIX24_OAUTH_URL")
      for (const secret of [env.BITRIX24_ACCESS_TOKEN, env.BITRIX24_REFRESH_TOKEN, env.BITRIX24_CLIENT_SECRET]) {
        assert.notInclude(message, secret)
      }
      // Even inside a URL the message quotes (the portal of a webhook URL).
      const webhook = yield* messageOf({
        ...env,
        BITRIX24_PORTAL_URL: `https://${env.BITRIX24_ACCESS_TOKEN}.bitrix24.com/rest/1/code/`
      })
      assert.include(webhook, "incoming-webhook")
      assert.notInclude(webhook, env.BITRIX24_ACCESS_TOKEN)
    })
  )

  it.effect("requires LINE to be a positive integer", () =>
    Effect.gen(function* () {
      assert.include(yield* messageOf({ ...env, BITRIX24_LINE: "seven" }), "BITRIX24_LINE (line)")
      assert.include(yield* messageOf({ ...env, BITRIX24_LINE: "0" }), "positive integer")
    })
  )

  it.effect(
    "names every missing setting by its variable, as core does, without printing the secrets that are there",
    () =>
      Effect.gen(function* () {
        const { BITRIX24_CONNECTOR: _, BITRIX24_REFRESH_TOKEN: __, ...rest } = env
        const result = yield* Effect.result(Provider.readSettings(Bitrix24.provider, Provider.fromEnv(rest)))
        assert.isTrue(Result.isFailure(result))
        const message = Result.isFailure(result) ? result.failure.message : ""
        assert.include(message, "Missing settings for bitrix24")
        assert.include(message, "BITRIX24_CONNECTOR")
        assert.include(message, "BITRIX24_REFRESH_TOKEN")
        assert.notInclude(message, "BITRIX24_LINE")
        assert.notInclude(message, "client-secret-0001-cccc")
      })
  )

  it.effect("layerConfig names every missing setting with the same message as core's provider selection", () =>
    Effect.gen(function* () {
      const { BITRIX24_CONNECTOR: _, BITRIX24_LINE: __, ...rest } = env
      const result = yield* Effect.result(
        Layer.build(Bitrix24.layerConfig()).pipe(
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: rest }))),
          Effect.scoped
        )
      )
      assert.isTrue(Result.isFailure(result))
      const message = Result.isFailure(result) ? result.failure.message : ""
      assert.include(message, "Missing settings for bitrix24")
      assert.include(message, "BITRIX24_CONNECTOR")
      assert.include(message, "BITRIX24_LINE")
    })
  )
})

describe("Bitrix24Config from a plain object", () => {
  it.effect("reads the same settings by key, with a numeric line and Redacted secrets", () =>
    Effect.gen(function* () {
      const settings = yield* Bitrix24Config.fromObject({
        portalUrl: "https://acme.bitrix24.com",
        accessToken: Redacted.make("access-token-0001-aaaa"),
        refreshToken: "refresh-token-0001-bbbb",
        clientId: "local.65f0c0ffee.12345678",
        clientSecret: "client-secret-0001-cccc",
        connector: "my_connector",
        line: 12
      })
      assert.strictEqual(settings.line, 12)
      assert.strictEqual(Redacted.value(settings.refreshToken), "refresh-token-0001-bbbb")
    })
  )

  it.effect("names every missing key as core does, and reads URLs, numbers and booleans", () =>
    Effect.gen(function* () {
      const settings = yield* Bitrix24Config.fromObject({
        portalUrl: new URL("http://127.0.0.1:8080") as unknown as string,
        accessToken: "access-token-0001-aaaa",
        refreshToken: Redacted.make("refresh-token-0001-bbbb"),
        clientId: "local.65f0c0ffee.12345678",
        clientSecret: Redacted.make("client-secret-0001-cccc"),
        oauthUrl: "http://127.0.0.1:8080",
        connector: "my_connector",
        line: 3,
        allowInsecureLoopback: true
      })
      assert.strictEqual(settings.portalUrl.href, "http://127.0.0.1:8080/")
      assert.isTrue(settings.allowInsecureLoopback)
      const result = yield* Effect.result(
        Bitrix24Config.fromObject({
          portalUrl: "https://acme.bitrix24.com",
          accessToken: "access-token-0001-aaaa",
          clientId: "local.65f0c0ffee.12345678",
          clientSecret: "client-secret-0001-cccc",
          line: 7
        } as unknown as Bitrix24Config.SettingsInput)
      )
      assert.isTrue(Result.isFailure(result))
      const message = Result.isFailure(result) ? result.failure.message : ""
      assert.include(message, "Missing settings for bitrix24")
      assert.include(message, "BITRIX24_REFRESH_TOKEN")
      assert.include(message, "BITRIX24_CONNECTOR")
      assert.notInclude(message, "client-secret-0001-cccc")
    })
  )

  it.effect("is selected by core's provider registry from a settings object", () =>
    Effect.gen(function* () {
      const editor = yield* Provider.makeEditor([Bitrix24.provider], {
        source: Provider.fromObject({
          provider: "bitrix24",
          bitrix24: {
            portalUrl: "https://acme.bitrix24.com",
            accessToken: "access-token-0001-aaaa",
            refreshToken: "refresh-token-0001-bbbb",
            clientId: "local.65f0c0ffee.12345678",
            clientSecret: "client-secret-0001-cccc",
            connector: "my_connector",
            line: "7"
          }
        })
      }).pipe(Effect.scoped)
      assert.strictEqual(editor.provider, "bitrix24")
      assert.deepStrictEqual(editor.capabilities.requiredIds, [
        "externalMessageId",
        "externalChatId",
        "externalAuthorId"
      ])
    })
  )

  it.effect("layerConfig provides the neutral editor and the low-level client from the ConfigProvider", () =>
    Effect.gen(function* () {
      const editor = yield* MessageEditor.MessageEditor
      const client = yield* Bitrix24Client.Bitrix24Client
      assert.strictEqual(editor.provider, "bitrix24")
      assert.deepStrictEqual(client.target, { connector: "my_connector", line: 7 })
    }).pipe(
      Effect.provide(Bitrix24.layerConfig().pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))))
    )
  )
})
