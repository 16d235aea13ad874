/**
 * A faithful, stateful local emulator of a Bitrix24 portal and its OAuth
 * server, so that an app's own tests can run their edits end to end: a real
 * HTTP server on 127.0.0.1 with open lines, users and messages in memory, the
 * imconnector message methods (`imconnector.send.messages`,
 * `imconnector.update.messages`, `imconnector.delete.messages`) answering as a
 * real portal does (oddities included), the OAuth token endpoint with refresh
 * tokens that rotate and work once, access tokens that expire, incoming
 * webhooks refused, the leaky bucket and the operating-time limit, a request
 * log, fault injection, and an inspection API that reads what a message
 * became. Node only; kept out of the main entry point: import it from
 * `@reword/bitrix24/sandbox`.
 *
 * Built on core's `SandboxServer` (`@reword/core/sandbox`): `sandbox.server`
 * holds the request log (`requests`) and the faults (`inject`, `clearFaults`).
 *
 * @example
 * ```ts
 * import { Bitrix24 } from "@reword/bitrix24"
 * import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
 * import { createEditor } from "@reword/core/promise"
 *
 * const sandbox = await Bitrix24Sandbox.start()
 * const ids = await sandbox.seedMessage("Meet at 11.")
 * const editor = await createEditor({ providers: Bitrix24.provider, env: sandbox.env })
 * await editor.update({ ids, text: "Meet at 10." })
 * sandbox.inspect(ids) // { text: "Meet at 10.", history: ["Meet at 11.", "Meet at 10."] }
 * sandbox.expireAccessToken() // the next call meets 401 expired_token, and the editor refreshes
 * await editor.dispose()
 * await sandbox.stop()
 * ```
 *
 * @since 0.1.0
 */
import { SandboxServer } from "@reword/core/sandbox"
import { Context, type Duration, type Effect, Layer, type Scope } from "effect"
import type * as Bitrix24Config from "./Bitrix24Config.ts"
import * as Bucket from "./internal/sandbox/bucket.ts"
import * as Handle from "./internal/sandbox/handle.ts"
import type { Line, Message, User } from "./internal/sandbox/model.ts"
import * as Operating from "./internal/sandbox/operating.ts"
import * as Resolve from "./internal/sandbox/options.ts"
import * as Portal from "./internal/sandbox/portal.ts"
import * as Tokens from "./internal/sandbox/tokens.ts"
import type { Bucket as BucketShape, Preset } from "./RateLimiter.ts"

export type {
  /**
   * A file of a message.
   *
   * @category models
   * @since 0.1.0
   */
  File,
  /**
   * An open line as the sandbox holds it.
   *
   * @category models
   * @since 0.1.0
   */
  Line,
  /**
   * A message as the sandbox holds it, with every text it had.
   *
   * @category models
   * @since 0.1.0
   */
  Message,
  /**
   * A Bitrix24 user a connector created for an external author.
   *
   * @category models
   * @since 0.1.0
   */
  User
} from "./internal/sandbox/model.ts"

/**
 * An access and refresh token pair.
 *
 * @category models
 * @since 0.1.0
 */
export interface TokenPair {
  readonly accessToken: string
  readonly refreshToken: string
}

/**
 * How the sandbox refuses a whole call (see {@link Sandbox.poisonMessage}):
 * the answer `{ error, error_description }` with this HTTP status.
 *
 * @category models
 * @since 0.2.0
 */
export interface Refusal {
  /** Default 400. */
  readonly status?: number | undefined
  /** Default `ERROR_ARGUMENT`. */
  readonly error?: string | undefined
  /** Default "The incorrect structure of a message inside MESSAGES parameter". */
  readonly description?: string | undefined
}

/**
 * A method's operating time, as an answer's `time` reports it.
 *
 * @category models
 * @since 0.1.0
 */
export interface OperatingTime {
  /** Seconds the method used in the window (`time.operating`). */
  readonly operating: number
  /** When the oldest part of it drops out, Unix seconds (`time.operating_reset_at`); `undefined` when nothing is kept. */
  readonly resetAt: number | undefined
  /** Whether the method is refused now (`429 OPERATION_TIME_LIMIT`). */
  readonly blocked: boolean
}

