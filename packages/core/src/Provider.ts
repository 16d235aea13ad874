/**
 * Choosing the provider by configuration. Each adapter exports a
 * {@link Descriptor} (its name, the settings it reads, how to build its editor);
 * an app lists the ones it ships with, and `REWORD_PROVIDER` picks one, from the
 * environment or from a plain object.
 *
 * @since 0.1.0
 */
import { type Config, Effect, Layer, Result, type Schema, type Scope } from "effect"
import * as OptionKeys from "./internal/optionKeys.ts"
import * as Rendering from "./internal/redactedRendering.ts"
import * as SettingsKit from "./internal/settings.ts"
import { type EditorOptions, MessageEditor, type Service } from "./MessageEditor.ts"
import * as OptionCheck from "./OptionCheck.ts"

/**
 * One setting a provider reads: its environment variable, its key in a plain
 * settings object, what it is for, whether it is secret or optional.
 *
 * @category settings
 * @since 0.1.0
 */
export type Setting = SettingsKit.Setting

/**
 * A setting's environment variable and what it is for.
 *
 * @category settings
 * @since 0.3.0
 */
export type SettingSpec = SettingsKit.Spec

/**
 * Declared settings' raw values (text, secrets `Redacted`, optional ones possibly `undefined`), and as written.
 *
 * @category settings
 * @since 0.3.0
 */
export type RawSettings<F extends SettingsKit.Fields> = Schema.Struct.Type<F>

/**
 * Declared settings as a person writes them: in code, or in a provider's section of a settings object.
 *
 * @category settings
 * @since 0.3.0
 */
export type SettingsInputOf<F extends SettingsKit.Fields> = Schema.Struct.Encoded<F>

/**
 * A provider's settings declared once (see {@link declareSettings}).
 *
 * @category settings
 * @since 0.3.0
 */
export type SettingsDeclaration<F extends SettingsKit.Fields, A> = SettingsKit.Declaration<F, A>

/**
 * The options of a provider that takes none of its own.
 *
 * @category options
 * @since 0.1.0
 */
export type NoOptions = Readonly<Record<never, never>>

/**
 * What an adapter exports so that core can select it by name. `Options` are the
 * options only this provider understands (code, not configuration: a token
 * store, a shared rate limiter), passed as `providerOptions[name]`; `Name` is
 * its literal name, so that `providerOptions` is typed by the providers listed.
 *
 * @category models
 * @since 0.1.0
 */
export interface Descriptor<
  Settings = unknown,
  Options extends object = NoOptions,
  Name extends string = string,
  Input = Readonly<Record<string, unknown>>
> {
  /** The value of `REWORD_PROVIDER` that selects it. */
  readonly name: Name
  /** Every setting it reads, for documentation and for precise errors. */
  readonly settings: ReadonlyArray<Setting>
  /** Reads its settings by environment-variable name from the current `ConfigProvider`. */
  readonly config: Config.Config<Settings>
  /**
   * Its settings declared once ({@link declareSettings}): when given, a
   * settings object's section is read through it (unknown keys refused with a
   * "did you mean", typed by `Input`).
   */
  readonly declaration?:
    | {
        readonly check: (input: Input) => Result.Result<Settings, Config.ConfigError>
        readonly read: (source?: Source) => Effect.Effect<Settings, Config.ConfigError>
      }
    | undefined
  /**
   * Each option only this provider understands, with what it is for. Any other
   * key in `providerOptions[name]` is a configuration error. Omitted: it takes none.
   */
  readonly options?: { readonly [K in keyof NoInfer<Options>]-?: string } | undefined
  /** Builds its editor. */
  readonly make: (
    settings: Settings,
    options?: EditorOptions & Options
  ) => Effect.Effect<Service, Config.ConfigError, Scope.Scope>
}

/**
 * Any descriptor, whatever its settings, options and name.
 *
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds descriptors of unrelated settings types
export type AnyDescriptor = Descriptor<any, any, string, any>

/**
 * The provider-only options a descriptor declares.
 *
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: matches any settings type
export type OptionsOf<D> = D extends Descriptor<any, infer Options, string, any> ? Options : never

/**
 * The settings a descriptor takes as written (its section of a settings object).
 *
 * @since 0.3.0
 */
// biome-ignore lint/suspicious/noExplicitAny: matches any settings type
export type InputOf<D> = D extends Descriptor<any, any, string, infer Input> ? Input : never

/**
 * `providerOptions`, typed from the providers listed: each provider's own
 * options under its name. A misspelled provider name or option key does not
 * compile; a provider that takes no options of its own accepts only `{}`.
 * A descriptor typed with a plain `string` name cannot be told apart: when it
 * declares options, any name is accepted (the run-time check still applies).
 *
 * @category options
 * @since 0.1.0
 */
export type ProviderOptions<D extends AnyDescriptor> = {
  readonly [P in D as string extends P["name"] ? ([keyof OptionsOf<P>] extends [never] ? never : string) : P["name"]]?:
    | (string extends P["name"]
        ? object
        : [keyof OptionsOf<P>] extends [never]
          ? Readonly<Record<string, never>>
          : OptionsOf<P>)
    | undefined
}

/**
 * A plain settings object: `provider` names the provider, and each provider's
 * settings sit under its name, by key. Typed from the providers listed: a
 * misspelled provider name or setting key does not compile (and is refused at
 * run time with a "did you mean").
 *
 * @example
 * ```ts
 * const settings = {
 *   provider: "acquire",
 *   acquire: { accountId: "acme", apiKey: process.env.ACQUIRE_API_KEY }
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type SettingsObject<D extends AnyDescriptor = AnyDescriptor> = {
  readonly provider?: string | undefined
} & { readonly [P in D as P["name"]]?: InputOf<P> | undefined }

/**
 * Where settings come from: the environment (a map of variables), or a plain
 * settings object.
 *
 * @category models
 * @since 0.1.0
 */
