/**
 * The settings of the Telegram adapter: the bot token (always `Redacted`: it
 * travels in the URL path of every call, so the URL itself is a secret), an
 * optional Bot API server address (a local Bot API server), Telegram's test
 * environment, and the opt-in for plain HTTP to a loopback server. Read from
 * environment variables, or given as a plain object.
 *
 * @since 0.1.0
 */
import type { Provider } from "@reword/core"
import { BaseUrl, ProviderKit } from "@reword/core/adapter"
import type { Config, Effect } from "effect"
import { Redacted, Result } from "effect"

/**
 * The provider's name: the value of `REWORD_PROVIDER` that selects Telegram,
 * and the `provider` of every error and result.
 *
 * @category settings
 * @since 0.1.0
 */
export const name = "telegram"

/**
 * The Bot API server every bot talks to by default.
 *
 * @category settings
 * @since 0.1.0
 */
export const DEFAULT_API_URL = "https://api.telegram.org"

/**
 * The settings checked and ready to use: what {@link check} and {@link config}
 * answer, and what the editor and the client are built from.
 *
 * @category settings
 * @since 0.1.0
 */
export interface Settings {
  /** The bot token (`<bot id>:<secret>`), trimmed. */
  readonly botToken: Redacted.Redacted<string>
  /** The bot's id: the part of the token before the colon (public: it is the bot's user id). */
  readonly botId: string
  /** The Bot API server as given (trimmed), or `undefined` for {@link DEFAULT_API_URL}. */
  readonly apiUrl: string | undefined
  /** Whether calls go to Telegram's test environment (`/bot<token>/test/<method>`). */
  readonly testEnvironment: boolean
  readonly allowInsecureLoopback: boolean
  /** The server every call resolves under, its path ending with `/`. */
  readonly serverUrl: URL
}

/**
 * What a bot token looks like: the bot's numeric id, a colon, and the secret
 * (letters, digits, `_` and `-`).
 */
const TOKEN_SHAPE = /^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$/

/**
 * Whether a value has the shape of a bot token (`123456789:AAE...`).
 *
 * @category settings
 * @since 0.1.0
 */
export const isBotToken = (value: string): boolean => TOKEN_SHAPE.test(value)

const invalid = (setting: string, message: string, secret: Redacted.Redacted<string> | undefined): Config.ConfigError =>
  ProviderKit.invalidSetting(setting, message, [secret])

/** Every setting, once: its key, its environment variable, what it is for, and the type it is written in. */
const fields = {
  botToken: ProviderKit.secret({
    env: "TELEGRAM_BOT_TOKEN",
    description: "the bot's token from @BotFather (<bot id>:<secret>)"
  }),
  apiUrl: ProviderKit.optional(
    ProviderKit.url({
      env: "TELEGRAM_API_URL",
      description: "the Bot API server (default https://api.telegram.org; a local Bot API server's address)"
    })
  ),
  testEnvironment: ProviderKit.optional(
    ProviderKit.boolean({
      env: "TELEGRAM_TEST_ENVIRONMENT",
      description: "true to call Telegram's test environment, with a bot made by the test BotFather (default false)"
    })
  ),
  allowInsecureLoopback: ProviderKit.optional(
    ProviderKit.boolean({
      env: "TELEGRAM_ALLOW_INSECURE_LOOPBACK",
      description: "true to allow plain http to a loopback address, for local test servers (default false)"
    })
  )
}

/**
 * The settings as a person writes them (in code, or under `telegram` in a
 * settings object): the raw values, before {@link check}.
 *
 * @category settings
 * @since 0.1.0
 */
export type SettingsInput = Provider.SettingsInputOf<typeof fields>

const booleanSetting = (
  value: string | undefined,
  setting: string,
  token: Redacted.Redacted<string>
): Result.Result<boolean, Config.ConfigError> => {
  const parsed = ProviderKit.parseBoolean(value)
  return parsed === undefined ? Result.fail(invalid(setting, "must be true or false", token)) : Result.succeed(parsed)
}

/**
 * Checks the raw values: the token has a token's shape (the message never
 * repeats it), the server is `https:` (or `http:` to loopback when allowed).
 */
const checkRaw = (raw: Provider.RawSettings<typeof fields>): Result.Result<Settings, Config.ConfigError> =>
  Result.gen(function* () {
    const token = Redacted.value(raw.botToken).trim()
    const botToken = Redacted.make(token)
    if (token.length === 0) {
      return yield* Result.fail(invalid("TELEGRAM_BOT_TOKEN (botToken)", "the bot token is empty", undefined))
    }
    if (!isBotToken(token)) {
      return yield* Result.fail(
        invalid(
          "TELEGRAM_BOT_TOKEN (botToken)",
          "is not a bot token: copy it exactly as @BotFather showed it, <bot id>:<secret>",
          botToken
        )
      )
    }
    const testEnvironment = yield* booleanSetting(
      raw.testEnvironment,
      "TELEGRAM_TEST_ENVIRONMENT (testEnvironment)",
      botToken
    )
    const allowInsecureLoopback = yield* booleanSetting(
      raw.allowInsecureLoopback,
      "TELEGRAM_ALLOW_INSECURE_LOOPBACK (allowInsecureLoopback)",
      botToken
    )
    const given = raw.apiUrl?.trim()
    const apiUrl = given === undefined || given.length === 0 ? undefined : given
    const parsed = BaseUrl.parse(apiUrl ?? DEFAULT_API_URL, { allowInsecureLoopback })
    if (Result.isFailure(parsed)) {
      return yield* Result.fail(invalid("TELEGRAM_API_URL (apiUrl)", parsed.failure, botToken))
    }
    const serverUrl = new URL(parsed.success.href)
    if (!serverUrl.pathname.endsWith("/")) serverUrl.pathname = `${serverUrl.pathname}/`
    return {
      botToken,
      botId: token.slice(0, token.indexOf(":")),
      apiUrl,
      testEnvironment,
      allowInsecureLoopback,
      serverUrl
    }
  })

/**
 * The settings declared once: the table, {@link SettingsInput}, {@link config},
 * {@link check} and {@link read} derive from it.
 *
 * @category settings
 * @since 0.1.0
 */
export const declaration: Provider.SettingsDeclaration<typeof fields, Settings> = ProviderKit.declareSettings({
  name,
  fields,
  check: checkRaw,
  // Checked settings are valid input too: their bot id and server URL are computed again.
  derived: ["botId", "serverUrl"]
})

/**
 * Every setting, with its environment variable and its key in a settings object.
 *
 * @category settings
 * @since 0.1.0
 */
export const settings: ReadonlyArray<Provider.Setting> = declaration.settings

/**
 * Checks settings, once: the token has a token's shape, the server is
 * `https:` (or `http:` to loopback when allowed). An unknown key is refused
 * with a "did you mean". The message of a failure names the setting and never
 * contains the token.
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
 * import { TelegramConfig } from "@reword/telegram"
 * import { ConfigProvider } from "effect"
 *
 * const settings = TelegramConfig.config.parse(
 *   ConfigProvider.fromEnv({ env: { TELEGRAM_BOT_TOKEN: "123456:ABC-DEF" } })
 * )
 * ```
 *
 * @category settings
 * @since 0.1.0
 */
export const config: Config.Config<Settings> = declaration.config

/**
 * Reads and checks the settings from a source (the current `ConfigProvider`
 * when none is given): a missing setting fails naming every one missing; a
 * settings object's unknown key is refused with a "did you mean".
 *
 * @category settings
 * @since 0.1.0
 */
export const read = (source?: Provider.Source): Effect.Effect<Settings, Config.ConfigError> => declaration.read(source)
