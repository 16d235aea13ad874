/**
 * The Bitrix24 application itself, once for every portal it is installed
 * on: its client id and secret, its OAuth server, its connector, and the
 * defaults a new portal starts with (line, plan). Declared once as a Schema;
 * the secret held `Redacted`.
 *
 * @since 0.1.0
 */
import { BaseUrl } from "@reword/core/adapter"
import { type Config, Predicate, Redacted, Result, Schema } from "effect"
import * as Decode from "./internal/decode.ts"
import { Plan } from "./internal/shapes.ts"

/**
 * The application's options as an app writes them.
 *
 * @since 0.1.0
 */
export const AppOptions = Schema.Struct({
  /** The application's `client_id`. */
  clientId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)),
  /** The application's `client_secret` (a string or `Redacted`). */
  clientSecret: Schema.Union([Schema.String, Schema.Redacted(Schema.String)]),
  /** The OAuth server (default `https://oauth.bitrix.info`). */
  oauthUrl: Schema.optional(Schema.String),
  /** The connector code the application registers on each portal. */
  connector: Schema.String.check(
    Schema.makeFilter((c: string) =>
      /^[a-z0-9_]{1,64}$/.test(c) ? undefined : "must be a connector code (a-z, 0-9, _)"
    )
  ),
  /** The open line a new portal's edits go to (default 1). */
  line: Schema.optional(Schema.Int.check(Schema.isGreaterThan(0))),
  /** The plan a new portal is given (its bucket): `standard` (2/s, burst 50, the default) or `enterprise` (5/s, 250). */
  plan: Schema.optional(Plan),
  /** Allow plain `http:` to loopback addresses (sandboxes and tests only). Default false. */
  allowInsecureLoopback: Schema.optional(Schema.Boolean),
  /** How long the check of an install's token against its portal may take, in milliseconds. Default 10,000. */
  verifyTimeoutMs: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 100, maximum: 120_000 }))),
  /**
   * The connector's settings page (`PLACEMENT_HANDLER` of `imconnector.register`): when given, an install
   * registers the connector on the portal, activates it on the tenant's line, and binds its events.
   */
  placementHandler: Schema.optional(Schema.String),
  /** Where the portal posts the connector's events (`event.bind` of `OnImConnectorMessageAdd`, `...Update`, `...Delete`). */
  eventHandler: Schema.optional(Schema.String),
  /** The connector's name as operators see it (`NAME`). Default: the connector code. */
  connectorName: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))),
  /** The connector's icon, a `data:image/svg+xml,...` URI (`ICON.DATA_IMAGE`). Default: a plain circle. */
  connectorIcon: Schema.optional(
    Schema.String.check(
      Schema.makeFilter((icon: string) =>
        icon.startsWith("data:image/svg+xml,") && icon.length <= 65_536
          ? undefined
          : "must be a data:image/svg+xml,... URI of at most 64 KiB"
      )
    )
  )
})

/**
 * @since 0.1.0
 */
export type AppOptions = typeof AppOptions.Encoded

/**
 * The application, checked.
 *
 * @since 0.1.0
 */
export interface App {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly oauthUrl: URL
  readonly connector: string
  readonly line: number
  readonly plan: Plan
  readonly allowInsecureLoopback: boolean
  readonly verifyTimeoutMs: number
  /** What an install sets up on the portal; `undefined` when `placementHandler` is not given. */
  readonly setup: SetupOptions | undefined
}

/**
 * What an install sets up on each portal: the connector's name, icon and settings page, and where its events go.
 *
 * @since 0.1.0
 */
export interface SetupOptions {
  readonly name: string
  readonly icon: string
  readonly placementHandler: string
  readonly eventHandler: string | undefined
}

const DEFAULT_ICON =
  "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20viewBox%3D%220%200%2024%2024%22%3E%3Ccircle%20cx%3D%2212%22%20cy%3D%2212%22%20r%3D%2210%22%2F%3E%3C%2Fsvg%3E"

/** The setup's options, its URLs checked (HTTPS, or loopback when allowed). */
const setupOf = (
  o: typeof AppOptions.Type,
  allowInsecureLoopback: boolean
): Result.Result<SetupOptions | undefined, Config.ConfigError> => {
  const urls: Array<[string, string | undefined]> = [
    ["placementHandler", o.placementHandler],
    ["eventHandler", o.eventHandler]
  ]
  for (const [path, url] of urls) {
    if (url === undefined) continue
    const parsed = BaseUrl.parse(url, { allowInsecureLoopback })
    if (Result.isFailure(parsed)) return Result.fail(Decode.configError([{ path, message: parsed.failure }]))
  }
  if (o.placementHandler === undefined) {
    return o.eventHandler === undefined
      ? Result.succeed(undefined)
      : Result.fail(
          Decode.configError([
            { path: "eventHandler", message: "binds events only with placementHandler (the connector's registration)" }
          ])
        )
  }
  return Result.succeed({
    name: o.connectorName ?? o.connector,
    icon: o.connectorIcon ?? DEFAULT_ICON,
    placementHandler: o.placementHandler,
    eventHandler: o.eventHandler
  })
}

const apps = new WeakSet<object>()

/**
 * Checks the application's options (an unknown field gets a "did you mean";
 * the secret is never repeated).
 *
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<App, Config.ConfigError> => {
  if (Predicate.isObject(input) && apps.has(input)) return Result.succeed(input as unknown as App)
  const decoded = Decode.decodeStrict(
    AppOptions,
    input,
    "the Bitrix24 application: { clientId, clientSecret, connector, ... }"
  )
  if (Result.isFailure(decoded)) return Result.fail(Decode.configError(decoded.failure))
  const o = decoded.success
  const allowInsecureLoopback = o.allowInsecureLoopback === true
  const oauth = BaseUrl.parse(o.oauthUrl ?? "https://oauth.bitrix.info", { allowInsecureLoopback })
  if (Result.isFailure(oauth)) return Result.fail(Decode.configError([{ path: "oauthUrl", message: oauth.failure }]))
  const secret = Redacted.isRedacted(o.clientSecret) ? o.clientSecret : Redacted.make(o.clientSecret)
  if (Redacted.value(secret).trim() === "") {
    return Result.fail(Decode.configError([{ path: "clientSecret", message: "must not be blank" }]))
  }
  const setup = setupOf(o, allowInsecureLoopback)
  if (Result.isFailure(setup)) return Result.fail(setup.failure)
  const app: App = {
    clientId: o.clientId,
    clientSecret: secret,
    oauthUrl: oauth.success,
    connector: o.connector,
    line: o.line ?? 1,
    plan: o.plan ?? "standard",
    allowInsecureLoopback,
    verifyTimeoutMs: o.verifyTimeoutMs ?? 10_000,
    setup: setup.success
  }
  apps.add(app)
  return Result.succeed(app)
}
