/**
 * A typed client for the Acquire messenger endpoints that an editing app needs:
 * update a sent message (the point), send one (its answer carries the id to
 * keep in order to edit later), get one and delete one. Each call is one HTTP
 * request, without retries, failing with an `EditError` whose operation is
 * `update`, `send`, `get` or `delete`.
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import { HttpTransport, ProviderKit } from "@reword/core/adapter"
import { type Config, Context, Effect, Layer, Result } from "effect"
import * as AcquireConfig from "./AcquireConfig.ts"
import type { AcquireMessage, Deleted } from "./AcquireSchemas.ts"
import * as Calls from "./internal/calls.ts"
import { ID_RULE, MESSAGE_ID_RULE, parsePositiveId } from "./internal/ids.ts"

/**
 * An Acquire id: a positive integer, or a string of digits only.
 *
 * @category models
 * @since 0.1.0
 */
export type Id = number | string

/**
 * The kinds of message Acquire stores; chat messages are `message`.
 *
 * @category models
 * @since 0.1.0
 */
export type MessageType = "message" | "note" | "event"

/**
 * The content of a message, for update and send.
 *
 * @category models
 * @since 0.1.0
 */
export interface MessageInput {
  /** The text. Acquire stores text only. */
  readonly text: string
  /** An ISO language code, sent as `translateLangKey` (used for translation). */
  readonly language?: string | undefined
  /** Default `message`. */
  readonly type?: MessageType | undefined
}

/**
 * A message to send into a case.
 *
 * @category models
 * @since 0.1.0
 */
export interface SendInput extends MessageInput {
  /** The case (conversation) to send into; only active cases take messages. */
  readonly caseId: Id
  /** Whether the message comes from an agent (`user`, the default) or from the contact (`x-user-type`). */
  readonly senderType?: "user" | "contact" | undefined
  /** The contact the message is for or from. */
  readonly contactId?: Id | undefined
}

/**
 * The client's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** The base URL every request is resolved under. */
  readonly baseUrl: URL
  /** `POST /crm/messenger/chat/message/{messageId}`: changes the text of a sent message. */
  readonly update: (messageId: Id, message: MessageInput) => Effect.Effect<AcquireMessage, EditError.EditError>
  /** `POST /crm/messenger/chat/add-message`: sends a message; keep the answered `id` to edit it later. */
  readonly send: (message: SendInput) => Effect.Effect<AcquireMessage, EditError.EditError>
  /** `GET /crm/objects/case-message/{messageId}`: reads one message. */
  readonly get: (messageId: Id) => Effect.Effect<AcquireMessage, EditError.EditError>
  /** `DELETE /crm/objects/case-message/{messageId}`: deletes one message, for good. No message deleted is `NotFound`. */
  readonly delete: (messageId: Id) => Effect.Effect<Deleted, EditError.EditError>
}

/**
 * The client as a service.
 *
 * @category services
 * @since 0.1.0
 */
export class AcquireClient extends Context.Service<AcquireClient, Service>()("@reword/acquire/AcquireClient") {}

/**
 * The client's options: how to talk HTTP (timeout, body cap, connections per
 * host, a custom `fetch`, extra headers), under `transport` as for the editor.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options {
  readonly transport?: HttpTransport.TransportOptions | undefined
}

type Reason = EditError.EditErrorReason

const invalid = (path: string, message: string): Reason =>
  new EditError.InvalidRequest({ problems: [{ path, message }] })

const idAt = (path: string, value: unknown, rule: string = ID_RULE): Result.Result<number, Reason> =>
  Result.mapError(parsePositiveId(value, rule), (message) => invalid(path, message))

const contentOf = (message: MessageInput): Result.Result<Calls.Content, Reason> =>
  typeof message.text === "string" && message.text.trim().length > 0
    ? Result.succeed(message)
    : Result.fail(invalid("text", "must not be empty: Acquire stores text only"))

/**
 * The public client over the internal calls: it checks what it is given (ids,
 * text), and wraps a call's reason in an `EditError` once, with its operation.
 */
const fromCalls = (calls: Calls.Calls): Service => {
  const run = <A>(
    operation: EditError.Operation,
    checked: Result.Result<Effect.Effect<A, Reason>, Reason>
  ): Effect.Effect<A, EditError.EditError> =>
    Effect.flatten(Effect.fromResult(checked)).pipe(
      Effect.mapError((reason) => new EditError.EditError({ provider: AcquireConfig.name, operation, reason }))
    )
  return AcquireClient.of({
    baseUrl: calls.baseUrl,
    update: (messageId, message) =>
      run(
        "update",
        Result.gen(function* () {
          const id = yield* idAt("messageId", messageId, MESSAGE_ID_RULE)
          return calls.update(id, yield* contentOf(message))
        })
      ),
    send: (message) =>
      run(
        "send",
        Result.gen(function* () {
          const caseId = yield* idAt("caseId", message.caseId)
          const contactId = message.contactId === undefined ? undefined : yield* idAt("contactId", message.contactId)
          const content = yield* contentOf(message)
          return calls.send({ ...content, caseId, contactId, senderType: message.senderType })
        })
      ),
    get: (messageId) => run("get", Result.map(idAt("messageId", messageId, MESSAGE_ID_RULE), calls.get)),
    delete: (messageId) => run("delete", Result.map(idAt("messageId", messageId, MESSAGE_ID_RULE), calls.delete))
  })
}

/**
 * Builds a client from settings (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing the key)
 * when they are not usable.
 *
 * @example
 * ```ts
 * import { AcquireClient } from "@reword/acquire"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* AcquireClient.make({ accountId: "acme", apiKey: Redacted.make("…") })
 *   const sent = yield* client.send({ caseId: 2069, text: "Hello" })
 *   return yield* client.update(sent.id, { text: "Hello again" })
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: AcquireConfig.SettingsInput,
  options: Options = {}
): Effect.Effect<Service, Config.ConfigError> => construct.make(settings, options)

/**
 * Builds a client from settings already checked (`AcquireConfig.check`,
 * `AcquireConfig.read`) and options already checked.
 */
const fromSettings = (settings: AcquireConfig.Settings, options: Options): Service =>
  fromCalls(Calls.make(settings, HttpTransport.make(options.transport)))

const construct = ProviderKit.constructors({
  decodeOptions: (options: Options) =>
    Result.map(HttpTransport.decode(options.transport), (transport): Options => ({ ...options, transport })),
  check: AcquireConfig.check,
  read: AcquireConfig.read,
  build: (settings: AcquireConfig.Settings, options: Options) => Effect.succeed(fromSettings(settings, options))
})

/**
 * The client as a layer, from settings in code.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: AcquireConfig.SettingsInput,
  options: Options = {}
): Layer.Layer<AcquireClient, Config.ConfigError> => Layer.effect(AcquireClient, make(settings, options))

/**
 * The client as a layer whose settings are read from the environment (the
 * current `ConfigProvider`): `ACQUIRE_ACCOUNT_ID`, `ACQUIRE_API_KEY`,
 * `ACQUIRE_BASE_URL`, `ACQUIRE_ALLOW_INSECURE_LOOPBACK`. A missing setting
 * fails naming its variable.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options: Options = {}): Layer.Layer<AcquireClient, Config.ConfigError> =>
  Layer.effect(AcquireClient, construct.fromConfig(options))