/**
 * A sandbox's settings as a plain settings object (`Provider.SettingsObject`): every value a string.
 *
 * @category models
 * @since 0.2.0
 */
export interface PlainSettings {
  readonly provider: "bitrix24"
  readonly bitrix24: Readonly<Record<string, string>>
}

/**
 * The environment that points reword at a sandbox: `REWORD_PROVIDER`, the
 * `BITRIX24_*` settings, and the opt-in for plain HTTP to the loopback address.
 *
 * @category models
 * @since 0.1.0
 */
export type Environment = {
  readonly REWORD_PROVIDER: "bitrix24"
  readonly BITRIX24_PORTAL_URL: string
  readonly BITRIX24_ACCESS_TOKEN: string
  readonly BITRIX24_REFRESH_TOKEN: string
  readonly BITRIX24_CLIENT_ID: string
  readonly BITRIX24_CLIENT_SECRET: string
  readonly BITRIX24_OAUTH_URL: string
  readonly BITRIX24_CONNECTOR: string
  readonly BITRIX24_LINE: string
  readonly BITRIX24_ALLOW_INSECURE_LOOPBACK: "true"
}

/**
 * A running Bitrix24 sandbox: core's {@link SandboxServer.ProviderSandbox}
 * contract, plus the portal's lines, users, messages, tokens and limits.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sandbox extends SandboxServer.ProviderSandbox {
  readonly provider: "bitrix24"
  /** The server's address, `http://127.0.0.1:<port>`: both the portal and the OAuth server. */
  readonly url: string
  /** The portal's REST base, `http://127.0.0.1:<port>/rest/` (what `client_endpoint` says). */
  readonly restUrl: string
  /** The access token the sandbox started with (`BITRIX24_ACCESS_TOKEN`). */
  readonly accessToken: string
  /** The refresh token the sandbox started with (`BITRIX24_REFRESH_TOKEN`); it works once. */
  readonly refreshToken: string
  readonly clientId: string
  readonly clientSecret: string
  /** The connector active on {@link Sandbox.line} from the start (`BITRIX24_CONNECTOR`). */
  readonly connector: string
  /** The open line (`BITRIX24_LINE`). */
  readonly line: number
  /** The environment that points reword at this sandbox, with the tokens it started with. */
  readonly env: Environment
  /** The same settings as an object, for `Bitrix24.make`, `Bitrix24.layer` and `Bitrix24MessageEditor.make`. */
  readonly settings: Bitrix24Config.Settings
  /**
   * The settings as plain strings, for a config file: `JSON.stringify` it, and read it back with
   * `Provider.fromObject`. The sandbox's credentials are fake, so they are written as they are;
   * `settings` holds them `Redacted`, which a file receives as `"<redacted>"` (refused as a credential).
   *
   * @since 0.2.0
   */
  readonly plainSettings: () => PlainSettings
  /** The pair the OAuth server issued last (the starting one until a refresh). */
  readonly tokens: () => TokenPair
  /** Makes every access token issued so far expire: the next calls get `401 expired_token`. */
  readonly expireAccessToken: () => void
  /** Token refreshes the OAuth endpoint granted. */
  readonly refreshes: () => number
  /** REST calls refused with `503 QUERY_LIMIT_EXCEEDED` (the leaky bucket). */
  readonly limitHits: () => number
  /** Answers (REST or OAuth) with this error code, such as `expired_token` or `OPERATION_TIME_LIMIT`. */
  readonly errorAnswers: (code: string) => number
  /** REST calls received for a method (such as `imconnector.update.messages`), refused ones included. */
  readonly calls: (method: string) => number
  /** A method's operating time now. */
  readonly operating: (method: string) => OperatingTime
  /** Every open line (live). */
  readonly lines: () => ReadonlyArray<Line>
  /** Adds (or replaces) a line for a connector; active unless `active: false`. */
  readonly addLine: (connector: string, line: number, options?: { readonly active?: boolean | undefined }) => Line
  /** Activates or deactivates a connector on a line (adding it when new). */
  readonly setLineActive: (connector: string, line: number, active: boolean) => Line
  /** Every user the connectors created, in order (live). */
  readonly users: () => ReadonlyArray<User>
  /** Every message sent, deleted ones included, in order (live). */
  readonly messages: () => ReadonlyArray<Message>
  /**
   * A message by its external chat and message ids, on the sandbox's connector
   * and line unless told, deleted or not; `undefined` when never sent.
   */
  readonly message: (
    chatId: string,
    messageId: string,
    where?: { readonly connector?: string | undefined; readonly line?: number | undefined }
  ) => Message | undefined
  /**
   * Stores a message as `imconnector.send.messages` would have, on the
   * sandbox's connector and line (creating its author), and answers the ids to
   * keep. Ids not given are made up; Bitrix24 has no `providerMessageId`, so
   * one given is ignored. Rejects when a message with these ids is already stored.
   */
  readonly seedMessage: (text: string, ids?: Partial<SandboxServer.RelayedIds>) => Promise<SandboxServer.RelayedIds>
  /**
   * Reads a message by `externalChatId` and `externalMessageId` on the
   * sandbox's connector and line: its text and history (a copy), or
   * `undefined` when it was never sent, was deleted, or either id is missing.
   * Takes the ids of a request (`EditRequestInput["ids"]`) as well as those
   * {@link Sandbox.seedMessage} answered.
   */
  readonly inspect: (ids: SandboxServer.InspectIds) => SandboxServer.StoredMessage | undefined
  /**
   * Poisons a message: from now on, every call that carries a message with this
   * external id (`message.id`, in any chat) is refused AS A WHOLE, as a portal
   * refuses a call for one item it cannot take, with `refusal` (default `400
   * ERROR_ARGUMENT`, "The incorrect structure of a message inside MESSAGES
   * parameter"). The other messages of such a call are not touched.
   */
  readonly poisonMessage: (externalMessageId: string, refusal?: Refusal) => void
  /** Lifts the poison of one message, or of every message when no id is given. */
  readonly curePoison: (externalMessageId?: string) => void
  /** Stops the server (hanging requests are cut). Safe to call twice. */
  readonly stop: () => Promise<void>
}

