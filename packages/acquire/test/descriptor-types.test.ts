import { describe, expectTypeOf, it } from "@effect/vitest"
import { Acquire, type AcquireConfig } from "@reword/acquire"
import { Provider } from "@reword/core"

describe("Acquire.provider's type", () => {
  it("is named by its literal, so providerOptions is typed: acquire takes {} and nothing else", () => {
    expectTypeOf(Acquire.provider.name).toEqualTypeOf<"acquire">()
    expectTypeOf<Provider.OptionsOf<typeof Acquire.provider>>().toEqualTypeOf<Acquire.ProviderOptions>()
    const layer = (options: Provider.SelectionOptions<typeof Acquire.provider>) =>
      Provider.layer([Acquire.provider], options)
    layer({ providerOptions: { acquire: {} } })
    // @ts-expect-error Acquire takes no options of its own
    layer({ providerOptions: { acquire: { tokenStore: 1 } } })
    // @ts-expect-error a misspelled provider name
    layer({ providerOptions: { acquier: {} } })
  })

  it("reads checked settings, which make and layer also take as written", () => {
    expectTypeOf(Acquire.provider.config).toEqualTypeOf<import("effect").Config.Config<AcquireConfig.Settings>>()
    expectTypeOf<AcquireConfig.Settings>().toExtend<AcquireConfig.SettingsInput>()
  })
})
