/**
 * `createOutbox`'s `providerOptions` is typed from the providers, as
 * `createEditor`'s: a misspelled provider name or option key does not compile
 * (checked by `pnpm typecheck`), and at run time (untyped code) it is a
 * `ConfigurationError` naming the option and the known ones, before any
 * database is opened.
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24, TokenStore } from "@reword/bitrix24"
import { ConfigurationError } from "@reword/core/promise"
import { describe, expect, it } from "vitest"
import { createOutbox } from "../src/promise.ts"

const tokenStore = TokenStore.makeMemory()
// Never run: these only need to compile (or not).
const typeOnly = (_f: () => unknown) => undefined

const settings = {
  bitrix24: {
    portalUrl: "https://acme.bitrix24.com",
    clientId: "local.abc",
    clientSecret: "client-secret-0042",
    accessToken: "access-token-0042",
    refreshToken: "refresh-token-0042",
    connector: "reword",
    line: 1
  }
}

const refusal = (options: unknown) =>
  createOutbox(options as never).then(
    () => expect.fail("createOutbox accepted the options"),
    (error: unknown) => error
  )

describe("createOutbox's providerOptions", () => {
  it("is typed from the providers: a misspelled name or key does not compile", () => {
    typeOnly(() =>
      createOutbox({
        providers: Bitrix24.provider,
        database: ":memory:",
        providerOptions: { bitrix24: { tokenStore } }
      })
    )
    typeOnly(() =>
      createOutbox({
        providers: Bitrix24.provider,
        database: ":memory:",
        // @ts-expect-error: the option key is tokenStore
        providerOptions: { bitrix24: { tokenstore: tokenStore } }
      })
    )
    typeOnly(() =>
      createOutbox({
        providers: Bitrix24.provider,
        database: ":memory:",
        // @ts-expect-error: no provider is named bitrix
        providerOptions: { bitrix: { tokenStore } }
      })
    )
    typeOnly(() =>
      createOutbox({
        providers: Acquire.provider,
        database: ":memory:",
        // @ts-expect-error: a provider not listed has no options here
        providerOptions: { bitrix24: { tokenStore } }
      })
    )
  })

  it("a misspelled option key is a ConfigurationError with a did-you-mean", async () => {
    const error = await refusal({
      providers: Bitrix24.provider,
      settings,
      database: ":memory:",
      providerOptions: { bitrix24: { tokenstore: tokenStore } }
    })
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('"tokenstore"')
    expect((error as Error).message).toContain("tokenStore")
  })

  it("a misspelled provider name is a ConfigurationError naming the known providers", async () => {
    const error = await refusal({
      providers: [Bitrix24.provider, Acquire.provider],
      settings: { provider: "bitrix24", ...settings },
      database: ":memory:",
      providerOptions: { bitrx24: { tokenStore } }
    })
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('"bitrx24"')
    expect((error as Error).message).toContain("bitrix24")
  })
})
