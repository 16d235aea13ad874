/**
 * A typed client for the Bot API methods an editing app needs: send a message
 * (its answer carries the chat id and message id to keep in order to edit it
 * later), edit its text or its caption, and delete it. Each call is one HTTP
 * request, without retries, kept to the bot's limits (see
 * `TelegramRateLimiter`), failing with an `EditError` whose operation is
 * `send`, `update` or `delete`.
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import { HttpTransport, ProviderKit } from "@reword/core/adapter"
import { type Config, Context, Effect, Layer, Result } from "effect"
import * as Calls from "./internal/calls.ts"
import type { Edited as EditedFields } from "./internal/edited.ts"
import { lengthOf, MAX_CAPTION, MAX_TEXT, parseChatId, parseMessageId } from "./internal/ids.ts"
import { limiterOf, type OwnOptions, ownProblems } from "./internal/options.ts"
import * as TelegramConfig from "./TelegramConfig.ts"
import type { TelegramMessage } from "./TelegramSchemas.ts"

/**
 * A chat id: an integer (negative for groups and channels; as a number or as
 * text), or a channel's `@username`.
 *
 * @category models
 * @since 0.1.0
 */
export type ChatId = number | string

/**
 * Which message: the chat's id, the message's id in it, and the business
 * connection it was sent through (for a business message).
 *
 * @category models
 * @since 0.1.0
 */
export interface Target {
  readonly chatId: ChatId
  readonly messageId: number | string
  readonly businessConnectionId?: string | undefined
}

/**
 * What an edit answered: the message's ids, its text or caption, when
 * Telegram says it was edited, and `modified: false` when Telegram answered
 * `message is not modified` (the message already was what was asked).
 *
 * @category models
 * @since 0.1.0
 */
export type Edited = EditedFields

/**
 * The client's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** `sendMessage`: sends a text; keep the answered `chat.id` and `message_id` to edit it later. */
  readonly sendMessage: (message: {
    readonly chatId: ChatId
    readonly text: string
    readonly businessConnectionId?: string | undefined
  }) => Effect.Effect<TelegramMessage, EditError.EditError>
  /** `editMessageText`: changes the text of a text message. */
  readonly editMessageText: (target: Target, text: string) => Effect.Effect<Edited, EditError.EditError>
  /** `editMessageCaption`: changes the caption of a media message. */
  readonly editMessageCaption: (target: Target, caption: string) => Effect.Effect<Edited, EditError.EditError>
  /** `deleteMessage`: deletes a message (Telegram allows it within 48 hours of sending). */
  readonly deleteMessage: (target: Target) => Effect.Effect<void, EditError.EditError>
}

/**
 * The client as a service.
 *
 * @category services
 * @since 0.1.0
 */
export class TelegramClient extends Context.Service<TelegramClient, Service>()("@reword/telegram/TelegramClient") {}

/**
 * The client's options: how to talk HTTP (under `transport`, as for the
 * editor), and the limits (`limits`, `rateLimiter`).
 *
 * @category options
 * @since 0.1.0
 */
export interface Options extends OwnOptions {
  readonly transport?: HttpTransport.TransportOptions | undefined
}

type Reason = EditError.EditErrorReason

const invalid = (path: string, message: string): Reason =>
  new EditError.InvalidRequest({ problems: [{ path, message }] })

const targetOf = (target: Target): Result.Result<Calls.Target, Reason> =>
  Result.gen(function* () {
    const chatId = yield* Result.mapError(parseChatId(target.chatId), (message) => invalid("chatId", message))
    const messageId = yield* Result.mapError(parseMessageId(target.messageId), (message) =>
      invalid("messageId", message)
    )
    return { chatId, messageId, businessConnectionId: target.businessConnectionId }
  })

const contentOf = (text: unknown, max: number, path: string): Result.Result<string, Reason> =>
  typeof text !== "string" || text.trim().length === 0
    ? Result.fail(invalid(path, "must not be blank"))
    : lengthOf(text) > max
      ? Result.fail(invalid(path, `must be at most ${max} characters`))
      : Result.succeed(text)

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
      Effect.mapError((reason) => new EditError.EditError({ provider: TelegramConfig.name, operation, reason }))
    )
  const edit =
    (max: number, call: (target: Calls.Target, text: string) => Effect.Effect<Edited, Reason>) =>
    (target: Target, text: string) =>
      run(
        "update",
        Result.gen(function* () {
          const checked = yield* targetOf(target)
          return call(checked, yield* contentOf(text, max, "text"))
        })
      )
  return TelegramClient.of({
    sendMessage: (message) =>
      run(
        "send",
        Result.gen(function* () {
          const chatId = yield* Result.mapError(parseChatId(message.chatId), (problem) => invalid("chatId", problem))
          const text = yield* contentOf(message.text, MAX_TEXT, "text")
          return calls.send({ chatId, text, businessConnectionId: message.businessConnectionId })
        })
      ),
    editMessageText: edit(MAX_TEXT, calls.editText),
    editMessageCaption: edit(MAX_CAPTION, calls.editCaption),
    deleteMessage: (target) => run("delete", Result.map(targetOf(target), calls.delete))
  })
}

const construct = ProviderKit.constructors({
  decodeOptions: (options: Options) => {
    const problems = ownProblems(options)
    return problems.length > 0
      ? Result.fail(problems)
      : Result.map(HttpTransport.decode(options.transport), (transport): Options => ({ ...options, transport }))
  },
  check: TelegramConfig.check,
  read: TelegramConfig.read,
  build: (settings: TelegramConfig.Settings, options: Options) =>
    Effect.map(limiterOf(options), (limiter) =>
      fromCalls(Calls.make({ settings, transport: HttpTransport.make(options.transport), limiter }))
    )
})

/**
 * Builds a client from settings (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing the token).
 *
 * @example
 * ```ts
 * import { TelegramClient } from "@reword/telegram"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* TelegramClient.make({ botToken: Redacted.make("123456:ABC-DEF") })
 *   const sent = yield* client.sendMessage({ chatId: 42, text: "Hello" })
 *   return yield* client.editMessageText({ chatId: sent.chat.id, messageId: sent.message_id }, "Hello again")
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: TelegramConfig.SettingsInput,
  options: Options = {}
): Effect.Effect<Service, Config.ConfigError> => construct.make(settings, options)

/**
 * The client as a layer, from settings in code.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: TelegramConfig.SettingsInput,
  options: Options = {}
): Layer.Layer<TelegramClient, Config.ConfigError> => Layer.effect(TelegramClient, make(settings, options))

/**
 * The client as a layer whose settings are read from the environment (the
 * current `ConfigProvider`): `TELEGRAM_BOT_TOKEN`, `TELEGRAM_API_URL`, ...
 * A missing setting fails naming its variable.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options: Options = {}): Layer.Layer<TelegramClient, Config.ConfigError> =>
  Layer.effect(TelegramClient, construct.fromConfig(options))