/**
 * The operating-time limit: a method may use `limitSeconds` of server time in
 * `windowSeconds`; each call counts as `costPerCall` seconds plus
 * `costPerMessage` for each message it carries (its `time.duration`).
 *
 * @category models
 * @since 0.1.0
 */
export interface OperatingLimit {
  /** Default 480 (Bitrix24 cloud). */
  readonly limitSeconds?: number | undefined
  /** Default 600 (ten one-minute baskets). */
  readonly windowSeconds?: number | undefined
  /** Default 0.01. */
  readonly costPerCall?: number | undefined
  /** Seconds each message of a call adds to its server time. Default 0. */
  readonly costPerMessage?: number | undefined
}

/**
 * Options of a sandbox.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options {
  /** The port (0, the default, picks a free one). */
  readonly port?: number | undefined
  /** The starting access token; a new random one by default. */
  readonly accessToken?: string | undefined
  /** The starting refresh token; a new random one by default. */
  readonly refreshToken?: string | undefined
  /** The application's client id; `local.<random>.sandbox` by default. */
  readonly clientId?: string | undefined
  /** The application's client secret; a new random one by default. */
  readonly clientSecret?: string | undefined
  /** The connector active from the start. Default `reword_sandbox`. */
  readonly connector?: string | undefined
  /** The open line it is active on. Default 1. */
  readonly line?: number | undefined
  /**
   * How long an access token works (a number is milliseconds); by default
   * access tokens expire only on command ({@link Sandbox.expireAccessToken}).
   */
  readonly accessTokenTtl?: Duration.Input | undefined
  /**
   * The portal's leaky bucket: a plan (`"standard"`: drains 2 requests/s,
   * refuses above 50; `"enterprise"`: 5/s, 250), a custom one, or `false` for
   * none. Default `"standard"`.
   */
  readonly bucket?: Preset | BucketShape | false | undefined
  /**
   * The operating-time limit per method (default 480 s in a 600 s window, each
   * call counting 0.01 s: about 48,000 calls of one method in ten minutes), or
   * `false` never to refuse a call for it (`time.operating` is reported anyway).
   */
  readonly operatingLimit?: OperatingLimit | false | undefined
  /**
   * Answers `NOT_ACTIVE_LINE` as older portals did (HTTP 200 with
   * `result: { SUCCESS: false, ERRORS: [...] }`) instead of HTTP 400. Default false.
   */
  readonly oldLineErrors?: boolean | undefined
  /**
   * The portal's clock, Unix millis (default `Date.now`): a benchmark runs
   * the portal on a scaled clock (see {@link Options.serverTime}).
   */
  readonly now?: (() => number) | undefined
  /**
   * Whether a call is answered only once its server time (the operating
   * model's cost of the call) has passed, and how much faster than real time
   * the portal's clock runs (`scale`, default 1). Default: answered at once,
   * the server time reported in `time.duration`.
   */
  readonly serverTime?: { readonly wait: boolean; readonly scale?: number | undefined } | undefined
  /** The most requests kept in the log. Default 10,000. */
  readonly logLimit?: number | undefined
  /**
   * The largest request body taken, in bytes; a larger one is answered `413`
   * and its connection closed without reading the rest. Default 1 MiB
   * (`SandboxServer.DEFAULT_MAX_BODY_BYTES`).
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * Core's fault constructors, for `sandbox.server.inject({ fault, times | share })`:
 * `status`, `retryAfter`, `html`, `malformedJson`, `empty`, `truncated`, `reset`, `hang`.
 *
 * @category sandbox
 * @since 0.1.0
 */
