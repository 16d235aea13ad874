/**
 * The Telegram adapter's front door, for apps: `import { Telegram } from
 * "@reword/telegram"`, then `Telegram.layerConfig(options)`,
 * `Telegram.layer(settings, options)`, `Telegram.make(settings, options)`, or
 * `Telegram.provider` for core's provider selection and `createEditor`. The
 * other modules hold the parts: `TelegramConfig` (settings),
 * `TelegramClient` (the typed client), `TelegramMessageEditor` (what
 * Telegram adds to core's editor), `TelegramRateLimiter` (the Bot FAQ's
 * limits), `TelegramSchemas` (the answers).
 *
 * @since 0.1.0
 */
import { EditError, EditedMessage, EditRequest, MessageEditor, type Provider } from "@reword/core"
import { HttpTransport, OptionCheck, ProviderKit } from "@reword/core/adapter"
import { type Config, Effect, Layer, Result } from "effect"
import * as Calls from "./internal/calls.ts"
import { parseChatId, parseInlineMessageId, parseMessageId } from "./internal/ids.ts"
import { limiterOf, type OwnOptions, ownProblems } from "./internal/options.ts"
import * as TelegramConfig from "./TelegramConfig.ts"
import { capabilities, toEditedMessage, validate } from "./TelegramMessageEditor.ts"
import type { TelegramMessage } from "./TelegramSchemas.ts"

/**
 * The editor's options: what every editor takes (`retry`, `concurrency`, and
 * `transport` for HTTP), and Telegram's limits (`limits`, or `false` to turn
 * the client-side limiter off; `rateLimiter`, one shared with other editors).
 *
 * @category options
 * @since 0.1.0
 */
export interface Options extends MessageEditor.EditorOptions, OwnOptions {}

/**
 * The options only Telegram understands, as `providerOptions.telegram`.
 *
 * @category options
 * @since 0.1.0
 */
export type ProviderOptions = OwnOptions

/**
 * The editor from checked settings and checked options: the one builder every
 * constructor below ends in. A request reaches `update` validated (core's
 * checks, then `TelegramMessageEditor.validate`), so its ids parse; a call's
 * reason goes back to core as it is. A wait for the limiter is part of the
 * retry budget.
 */
const build = (settings: TelegramConfig.Settings, options: Options): Effect.Effect<MessageEditor.Service> =>
  Effect.map(limiterOf(options), (limiter) => {
    const calls = Calls.make({
      settings,
      transport: HttpTransport.make(options.transport),
      limiter,
      maxLimiterWait: options.retry?.maxElapsed
    })
    return MessageEditor.make(
      {
        provider: TelegramConfig.name,
        capabilities,
        validate,
        update: (request) => {
          const target = targetOf(request.ids)
          const text = request.text ?? ""
          const edit = request.kind === "caption" ? calls.editCaption(target, text) : calls.editText(target, text)
          return Effect.map(edit, (edited) => toEditedMessage(request, edited))
        },
        // The newMessage fallback: one sendMessage to the same chat (and business connection), never repeated.
        send: (request) =>
          request.ids.providerChatId === undefined
            ? Effect.fail(
                new EditError.Unsupported({
                  capability: "send",
                  description: "an inline message has no chat the bot can send a new message to"
                })
              )
            : Effect.map(
                calls.send({
                  chatId: Result.getOrThrow(parseChatId(request.ids.providerChatId)),
                  text: request.text ?? "",
                  businessConnectionId: request.ids.providerConnectionId
                }),
                (sent) => toSentMessage(request, sent)
              )
      },
      options
    )
  })

/**
 * What an edit names, from ids already validated (so they parse): an inline
 * message by its id alone, or a message by its chat and its id.
 */
const targetOf = (ids: EditRequest.MessageIds): Calls.EditTarget =>
  ids.providerInlineMessageId !== undefined
    ? {
        inlineMessageId: Result.getOrThrow(parseInlineMessageId(ids.providerInlineMessageId)),
        businessConnectionId: ids.providerConnectionId
      }
    : {
        chatId: Result.getOrThrow(parseChatId(ids.providerChatId)),
        messageId: Result.getOrThrow(parseMessageId(ids.providerMessageId)),
        businessConnectionId: ids.providerConnectionId
      }

