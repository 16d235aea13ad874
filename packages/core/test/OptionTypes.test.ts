/**
 * Type tests: options are typed from the providers listed, and an option in the
 * wrong place does not compile (checked by `pnpm typecheck`; the run-time checks
 * of the same mistakes are in Provider.test.ts and PromiseEditor.test.ts).
 */
import { InMemoryEditor, Provider } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { createEditor } from "@reword/core/promise"
import { Config, Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"

interface Store {
  readonly load: () => Promise<string | undefined>
}

/** Like Bitrix24's descriptor: options of its own, a literal name. */
const rotating: Provider.Descriptor<object, { readonly tokenStore?: Store | undefined }, "rotating"> =
  ProviderKit.describe({
    name: "rotating",
    settings: [],
    config: Config.succeed({}),
    options: { tokenStore: "where tokens are kept" },
    make: (_settings, options) => Effect.succeed(InMemoryEditor.make(InMemoryEditor.makeStore(), options))
  })

/** Like Acquire's: no options of its own. */
const plain = ProviderKit.describe({
  name: "plain",
  settings: [],
  config: Config.succeed({}),
  make: (_settings, options) => Effect.succeed(InMemoryEditor.make(InMemoryEditor.makeStore(), options))
})

const tokenStore: Store = { load: async () => undefined }

// Never run: these only need to compile (or not).
const typeOnly = (_f: () => unknown) => undefined

describe("option types", () => {
  it("types providerOptions from the descriptors passed in", () => {
    expectTypeOf(plain.name).toEqualTypeOf<"plain">()
    expectTypeOf<Provider.ProviderOptions<typeof rotating | typeof plain>>().toEqualTypeOf<{
      readonly rotating?: { readonly tokenStore?: Store | undefined } | undefined
      readonly plain?: Readonly<Record<string, never>> | undefined
    }>()
    typeOnly(() => Provider.layer([rotating, plain], { providerOptions: { rotating: { tokenStore } } }))
    typeOnly(() => Provider.makeEditor([rotating, plain], { providerOptions: { rotating: { tokenStore }, plain: {} } }))
    typeOnly(() => createEditor({ providers: [rotating, plain], providerOptions: { rotating: { tokenStore } } }))
    typeOnly(() => createEditor({ providers: rotating, providerOptions: { rotating: { tokenStore } } }))
  })

  it("refuses a misspelled provider name or option key", () => {
    // @ts-expect-error: the option key is tokenStore
    typeOnly(() => Provider.layer([rotating, plain], { providerOptions: { rotating: { tokenstore: tokenStore } } }))
    // @ts-expect-error: no provider is named rotate
    typeOnly(() => Provider.layer([rotating, plain], { providerOptions: { rotate: { tokenStore } } }))
    // @ts-expect-error: plain takes no options of its own
    typeOnly(() => Provider.layer([rotating, plain], { providerOptions: { plain: { tokenStore } } }))
    typeOnly(() =>
      // @ts-expect-error: the option key is tokenStore
      createEditor({ providers: [rotating, plain], providerOptions: { rotating: { tokenstore: tokenStore } } })
    )
    // @ts-expect-error: no provider is named rotate
    typeOnly(() => createEditor({ providers: [rotating, plain], providerOptions: { rotate: { tokenStore } } }))
    // @ts-expect-error: a provider not listed has no options here
    typeOnly(() => createEditor({ providers: plain, providerOptions: { rotating: { tokenStore } } }))
    // @ts-expect-error: a token store of the wrong shape
    typeOnly(() => createEditor({ providers: rotating, providerOptions: { rotating: { tokenStore: "file.json" } } }))
  })

  it("has one place for each option: a wrong placement does not compile", () => {
    typeOnly(() =>
      createEditor({
        providers: plain,
        retry: { maxAttempts: 3 },
        concurrency: 4,
        transport: { timeout: "10 seconds", maxResponseBytes: 1_000_000 }
      })
    )
    // @ts-expect-error: timeout belongs in transport
    typeOnly(() => createEditor({ providers: plain, timeout: "10 seconds" }))
    // @ts-expect-error: maxAttempts belongs in retry
    typeOnly(() => createEditor({ providers: plain, maxAttempts: 3 }))
    // @ts-expect-error: timeout is not a retry option
    typeOnly(() => createEditor({ providers: plain, retry: { timeout: "1 second" } }))
    // @ts-expect-error: a provider's own option belongs in providerOptions
    typeOnly(() => createEditor({ providers: rotating, tokenStore }))
    // @ts-expect-error: timeout belongs in transport
    typeOnly(() => Provider.layer([plain], { timeout: "10 seconds" }))
    // @ts-expect-error: transport is not a provider option
    typeOnly(() => Provider.layer([rotating], { providerOptions: { rotating: { transport: {} } } }))
  })

  it("keeps lists built at run time usable", () => {
    const listed: ReadonlyArray<Provider.AnyDescriptor> = [rotating, plain]
    typeOnly(() => Provider.layer(listed, { providerOptions: { rotating: { tokenStore } } }))
    typeOnly(() => createEditor({ providers: listed }))
  })
})