export const Faults: typeof SandboxServer.Faults = SandboxServer.Faults

/**
 * Starts a sandbox on 127.0.0.1. Rejects when an option is unusable (a token
 * with spaces, a line that is not a positive integer, a bucket that does not
 * drain) or the port is taken.
 *
 * @example
 * ```ts
 * import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
 *
 * const sandbox = await Bitrix24Sandbox.start({ port: 0, accessTokenTtl: "1 hour" })
 * console.log(sandbox.env.BITRIX24_PORTAL_URL) // http://127.0.0.1:<port>
 * await sandbox.stop()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = async (options: Options = {}): Promise<Sandbox> => {
  const resolved = Resolve.resolve(options)
  const now = resolved.clock()
  const { clientId, clientSecret, accessToken, refreshToken, ttlMillis } = resolved
  const tokens = Tokens.make({ clientId, clientSecret, accessToken, refreshToken, ttlMillis, now })
  const operating = Operating.make(resolved.operating)
  const enforceOperating = options.operatingLimit !== false
  let url = ""
  const portal = Portal.make({
    url: () => url,
    tokens,
    bucket: resolved.bucket === undefined ? undefined : Bucket.make(resolved.bucket, now),
    operating,
    enforceOperating,
    oldLineErrors: options.oldLineErrors === true,
    now: resolved.clock,
    takeTime: resolved.takeTime
  })
  portal.setLine(resolved.connector, resolved.line, true)
  const { server, stop } = await SandboxServer.host(portal.handler, {
    port: options.port,
    logLimit: options.logLimit,
    maxBodyBytes: options.maxBodyBytes,
    // An answer the emulator could not give is the portal's own 500.
    internalError: (message) => Portal.failure(500, "INTERNAL_SERVER_ERROR", message)
  })
  url = server.url
  return Handle.sandboxOf({ resolved, url, server, stop, portal, tokens, operating, enforceOperating })
}

/**
 * A sandbox for the life of a scope: stopped when the scope closes.
 *
 * @example
 * ```ts
 * import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
 *   const ids = yield* Effect.promise(() => sandbox.seedMessage("Hello"))
 *   return sandbox.inspect(ids)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const scoped: (options?: Options) => Effect.Effect<Sandbox, never, Scope.Scope> = SandboxServer.scopedFrom(start)

/**
 * The sandbox as a service.
 *
 * @category services
 * @since 0.1.0
 */
export class Bitrix24Sandbox extends Context.Service<Bitrix24Sandbox, Sandbox>()("@reword/bitrix24/Bitrix24Sandbox") {}

/**
 * The sandbox as a layer: started when the layer is built, stopped when its
 * scope closes.
 *
 * @example
 * ```ts
 * import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const sandbox = yield* Bitrix24Sandbox.Bitrix24Sandbox
 *   return sandbox.env
 * }).pipe(Effect.provide(Bitrix24Sandbox.layer()))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<Bitrix24Sandbox> => Layer.effect(Bitrix24Sandbox, scoped(options))
