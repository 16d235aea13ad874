/**
 * Reading settings: the `ConfigProvider` of a source, the selection of the
 * provider `REWORD_PROVIDER` names, and one provider's settings, each
 * variable read once.
 *
 * @internal
 */
import { Config, ConfigProvider, Effect, Option, Predicate, Redacted, Result } from "effect"
import type { AnyDescriptor, Descriptor, NoOptions } from "../Provider.ts"
import { didYouMean } from "./didYouMean.ts"
import * as Rendering from "./redactedRendering.ts"
import * as SettingsKit from "./settings.ts"

type Source = SettingsKit.Source

const configError = SettingsKit.configError

/** The variable that names the provider. */
export const PROVIDER_VARIABLE = "REWORD_PROVIDER"

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
 * @category utils
 * @since 0.1.0
 */
export const configProviderOf = (
  source: Source,
  providers: ReadonlyArray<Pick<AnyDescriptor, "name" | "settings">>
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

const definedOnly = SettingsKit.definedOnly

const readWith = SettingsKit.parseWith

/** The keys of a settings object: `provider` and the providers' names; any other is refused with a "did you mean". */
const checkSettingsObject = (
  source: Source | undefined,
  providers: ReadonlyArray<AnyDescriptor>
): Result.Result<void, Config.ConfigError> => {
  if (source?._tag !== "Object") return Result.void
  if (!Predicate.isObject(source.settings) || Array.isArray(source.settings)) {
    return Result.fail(configError("The settings object must be an object, with provider and a section per provider"))
  }
  const known = ["provider", ...providers.map((descriptor) => descriptor.name)]
  const extra = Object.keys(source.settings).find((key) => !known.includes(key))
  return extra === undefined
    ? Result.void
    : Result.fail(
        configError(
          `Unknown key "${extra}" in the settings object${didYouMean(extra, known)}; the known keys are ${known.join(", ")}`
        )
      )
}

/**
 * Picks the provider named by `REWORD_PROVIDER` and reads its settings. An
 * unknown name fails listing the known ones; a missing setting fails naming
 * its variable.
 *
 * @category utils
 * @since 0.1.0
 */
export const select = Effect.fnUntraced(function* (
  providers: ReadonlyArray<AnyDescriptor>,
  source?: Source
): Effect.fn.Return<{ readonly descriptor: AnyDescriptor; readonly settings: unknown }, Config.ConfigError> {
  const known = providers.map((descriptor) => descriptor.name)
  yield* Effect.fromResult(checkSettingsObject(source, providers))
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
 * Reads each variable once. A descriptor built on {@link declareSettings}
 * reads through its declaration (a settings object's unknown keys refused
 * with a "did you mean"); any other needs only its `name`, `settings` and
 * `config`.
 *
 * @category utils
 * @since 0.1.0
 */
export const readSettings = Effect.fnUntraced(function* <Settings>(
  descriptor: Pick<Descriptor<Settings, NoOptions, string, never>, "name" | "settings" | "config" | "declaration">,
  source?: Source,
  configProvider: ConfigProvider.ConfigProvider | undefined = source === undefined
    ? undefined
    : configProviderOf(source, [descriptor])
): Effect.fn.Return<Settings, Config.ConfigError> {
  if (descriptor.declaration !== undefined) return yield* descriptor.declaration.read(source)
  // A settings object's section: every key a setting of the table, as for declared settings.
  const given = source?._tag === "Object" ? source.settings[descriptor.name] : undefined
  if (Predicate.isObject(given) && !Array.isArray(given)) {
    const keys = descriptor.settings.map((setting) => setting.key)
    const unknown = SettingsKit.unknownKey(descriptor.name, given as Record<string, unknown>, keys, "object")
    if (unknown !== undefined) return yield* Effect.fail(unknown)
  }
  const section = yield* readWith(SettingsKit.sectionConfig(descriptor.settings), configProvider)
  const origin = source?._tag === "Object" ? "object" : "environment"
  const redacted = descriptor.settings.find((setting) => Rendering.isRedactedRendering(section[setting.key]))
  if (redacted !== undefined) {
    return yield* Effect.fail(configError(Rendering.message(SettingsKit.whereToSet(origin, descriptor.name, redacted))))
  }
  const missing = descriptor.settings.filter(
    (setting) => setting.optional !== true && (section[setting.key] ?? "").trim().length === 0
  )
  if (missing.length > 0) {
    return yield* Effect.fail(configError(SettingsKit.missingMessage(descriptor.name, missing, origin)))
  }
  // Each variable was read once: the descriptor's config reads them from what was read.
  const env = Object.fromEntries(
    descriptor.settings.flatMap((setting) => {
      const value = section[setting.key]
      return value === undefined ? [] : [[setting.env, value]]
    })
  )
  return yield* descriptor.config.parse(ConfigProvider.fromEnv({ env }))
})
