import { assert, describe, it } from "@effect/vitest"
import { Acquire, AcquireClient, AcquireConfig } from "@reword/acquire"
import { MessageEditor, Provider } from "@reword/core"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { type Config, ConfigProvider, Effect, Layer, Redacted, Result } from "effect"

const KEY = "acq_live_CONFIG_0a1b2c3d4e"

const fromEnv = (env: Record<string, string>) => AcquireConfig.config.parse(ConfigProvider.fromEnv({ env }))

const refusal = (settings: Partial<AcquireConfig.SettingsInput>): string => {
  const result = AcquireConfig.check({ accountId: "acme", apiKey: Redacted.make(KEY), ...settings })
  assert.isTrue(Result.isFailure(result), `accepted ${JSON.stringify(settings)}`)
  return Result.isFailure(result) ? result.failure.message : ""
}

const messageOf = (error: Config.ConfigError): string => error.message

describe("settings from the environment", () => {
  it.effect("reads the account id, the key as Redacted, and the optional settings", () =>
    Effect.gen(function* () {
      const settings = yield* fromEnv({
        ACQUIRE_ACCOUNT_ID: "acme",
        ACQUIRE_API_KEY: KEY,
        ACQUIRE_BASE_URL: "http://127.0.0.1:8080/api/v1",
        ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
      })
      assert.strictEqual(settings.accountId, "acme")
      assert.isTrue(Redacted.isRedacted(settings.apiKey))
      assert.strictEqual(Redacted.value(settings.apiKey), KEY)
      assert.strictEqual(settings.baseUrl, "http://127.0.0.1:8080/api/v1")
      assert.strictEqual(settings.allowInsecureLoopback, true)
    })
  )

  it.effect("needs only the account id and the key; the base URL defaults to the account's", () =>
    Effect.gen(function* () {
      const settings = yield* fromEnv({ ACQUIRE_ACCOUNT_ID: "acme", ACQUIRE_API_KEY: KEY })
      assert.isUndefined(settings.baseUrl)
      assert.strictEqual(settings.allowInsecureLoopback, false)
      const client = yield* AcquireClient.make(settings)
      assert.strictEqual(client.baseUrl.href, "https://acme.acquire.io/api/v1/")
    })
  )

  it.effect("names the variable of each missing setting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Provider.readSettings(Acquire.provider, Provider.fromEnv({ ACQUIRE_BASE_URL: "https://x.example.com" }))
      )
      assert.include(messageOf(error), "ACQUIRE_ACCOUNT_ID")
      assert.include(messageOf(error), "ACQUIRE_API_KEY")
      assert.notInclude(messageOf(error), "ACQUIRE_BASE_URL")
    })
  )

  it.effect("refuses an unusable setting with its variable named", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(fromEnv({ ACQUIRE_ACCOUNT_ID: "acme.evil.com", ACQUIRE_API_KEY: KEY }))
      assert.include(messageOf(error), "ACQUIRE_ACCOUNT_ID")
    })
  )
})

describe("settings from a plain object", () => {
  it.effect("are read under the provider's name, by key", () =>
    Effect.gen(function* () {
      const settings = yield* Provider.readSettings(
        Acquire.provider,
        Provider.fromObject({
          acquire: { accountId: "acme", apiKey: KEY, baseUrl: "http://localhost:9/api/v1", allowInsecureLoopback: true }
        })
      )
      assert.strictEqual(settings.accountId, "acme")
      assert.strictEqual(Redacted.value(settings.apiKey), KEY)
      assert.strictEqual(settings.allowInsecureLoopback, true)
    })
  )

  it.effect("name the missing key and where to put it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Provider.readSettings(Acquire.provider, Provider.fromObject({ acquire: { accountId: "acme" } }))
      )
      assert.include(messageOf(error), "acquire.apiKey")
    })
  )

  it.effect("build an editor that core selects by name", () =>
    Effect.gen(function* () {
      const editor = yield* Provider.makeEditor([Acquire.provider], {
        source: Provider.fromObject({ provider: "acquire", acquire: { accountId: "acme", apiKey: KEY } })
      })
      assert.strictEqual(editor.provider, "acquire")
    }).pipe(Effect.scoped)
  )
})

describe("the account id", () => {
  it("is a DNS label", () => {
    for (const valid of ["acme", "ACME-2", "a", "a".repeat(63), "0acme9"]) {
      assert.isTrue(AcquireConfig.isAccountId(valid), valid)
    }
    for (const invalid of [
      "",
      "acme.evil.com",
      "evil.com/x",
      "a_b",
      "-acme",
      "acme-",
      "a".repeat(64),
      "acme@x",
      "ac me"
    ]) {
      assert.isFalse(AcquireConfig.isAccountId(invalid), invalid)
      assert.include(refusal({ accountId: invalid }), "ACQUIRE_ACCOUNT_ID")
    }
  })
})

