/**
 * Choosing the provider by configuration. Each adapter exports a
 * {@link Descriptor} (its name, the settings it reads, how to build its editor);
 * an app lists the ones it ships with, and `REWORD_PROVIDER` picks one, from the
 * environment or from a plain object.
 *
 * @since 0.1.0
 */
import { Config, ConfigProvider, Effect, Layer, Option, Predicate, Redacted, type Scope } from "effect"
import { type EditorOptions, MessageEditor, type Service } from "./MessageEditor.ts"

/**
 * The variable that names the provider.
 *
 * @since 0.1.0
 */
export const PROVIDER_VARIABLE = "REWORD_PROVIDER"

/**
 * One setting a provider reads: its environment variable, its key in a plain
 * settings object, and what it is for.
 *
 * @since 0.1.0
 */
export interface Setting {
  /** The environment variable, such as `ACQUIRE_API_KEY`. */
  readonly env: string
  /** The key in the provider's section of a settings object, such as `apiKey`. */
  readonly key: string
  readonly description: string
  /** Secrets are read as `Redacted` and never printed. */
  readonly secret?: boolean | undefined
  /** Optional settings have a default or are not always needed. */
  readonly optional?: boolean | undefined
}

/**
 * What an adapter exports so that core can select it by name.
 *
 * @since 0.1.0
 */
export interface Descriptor<Settings = unknown> {
  /** The value of `REWORD_PROVIDER` that selects it. */
  readonly name: string
  /** Every setting it reads, for documentation and for precise errors. */
  readonly settings: ReadonlyArray<Setting>
  /** Reads its settings by environment-variable name from the current `ConfigProvider`. */
  readonly config: Config.Config<Settings>
  /** Builds its editor. */
  readonly make: (
    settings: Settings,
    options?: EditorOptions
  ) => Effect.Effect<Service, Config.ConfigError, Scope.Scope>
}

/**
 * Any descriptor, whatever its settings.
 *
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds descriptors of unrelated settings types
export type AnyDescriptor = Descriptor<any>

/**
 * Types a descriptor (an identity, for inference).
 *
 * @since 0.1.0
 */
export const describe = <Settings>(descriptor: Descriptor<Settings>): Descriptor<Settings> => descriptor

/**
 * A plain settings object: `provider` names the provider, and each provider's
 * settings sit under its name, by key.
 *
 * @example
 * ```ts
 * const settings = {
 *   provider: "acquire",
 *   acquire: { accountId: "acme", apiKey: process.env.ACQUIRE_API_KEY }
 * }
 * ```
 *
 * @since 0.1.0
 */
export interface SettingsObject {
  readonly provider?: string | undefined
  readonly [provider: string]: unknown
}

/**
 * Where settings come from: the environment (a map of variables), or a plain
 * settings object.
 *
 * @since 0.1.0
 */
export type Source =
  | { readonly _tag: "Environment"; readonly env?: Readonly<Record<string, string | undefined>> | undefined }
  | { readonly _tag: "Object"; readonly settings: SettingsObject }

/**
 * Settings from environment variables (`process.env` when `env` is omitted).
 *
 * @since 0.1.0
 */
export const fromEnv = (env?: Readonly<Record<string, string | undefined>>): Source => ({ _tag: "Environment", env })

/**
 * Settings from a plain object.
 *
 * @since 0.1.0
 */
export const fromObject = (settings: SettingsObject): Source => ({ _tag: "Object", settings })

/**
 * A `ConfigError` with a sentence of its own (adapters use it for their own checks).
 *
 * @since 0.1.0
 */
export const configError = (message: string): Config.ConfigError =>
  new Config.ConfigError(new ConfigProvider.SourceError({ message }))

/** Settings objects may hold `Redacted` secrets, `URL`s, numbers and booleans: the config reads them as text. */
const asText = (value: unknown): unknown => {
  if (Redacted.isRedacted(value)) return Redacted.value(value as Redacted.Redacted<unknown>)
  if (value instanceof URL) return value.href
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
  if (Array.isArray(value)) return value.map(asText)
  if (Predicate.isObject(value) && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, asText(inner)]))
  }
  return value
}

/**
 * The `ConfigProvider` that answers environment-variable names from a source.
 * For an object, `ACQUIRE_API_KEY` is read at `acquire.apiKey` and
 * `REWORD_PROVIDER` at `provider`.
 *
 * @since 0.1.0
 */
