/**
 * The low-level, typed client of the imconnector message methods:
 * `imconnector.update.messages` (the point), and `imconnector.send.messages` /
 * `imconnector.delete.messages`, which apps use to create and retire the
 * messages they edit. Each call is one attempt, goes through the portal's rate
 * limiter, and repeats itself after refreshing an expired token (the portal
 * refused the first attempt, so nothing was done twice). Updates and deletes
 * may be wrapped in core's `RetryPolicy.retry`; a send is not idempotent: after
 * a timeout or a dropped connection the portal may have accepted the message,
 * and a repeat would deliver it twice, so never retry `sendMessages` blindly.
 *
 * @since 0.1.0
 */
import type { EditError } from "@reword/core"
import { HttpTransport, OptionCheck, ProviderKit, type Secrets } from "@reword/core/adapter"
import { type Array as Arr, type Config, Context, type Duration, Effect, Layer, Result } from "effect"
import * as Bitrix24Config from "./Bitrix24Config.ts"
import type { DeleteItem, MessageItem, MessagesResponse, Time } from "./Bitrix24Schemas.ts"
import * as Calls from "./internal/calls.ts"
import { fromCalls } from "./internal/client.ts"
import type * as RateLimiter from "./RateLimiter.ts"
import type * as TokenStore from "./TokenStore.ts"

/**
 * Where messages go: the connector code and the open line.
 *
 * @category models
 * @since 0.1.0
 */
export interface Target {
  readonly connector: string
  readonly line: number
}

/**
 * What to do when a method used up its operating time: wait for the reset
 * (default), or fail at once with `RateLimited` and `retryAfter`.
 *
 * @category options
 * @since 0.1.0
 */
export type OnOperatingLimit = "wait" | "fail"

/**
 * The client's options: how to talk HTTP (under `transport`, as for the
 * editor), where refreshed tokens go, the rate limiter, and what to do when a
 * method used up its operating time. The editor's options (`Bitrix24.Options`)
 * hold these too.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options {
  /** HTTP settings (timeout, body cap, custom fetch, headers). */
  readonly transport?: HttpTransport.TransportOptions | undefined
  /** The rate limiter's bucket and operating-time options (ignored when a `RateLimiter` is given or provided). */
  readonly rateLimit?: RateLimiter.Options | undefined
  /** A limiter to share with other clients and editors of the same portals. A `RateLimiter` service in context works too. */
  readonly rateLimiter?: RateLimiter.Service | undefined
  /** When a method used up its operating time: `wait` for the reset (default), or `fail` with `retryAfter`. */
  readonly onOperatingLimit?: OnOperatingLimit | undefined
  /**
   * Where refreshed tokens are stored: an Effect `TokenStore.Service`, or a
   * Promise-shaped store (`{ load(): Promise<PlainTokens | undefined>,
   * save(tokens): Promise<void> }`, plain strings). A `TokenStore` service in
   * context works too; default: memory.
   */
  readonly tokenStore?: TokenStore.Service | TokenStore.PromiseStore | undefined
  /**
   * How long one `load` or `save` of the token store may take (default 10 s,
   * at most 2^31-1 ms). Past it the call fails with a retryable `Unavailable`
   * (code `TOKEN_STORE`) and later calls go on.
   */
  readonly tokenStoreTimeout?: Duration.Input | undefined
  /**
   * The longest a call waits for an operating-time reset (`onOperatingLimit:
   * "wait"`), and for room in the client-side bucket; a longer projected wait
   * fails at once with `RateLimited` and `retryAfter`, as core's retry policy
   * does past its budget. Default: that policy's default `maxElapsed` (60 s);
   * the editor passes its own policy's.
   */
  readonly maxOperatingWait?: Duration.Input | undefined
}

/**
 * The input of a message method: the messages, and optionally another
 * connector or line than the configured ones.
 *
 * @category models
 * @since 0.1.0
 */
export interface MessagesInput<Item> {
  readonly connector?: string | undefined
  readonly line?: number | undefined
  readonly messages: Arr.NonEmptyReadonlyArray<Item>
  /**
   * The server time this call is expected to take, in seconds (the editor's
   * estimate from earlier answers). Counted, with this client's other calls of
   * the method in flight, against the method's operating time: a call that
   * could take it over the limit waits for its reset instead.
   */
  readonly expectedSeconds?: number | undefined
}

