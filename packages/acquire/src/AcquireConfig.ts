/**
 * The settings of the Acquire adapter: the account id, the API key (always
 * `Redacted`), an optional base URL and the opt-in for plain HTTP to a loopback
 * server. Read from environment variables, or given as a plain object.
 *
 * @since 0.1.0
 */
import type { Provider } from "@reword/core"
import { BaseUrl, ProviderKit } from "@reword/core/adapter"
import type { Config, Effect } from "effect"
import { Redacted, Result } from "effect"

/**
 * The provider's name: the value of `REWORD_PROVIDER` that selects Acquire, and
 * the `provider` of every error and result.
 *
 * @category settings
 * @since 0.1.0
 */
export const name = "acquire"

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

/** The API base URL of an account: `https://{accountId}.acquire.io/api/v1`. */
const defaultBaseUrl = (accountId: string): string => `https://${accountId.toLowerCase()}.acquire.io/api/v1`

const invalid = (setting: string, message: string, secret: Redacted.Redacted<string> | undefined): Config.ConfigError =>
  ProviderKit.invalidSetting(setting, message, [secret])

/** Every setting, once: its key, its environment variable, what it is for, and the type it is written in. */
const fields = {
  accountId: ProviderKit.text({
    env: "ACQUIRE_ACCOUNT_ID",
    description: "your Acquire account id, the subdomain of {accountId}.acquire.io"
  }),
  apiKey: ProviderKit.secret({
    env: "ACQUIRE_API_KEY",
    description: "an API key from Settings > For Developers > API Key, with access to cases"
  }),
  baseUrl: ProviderKit.optional(
    ProviderKit.url({
      env: "ACQUIRE_BASE_URL",
      description: "the API base URL (default https://{accountId}.acquire.io/api/v1)"
    })
  ),
  allowInsecureLoopback: ProviderKit.optional(
    ProviderKit.boolean({
      env: "ACQUIRE_ALLOW_INSECURE_LOOPBACK",
      description: "true to allow plain http to a loopback address, for local test servers (default false)"
    })
  )
}

/**
 * The settings as a person writes them (in code, or under `acquire` in a
 * settings object): the raw values, before {@link check}. The account id is
 * the subdomain of `{accountId}.acquire.io`; the API key comes from Settings >
 * For Developers > API Key, with case access; the base URL defaults to
 * `https://{accountId}.acquire.io/api/v1`; `allowInsecureLoopback` allows
 * `http:` to a loopback address (local test servers), off by default.
 *
 * @category settings
 * @since 0.1.0
 */
export type SettingsInput = Provider.SettingsInputOf<typeof fields>

/**
 * Checks the raw values (text, the key `Redacted`): the account id is a DNS
 * label, the key is not empty, the base URL is `https:` (or `http:` to
 * loopback when allowed). The message of a failure names the setting and
 * never contains the key.
 */
const checkRaw = (raw: Provider.RawSettings<typeof fields>): Result.Result<Settings, Config.ConfigError> => {
  const apiKey = Redacted.make(Redacted.value(raw.apiKey).trim())
  const accountId = raw.accountId.trim()
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
  const allowInsecureLoopback = ProviderKit.parseBoolean(raw.allowInsecureLoopback)
  if (allowInsecureLoopback === undefined) {
    return Result.fail(
      invalid("ACQUIRE_ALLOW_INSECURE_LOOPBACK (allowInsecureLoopback)", "must be true or false", apiKey)
    )
  }
  const given = raw.baseUrl?.trim()
  const base = given === undefined || given.length === 0 ? defaultBaseUrl(accountId) : given
  const parsed = BaseUrl.parse(base, { allowInsecureLoopback })
  if (Result.isFailure(parsed)) {
    return Result.fail(invalid("ACQUIRE_BASE_URL (baseUrl)", parsed.failure, apiKey))
  }
  const apiUrl = new URL(parsed.success.href)
  if (!apiUrl.pathname.endsWith("/")) apiUrl.pathname = `${apiUrl.pathname}/`
  return Result.succeed({
    accountId,
    apiKey,
    baseUrl: given === undefined || given.length === 0 ? undefined : given,
    allowInsecureLoopback,
    apiUrl
  })
}

/**
 * The settings declared once: the table, {@link SettingsInput}, {@link config},
 * {@link check} and {@link read} derive from it.
 *
 * @category settings
 * @since 0.3.0
 */
export const declaration: Provider.SettingsDeclaration<typeof fields, Settings> = ProviderKit.declareSettings({
  name,
  fields,
  check: checkRaw,
  // Checked settings are valid input too: their apiUrl is computed again.
  derived: ["apiUrl"]
})

/**
 * Every setting, with its environment variable and its key in a settings object.
 *
 * @category settings
 * @since 0.1.0
 */
export const settings: ReadonlyArray<Provider.Setting> = declaration.settings

/**
 * Checks settings, once: the account id is a DNS label, the key is not empty,
 * the base URL is `https:` (or `http:` to loopback when allowed). An unknown
 * key is refused with a "did you mean". The message of a failure names the
 * setting and never contains the key. Settings it answered are taken as they are.
 *
 * @category settings
 * @since 0.1.0
 */
export const check = (input: SettingsInput): Result.Result<Settings, Config.ConfigError> => declaration.check(input)

/**
 * The settings, read by environment-variable name from the current
 * `ConfigProvider` (the environment by default), each variable once, and
 * checked (by {@link check}). A missing setting fails naming its variable.
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
export const config: Config.Config<Settings> = declaration.config

/**
 * Reads and checks the settings from a source (the current `ConfigProvider`
 * when none is given): a missing setting fails naming every one missing, as
 * provider selection does; a settings object's unknown key is refused with a
 * "did you mean".
 *
 * @category settings
 * @since 0.1.0
 */
export const read = (source?: Provider.Source): Effect.Effect<Settings, Config.ConfigError> => declaration.read(source)