export const configProviderOf = (
  source: Source,
  providers: ReadonlyArray<AnyDescriptor>
): ConfigProvider.ConfigProvider | undefined => {
  if (source._tag === "Environment") {
    return source.env === undefined ? undefined : ConfigProvider.fromEnv({ env: definedOnly(source.env) })
  }
  const locations = new Map<string, ReadonlyArray<string>>([[PROVIDER_VARIABLE, ["provider"]]])
  for (const descriptor of providers) {
    for (const setting of descriptor.settings) locations.set(setting.env, [descriptor.name, setting.key])
  }
  return ConfigProvider.fromUnknown(asText(source.settings)).pipe(
    ConfigProvider.mapInput((path) => {
      const [head] = path
      return path.length === 1 && typeof head === "string" ? (locations.get(head) ?? path) : path
    })
  )
}

const definedOnly = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

const whereToSet = (source: Source | undefined, providerName: string, setting: Setting): string =>
  source?._tag === "Object" ? `${setting.env} (${providerName}.${setting.key} in the settings object)` : setting.env

const readWith = <A>(config: Config.Config<A>, provider: ConfigProvider.ConfigProvider | undefined) =>
  provider === undefined
    ? Effect.gen(function* () {
        return yield* config
      })
    : config.parse(provider)

/**
 * Picks the provider named by `REWORD_PROVIDER` and reads its settings. An
 * unknown name fails listing the known ones; a missing setting fails naming
 * its variable.
 *
 * @since 0.1.0
 */
export const select = Effect.fnUntraced(function* (
  providers: ReadonlyArray<AnyDescriptor>,
  source?: Source
): Effect.fn.Return<{ readonly descriptor: AnyDescriptor; readonly settings: unknown }, Config.ConfigError> {
  const known = providers.map((descriptor) => descriptor.name)
  const configProvider = source === undefined ? undefined : configProviderOf(source, providers)
  const name = yield* readWith(Config.option(Config.String(PROVIDER_VARIABLE)), configProvider)
  const knownList = known.length === 0 ? "(none: pass the adapters' descriptors)" : known.join(", ")
  if (Option.isNone(name)) {
    const where =
      source?._tag === "Object" ? `${PROVIDER_VARIABLE} (provider in the settings object)` : PROVIDER_VARIABLE
    return yield* Effect.fail(
      configError(`Missing setting ${where}: set it to one of the known providers: ${knownList}`)
    )
  }
  const descriptor = providers.find((candidate) => candidate.name === name.value.trim())
  if (descriptor === undefined) {
    return yield* Effect.fail(
      configError(`Unknown provider "${name.value}" in ${PROVIDER_VARIABLE}: the known providers are ${knownList}`)
    )
  }
  return { descriptor, settings: yield* readSettings(descriptor, source, configProvider) }
})

/**
 * Reads one provider's settings, naming the exact variable of each one missing.
 *
 * @since 0.1.0
 */
export const readSettings = Effect.fnUntraced(function* <Settings>(
  descriptor: Descriptor<Settings>,
  source?: Source,
  configProvider: ConfigProvider.ConfigProvider | undefined = source === undefined
    ? undefined
    : configProviderOf(source, [descriptor])
): Effect.fn.Return<Settings, Config.ConfigError> {
  const missing: Array<Setting> = []
  for (const setting of descriptor.settings) {
    if (setting.optional === true) continue
    const value = yield* readWith(Config.option(Config.String(setting.env)), configProvider)
    if (Option.isNone(value) || value.value.trim().length === 0) missing.push(setting)
  }
  if (missing.length > 0) {
    const listed = missing
      .map((setting) => `${whereToSet(source, descriptor.name, setting)}: ${setting.description}`)
      .join("; ")
    return yield* Effect.fail(
      configError(`Missing setting${missing.length > 1 ? "s" : ""} for ${descriptor.name}: ${listed}`)
    )
  }
  return yield* readWith(descriptor.config, configProvider)
})

/**
 * Builds the editor of the provider that the configuration names.
 *
 * @since 0.1.0
 */
export const makeEditor = (
  providers: ReadonlyArray<AnyDescriptor>,
  options: SelectionOptions = {}
): Effect.Effect<Service, Config.ConfigError, Scope.Scope> =>
  Effect.flatMap(select(providers, options.source), ({ descriptor, settings }) => {
    const { source: _source, providerOptions, ...editorOptions } = options
    return descriptor.make(settings, { ...editorOptions, ...providerOptions?.[descriptor.name] })
  })

/**
 * How to select and build an editor: where settings come from, what every
 * editor takes, and options only one provider understands, by provider name
 * (`{ bitrix24: { tokenStore } }`), given to the selected provider only.
 *
 * @since 0.1.0
 */
export interface SelectionOptions extends EditorOptions {
  readonly source?: Source | undefined
  readonly providerOptions?: Readonly<Record<string, object>> | undefined
}

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
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  providers: ReadonlyArray<AnyDescriptor>,
  options: SelectionOptions = {}
): Layer.Layer<MessageEditor, Config.ConfigError> => Layer.effect(MessageEditor, makeEditor(providers, options))
