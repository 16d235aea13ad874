/**
 * The settings of the Bitrix24 adapter, from the environment or from a plain
 * object, checked at configuration time: HTTPS only (plain HTTP only to a
 * loopback address, on request), and never an incoming-webhook URL, which
 * imconnector refuses.
 *
 * @since 0.1.0
 */
import { Provider } from "@reword/core"
import { BaseUrl, HttpTransport, ProviderKit } from "@reword/core/adapter"
import type { Config, Effect } from "effect"
import { Redacted, Result } from "effect"
import { WEBHOOK_EXPLANATION } from "./internal/errors.ts"

/**
 * The settings checked and ready to use: what {@link check}, {@link config}
 * and {@link read} answer, and what the editor and the client are built from.
 *
 * @category settings
 * @since 0.1.0
 */
export interface Settings {
  /** The portal's base URL, such as `https://acme.bitrix24.com/` (REST calls go to `<portal>/rest/<method>`). */
  readonly portalUrl: URL
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  /** The application's `client_id`. */
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The OAuth server (default `https://oauth.bitrix.info`). */
  readonly oauthUrl: URL
  /** The connector code registered with `imconnector.register` (`CONNECTOR`). */
  readonly connector: string
  /** The open line's id (`LINE`). */
  readonly line: number
  /** Whether plain `http:` to a loopback address is allowed (local test servers only). */
  readonly allowInsecureLoopback: boolean
}

/**
 * The provider's name: the value of `REWORD_PROVIDER` that selects Bitrix24,
 * its section of a settings object, and the `provider` of every error and
 * result.
 *
 * @category settings
 * @since 0.1.0
 */
export const name = "bitrix24"

/** The default OAuth server. */
const DEFAULT_OAUTH_URL = "https://oauth.bitrix.info"

export {
  /**
   * The OAuth servers of Bitrix24 itself, besides the configured one, that a
   * token answer's `server_endpoint` (or a stored `oauthUrl`) may name, over
   * HTTPS on the default port. `oauth.bitrix.info` is the global server;
   * `oauth.bitrix24.tech` the one Bitrix24 names for its newer and its `.ru`
   * zone portals.
   *
   * @category settings
   * @since 0.1.0
   */
  OAUTH_HOSTS,
  /**
   * Whether an OAuth server named by a server (a token answer's
   * `server_endpoint`, an install event's) or read from a token store may
   * receive the client secret and the refresh token, and the origin to use if
   * so: the configured OAuth server itself, or one of {@link OAUTH_HOSTS} over
   * HTTPS on the default port; `undefined` otherwise.
   *
   * @category settings
   * @since 0.1.0
   */
  trustedOAuthUrl
} from "./internal/oauth/exchange.ts"

/** Every setting, once: its key, its environment variable, what it is for, and the type it is written in. */
const fields = {
  portalUrl: ProviderKit.url({
    env: "BITRIX24_PORTAL_URL",
    description: "the portal's base URL, such as https://acme.bitrix24.com"
  }),
  accessToken: ProviderKit.secret({
    env: "BITRIX24_ACCESS_TOKEN",
    description: "the application's OAuth access token"
  }),
  refreshToken: ProviderKit.secret({
    env: "BITRIX24_REFRESH_TOKEN",
    description: "the application's OAuth refresh token"
  }),
  clientId: ProviderKit.text({ env: "BITRIX24_CLIENT_ID", description: "the application's client_id" }),
  clientSecret: ProviderKit.secret({ env: "BITRIX24_CLIENT_SECRET", description: "the application's client_secret" }),
  oauthUrl: ProviderKit.optional(
    ProviderKit.url({ env: "BITRIX24_OAUTH_URL", description: `the OAuth server (default ${DEFAULT_OAUTH_URL})` })
  ),
  connector: ProviderKit.text({
    env: "BITRIX24_CONNECTOR",
    description: "the connector code registered with imconnector.register"
  }),
  line: ProviderKit.number({ env: "BITRIX24_LINE", description: "the open line's id (an integer)" }),
  allowInsecureLoopback: ProviderKit.optional(
    ProviderKit.boolean({
      env: "BITRIX24_ALLOW_INSECURE_LOOPBACK",
      description: "true to allow plain http to a loopback address (local test servers only)"
    })
  )
}

/**
 * The key of a setting in a plain settings object.
 *
 * @category settings
 * @since 0.1.0
 */
