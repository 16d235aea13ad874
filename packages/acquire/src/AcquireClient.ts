/**
 * A typed client for the Acquire messenger endpoints that an editing app needs:
 * update a sent message (the point), send one (its answer carries the id to
 * keep in order to edit later), get one and delete one. Each call is one HTTP
 * request, without retries, failing with an `EditError` whose operation is
 * `update`, `send`, `get` or `delete`.
 *
 * @since 0.1.0
 */
import { EditError, HttpTransport, OptionCheck } from "@reword/core"
import { Clock, type Config, Context, Effect, Layer, Redacted, Result, Schema } from "effect"
import * as AcquireConfig from "./AcquireConfig.ts"
import { type AcquireMessage, DeleteAnswer, type Deleted, MessageAnswer, withCaseIds } from "./AcquireSchemas.ts"
import { malformed, reasonOf } from "./internal/errors.ts"
import { ID_RULE, MESSAGE_ID_RULE, parsePositiveId } from "./internal/ids.ts"

/**
 * An Acquire id: a positive integer, or a string of digits only.
 *
 * @since 0.1.0
 */
export type Id = number | string

/**
 * The kinds of message Acquire stores; chat messages are `message`.
 *
 * @since 0.1.0
 */
export type MessageType = "message" | "note" | "event"

/**
 * The content of a message, for update and send.
 *
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
 * @since 0.1.0
 */
export class AcquireClient extends Context.Service<AcquireClient, Service>()("@reword/acquire/AcquireClient") {}

/**
 * The client's options: the settings, and how to talk HTTP.
 *
 * @since 0.1.0
 */
export interface Options extends AcquireConfig.Settings, HttpTransport.TransportOptions {}

type Reason = EditError.EditErrorReason
type Method = HttpTransport.HttpRequest["method"]

interface Endpoint {
  readonly method: Method
  readonly path: ReadonlyArray<string | number>
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly json?: unknown
}

const invalid = (path: string, message: string): Reason =>
  new EditError.InvalidRequest({ problems: [{ path, message }] })

const messageBody = (message: MessageInput) => ({
  type: message.type ?? "message",
  message: message.text,
  ...(message.language === undefined ? {} : { translateLangKey: message.language })
})

const checkText = (text: unknown): Result.Result<string, Reason> =>
  typeof text === "string" && text.trim().length > 0
    ? Result.succeed(text)
    : Result.fail(invalid("text", "must not be empty: Acquire stores text only"))

/**
 * Builds a client over checked settings and a transport.
 *
 * @since 0.1.0
 */