describe("the base URL", () => {
  it("is https", () => {
    for (const baseUrl of ["http://api.example.com/api/v1", "ftp://acme.acquire.io", "not a url"]) {
      assert.include(refusal({ baseUrl }), "ACQUIRE_BASE_URL")
    }
  })

  it("may be plain http to a loopback address only when allowed", () => {
    assert.include(refusal({ baseUrl: "http://127.0.0.1:8080/api/v1" }), "allowInsecureLoopback")
    assert.include(refusal({ baseUrl: "http://api.example.com/api/v1", allowInsecureLoopback: true }), "https")
    const allowed = AcquireConfig.check({
      accountId: "acme",
      apiKey: Redacted.make(KEY),
      baseUrl: "http://127.0.0.1:8080/api/v1",
      allowInsecureLoopback: true
    })
    assert.strictEqual(Result.isSuccess(allowed) ? allowed.success.apiUrl.href : "", "http://127.0.0.1:8080/api/v1/")
  })

  it("carries no credentials, query or fragment", () => {
    for (const baseUrl of [
      "https://user:pass@acme.acquire.io/api/v1",
      "https://acme.acquire.io/api/v1?debug=1",
      "https://acme.acquire.io/api/v1#x"
    ]) {
      assert.include(refusal({ baseUrl }), "ACQUIRE_BASE_URL")
    }
  })
})

describe("the API key", () => {
  it("is trimmed, and refused when empty or broken across lines", () => {
    const trimmed = AcquireConfig.check({ accountId: "acme", apiKey: Redacted.make(`  ${KEY}\n`) })
    assert.strictEqual(Result.isSuccess(trimmed) ? Redacted.value(trimmed.success.apiKey) : "", KEY)
    assert.include(refusal({ apiKey: Redacted.make("   ") }), "ACQUIRE_API_KEY")
    assert.include(refusal({ apiKey: Redacted.make("abc\r\nX-Injected: 1") }), "ACQUIRE_API_KEY")
  })

  it("never appears in a configuration error, even pasted into the wrong setting", () => {
    const pastedAsAccount = refusal({ accountId: KEY })
    assert.notInclude(pastedAsAccount, KEY)
    assert.include(pastedAsAccount, "<redacted>")
    // A URL that does not parse is never repeated at all.
    const pastedIntoUrl = refusal({ baseUrl: `acme.acquire.io/${KEY}` })
    assert.notInclude(pastedIntoUrl, KEY)
    assert.include(pastedIntoUrl, "is not an absolute URL")
    assert.notInclude(refusal({ apiKey: Redacted.make("abc def-123") }), "abc def-123")
  })

  it.effect("prints as <redacted> in the settings read", () =>
    Effect.gen(function* () {
      const settings = yield* fromEnv({ ACQUIRE_ACCOUNT_ID: "acme", ACQUIRE_API_KEY: KEY })
      assert.notInclude(String(settings.apiKey), KEY)
      assert.notInclude(JSON.stringify(settings), KEY)
    })
  )
})

describe("building with unusable settings", () => {
  it.effect("Acquire.make fails with a ConfigError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Acquire.make({ accountId: "a b", apiKey: Redacted.make(KEY) }))
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(error.message, "ACQUIRE_ACCOUNT_ID")
    })
  )

  it.live("createEditor rejects with a ConfigurationError that does not print the key", () =>
    Effect.gen(function* () {
      const error = yield* Effect.promise(() =>
        createEditor({
          providers: Acquire.provider,
          settings: { acquire: { accountId: "acme", apiKey: KEY, baseUrl: "http://acme.acquire.io" } }
        }).then(
          () => undefined,
          (rejected: unknown) => rejected
        )
      )
      assert.instanceOf(error, ConfigurationError)
      assert.include(String(error), "ACQUIRE_BASE_URL")
      assert.notInclude(String(error), KEY)
    })
  )
})

describe("layers", () => {
  it.effect("Acquire.layer provides the editor, and fails to build on unusable settings", () =>
    Effect.gen(function* () {
      const editor = yield* Effect.service(MessageEditor.MessageEditor).pipe(
        Effect.provide(Acquire.layer({ accountId: "acme", apiKey: Redacted.make(KEY) }))
      )
      assert.strictEqual(editor.provider, "acquire")
      const error = yield* Effect.flip(
        Layer.build(Acquire.layer({ accountId: "acme", apiKey: Redacted.make("") })).pipe(Effect.scoped)
      )
      assert.include(error.message, "ACQUIRE_API_KEY")
    })
  )

  it.effect("AcquireClient.layerConfig reads the environment, resolving endpoints under the base URL", () =>
    Effect.gen(function* () {
      const client = yield* Effect.service(AcquireClient.AcquireClient).pipe(
        Effect.provide(
          AcquireClient.layerConfig().pipe(
            Layer.provide(
              ConfigProvider.layer(
                ConfigProvider.fromEnv({
                  env: {
                    ACQUIRE_ACCOUNT_ID: "acme",
                    ACQUIRE_API_KEY: KEY,
                    ACQUIRE_BASE_URL: "https://gateway.example.com/acquire/api/v1"
                  }
                })
              )
            )
          )
        )
      )
      assert.strictEqual(client.baseUrl.href, "https://gateway.example.com/acquire/api/v1/")
    })
  )

  it.effect("Acquire.layerConfig names a missing variable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(
          Acquire.layerConfig().pipe(
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ACQUIRE_ACCOUNT_ID: "acme" } })))
          )
        ).pipe(Effect.scoped)
      )
      assert.include(error.message, "ACQUIRE_API_KEY")
    })
  )
})

