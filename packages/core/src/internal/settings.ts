/**
 * One declaration per provider's settings: a Schema whose fields carry their
 * environment variable and description (an annotation), from which the table
 * of settings, the input type, the environment reader, the key checks of a
 * settings object and the missing-setting messages all derive.
 *
 * @internal
 */
import {
  Config,
  ConfigProvider,
  Effect,
  Predicate,
  Redacted,
  Result,
  Schema,
  SchemaAST,
  SchemaTransformation
} from "effect"
import { didYouMean } from "./didYouMean.ts"
import * as Rendering from "./redactedRendering.ts"

/** What a setting declares besides its key: its variable and what it is for. */
export interface Spec {
  /** The environment variable, such as `ACQUIRE_API_KEY`. */
  readonly env: string
  readonly description: string
}

/**
 * One setting a provider reads: its environment variable, its key in a plain
 * settings object, and what it is for.
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

const ANNOTATION = "@reword/core/setting"

interface Annotation extends Spec {
  readonly secret: boolean
  /** What a value of the wrong type should have been, for the message (never the value: it may be a secret). */
  readonly expected: string
}

/** The fields of a declaration: each a setting's schema ({@link text}, {@link secret}...), or an optional one. */
export type Fields = Schema.Struct.Fields

const toText = <I extends string | number | boolean | URL>(from: Schema.Codec<I>, annotation: Annotation) =>
  from
    .pipe(
      Schema.decodeTo(
        Schema.String,
        SchemaTransformation.transform<string, I>({
          decode: (value): string => (value instanceof URL ? value.href : String(value)),
          encode: (text) => text as I
        })
      )
    )
    .annotate({ [ANNOTATION]: annotation })

/** A setting read as text. */
export const text = (spec: Spec) => toText(Schema.String, { ...spec, secret: false, expected: "text" })

/** A URL, as text or a `URL`. */
export const url = (spec: Spec) =>
  toText(Schema.Union([Schema.String, Schema.instanceOf(URL)]), { ...spec, secret: false, expected: "a URL" })

/** A number, as a number or text. */
export const number = (spec: Spec) =>
  toText(Schema.Union([Schema.String, Schema.Finite]), { ...spec, secret: false, expected: "a number" })

/** `true` or `false`, as a boolean or text. */
export const boolean = (spec: Spec) =>
  toText(Schema.Union([Schema.String, Schema.Boolean]), { ...spec, secret: false, expected: "true or false" })

/** A secret, as text or `Redacted` text: always `Redacted` once read. */
export const secret = (spec: Spec) =>
  Schema.Union([Schema.String, Schema.Redacted(Schema.String)])
    .pipe(
      Schema.decodeTo(
        Schema.Redacted(Schema.String),
        SchemaTransformation.transform<Redacted.Redacted<string>, string | Redacted.Redacted<string>>({
          decode: (value) => (Redacted.isRedacted(value) ? value : Redacted.make(value)),
          encode: (value) => value
        })
      )
    )
    .annotate({ [ANNOTATION]: { ...spec, secret: true, expected: "text or Redacted text" } satisfies Annotation })

/** A setting that may be left out. */
export const optional = <S extends Schema.Top>(field: S) => Schema.optional(field)

const annotationOf = (key: string, ast: SchemaAST.AST): Annotation => {
  const own = SchemaAST.resolve(ast)?.[ANNOTATION]
  if (own !== undefined) return own as Annotation
  // An optional setting: the annotation is on the member that is not `undefined`.
  if (SchemaAST.isUnion(ast)) {
    for (const member of ast.types) {
      const inner = SchemaAST.resolve(member)?.[ANNOTATION]
      if (inner !== undefined) return inner as Annotation
    }
  }
  throw new TypeError(`The setting "${key}" is not declared with a setting's schema (text, url, secret...)`)
}

/** The table of a declaration: each field's variable, key, description, and whether it is secret or optional. */
export const tableOf = (fields: Fields): ReadonlyArray<Setting> =>
  Object.entries(fields).map(([key, field]) => {
    const annotation = annotationOf(key, field.ast)
    return {
      env: annotation.env,
      key,
      description: annotation.description,
      ...(annotation.secret ? { secret: true } : {}),
      ...(field.ast.context?.isOptional === true ? { optional: true } : {})
    }
  })

/** Where a section of settings came from, for messages. */
export type Origin = "environment" | "object" | "code"

