/**
 * The Bitrix24 adapter's front door, for apps: `import { Bitrix24 } from
 * "@reword/bitrix24"`, then `Bitrix24.layerConfig(options)`,
 * `Bitrix24.layer(settings, options)`, `Bitrix24.make(settings, options)`, or
 * `Bitrix24.provider` for core's provider selection and `createEditor`:
 *
 * ```ts
 * import { Bitrix24 } from "@reword/bitrix24"
 * import { Provider } from "@reword/core"
 *
 * const EditorLive = Provider.layer([Bitrix24.provider])
 * ```
 *
 * The other modules hold the parts: `Bitrix24Config` (settings),
 * `Bitrix24Client` (the typed client), `Bitrix24MessageEditor` (what Bitrix24
 * adds to core's editor), `Bitrix24Schemas` (the wire format, as types),
 * `RateLimiter` and `TokenStore`.
 *
 * @since 0.1.0
 */
import { type EditError, MessageEditor, type Provider } from "@reword/core"
import { OptionCheck, ProviderKit } from "@reword/core/adapter"
import { type Config, Context, Effect, Layer, Result } from "effect"
import * as Bitrix24Client from "./Bitrix24Client.ts"
import * as Bitrix24Config from "./Bitrix24Config.ts"
import * as Bitrix24MessageEditor from "./Bitrix24MessageEditor.ts"
import * as Calls from "./internal/calls.ts"
import { MAX_CHUNK_SIZE } from "./internal/chunkSize.ts"
import * as Editor from "./internal/editor.ts"

/**
 * The editor's options: what every editor takes (`retry`, `concurrency`, and
 * `transport` for HTTP), what the client takes (`tokenStore`,
 * `tokenStoreTimeout`, `rateLimit`, `rateLimiter`, `onOperatingLimit`), and
 * `chunkSize`. Options are code, not configuration.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options
  extends Bitrix24MessageEditor.AdapterOptions,
    Omit<Bitrix24Client.Options, "maxOperatingWait"> {
  /**
   * Messages per `imconnector.update.messages` call, fixed (from 1 to 50).
   * Default: chosen from the portal's answers (`time.duration` of calls
   * carrying different numbers of messages): 20 until the first answer, then
   * as many as a call carries within half the time a request may take (the
   * portal's 60 s, or the transport's timeout when shorter), up to 50.
   */
  readonly chunkSize?: number | undefined
}

/**
 * The options only Bitrix24 understands, given as `providerOptions.bitrix24`
 * to `Provider.layer`, `Provider.makeEditor` and `createEditor`.
 *
 * @category options
 * @since 0.1.0
 */
export type ProviderOptions = Pick<
  Options,
  "tokenStore" | "tokenStoreTimeout" | "chunkSize" | "rateLimit" | "rateLimiter" | "onOperatingLimit"
>

/** The options only Bitrix24's editor understands, declared once: the calls' and `chunkSize`. */
const OwnOptions = OptionCheck.struct({
  ...Calls.OwnOptions.fields,
  chunkSize: OptionCheck.field<number>((value) => OptionCheck.integer("", value, { min: 1, max: MAX_CHUNK_SIZE }))
})

/** The problems of the options only Bitrix24 understands. */
const ownProblems = (options: Options): ReadonlyArray<EditError.Problem> => {
  const decoded = OptionCheck.decode(OwnOptions, options)
  return Result.isFailure(decoded) ? decoded.failure : []
}

/**
 * The editor from checked settings and checked options: the one builder every
 * constructor below ends in. A wait for the operating reset is part of the
 * retry budget; packed calls run in the context the editor is built in (its
 * Clock, logger, tracer), never a caller's.
 */
const build = (
  settings: Bitrix24Config.Settings,
  options: Options
): Effect.Effect<Bitrix24MessageEditor.Service, Config.ConfigError> =>
  Effect.flatMap(Calls.setup(settings, { ...options, maxOperatingWait: options.retry?.maxElapsed }), (calls) =>
    Effect.map(Effect.context<never>(), (context) =>
      Editor.fromCalls(calls, options, {}, Editor.serverTimeFor(options), context)
    )
  )

/**
 * The options decoded once (core's, then Bitrix24's own checked): what
 * `build` takes, checking nothing again.
 */
const decodeOptions = (options: Options | undefined) =>
  OptionCheck.withProblems(OptionCheck.decodeEditorOptions(options ?? {}), ownProblems(options ?? {}))

