/**
 * The settings of the Acquire adapter: the account id, the API key (always
 * `Redacted`), an optional base URL and the opt-in for plain HTTP to a loopback
 * server. Read from environment variables, or given as a plain object.
 *
 * @since 0.1.0
 */
import { BaseUrl, HttpTransport, Provider } from "@reword/core"
import { Config, Effect, Option, Redacted, Result } from "effect"

/**
 * The provider's name: the value of `REWORD_PROVIDER` that selects Acquire, and
 * the `provider` of every error and result.
 *
 * @category settings
 * @since 0.1.0
 */
export const name = "acquire"

/**
 * The settings as a person writes them (in code, or under `acquire` in a
 * settings object): the raw values, before {@link check}.
 *
 * @category settings
 * @since 0.1.0
 */
export interface SettingsInput {
  /** The account id: the subdomain of `{accountId}.acquire.io`. A DNS label. */
  readonly accountId: string
  /** An API key from Settings > For Developers > API Key, with case access. */
  readonly apiKey: string | Redacted.Redacted<string>
  /** The API's base URL; `https://{accountId}.acquire.io/api/v1` when omitted. */
  readonly baseUrl?: string | URL | undefined
  /** Allows `http:` to a loopback address (local test servers). Off by default. */
  readonly allowInsecureLoopback?: boolean | undefined
}

/**
 * The settings checked and ready to use: what {@link check} and {@link config}
 * answer, and what the editor and the client are built from.
 *
 * @category settings
 * @since 0.1.0
 */
export interface Settings {
  /** The account id, trimmed. */
  readonly accountId: string
  /** The API key, trimmed. */
  readonly apiKey: Redacted.Redacted<string>
  /** The base URL as given (trimmed), or `undefined` for the account's own. */
  readonly baseUrl: string | undefined
  readonly allowInsecureLoopback: boolean
  /** The base URL every request resolves under: the given one or the default, its path ending with `/`. */
  readonly apiUrl: URL
}

/**
 * Every setting, with its environment variable and its key in a settings object.
 *
 * @category settings
 * @since 0.1.0
 */
export const settings: ReadonlyArray<Provider.Setting> = [
  {
    env: "ACQUIRE_ACCOUNT_ID",
    key: "accountId",
    description: "your Acquire account id, the subdomain of {accountId}.acquire.io"
  },
  {
    env: "ACQUIRE_API_KEY",
    key: "apiKey",
    description: "an API key from Settings > For Developers > API Key, with access to cases",
    secret: true
  },
  {
    env: "ACQUIRE_BASE_URL",
    key: "baseUrl",
    description: "the API base URL (default https://{accountId}.acquire.io/api/v1)",
    optional: true
  },
  {
    env: "ACQUIRE_ALLOW_INSECURE_LOOPBACK",
    key: "allowInsecureLoopback",
    description: "true to allow plain http to a loopback address, for local test servers (default false)",
    optional: true
  }
]

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i
// Header values cannot hold line breaks, and a key never holds spaces.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const NOT_IN_A_KEY = /[\s\u0000-\u001f\u007f]/

/**
 * Whether a value can be an account id: a DNS label (letters, digits and inner
 * hyphens, at most 63 characters), so that it can only ever name a subdomain.
 *
 * @category settings
 * @since 0.1.0
 */
export const isAccountId = (value: string): boolean => DNS_LABEL.test(value)

/**
 * The default base URL of an account.
 *
 * @category settings
 * @since 0.1.0
 */
export const defaultBaseUrl = (accountId: string): string => `https://${accountId.toLowerCase()}.acquire.io/api/v1`

const invalid = (setting: string, message: string, apiKey: Redacted.Redacted<string> | undefined): Config.ConfigError =>
  // A key pasted into the wrong setting must not be printed either.
  Provider.configError(
    HttpTransport.scrub(`Invalid setting ${setting}: ${message}`, apiKey === undefined ? [] : [apiKey])
  )