/** How a setting is named in a message: its variable, and its key where it was given by key. */
export const whereToSet = (origin: Origin, provider: string, setting: Setting): string =>
  origin === "object"
    ? `${setting.env} (${provider}.${setting.key} in the settings object)`
    : origin === "code"
      ? `${setting.env} (${setting.key})`
      : setting.env

/** The sentence of missing settings, each by where to set it and what it is for. */
export const missingMessage = (provider: string, missing: ReadonlyArray<Setting>, origin: Origin): string =>
  `Missing setting${missing.length > 1 ? "s" : ""} for ${provider}: ${missing
    .map((setting) => `${whereToSet(origin, provider, setting)}: ${setting.description}`)
    .join("; ")}`

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  Predicate.isObject(value) && !Array.isArray(value) && typeof value !== "function" && !Redacted.isRedacted(value)

const isBlank = (value: unknown): boolean =>
  (typeof value === "string" && value.trim().length === 0) ||
  (Redacted.isRedacted(value) && typeof Redacted.value(value) === "string" && `${Redacted.value(value)}`.trim() === "")

const sectionName = (provider: string, origin: Origin): string =>
  origin === "object" ? `${provider} (the settings object)` : `the ${provider} settings`

/** A section's first key that is not a setting, refused with a "did you mean" and the known ones. */
export const unknownKey = (
  provider: string,
  section: Readonly<Record<string, unknown>>,
  keys: ReadonlyArray<string>,
  origin: Origin
): Config.ConfigError | undefined => {
  const extra = Object.keys(section).find((key) => !keys.includes(key))
  return extra === undefined
    ? undefined
    : configError(
        `Unknown setting "${extra}" in ${sectionName(provider, origin)}${didYouMean(extra, keys)}; the known settings there are ${keys.join(", ")}`
      )
}

/**
 * Reads a section of settings into the declaration's raw values: an object
 * whose every key is a declared setting (an unknown key is refused with a
 * "did you mean"), every required setting present (blank counts as missing
 * when `blankIsMissing`), each of the declared type.
 */
export const decodeSection = <F extends Fields>(
  provider: string,
  fields: F,
  table: ReadonlyArray<Setting>,
  section: unknown,
  origin: Origin,
  blankIsMissing: boolean
): Result.Result<Schema.Struct.Type<F>, Config.ConfigError> => {
  const keys = table.map((setting) => setting.key)
  if (section === undefined && origin === "object") section = {}
  if (!isPlainObject(section)) {
    return Result.fail(configError(`The ${provider} settings must be an object (with ${keys.join(", ")})`))
  }
  const unknown = unknownKey(provider, section, keys, origin)
  if (unknown !== undefined) return Result.fail(unknown)
  const redacted = table.find((setting) => Rendering.isRedactedRendering(section[setting.key]))
  if (redacted !== undefined) return Result.fail(configError(Rendering.message(whereToSet(origin, provider, redacted))))
  const missing = table.filter(
    (setting) =>
      setting.optional !== true &&
      (section[setting.key] === undefined || (blankIsMissing && isBlank(section[setting.key])))
  )
  if (missing.length > 0) return Result.fail(configError(missingMessage(provider, missing, origin)))
  const present = Object.fromEntries(Object.entries(section).filter(([, value]) => value !== undefined))
  const decoded = Schema.decodeUnknownResult(Schema.Struct(fields) as unknown as Schema.Codec<unknown>)(present)
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success as Schema.Struct.Type<F>)
  const wrong = table
    .filter((setting) => {
      const one = Schema.decodeUnknownResult(fields[setting.key] as unknown as Schema.Codec<unknown>)(
        present[setting.key]
      )
      return present[setting.key] !== undefined && Result.isFailure(one)
    })
    .map(
      (setting) =>
        `${whereToSet(origin === "environment" ? "code" : origin, provider, setting)} must be ${annotationOf(setting.key, (fields[setting.key] as Schema.Top).ast).expected}`
    )
  return Result.fail(configError(`Invalid ${provider} settings: ${wrong.join("; ")}`))
}

/** A `ConfigError` with a sentence of its own. */
export const configError = (message: string): Config.ConfigError =>
  new Config.ConfigError(new ConfigProvider.SourceError({ message }))

/** Each declared variable, read once, by key (the ones not set left out). */
export const sectionConfig = (table: ReadonlyArray<Setting>): Config.Config<Record<string, string>> =>
  Config.all(Object.fromEntries(table.map((setting) => [setting.key, Config.option(Config.String(setting.env))]))).pipe(
    Config.map((values) => {
      const section: Record<string, string> = {}
      for (const [key, value] of Object.entries(values)) if (value._tag === "Some") section[key] = value.value
      return section
    })
  )