describe("a settings object's keys", () => {
  const rejection = (settings: unknown) =>
    createEditor({ providers: Acquire.provider, settings: settings as never }).then(
      async (editor) => {
        await editor.dispose()
        return undefined
      },
      (error: unknown) => error
    )

  it("refuses a key in the wrong case with a did you mean, never falling back to the production address", async () => {
    const error = await rejection({ acquire: { accountId: "acme", apiKey: KEY, baseURL: "http://127.0.0.1:9/api/v1" } })
    assert.instanceOf(error, ConfigurationError)
    assert.strictEqual(
      (error as Error).message,
      `Unknown setting "baseURL" in acquire (the settings object) (did you mean baseUrl?); the known settings there are accountId, apiKey, baseUrl, allowInsecureLoopback`
    )
    assert.notInclude((error as Error).message, KEY)
  })

  it("refuses a misspelled key with a did you mean instead of calling it missing", async () => {
    const error = await rejection({ acquire: { acountId: "acme", apiKey: KEY } })
    assert.instanceOf(error, ConfigurationError)
    assert.include(
      (error as Error).message,
      `Unknown setting "acountId" in acquire (the settings object) (did you mean accountId?)`
    )
    assert.notInclude((error as Error).message, "Missing setting")
  })

  it("refuses a misspelled provider section with a did you mean", async () => {
    const error = await rejection({ provider: "acquire", acquier: { accountId: "acme", apiKey: KEY } })
    assert.instanceOf(error, ConfigurationError)
    assert.include((error as Error).message, `Unknown key "acquier" in the settings object (did you mean acquire?)`)
  })

  it.effect("refuses an unknown key in settings given in code, and a value of the wrong type without printing it", () =>
    Effect.gen(function* () {
      const wrongKey = yield* Effect.flip(
        Acquire.make({ accountId: "acme", apiKey: KEY, baseURL: "https://x.example.com" } as never)
      )
      assert.include(wrongKey.message, `Unknown setting "baseURL" in the acquire settings (did you mean baseUrl?)`)
      const wrongType = yield* Effect.flip(Acquire.make({ accountId: 42, apiKey: KEY } as never))
      assert.include(wrongType.message, "ACQUIRE_ACCOUNT_ID (accountId) must be text")
      const missing = yield* Effect.flip(Acquire.make({ accountId: "acme" } as never))
      assert.include(missing.message, "Missing setting for acquire: ACQUIRE_API_KEY (apiKey)")
    })
  )

  it.effect("take checked settings, even copied, as input: their computed apiUrl is computed again", () =>
    Effect.gen(function* () {
      const checked = yield* fromEnv({ ACQUIRE_ACCOUNT_ID: "acme", ACQUIRE_API_KEY: KEY })
      const client = yield* AcquireClient.make({ ...checked })
      assert.strictEqual(client.baseUrl.href, "https://acme.acquire.io/api/v1/")
    })
  )

  it("does not compile with a misspelled key or provider section", () => {
    const typed = () => [
      createEditor({
        providers: Acquire.provider,
        // @ts-expect-error a key in the wrong case
        settings: { acquire: { accountId: "acme", apiKey: KEY, baseURL: "x" } }
      }),
      // @ts-expect-error a misspelled key
      createEditor({ providers: Acquire.provider, settings: { acquire: { acountId: "acme", apiKey: KEY } } }),
      // @ts-expect-error a misspelled provider section
      createEditor({ providers: Acquire.provider, settings: { acquier: { accountId: "acme", apiKey: KEY } } }),
      // @ts-expect-error a key in the wrong case, in code
      Acquire.make({ accountId: "acme", apiKey: KEY, baseURL: "x" })
    ]
    assert.isFunction(typed)
  })
})

describe("options through Acquire", () => {
  it("are decoded once: each retry and transport option read once from createEditor to the transport", async () => {
    const reads: Record<string, number> = {}
    const counted = <const T extends object>(target: T): T =>
      new Proxy(target, {
        get: (object, key, receiver) => {
          if (typeof key === "string") reads[key] = (reads[key] ?? 0) + 1
          return Reflect.get(object, key, receiver)
        }
      })
    const editor = await createEditor({
      providers: Acquire.provider,
      settings: { acquire: { accountId: "acme", apiKey: KEY } },
      retry: counted({ maxAttempts: 2 }),
      transport: counted({ timeout: "2 seconds", maxConnectionsPerHost: 4 })
    })
    await editor.dispose()
    assert.deepStrictEqual(reads, { maxAttempts: 1, timeout: 1, maxConnectionsPerHost: 1 })
  })
})
