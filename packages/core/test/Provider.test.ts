import { assert, describe, it } from "@effect/vitest"
import { MessageEditor, Provider } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { Config, ConfigProvider, Effect, Layer, Redacted } from "effect"
import { recordingAdapter } from "./support/recordingAdapter.ts"

/** Two small providers with settings of their own, built on the recording adapter. */
const alpha = ProviderKit.describe({
  name: "alpha",
  settings: [
    { env: "ALPHA_ACCOUNT", key: "account", description: "the account name" },
    { env: "ALPHA_API_KEY", key: "apiKey", description: "the API key", secret: true },
    { env: "ALPHA_REGION", key: "region", description: "the region", optional: true }
  ],
  config: Config.all({
    account: Config.String("ALPHA_ACCOUNT"),
    apiKey: Config.Redacted("ALPHA_API_KEY"),
    region: Config.String("ALPHA_REGION").pipe(Config.withDefault("eu"))
  }),
  make: (settings, options) =>
    Effect.succeed(
      MessageEditor.make(
        { ...recordingAdapter({}).adapter, provider: `alpha:${settings.account}:${settings.region}` },
        options
      )
    )
})

const beta = ProviderKit.describe({
  name: "beta",
  settings: [{ env: "BETA_LINE", key: "line", description: "the line number" }],
  config: Config.Int("BETA_LINE"),
  make: (line, options) =>
    Effect.succeed(MessageEditor.make({ ...recordingAdapter({}).adapter, provider: `beta:${line}` }, options))
})

const providers = [alpha, beta]

const selected = (source: Provider.Source) =>
  Effect.map(Provider.select(providers, source), ({ descriptor, settings }) => ({ name: descriptor.name, settings }))

/** The sentence of a ConfigError (its message is prefixed with the kind of its cause). */
const failure = (source: Provider.Source) =>
  Effect.map(Effect.flip(Provider.select(providers, source)), (e) => e.cause.message)

describe("Provider.select", () => {
  it.effect("picks the provider REWORD_PROVIDER names and reads its settings from the environment", () =>
    Effect.gen(function* () {
      const { name, settings } = yield* selected(
        Provider.fromEnv({ REWORD_PROVIDER: "alpha", ALPHA_ACCOUNT: "acme", ALPHA_API_KEY: "key-123" })
      )
      assert.strictEqual(name, "alpha")
      const typed = settings as { account: string; apiKey: Redacted.Redacted<string>; region: string }
      assert.strictEqual(typed.account, "acme")
      assert.strictEqual(typed.region, "eu")
      assert.strictEqual(Redacted.value(typed.apiKey), "key-123")
      assert.strictEqual(String(typed.apiKey), "<redacted>")
    })
  )

  it.effect("reads the same settings from a plain object, by provider and key", () =>
    Effect.gen(function* () {
      const { name, settings } = yield* selected(Provider.fromObject({ provider: "beta", beta: { line: 7 } }))
      assert.strictEqual(name, "beta")
      assert.strictEqual(settings, 7)
      const fromAlpha = yield* selected(
        Provider.fromObject({ provider: "alpha", alpha: { account: "acme", apiKey: "k", region: "us" } })
      )
      assert.strictEqual((fromAlpha.settings as { region: string }).region, "us")
    })
  )

  it.effect("an unknown provider fails with a ConfigError that lists the known ones", () =>
    Effect.gen(function* () {
      const message = yield* failure(Provider.fromEnv({ REWORD_PROVIDER: "zendesk" }))
      assert.strictEqual(message, `Unknown provider "zendesk" in REWORD_PROVIDER: the known providers are alpha, beta`)
      const error = yield* Effect.flip(Provider.select(providers, Provider.fromEnv({ REWORD_PROVIDER: "zendesk" })))
      assert.strictEqual(error._tag, "ConfigError")
    })
  )

  it.effect("a missing provider name or setting fails naming the exact variable", () =>
    Effect.gen(function* () {
      assert.include(yield* failure(Provider.fromEnv({})), "Missing setting REWORD_PROVIDER")
      const missingKey = yield* failure(Provider.fromEnv({ REWORD_PROVIDER: "alpha", ALPHA_ACCOUNT: "acme" }))
      assert.strictEqual(missingKey, "Missing setting for alpha: ALPHA_API_KEY: the API key")
      const both = yield* failure(Provider.fromEnv({ REWORD_PROVIDER: "alpha", ALPHA_ACCOUNT: "  " }))
      assert.include(both, "ALPHA_ACCOUNT: the account name; ALPHA_API_KEY: the API key")
      const fromObject = yield* failure(Provider.fromObject({ provider: "alpha", alpha: { account: "acme" } }))
      assert.include(fromObject, "ALPHA_API_KEY (alpha.apiKey in the settings object)")
    })
  )

  it.effect("an invalid setting fails with a ConfigError naming it", () =>
    Effect.gen(function* () {
      const message = yield* failure(Provider.fromEnv({ REWORD_PROVIDER: "beta", BETA_LINE: "seven" }))
      assert.include(message, "BETA_LINE")
    })
  )

  it.effect("reads the current ConfigProvider when no source is given", () =>
    Effect.gen(function* () {
      const editor = yield* MessageEditor.MessageEditor
      assert.strictEqual(editor.provider, "beta:3")
    }).pipe(
      Effect.provide(
        Provider.layer(providers).pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ REWORD_PROVIDER: "beta", BETA_LINE: "3" })))
        )
      )
    )
  )
})