/** A message sent in place of one Telegram could not edit: its new ids (a text message now), as Telegram answered. */
const toSentMessage = (request: EditRequest.EditRequest, sent: TelegramMessage): EditedMessage.EditedMessage =>
  new EditedMessage.EditedMessage({
    provider: TelegramConfig.name,
    ids: new EditRequest.MessageIds({
      ...request.ids,
      providerChatId: sent.chat.id,
      providerMessageId: sent.message_id
    }),
    text: sent.text ?? request.text,
    files: [],
    ...(sent.date === undefined ? {} : { updatedAt: new Date(sent.date * 1000) })
  })

/** The options decoded once (core's, then Telegram's own checked): what `build` takes, checking nothing again. */
const decodeOptions = (options: Options | undefined) =>
  OptionCheck.withProblems(OptionCheck.decodeEditorOptions(options ?? {}), ownProblems(options ?? {}))

const construct = ProviderKit.constructors({
  decodeOptions,
  check: TelegramConfig.check,
  read: TelegramConfig.read,
  build
})

/**
 * Builds the editor from settings in code (checked once here). Fails with a
 * `ConfigError` naming the wrong setting or option (never printing the token).
 * Uses the `TelegramRateLimiter` in context when the options give none.
 *
 * @example
 * ```ts
 * import { Telegram } from "@reword/telegram"
 * import { Redacted } from "effect"
 *
 * const editor = Telegram.make(
 *   { botToken: Redacted.make(process.env.TELEGRAM_BOT_TOKEN ?? "") },
 *   { retry: { maxAttempts: 3 }, transport: { timeout: "10 seconds" } }
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  settings: TelegramConfig.SettingsInput,
  options: Options = {}
): Effect.Effect<MessageEditor.Service, Config.ConfigError> => construct.make(settings, options)

/**
 * The `MessageEditor` layer of Telegram, from settings given in code.
 *
 * @example
 * ```ts
 * import { Telegram } from "@reword/telegram"
 * import { Redacted } from "effect"
 *
 * const EditorLive = Telegram.layer(
 *   { botToken: Redacted.make(process.env.TELEGRAM_BOT_TOKEN ?? "") },
 *   { limits: { perChatPerSecond: 1 } }
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  settings: TelegramConfig.SettingsInput,
  options: Options = {}
): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(MessageEditor.MessageEditor, make(settings, options))

/**
 * The `MessageEditor` layer of Telegram, with its settings read from the
 * environment (the current `ConfigProvider`): `TELEGRAM_BOT_TOKEN`, and
 * optionally `TELEGRAM_API_URL`, `TELEGRAM_TEST_ENVIRONMENT` and
 * `TELEGRAM_ALLOW_INSECURE_LOOPBACK`. A missing setting fails naming its variable.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options: Options = {}): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(MessageEditor.MessageEditor, construct.fromConfig(options))

/**
 * The descriptor that lets core select Telegram by configuration
 * (`REWORD_PROVIDER=telegram`, or a single provider given to `createEditor`):
 * core reads and checks the settings through `config`, then `make` builds.
 *
 * @category descriptor
 * @since 0.1.0
 */
export const provider: Provider.Descriptor<
  TelegramConfig.Settings,
  ProviderOptions,
  typeof TelegramConfig.name,
  TelegramConfig.SettingsInput
> = ProviderKit.describe({
  name: TelegramConfig.name,
  settings: TelegramConfig.settings,
  config: TelegramConfig.config,
  declaration: TelegramConfig.declaration,
  options: {
    limits:
      "the limits the bot keeps to: { perSecond, perChatPerSecond, perGroupPerMinute } (default 30, 1, 20), or false to turn them off",
    rateLimiter: "a TelegramRateLimiter shared with other editors of the same bot"
  },
  make: (settings, options) =>
    Effect.flatMap(Effect.fromResult(Result.mapError(decodeOptions(options), OptionCheck.toConfigError)), (decoded) =>
      build(settings, decoded)
    )
})