const construct = ProviderKit.constructors({
  decodeOptions,
  check: Bitrix24Config.check,
  read: Bitrix24Config.read,
  build
})

/**
 * Builds the editor from settings in code (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing a secret).
 * The token store's pair wins over the configured one (it is newer: refresh
 * tokens rotate), unless the portal or the OAuth server refuses it while the
 * configuration holds another pair (the application was authorized again):
 * then the configured pair takes over, and is stored once it works. Uses the
 * `TokenStore` and `RateLimiter` in context when the options give none.
 *
 * @example
 * ```ts
 * import { Bitrix24 } from "@reword/bitrix24"
 *
 * const editor = Bitrix24.make(
 *   {
 *     portalUrl: "https://acme.bitrix24.com",
 *     accessToken: process.env.B24_ACCESS ?? "",
 *     refreshToken: process.env.B24_REFRESH ?? "",
 *     clientId: "local.65f0c0ffee.12345678",
 *     clientSecret: process.env.B24_SECRET ?? "",
 *     connector: "my_connector",
 *     line: 7
 *   },
 *   { retry: { maxAttempts: 3 }, transport: { timeout: "10 seconds" } }
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: Bitrix24Config.SettingsInput,
  options: Options = {}
): Effect.Effect<Bitrix24MessageEditor.Service, Config.ConfigError> => construct.make(settings, options)

const contextOf = (service: Bitrix24MessageEditor.Service) =>
  Context.make(Bitrix24MessageEditor.Bitrix24MessageEditor, service).pipe(
    Context.add(MessageEditor.MessageEditor, service),
    Context.add(Bitrix24Client.Bitrix24Client, service.client)
  )

/**
 * The editor as a layer, from settings in code. Provides the neutral
 * `MessageEditor`, the `Bitrix24MessageEditor` and the `Bitrix24Client`. Uses
 * the `TokenStore` and `RateLimiter` in context when there are some.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: Bitrix24Config.SettingsInput,
  options: Options = {}
): Layer.Layer<
  Bitrix24MessageEditor.Bitrix24MessageEditor | MessageEditor.MessageEditor | Bitrix24Client.Bitrix24Client,
  Config.ConfigError
> => Layer.effectContext(Effect.map(make(settings, options), contextOf))

/**
 * The editor as a layer, with its settings read from the environment (the
 * current `ConfigProvider`): `BITRIX24_PORTAL_URL`, `BITRIX24_ACCESS_TOKEN`,
 * ... A missing setting fails naming its variable.
 *
 * @example
 * ```ts
 * import { Bitrix24 } from "@reword/bitrix24"
 *
 * const EditorLive = Bitrix24.layerConfig({ retry: { maxAttempts: 3 } })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
  options: Options = {}
): Layer.Layer<
  Bitrix24MessageEditor.Bitrix24MessageEditor | MessageEditor.MessageEditor | Bitrix24Client.Bitrix24Client,
  Config.ConfigError
> => Layer.effectContext(Effect.map(construct.fromConfig(options), contextOf))

/**
 * The descriptor that lets core select Bitrix24 by configuration
 * (`REWORD_PROVIDER=bitrix24`, or a single provider given to `createEditor`):
 * core reads and checks the settings through `config`, then `make` builds.
 *
 * @category descriptor
 * @since 0.1.0
 */
export const provider: Provider.Descriptor<
  Bitrix24Config.Settings,
  ProviderOptions,
  typeof Bitrix24Config.name,
  Bitrix24Config.SettingsInput
> = ProviderKit.describe({
  name: Bitrix24Config.name,
  settings: Bitrix24Config.settings,
  config: Bitrix24Config.config,
  declaration: Bitrix24Config.declaration,
  options: {
    tokenStore:
      "where refreshed tokens are kept between runs: a TokenStore service or a Promise-shaped { load, save } (default: memory)",
    tokenStoreTimeout: "how long one load or save of the token store may take (default 10 s)",
    chunkSize: "messages per imconnector.update.messages call in updateMany (default 20, at most 50)",
    rateLimit: "the client-side rate limiter's bucket and operating-time options",
    rateLimiter: "a rate limiter shared with other editors of the same portals",
    onOperatingLimit: "when a method used up its operating time: wait (default) or fail"
  },
  make: (settings, options) =>
    Effect.flatMap(Effect.fromResult(Result.mapError(decodeOptions(options), OptionCheck.toConfigError)), (decoded) =>
      build(settings, decoded)
    )
})
