/**
 * The Acquire adapter's front door, for apps: `import { Acquire } from
 * "@reword/acquire"`, then `Acquire.layerConfig(options)`,
 * `Acquire.layer(settings, options)`, `Acquire.make(settings, options)`, or
 * `Acquire.provider` for core's provider selection and `createEditor`. The
 * other modules hold the parts: `AcquireConfig` (settings), `AcquireClient`
 * (the typed client), `AcquireMessageEditor` (what Acquire adds to core's
 * editor), `AcquireSchemas` (the answers).
 *
 * @since 0.1.0
 */
import { MessageEditor, type Provider } from "@reword/core"
import { HttpTransport, OptionCheck, ProviderKit } from "@reword/core/adapter"
import { type Config, Effect, Layer, Result } from "effect"
import * as AcquireConfig from "./AcquireConfig.ts"
import { capabilities, toEditedMessage, validate } from "./AcquireMessageEditor.ts"
import * as Calls from "./internal/calls.ts"

/**
 * The editor's options: what every editor takes (`retry`, `concurrency`, and
 * `transport` for HTTP). Acquire takes none of its own.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options extends MessageEditor.EditorOptions {}

/**
 * The options only Acquire understands, as `providerOptions.acquire`: none.
 *
 * @category options
 * @since 0.1.0
 */
export type ProviderOptions = Provider.NoOptions

/**
 * The editor from checked settings and checked options: the one builder every
 * constructor below ends in. A request reaches `update` validated (core's
 * checks, then `AcquireMessageEditor.validate`), so its id is a positive
 * integer and its text is there; a call's reason goes back to core as it is.
 */
const build = (settings: AcquireConfig.Settings, options: Options): MessageEditor.Service => {
  const calls = Calls.make(settings, HttpTransport.make(options.transport))
  return MessageEditor.make(
    {
      provider: AcquireConfig.name,
      capabilities,
      validate,
      update: (request) =>
        Effect.map(
          calls.edit(Number(request.ids.providerMessageId), { text: request.text ?? "", language: request.language }),
          (edited) => toEditedMessage(request, edited)
        )
    },
    options
  )
}

/** The options decoded once: what `build` takes, checking nothing again. */
const decodeOptions = (options: Options | undefined) => OptionCheck.decodeEditorOptions(options)

const construct = ProviderKit.constructors({
  decodeOptions,
  check: AcquireConfig.check,
  read: AcquireConfig.read,
  build: (settings: AcquireConfig.Settings, options: Options) => Effect.succeed(build(settings, options))
})

/**
 * Builds the editor from settings in code (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing the key).
 *
 * @example
 * ```ts
 * import { Acquire } from "@reword/acquire"
 * import { Redacted } from "effect"
 *
 * const editor = Acquire.make(
 *   { accountId: "acme", apiKey: Redacted.make(process.env.ACQUIRE_API_KEY ?? "") },
 *   { retry: { maxAttempts: 3 }, transport: { timeout: "10 seconds" } }
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: AcquireConfig.SettingsInput,
  options: Options = {}
): Effect.Effect<MessageEditor.Service, Config.ConfigError> => construct.make(settings, options)

/**
 * The `MessageEditor` layer of Acquire, from settings given in code.
 *
 * @example
 * ```ts
 * import { Acquire } from "@reword/acquire"
 * import { Redacted } from "effect"
 *
 * const EditorLive = Acquire.layer(
 *   { accountId: "acme", apiKey: Redacted.make(process.env.ACQUIRE_API_KEY ?? "") },
 *   { concurrency: 8 }
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: AcquireConfig.SettingsInput,
  options: Options = {}
): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(MessageEditor.MessageEditor, make(settings, options))

/**
 * The `MessageEditor` layer of Acquire, with its settings read from the
 * environment (the current `ConfigProvider`): `ACQUIRE_ACCOUNT_ID`,
 * `ACQUIRE_API_KEY`, and optionally `ACQUIRE_BASE_URL` and
 * `ACQUIRE_ALLOW_INSECURE_LOOPBACK`. A missing setting fails naming its variable.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options: Options = {}): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(MessageEditor.MessageEditor, construct.fromConfig(options))

/**
 * The descriptor that lets core select Acquire by configuration
 * (`REWORD_PROVIDER=acquire`, or a single provider given to `createEditor`):
 * core reads and checks the settings through `config`, then `make` builds.
 *
 * @category descriptor
 * @since 0.1.0
 */
export const provider: Provider.Descriptor<
  AcquireConfig.Settings,
  ProviderOptions,
  typeof AcquireConfig.name,
  AcquireConfig.SettingsInput
> = ProviderKit.describe({
  name: AcquireConfig.name,
  settings: AcquireConfig.settings,
  config: AcquireConfig.config,
  declaration: AcquireConfig.declaration,
  make: (settings, options) =>
    Effect.map(Effect.fromResult(Result.mapError(decodeOptions(options), OptionCheck.toConfigError)), (decoded) =>
      build(settings, decoded)
    )
})