export const fromSettings = (
  settings: AcquireConfig.ResolvedSettings,
  transport: HttpTransport.HttpTransport
): Service => {
  const { apiKey, baseUrl } = settings
  const headers = { authorization: `Bearer ${Redacted.value(apiKey)}`, accept: "application/json" }

  const urlOf = (endpoint: Endpoint): URL => {
    // Every segment is encoded (ids are digits already): nothing can leave the base URL.
    const url = new URL(endpoint.path.map((segment) => encodeURIComponent(String(segment))).join("/"), baseUrl)
    for (const [key, value] of Object.entries(endpoint.query ?? {})) url.searchParams.set(key, value)
    return url
  }

  const call = <A>(
    operation: EditError.Operation,
    endpoint: Result.Result<Endpoint, Reason>,
    decode: (response: HttpTransport.HttpResponse, now: number) => Effect.Effect<A, Reason>
  ): Effect.Effect<A, EditError.EditError> =>
    Effect.gen(function* () {
      const checked = yield* Effect.fromResult(endpoint)
      const response = yield* transport.send({
        method: checked.method,
        url: urlOf(checked),
        headers,
        ...(checked.json === undefined ? {} : { json: checked.json }),
        secrets: [apiKey]
      })
      const now = yield* Clock.currentTimeMillis
      if (response.status < 200 || response.status > 299) return yield* Effect.fail(reasonOf(response, now))
      return yield* decode(response, now)
    }).pipe(
      Effect.mapError((reason) => new EditError.EditError({ provider: AcquireConfig.name, operation, reason })),
      Effect.withSpan(
        `AcquireClient.${operation}`,
        { attributes: { "reword.provider": AcquireConfig.name } },
        { captureStackTrace: false }
      )
    )

  const decodeWith = <A>(schema: Schema.Decoder<{ readonly data: A }>) => {
    // The decoder is built once; decoding is synchronous.
    const decodeAnswer = Schema.decodeUnknownResult(schema)
    return (response: HttpTransport.HttpResponse, now: number): Effect.Effect<A, Reason> => {
      if (!response.isJson) return Effect.fail(malformed(response, undefined, now))
      const answer = decodeAnswer(response.json)
      return Result.isSuccess(answer)
        ? Effect.succeed(answer.success.data)
        : Effect.fail(malformed(response, answer.failure, now))
    }
  }

  const decodeMessageAnswer = decodeWith(MessageAnswer)
  const decodeDeleteAnswer = decodeWith(DeleteAnswer)
  const decodeMessage = (response: HttpTransport.HttpResponse, now: number) =>
    Effect.map(decodeMessageAnswer(response, now), withCaseIds)

  const messageIdOf = (value: unknown): Result.Result<number, Reason> =>
    Result.mapError(parsePositiveId(value, MESSAGE_ID_RULE), (rule) => invalid("messageId", rule))

  const update = (messageId: Id, message: MessageInput) =>
    call(
      "update",
      Result.gen(function* () {
        const id = yield* messageIdOf(messageId)
        const text = yield* checkText(message.text)
        return {
          method: "POST",
          path: ["crm", "messenger", "chat", "message", id],
          json: { message: messageBody({ ...message, text }) }
        } satisfies Endpoint
      }),
      decodeMessage
    )

  const send = (message: SendInput) =>
    call(
      "send",
      Result.gen(function* () {
        const caseId = yield* Result.mapError(parsePositiveId(message.caseId), (rule) => invalid("caseId", rule))
        const contactId =
          message.contactId === undefined
            ? undefined
            : yield* Result.mapError(parsePositiveId(message.contactId, ID_RULE), (rule) => invalid("contactId", rule))
        const text = yield* checkText(message.text)
        return {
          method: "POST",
          path: ["crm", "messenger", "chat", "add-message"],
          query: {
            "x-user-type": message.senderType ?? "user",
            ...(contactId === undefined ? {} : { contactId: String(contactId) })
          },
          json: { channel: "chat", message: messageBody({ ...message, text }), caseId }
        } satisfies Endpoint
      }),
      decodeMessage
    )

  const get = (messageId: Id) =>
    call(
      "get",
      Result.map(
        messageIdOf(messageId),
        (id): Endpoint => ({
          method: "GET",
          path: ["crm", "objects", "case-message", id]
        })
      ),
      decodeMessage
    )

  const remove = (messageId: Id) =>
    call(
      "delete",
      Result.map(
        messageIdOf(messageId),
        (id): Endpoint => ({
          method: "DELETE",
          path: ["crm", "objects", "case-message", id]
        })
      ),
      (response, now) =>
        Effect.flatMap(decodeDeleteAnswer(response, now), (deleted) =>
          deleted.deleted > 0
            ? Effect.succeed(deleted)
            : Effect.fail(
                new EditError.NotFound({
                  status: response.status,
                  description: "Acquire deleted no message with this id",
                  ...HttpTransport.optionalBody(response.text)
                })
              )
        )
    )

  return AcquireClient.of({ baseUrl, update, send, get, delete: remove })
}

const transportOptions = (options: HttpTransport.TransportOptions): HttpTransport.TransportOptions => ({
  timeout: options.timeout,
  maxResponseBytes: options.maxResponseBytes,
  maxConnectionsPerHost: options.maxConnectionsPerHost,
  fetch: options.fetch,
  headers: options.headers
})

/**
 * Builds a client. Fails with a `ConfigError` naming the wrong setting (never
 * printing the key) when the settings are not usable.
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
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<Service, Config.ConfigError> =>
  Effect.flatMap(OptionCheck.check(HttpTransport.validate(transportOptions(options), "")), () =>
    Result.match(AcquireConfig.resolve(options), {
      onFailure: (error) => Effect.fail(error),
      onSuccess: (settings) => Effect.succeed(fromSettings(settings, HttpTransport.make(transportOptions(options))))
    })
  )

/**
 * The client as a layer.
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<AcquireClient, Config.ConfigError> =>
  Layer.effect(AcquireClient, make(options))

/**
 * The client as a layer whose settings are read from the environment (the
 * current `ConfigProvider`): `ACQUIRE_ACCOUNT_ID`, `ACQUIRE_API_KEY`,
 * `ACQUIRE_BASE_URL`, `ACQUIRE_ALLOW_INSECURE_LOOPBACK`.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: HttpTransport.TransportOptions = {}
): Layer.Layer<AcquireClient, Config.ConfigError> =>
  Layer.effect(
    AcquireClient,
    Effect.gen(function* () {
      const settings = yield* AcquireConfig.config
      return yield* make({ ...settings, ...transportOptions(options) })
    })
  )