/**
 * Checks settings, once: the account id is a DNS label, the key is not empty,
 * the base URL is `https:` (or `http:` to loopback when allowed). The message
 * of a failure names the setting and never contains the key.
 *
 * @category settings
 * @since 0.1.0
 */
export const check = (input: SettingsInput): Result.Result<Settings, Config.ConfigError> => {
  const apiKey = Redacted.make((Redacted.isRedacted(input.apiKey) ? Redacted.value(input.apiKey) : input.apiKey).trim())
  const accountId = input.accountId.trim()
  if (!isAccountId(accountId)) {
    return Result.fail(
      invalid(
        "ACQUIRE_ACCOUNT_ID (accountId)",
        `"${accountId}" is not an account id: use the subdomain of your Acquire address, such as acme for acme.acquire.io`,
        apiKey
      )
    )
  }
  const key = Redacted.value(apiKey)
  if (key.length === 0) {
    return Result.fail(invalid("ACQUIRE_API_KEY (apiKey)", "the API key is empty", undefined))
  }
  if (NOT_IN_A_KEY.test(key)) {
    return Result.fail(
      invalid(
        "ACQUIRE_API_KEY (apiKey)",
        "the API key contains spaces or control characters: copy it exactly as Acquire showed it",
        undefined
      )
    )
  }
  const given = (input.baseUrl instanceof URL ? input.baseUrl.href : input.baseUrl)?.trim()
  const raw = given === undefined || given.length === 0 ? defaultBaseUrl(accountId) : given
  const parsed = BaseUrl.parse(raw, { allowInsecureLoopback: input.allowInsecureLoopback === true })
  if (Result.isFailure(parsed)) {
    return Result.fail(invalid("ACQUIRE_BASE_URL (baseUrl)", parsed.failure, apiKey))
  }
  const apiUrl = new URL(parsed.success.href)
  if (!apiUrl.pathname.endsWith("/")) apiUrl.pathname = `${apiUrl.pathname}/`
  return Result.succeed({
    accountId,
    apiKey,
    baseUrl: given === undefined || given.length === 0 ? undefined : given,
    allowInsecureLoopback: input.allowInsecureLoopback === true,
    apiUrl
  })
}

/**
 * The settings, read by environment-variable name from the current
 * `ConfigProvider` (the environment by default) and checked (by {@link check}).
 * A missing setting reads as Effect's own error here: {@link read} (which
 * `layerConfig` and provider selection go through) names every missing one.
 *
 * @example
 * ```ts
 * import { AcquireConfig } from "@reword/acquire"
 * import { ConfigProvider, Effect } from "effect"
 *
 * const settings = AcquireConfig.config.parse(
 *   ConfigProvider.fromEnv({ env: { ACQUIRE_ACCOUNT_ID: "acme", ACQUIRE_API_KEY: "…" } })
 * )
 * ```
 *
 * @category settings
 * @since 0.1.0
 */
export const config: Config.Config<Settings> = Config.all({
  accountId: Config.String("ACQUIRE_ACCOUNT_ID"),
  apiKey: Config.Redacted("ACQUIRE_API_KEY"),
  baseUrl: Config.option(Config.String("ACQUIRE_BASE_URL")),
  allowInsecureLoopback: Config.Boolean("ACQUIRE_ALLOW_INSECURE_LOOPBACK").pipe(Config.withDefault(false))
}).pipe(
  Config.mapEffect((read) =>
    Effect.fromResult(
      check({
        accountId: read.accountId,
        apiKey: read.apiKey,
        baseUrl: Option.getOrUndefined(read.baseUrl),
        allowInsecureLoopback: read.allowInsecureLoopback
      })
    )
  )
)

/**
 * Reads and checks the settings from a source (the current `ConfigProvider`
 * when none is given), through core's `Provider.readSettings`: a missing
 * setting fails naming every one missing, as provider selection does.
 *
 * @category settings
 * @since 0.1.0
 */
export const read = (source?: Provider.Source): Effect.Effect<Settings, Config.ConfigError> =>
  Provider.readSettings({ name, settings, config }, source)
