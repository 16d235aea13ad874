/**
 * The public entry points of the Bitrix24 adapter in one place:
 *
 * ```ts
 * import { Bitrix24 } from "@reword/bitrix24"
 * import { Provider } from "@reword/core"
 *
 * const EditorLive = Provider.layer([Bitrix24.provider])
 * ```
 *
 * @since 0.1.0
 */
import { Provider } from "@reword/core"
import * as Bitrix24Config from "./Bitrix24Config.ts"
import * as Bitrix24MessageEditor from "./Bitrix24MessageEditor.ts"

/**
 * The descriptor that `REWORD_PROVIDER=bitrix24` selects.
 *
 * @since 0.1.0
 */
export const provider: Provider.Descriptor<Bitrix24Config.Settings, ProviderOptions, typeof Bitrix24Config.name> =
  Provider.describe({
    name: Bitrix24Config.name,
    settings: Bitrix24Config.settings,
    config: Bitrix24Config.config,
    options: {
      tokenStore:
        "where refreshed tokens are kept between runs: a TokenStore service or a Promise-shaped { load, save } (default: memory)",
      tokenStoreTimeout: "how long one load or save of the token store may take (default 10 s)",
      chunkSize: "messages per imconnector.update.messages call in updateMany (default 20, at most 50)",
      rateLimit: "the client-side rate limiter's bucket and operating-time options",
      rateLimiter: "a rate limiter shared with other editors of the same portals",
      onOperatingLimit: "when a method used up its operating time: wait (default) or fail"
    },
    make: (settings, options) => Bitrix24MessageEditor.make(settings, options)
  })

/**
 * The options only Bitrix24 understands, given as `providerOptions.bitrix24`
 * to `Provider.layer`, `Provider.makeEditor` and `createEditor`.
 *
 * @since 0.1.0
 */
export type ProviderOptions = Pick<
  Bitrix24MessageEditor.Options,
  "tokenStore" | "tokenStoreTimeout" | "chunkSize" | "rateLimit" | "rateLimiter" | "onOperatingLimit"
>

export {
  /**
   * The settings read from the environment.
   *
   * @since 0.1.0
   */
  config,
  /**
   * Settings from a plain object.
   *
   * @since 0.1.0
   */
  fromObject
} from "./Bitrix24Config.ts"
export {
  /**
   * Bitrix24's capabilities.
   *
   * @since 0.1.0
   */
  capabilities,
  /**
   * The editor, from settings.
   *
   * @since 0.1.0
   */
  layer,
  /**
   * The editor, from the environment.
   *
   * @since 0.1.0
   */
  layerConfig,
  /**
   * Builds the editor.
   *
   * @since 0.1.0
   */
  make,
  type Options
} from "./Bitrix24MessageEditor.ts"
export {
  /**
   * A shared rate limiter.
   *
   * @since 0.1.0
   */
  layer as layerRateLimiter
} from "./RateLimiter.ts"
export {
  /**
   * Tokens in a file.
   *
   * @since 0.1.0
   */
  layerFile as layerTokenFile,
  /**
   * Tokens in memory.
   *
   * @since 0.1.0
   */
  layerMemory as layerTokenMemory
} from "./TokenStore.ts"