export type Key = keyof typeof fields

const where = (key: Key): string => `${env[key]} (${key})`

/**
 * Whether a URL is an incoming-webhook URL (`https://<portal>/rest/<user id>/<code>/...`).
 *
 * @category settings
 * @since 0.1.0
 */
export const isWebhookUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return /\/rest\/\d+\/[^/\s]+/.test(value)
  return /^\/rest\/\d+\/[^/]+/.test(new URL(value).pathname)
}

const webhookMessage = (key: Key, value: string): string => {
  const origin = URL.canParse(value) ? new URL(value).origin : "the portal"
  return `${where(key)} looks like an incoming-webhook URL (${origin}/rest/<user>/<code>/); ${WEBHOOK_EXPLANATION}. Set ${env.portalUrl} to ${origin} and give the application's tokens in ${env.accessToken} and ${env.refreshToken}`
}

/**
 * The settings as a person writes them (in code, or under `bitrix24` in a
 * settings object): the raw values, before {@link check}. Secrets may be
 * strings or `Redacted`; `line` a number or a string; URLs strings or `URL`s
 * (so checked {@link Settings} are valid input too).
 *
 * @category settings
 * @since 0.1.0
 */
export type SettingsInput = Provider.SettingsInputOf<typeof fields>

/** The raw values, before checks: text (secrets Redacted), the optional ones possibly missing. */
type Raw = Provider.RawSettings<typeof fields>

const nonBlank = (key: Key, value: string): Result.Result<string, string> =>
  value.trim().length === 0 ? Result.fail(`${where(key)} must not be blank`) : Result.succeed(value.trim())

const nonBlankSecret = (key: Key, value: Redacted.Redacted<string>): string | undefined => {
  const text = Redacted.value(value)
  if (text.trim().length === 0) return `${where(key)} must not be blank`
  if (isWebhookUrl(text) || /^https?:\/\//i.test(text.trim())) {
    return `${where(key)} must be a token, not a URL; ${WEBHOOK_EXPLANATION}`
  }
  return undefined
}