describe("a settings object's keys", () => {
  it.effect("an unknown key of a provider's section, or an unknown section, fails with a did you mean", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* failure(
          Provider.fromObject({ provider: "alpha", alpha: { account: "acme", apiKey: "k", Region: "us" } })
        ),
        `Unknown setting "Region" in alpha (the settings object) (did you mean region?); the known settings there are account, apiKey, region`
      )
      assert.strictEqual(
        yield* failure(Provider.fromObject({ provider: "beta", bta: { line: 7 } })),
        `Unknown key "bta" in the settings object (did you mean beta?); the known keys are provider, alpha, beta`
      )
    })
  )
})

describe("Provider.fromObject with typed values", () => {
  it.effect("reads Redacted secrets, URLs, numbers and booleans as the environment would", () =>
    Effect.gen(function* () {
      const { settings } = yield* Provider.select(
        providers,
        Provider.fromObject({
          provider: "alpha",
          alpha: { account: new URL("https://acme.example.com/"), apiKey: Redacted.make("key-from-a-vault"), region: 7 }
        })
      )
      const typed = settings as { account: string; apiKey: Redacted.Redacted<string>; region: string }
      assert.strictEqual(typed.account, "https://acme.example.com/")
      assert.strictEqual(Redacted.value(typed.apiKey), "key-from-a-vault")
      assert.strictEqual(typed.region, "7")
    })
  )
})

describe("Provider.makeEditor with provider options", () => {
  it.effect("gives each provider's own options to that provider only", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const spy = (name: string) =>
        ProviderKit.describe<object, { secretSauce?: number; tokenStore?: string }>({
          name,
          settings: [],
          config: Config.succeed({}),
          options: { secretSauce: "a test option", tokenStore: "a test option" },
          make: (_settings, options) => {
            seen.push(options)
            return Effect.succeed(MessageEditor.make({ ...recordingAdapter({}).adapter, provider: name }, options))
          }
        })
      const editor = yield* Provider.makeEditor([spy("one"), spy("two")], {
        source: Provider.fromObject({ provider: "two" }),
        concurrency: 3,
        providerOptions: { one: { secretSauce: 1 }, two: { tokenStore: "the app's store" } }
      }).pipe(Effect.scoped)
      assert.strictEqual(editor.provider, "two")
      assert.deepStrictEqual(seen, [{ concurrency: 3, tokenStore: "the app's store" }])
    })
  )
})

describe("Provider.makeEditor checks where each option is", () => {
  const rotating = ProviderKit.describe<object, { readonly tokenStore?: string | undefined }, "rotating">({
    name: "rotating",
    settings: [],
    config: Config.succeed({}),
    options: { tokenStore: "where tokens are kept" },
    make: (_settings, options) =>
      Effect.succeed(MessageEditor.make({ ...recordingAdapter({}).adapter, provider: "rotating" }, options))
  })
  const configFailure = (options: unknown) =>
    Provider.makeEditor([rotating, beta], {
      source: Provider.fromObject({ provider: "rotating" }),
      ...(options as object)
    }).pipe(
      Effect.scoped,
      Effect.flip,
      Effect.map((error) => {
        assert.strictEqual(error._tag, "ConfigError")
        return error.cause.message
      })
    )

  it.effect("fails with a ConfigError naming an unknown provider or option key, and the known ones", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* configFailure({ providerOptions: { rotatin: { tokenStore: "x" } } }),
        `Unknown provider "rotatin" in providerOptions (did you mean rotating?); the known providers are rotating, beta`
      )
      assert.strictEqual(
        yield* configFailure({ providerOptions: { rotating: { tokenstore: "x" } } }),
        `Unknown option "tokenstore" in providerOptions.rotating (did you mean tokenStore?); the known options there are tokenStore`
      )
      assert.include(
        yield* configFailure({ timeout: "1 second" }),
        `Unknown option "timeout" in the options: it belongs in transport: { timeout }`
      )
      assert.include(yield* configFailure({ transport: { maxAttempts: 3 } }), "it belongs in retry: { maxAttempts }")
      assert.include(
        yield* configFailure({ providerOptions: { beta: { tokenStore: "x" } } }),
        "beta takes no options of its own"
      )
    })
  )

  it.effect("gives the selected provider its own options when every key is known", () =>
    Effect.gen(function* () {
      const editor = yield* Provider.makeEditor([rotating, beta], {
        source: Provider.fromObject({ provider: "rotating" }),
        transport: { timeout: "1 second" },
        providerOptions: { rotating: { tokenStore: "x" }, beta: {} }
      }).pipe(Effect.scoped)
      assert.strictEqual(editor.provider, "rotating")
    })
  )
})