/** Reads a config from a `ConfigProvider`, or from the current one when omitted. */
export const parseWith = <A>(
  config: Config.Config<A>,
  provider: ConfigProvider.ConfigProvider | undefined
): Effect.Effect<A, Config.ConfigError> =>
  provider === undefined
    ? Effect.gen(function* () {
        return yield* config
      })
    : config.parse(provider)

/**
 * Where settings come from: the environment (a map of variables), or a plain
 * settings object.
 */
export type Source =
  | { readonly _tag: "Environment"; readonly env?: Readonly<Record<string, string | undefined>> | undefined }
  | { readonly _tag: "Object"; readonly settings: Readonly<Record<string, unknown>> }

/** Settings checked by a declaration: given again, they are taken as they are. */
const checked = new WeakSet<object>()

/**
 * A provider's settings, declared once: the Schema of its fields (each with
 * its variable), and the check from the raw values to the settings.
 */
export interface Declaration<F extends Fields, Settings> {
  /** The provider's name: its section of a settings object. */
  readonly name: string
  /** The Schema of the settings as written, by key. */
  readonly schema: Schema.Struct<F>
  /** Every setting, with its variable, key and description. */
  readonly settings: ReadonlyArray<Setting>
  /** The environment variable of each setting, by key. */
  readonly env: { readonly [K in keyof F]: string }
  /** Reads each variable once from the current `ConfigProvider`, names every missing one, then checks. */
  readonly config: Config.Config<Settings>
  /** Checks settings given in code (an unknown key refused with a "did you mean"). */
  readonly check: (input: Schema.Struct.Encoded<F>) => Result.Result<Settings, Config.ConfigError>
  /** Reads and checks the settings from a source (the current `ConfigProvider` when none is given). */
  readonly read: (source?: Source) => Effect.Effect<Settings, Config.ConfigError>
}

/**
 * Declares a provider's settings: `fields` (each a setting's schema, with its
 * variable), and `check`, from the raw values (text, secrets `Redacted`,
 * optional ones possibly `undefined`) to the checked settings.
 */
export const declare = <const F extends Fields, Settings>(parts: {
  readonly name: string
  readonly fields: F
  readonly check: (raw: Schema.Struct.Type<F>) => Result.Result<Settings, Config.ConfigError>
  /**
   * Keys the checked settings add (computed from the others, such as an API
   * URL): settings given in code may carry them back (checked settings are
   * valid input too), and they are computed again.
   */
  readonly derived?: ReadonlyArray<Exclude<keyof Settings, keyof F> & string> | undefined
}): Declaration<F, Settings> => {
  const { name, fields } = parts
  const settings = tableOf(fields)
  const env = Object.fromEntries(settings.map((setting) => [setting.key, setting.env])) as {
    readonly [K in keyof F]: string
  }
  const finish = (raw: Result.Result<Schema.Struct.Type<F>, Config.ConfigError>) => {
    const result = Result.flatMap(raw, parts.check)
    if (Result.isSuccess(result) && Predicate.isObject(result.success)) checked.add(result.success)
    return result
  }
  const fromSection = (section: unknown, origin: Origin, blankIsMissing: boolean) =>
    finish(decodeSection(name, fields, settings, section, origin, blankIsMissing))
  const config = sectionConfig(settings).pipe(
    Config.mapEffect((section) => Effect.fromResult(fromSection(section, "environment", true)))
  )
  const fromEnvironment = (provider?: ConfigProvider.ConfigProvider) => parseWith(config, provider)
  return {
    name,
    schema: Schema.Struct(fields),
    settings,
    env,
    config,
    check: (input) =>
      Predicate.isObject(input) && checked.has(input)
        ? Result.succeed(input as unknown as Settings)
        : fromSection(withoutDerived(input, parts.derived ?? []), "code", false),
    read: (source) => {
      if (source === undefined) return fromEnvironment()
      if (source._tag === "Object") return Effect.fromResult(fromSection(source.settings[name], "object", true))
      return fromEnvironment(
        source.env === undefined ? undefined : ConfigProvider.fromEnv({ env: definedOnly(source.env) })
      )
    }
  }
}

/** Settings given in code without the keys the check computes (they are computed again). */
const withoutDerived = (input: unknown, derived: ReadonlyArray<string>): unknown => {
  if (derived.length === 0 || !isPlainObject(input)) return input
  return Object.fromEntries(Object.entries(input).filter(([key]) => !derived.includes(key)))
}

/** The variables that are set. */
export const definedOnly = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
