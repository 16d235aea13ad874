/**
 * The Acquire adapter in one name, for apps: `import { Acquire } from
 * "@reword/acquire"`, then `Acquire.layerConfig()`, `Acquire.layer({...})`,
 * `Acquire.make({...})`, or `Acquire.provider` for core's provider selection
 * and `createEditor`. The low-level client is `AcquireClient`.
 *
 * @since 0.1.0
 */
export type { Settings } from "./AcquireConfig.ts"
export {
  /**
   * What Acquire can do: text only, one message per call, addressed by `ids.providerMessageId`.
   *
   * @since 0.1.0
   */
  capabilities,
  /**
   * An editor over an existing `AcquireClient`.
   *
   * @since 0.1.0
   */
  fromClient,
  /**
   * The `MessageEditor` layer, from settings in code.
   *
   * @since 0.1.0
   */
  layer,
  /**
   * The `MessageEditor` layer, from `ACQUIRE_*` environment variables.
   *
   * @since 0.1.0
   */
  layerConfig,
  /**
   * Builds the editor (an `Effect` that fails with a `ConfigError` on unusable settings).
   *
   * @since 0.1.0
   */
  make,
  type Options,
  /**
   * The descriptor for `Provider.layer`, `Provider.makeEditor` and `createEditor`.
   *
   * @since 0.1.0
   */
  provider
} from "./AcquireMessageEditor.ts"