/**
 * A successful REST answer: its `result` (not yet read) and `time`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Answer {
  readonly result: unknown
  readonly time: Time | undefined
  readonly response: HttpTransport.HttpResponse
}

/**
 * The client's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly portalUrl: URL
  readonly target: Target
  /** Every secret the client's session knows (live): scrubbed from whatever is kept of an answer. */
  readonly secrets?: Secrets.Secrets | undefined
  /**
   * Calls any REST method with a JSON body (`auth` is added). A name that is
   * not a method (letters, digits, dots and underscores; never `.` or `..`)
   * is an `InvalidRequest`, and nothing is sent.
   */
  readonly call: (
    method: string,
    params: Readonly<Record<string, unknown>>,
    operation?: EditError.Operation
  ) => Effect.Effect<Answer, EditError.EditError>
  /**
   * `imconnector.update.messages`: one result item per message, in order.
   * The portal cannot tell reword that a message id is unknown: an item for a
   * message id it never received (or deleted) comes back as a success and
   * changes nothing. Keep the ids you sent with.
   */
  readonly updateMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
  /**
   * `imconnector.send.messages`: one result item per message, in order. Not
   * idempotent: do not retry it blindly (a repeat after a timeout may deliver
   * the message twice).
   */
  readonly sendMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
  /** `imconnector.delete.messages`: one result item per message, in order. */
  readonly deleteMessages: (input: MessagesInput<DeleteItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
}

/**
 * The client as a service (provided by `Bitrix24.layer` too, sharing the
 * editor's tokens and rate limiter).
 *
 * @category services
 * @since 0.1.0
 */
export class Bitrix24Client extends Context.Service<Bitrix24Client, Service>()("@reword/bitrix24/Bitrix24Client") {}

/** The options decoded once (the transport's, then Bitrix24's own checked). */
const decodeOptions = (options: Options) =>
  OptionCheck.withProblems(
    Result.map(HttpTransport.decode(options.transport), (transport): Options => ({ ...options, transport })),
    Calls.optionProblems(options)
  )

/** A client from settings already checked and options already checked. */
const fromSettings = (settings: Bitrix24Config.Settings, options: Options) =>
  Effect.map(Calls.setup(settings, options), fromCalls)

const construct = ProviderKit.constructors({
  decodeOptions,
  check: Bitrix24Config.check,
  read: Bitrix24Config.read,
  build: fromSettings
})

/**
 * Builds a client from settings (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing a secret).
 * Uses the `TokenStore` and `RateLimiter` in context when the options give none.
 *
 * @example
 * ```ts
 * import { Bitrix24Client } from "@reword/bitrix24"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* Bitrix24Client.make({
 *     portalUrl: "https://acme.bitrix24.com",
 *     accessToken: process.env.B24_ACCESS ?? "",
 *     refreshToken: process.env.B24_REFRESH ?? "",
 *     clientId: "local.65f0c0ffee.12345678",
 *     clientSecret: process.env.B24_SECRET ?? "",
 *     connector: "my_connector",
 *     line: 7
 *   })
 *   return yield* client.call("imopenlines.config.list.get", {})
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: Bitrix24Config.SettingsInput,
  options: Options = {}
): Effect.Effect<Service, Config.ConfigError> => construct.make(settings, options)

/**
 * The client as a layer, from settings in code.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: Bitrix24Config.SettingsInput,
  options: Options = {}
): Layer.Layer<Bitrix24Client, Config.ConfigError> => Layer.effect(Bitrix24Client, make(settings, options))

/**
 * The client as a layer whose settings are read from the environment (the
 * current `ConfigProvider`): `BITRIX24_PORTAL_URL`, `BITRIX24_ACCESS_TOKEN`,
 * ... A missing setting fails naming its variable.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options: Options = {}): Layer.Layer<Bitrix24Client, Config.ConfigError> =>
  Layer.effect(Bitrix24Client, construct.fromConfig(options))