/** Drops a trailing `/rest/` so that both the portal and `client_endpoint` forms work. */
const portalBase = (url: URL): URL => {
  const base = new URL(url.href)
  base.pathname = base.pathname.replace(/\/rest\/?$/, "/").replace(/\/*$/, "/")
  return base
}

/**
 * Checks raw values into {@link Settings}, naming each setting that is wrong
 * (by its variable and its key) and never echoing a secret: the message is
 * scrubbed of the tokens and the client secret, wherever they were pasted.
 */
const checkRaw = (raw: Raw): Result.Result<Settings, Config.ConfigError> => {
  const problems: Array<string> = []
  const allowInsecureLoopback =
    raw.allowInsecureLoopback === undefined ? false : ProviderKit.parseBoolean(raw.allowInsecureLoopback)
  if (allowInsecureLoopback === undefined) problems.push(`${where("allowInsecureLoopback")} must be true or false`)
  const loopback = { allowInsecureLoopback: allowInsecureLoopback === true }

  let portalUrl: URL | undefined
  if (raw.portalUrl.trim().length === 0) {
    problems.push(`${where("portalUrl")} must not be blank`)
  } else if (isWebhookUrl(raw.portalUrl)) {
    problems.push(webhookMessage("portalUrl", raw.portalUrl))
  } else {
    const parsed = BaseUrl.parse(raw.portalUrl.trim(), loopback)
    if (Result.isFailure(parsed)) problems.push(`${where("portalUrl")} ${parsed.failure}`)
    else portalUrl = portalBase(parsed.success)
  }

  let oauthUrl: URL | undefined
  const oauthRaw = raw.oauthUrl?.trim()
  const parsedOauth = BaseUrl.parse(oauthRaw === undefined || oauthRaw === "" ? DEFAULT_OAUTH_URL : oauthRaw, loopback)
  if (Result.isFailure(parsedOauth)) problems.push(`${where("oauthUrl")} ${parsedOauth.failure}`)
  else oauthUrl = parsedOauth.success

  for (const key of ["accessToken", "refreshToken", "clientSecret"] as const) {
    const problem = nonBlankSecret(key, raw[key])
    if (problem !== undefined) problems.push(problem)
  }
  const clientId = nonBlank("clientId", raw.clientId)
  if (Result.isFailure(clientId)) problems.push(clientId.failure)
  const connector = nonBlank("connector", raw.connector)
  if (Result.isFailure(connector)) problems.push(connector.failure)

  const lineText = raw.line.trim()
  const line = /^\d{1,15}$/.test(lineText) ? Number(lineText) : Number.NaN
  if (lineText.length === 0) {
    problems.push(`${where("line")} must not be blank`)
  } else if (!Number.isSafeInteger(line) || line <= 0) {
    problems.push(`${where("line")} must be a positive integer (the open line's id)`)
  }

  if (problems.length > 0 || portalUrl === undefined || oauthUrl === undefined) {
    // A secret pasted into the wrong variable must not be printed back from another one's message.
    const secrets = [raw.accessToken, raw.refreshToken, raw.clientSecret]
    return Result.fail(
      ProviderKit.configError(HttpTransport.scrub(`Invalid Bitrix24 settings: ${problems.join("; ")}`, secrets))
    )
  }
  return Result.succeed({
    portalUrl,
    accessToken: raw.accessToken,
    refreshToken: raw.refreshToken,
    clientId: Result.getOrElse(clientId, () => ""),
    clientSecret: raw.clientSecret,
    oauthUrl,
    connector: Result.getOrElse(connector, () => ""),
    line,
    allowInsecureLoopback: allowInsecureLoopback === true
  })
}

/**
 * The settings declared once: the table, {@link SettingsInput}, {@link env},
 * {@link config}, {@link check} and {@link read} derive from it.
 *
 * @category settings
 * @since 0.3.0
 */
export const declaration: Provider.SettingsDeclaration<typeof fields, Settings> = ProviderKit.declareSettings({
  name,
  fields,
  check: checkRaw
})

/**
 * Every setting, with its environment variable and its key in a settings object.
 *
 * @category settings
 * @since 0.1.0
 */
export const settings: ReadonlyArray<Provider.Setting> = declaration.settings

/**
 * The environment variable of each setting.
 *
 * @category settings
 * @since 0.1.0
 */
export const env: { readonly [K in Key]: string } = declaration.env

/**
 * Checks settings, once: HTTPS URLs (plain HTTP only to a loopback address,
 * when allowed), never an incoming-webhook URL, tokens that are not URLs, a
 * positive line id. A failure names every wrong setting (by its variable and
 * its key) and never contains a secret; an unknown key is refused with a "did
 * you mean". Settings it answered are taken as they are.
 *
 * @example
 * ```ts
 * import { Bitrix24Config } from "@reword/bitrix24"
 *
 * const checked = Bitrix24Config.check({
 *   portalUrl: "https://acme.bitrix24.com",
 *   accessToken: process.env.B24_ACCESS ?? "",
 *   refreshToken: process.env.B24_REFRESH ?? "",
 *   clientId: "local.65f0c0ffee.12345678",
 *   clientSecret: process.env.B24_SECRET ?? "",
 *   connector: "my_connector",
 *   line: 7
 * })
 * ```
 *
 * @category settings
 * @since 0.1.0
 */
export const check = (input: SettingsInput): Result.Result<Settings, Config.ConfigError> => declaration.check(input)

/**
 * The settings, read by environment-variable name from the current
 * `ConfigProvider` (the environment by default), each variable once, then
 * checked. A missing setting fails naming every one missing, as core's
 * provider selection does.
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

/**
 * Checks settings given as a plain object (through core's settings-object
 * reading: `Redacted` secrets, `URL`s, numbers and booleans are taken as they
 * are).
 *
 * @example
 * ```ts
 * import { Bitrix24Config } from "@reword/bitrix24"
 *
 * const settings = Bitrix24Config.fromObject({
 *   portalUrl: "https://acme.bitrix24.com",
 *   accessToken: process.env.B24_ACCESS ?? "",
 *   refreshToken: process.env.B24_REFRESH ?? "",
 *   clientId: "local.65f0c0ffee.12345678",
 *   clientSecret: process.env.B24_SECRET ?? "",
 *   connector: "my_connector",
 *   line: 7
 * })
 * ```
 *
 * @category settings
 * @since 0.1.0
 */
export const fromObject = (input: SettingsInput): Effect.Effect<Settings, Config.ConfigError> =>
  read(Provider.fromObject({ provider: name, [name]: input }))
