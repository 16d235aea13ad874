/**
 * What an adapter author uses to make a provider that apps select by name
 * (`Provider.layer`, `createEditor`): its settings declared once
 * ({@link declareSettings} and the field kinds), its descriptor
 * ({@link describe}), and its two constructors written once
 * ({@link constructors}). Apps need none of it: they use `Provider`.
 *
 * @example
 * ```ts
 * import { ProviderKit } from "@reword/core/adapter"
 * import { Result } from "effect"
 *
 * const AcmeSettings = ProviderKit.declareSettings({
 *   name: "acme",
 *   fields: { apiKey: ProviderKit.secret({ env: "ACME_API_KEY", description: "the API key" }) },
 *   check: (raw) => Result.succeed(raw)
 * })
 * ```
 *
 * @since 0.4.0
 */
import type { Config, Redacted } from "effect"
import * as HttpTransport from "./HttpTransport.ts"
import * as SettingsKit from "./internal/settings.ts"
import type { Descriptor, NoOptions } from "./Provider.ts"

export {
  /**
   * A `true`/`false` setting (a boolean or text), with its environment variable: a field of {@link declareSettings}.
   *
   * @category settings
   * @since 0.3.0
   */
  boolean,
  /**
   * Declares a provider's settings once (see `internal/settings.ts`): one Schema whose fields carry their
   * environment variables, and the check from the raw values to the settings. The table (the CLI's flags, the
   * messages), the input type, the environment reader (each variable once) and the key check of a settings
   * object (an unknown key refused with a "did you mean") derive from it.
   *
   * @example
   * ```ts
   * import { ProviderKit } from "@reword/core/adapter"
   * import { Result } from "effect"
   *
   * const AcmeSettings = ProviderKit.declareSettings({
   *   name: "acme",
   *   fields: {
   *     account: ProviderKit.text({ env: "ACME_ACCOUNT", description: "the account name" }),
   *     apiKey: ProviderKit.secret({ env: "ACME_API_KEY", description: "the API key" }),
   *     region: ProviderKit.optional(ProviderKit.text({ env: "ACME_REGION", description: "the region (default eu)" }))
   *   },
   *   check: (raw) => Result.succeed({ ...raw, region: raw.region ?? "eu" })
   * })
   * ```
   *
   * @category settings
   * @since 0.3.0
   */
  declare as declareSettings,
  /**
   * A number setting (a number or text), with its environment variable.
   *
   * @category settings
   * @since 0.3.0
   */
  number,
  /**
   * A setting that may be left out.
   *
   * @category settings
   * @since 0.3.0
   */
  optional,
  /**
   * A secret setting (text or `Redacted` text; always `Redacted` once read), with its environment variable.
   *
   * @category settings
   * @since 0.3.0
   */
  secret,
  /**
   * A setting read as text, with its environment variable.
   *
   * @category settings
   * @since 0.3.0
   */
  text,
  /**
   * A URL setting (text or a `URL`), with its environment variable.
   *
   * @category settings
   * @since 0.3.0
   */
  url
} from "./internal/settings.ts"

/**
 * Types a descriptor (an identity, for inference: the name stays literal).
 *
 * @category constructors
 * @since 0.1.0
 */
export const describe = <
  Settings,
  Options extends object = NoOptions,
  const Name extends string = string,
  Input = Readonly<Record<string, unknown>>
>(
  descriptor: Descriptor<Settings, Options, Name, Input>
): Descriptor<Settings, Options, Name, Input> => descriptor

/**
 * A `ConfigError` with a sentence of its own (adapters use it for their own checks).
 *
 * @category utils
 * @since 0.1.0
 */
export const configError: (message: string) => Config.ConfigError = SettingsKit.configError

/**
 * `Invalid setting NAME: message` as a `ConfigError`, with every secret given
 * scrubbed from it in every encoding (a key pasted into the wrong setting
 * must not be printed either).
 *
 * @category utils
 * @since 0.5.0
 */
export const invalidSetting = (
  setting: string,
  message: string,
  secrets: ReadonlyArray<Redacted.Redacted<string> | undefined> = []
): Config.ConfigError =>
  configError(
    HttpTransport.scrub(
      `Invalid setting ${setting}: ${message}`,
      secrets.filter((secret) => secret !== undefined)
    )
  )

/**
 * A yes-or-no setting as written in the environment: `true`, `1`, `yes`,
 * `on` or `false`, `0`, `no`, `off`, blank (any case, trimmed); `undefined`
 * for anything else, which the adapter reports as a problem.
 *
 * @category utils
 * @since 0.5.0
 */
export const parseBoolean = (value: string | undefined): boolean | undefined => {
  const normalized = value?.trim().toLowerCase() ?? ""
  if (["true", "1", "yes", "on"].includes(normalized)) return true
  if (["false", "0", "no", "off", ""].includes(normalized)) return false
  return undefined
}

export {
  /**
   * The two ways an adapter builds a service, written once: from settings given
   * in code (`make`: the options decoded, then the settings checked) and from
   * settings read from the configuration (`fromConfig`: the options decoded,
   * then the settings read, which checks them). Each decodes the options and
   * checks the settings once, and ends in the adapter's one `build`, which
   * takes the decoded options and checks nothing again. See "One shape for
   * every adapter" in core's README.
   *
   * @example
   * ```ts
   * const constructors = ProviderKit.constructors({ decodeOptions, check: XConfig.check, read: XConfig.read, build })
   * export const make = (settings: XConfig.SettingsInput, options: Options = {}) => constructors.make(settings, options)
   * ```
   *
   * @category constructors
   * @since 0.2.0
   */
  constructors
} from "./internal/constructors.ts"

export {
  /**
   * `" (did you mean accountId?)"` for a key near a known one, `""` otherwise:
   * the same letters in another case, or at most `min(2, ⌊length / 3⌋)` edits
   * from a known key. The one "did you mean" of reword (settings objects, the
   * outbox's options): an adapter refusing an unknown key of its own uses it too.
   *
   * @example
   * ```ts
   * import { ProviderKit } from "@reword/core/adapter"
   *
   * ProviderKit.didYouMean("acountId", ["accountId", "apiKey"]) // " (did you mean accountId?)"
   * ```
   *
   * @category utils
   * @since 0.4.0
   */
  didYouMean,
  /**
   * The known key a mistyped one most likely meant (see {@link didYouMean}), or `undefined`.
   *
   * @category utils
   * @since 0.4.0
   */
  nearest
} from "./internal/didYouMean.ts"