export type Source = SettingsKit.Source

/**
 * Settings from environment variables (`process.env` when `env` is omitted).
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromEnv = (env?: Readonly<Record<string, string | undefined>>): Source => ({ _tag: "Environment", env })

/**
 * Settings from a plain object.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromObject = <D extends AnyDescriptor = AnyDescriptor>(settings: SettingsObject<D>): Source => ({
  _tag: "Object",
  settings
})

const configError: (message: string) => Config.ConfigError = SettingsKit.configError

/**
 * Whether a setting's value is the text a hidden secret prints as (`"<redacted>"`,
 * `"<redacted:label>"`), which settings written to a file or a log hold instead
 * of the secret: never a credential, refused wherever settings are read.
 *
 * @category utils
 * @since 0.2.0
 */
export const isRedactedRendering: (value: unknown) => boolean = Rendering.isRedactedRendering

export {
  /**
   * The variable that names the provider.
   *
   * @category constants
   * @since 0.1.0
   */
  PROVIDER_VARIABLE,
  /**
   * Reads one provider's settings, each variable once, naming the exact
   * variable of each one missing. A descriptor built on {@link declareSettings}
   * reads through its declaration (a settings object's unknown keys refused
   * with a "did you mean"); any other needs only its `name`, `settings` and `config`.
   *
   * @category utils
   * @since 0.1.0
   */
  readSettings,
  /**
   * Picks the provider named by `REWORD_PROVIDER` and reads its settings. An
   * unknown name fails listing the known ones; a missing setting fails naming
   * its variable; a settings object's unknown key fails with a "did you mean".
   *
   * @category utils
   * @since 0.1.0
   */
  select
} from "./internal/reading.ts"

import { select } from "./internal/reading.ts"

/**
 * Builds the editor of the provider that the configuration names. Options in
 * the wrong place (`timeout` beside `transport`, a misspelled provider or
 * option name) fail with a `ConfigError` naming the key and the known ones.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeEditor = <const Providers extends ReadonlyArray<AnyDescriptor>>(
  providers: Providers,
  options: SelectionOptions<Providers[number]> = {}
): Effect.Effect<Service, Config.ConfigError, Scope.Scope> =>
  Effect.suspend(() => {
    // The edge: keys checked once (createEditor checks its own and says so), values decoded once.
    const problem = OptionKeys.isChecked(options)
      ? undefined
      : OptionKeys.checkOptions(providers, options, selectionKeys)
    if (problem !== undefined) return Effect.fail(configError(problem))
    const { source, providerOptions, ...editorOptions } = options
    const decoded = OptionCheck.decodeEditorOptions(editorOptions)
    if (Result.isFailure(decoded)) return Effect.fail(OptionCheck.toConfigError(decoded.failure))
    return Effect.flatMap(select(providers, source), ({ descriptor, settings }) => {
      const own = (providerOptions as Readonly<Record<string, object | undefined>> | undefined)?.[descriptor.name]
      return descriptor.make(settings, OptionCheck.withOwnOptions(decoded.success, own))
    })
  })

/**
 * How to select and build an editor: where settings come from, what every
 * editor takes (`retry`, `concurrency`, `transport`), and options only one
 * provider understands, by provider name (`{ bitrix24: { tokenStore } }`),
 * given to the selected provider only.
 *
 * @category options
 * @since 0.1.0
 */
export interface SelectionOptions<D extends AnyDescriptor = AnyDescriptor> extends EditorOptions {
  /** Where settings come from (default: the current `ConfigProvider`, the environment). */
  readonly source?: Source | undefined
  /** Options only one provider understands, under its name. */
  readonly providerOptions?: ProviderOptions<D> | undefined
}

/**
 * One `true` per key of an options type: a list of keys the compiler keeps complete.
 *
 * @category models
 * @since 0.1.0
 */
export type KeySet<K extends PropertyKey> = OptionKeys.KeySet<K>

const selectionKeys = {
  ...OptionKeys.editorKeys,
  source: true,
  providerOptions: true
} as const satisfies KeySet<keyof SelectionOptions>

/**
 * The `MessageEditor` layer of the provider that the configuration names:
 * `REWORD_PROVIDER` and that provider's settings, from the environment (or the
 * current `ConfigProvider`), or from `options.source`.
 *
 * @example
 * ```ts
 * import { Provider } from "@reword/core"
 * import { Acquire } from "@reword/acquire"
 * import { Bitrix24 } from "@reword/bitrix24"
 *
 * const EditorLive = Provider.layer([Bitrix24.provider, Acquire.provider])
 *
 * // Every option in its one place; providerOptions is typed from the providers listed.
 * declare const tokenStore: Bitrix24.ProviderOptions["tokenStore"]
 * const Tuned = Provider.layer([Bitrix24.provider, Acquire.provider], {
 *   retry: { maxAttempts: 3 },
 *   transport: { timeout: "10 seconds" },
 *   providerOptions: { bitrix24: { tokenStore } }
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <const Providers extends ReadonlyArray<AnyDescriptor>>(
  providers: Providers,
  options: SelectionOptions<Providers[number]> = {}
): Layer.Layer<MessageEditor, Config.ConfigError> => Layer.effect(MessageEditor, makeEditor(providers, options))
