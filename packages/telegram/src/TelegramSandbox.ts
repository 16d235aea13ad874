/**
 * A faithful, stateful local emulator of the Telegram Bot API, so that an
 * app's own tests can run their edits end to end: a real HTTP server on
 * 127.0.0.1 routing `/bot<token>/<method>` (GET or POST, query, JSON or form
 * parameters, case-insensitive method names, the `/test/` infix), chats and
 * messages keyed by chat and id, the edit rules and the documented errors,
 * an update queue read by `getUpdates` or delivered to a webhook, optional
 * rate limits, a clock the test moves, a request log without the token, fault
 * injection, and an inspection API. Node only; kept out of the main entry
 * point: import it from `@reword/telegram/sandbox`.
 *
 * Built on core's `SandboxServer` (`@reword/core/sandbox`): `sandbox.server`
 * holds the request log (`requests`) and the faults (`inject`, `clearFaults`).
 *
 * @example
 * ```ts
 * import { Telegram } from "@reword/telegram"
 * import { TelegramSandbox } from "@reword/telegram/sandbox"
 * import { createEditor } from "@reword/core/promise"
 *
 * const sandbox = await TelegramSandbox.start()
 * const ids = await sandbox.seedMessage("Meet at 11.")
 * const editor = await createEditor({ providers: Telegram.provider, env: sandbox.env })
 * await editor.update({ ids, text: "Meet at 10." })
 * sandbox.inspect(ids) // { text: "Meet at 10.", history: ["Meet at 11.", "Meet at 10."] }
 * sandbox.server.inject({ fault: TelegramSandbox.Faults.tooManyRequests(1), times: 1 }) // the next call is a 429
 * await editor.dispose()
 * await sandbox.stop()
 * ```
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import { SandboxServer } from "@reword/core/sandbox"
import { Context, type Effect, Layer, Redacted, type Scope } from "effect"
import * as Emulator from "./internal/sandbox/emulator.ts"
import * as Messages from "./internal/sandbox/messages.ts"
import type { Chat, ChatType, EnforcedLimits, Message, QueuedUpdate, WebhookTiming } from "./internal/sandbox/model.ts"
import { fail, tokensIn } from "./internal/sandbox/protocol.ts"
import type { Delivery } from "./internal/sandbox/updates.ts"
import * as TelegramConfig from "./TelegramConfig.ts"

export type {
  /** @since 0.1.0 */
  Chat,
  /** @since 0.1.0 */
  ChatType,
  /** @since 0.1.0 */
  EnforcedLimits,
  /** @since 0.1.0 */
  Message,
  /** @since 0.1.0 */
  QueuedUpdate,
  /** @since 0.1.0 */
  WebhookTiming
} from "./internal/sandbox/model.ts"
export type {
  /** One webhook delivery, as the sandbox logs it. @since 0.1.0 */
  Delivery
} from "./internal/sandbox/updates.ts"

/**
 * The ids {@link Sandbox.seedMessage} answers: the app's ids, and Telegram's
 * chat id and message id of the stored message (always there).
 *
 * @category models
 * @since 0.1.0
 */
export interface SeededIds extends SandboxServer.RelayedIds {
  readonly providerChatId: number
  readonly providerMessageId: number
}

/**
 * How a message is seeded: its kind (a text, or a photo whose caption is the
 * text), who sent it, its keyboard, the business connection it belongs to, and
 * how long ago it was sent.
 *
 * @category models
 * @since 0.1.0
 */
export interface SeedOptions {
  readonly kind?: "text" | "photo" | undefined
  readonly from?: "bot" | "user" | undefined
  readonly keyboard?: "inline" | "reply" | undefined
  readonly businessConnectionId?: string | undefined
  /** The chat's type when the sandbox opens one for the message. Default `private`. */
  readonly chatType?: ChatType | undefined
  /** How long ago the message was sent, in ms. Default 0. */
  readonly agoMs?: number | undefined
}

/**
 * The environment that points reword at a sandbox.
 *
 * @category models
 * @since 0.1.0
 */
export type Environment = {
  readonly REWORD_PROVIDER: "telegram"
  readonly TELEGRAM_BOT_TOKEN: string
  readonly TELEGRAM_API_URL: string
  readonly TELEGRAM_ALLOW_INSECURE_LOOPBACK: "true"
}

/**
 * A sandbox's settings as a plain settings object (`Provider.SettingsObject`): every value a string.
 *
 * @category models
 * @since 0.1.0
 */
export interface PlainSettings {
  readonly provider: "telegram"
  readonly telegram: Readonly<Record<string, string>> & { readonly botToken: string }
}

/**
 * A running Telegram sandbox: core's {@link SandboxServer.ProviderSandbox}
 * contract, plus Telegram's chats, messages, updates and clock.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sandbox extends SandboxServer.ProviderSandbox {
  readonly provider: "telegram"
  /** The server's address, `http://127.0.0.1:<port>`: `TELEGRAM_API_URL` (what `https://api.telegram.org` is to the real one). */
  readonly url: string
  /** The bot's token (fake, so written as it is in `env`). */
  readonly botToken: string
  readonly botId: number
  readonly env: Environment
  /** The same settings as an object, for `Telegram.make`, `Telegram.layer` and `TelegramClient.make`. */
  readonly settings: TelegramConfig.SettingsInput & {
    readonly botToken: Redacted.Redacted<string>
    readonly apiUrl: string
  }
  /** The settings as plain strings, for a config file. */
  readonly plainSettings: () => PlainSettings
  /** Every chat, by id (live). */
  readonly chats: ReadonlyMap<number, Chat>
  /** A message by chat id and message id, or `undefined` (deleted, or never there). */
  readonly message: (chatId: number, messageId: number) => Message | undefined
  /** Opens a chat of this type (default `private`). */
  readonly openChat: (type?: ChatType) => Chat
  /** The user blocks the bot: every call to this chat answers 403 `Forbidden: bot was blocked by the user`. */
  readonly blockBot: (chatId: number) => void
  /** The group is upgraded to a supergroup: calls to it answer 400 with `migrate_to_chat_id`. Answers the new chat. */
  readonly migrateChat: (chatId: number) => Chat
  /** Connects a business account to the bot: answers the `business_connection_id`. */
  readonly connectBusiness: () => string
  /**
   * Stores a message as if the bot had sent it (or a user, with `from: "user"`)
   * into the chat of `ids.providerChatId`, or of `ids.externalChatId` (a chat
   * is opened for each external chat the first time). External ids not given
   * are made up.
   */
  readonly seedMessage: (
    text: string,
    ids?: Partial<SandboxServer.RelayedIds>,
    options?: SeedOptions
  ) => Promise<SeededIds>
  /**
   * Reads a message by `ids.providerChatId` and `ids.providerMessageId` (or an inline message by
   * `ids.providerInlineMessageId`): its text (or caption) and history.
   */
  readonly inspect: (ids: SandboxServer.InspectIds) => SandboxServer.StoredMessage | undefined
  /** Stores an inline message the bot sent (via inline mode, in a chat it is not in): answers its `inline_message_id`. */
  readonly seedInlineMessage: (text: string) => string
  /** An inline message by its `inline_message_id`, or `undefined`. */
  readonly inlineMessage: (inlineMessageId: string) => Message | undefined
  /** A user sends a message in a chat: an update `message` (or `business_message`) is queued. */
  readonly userSends: (chatId: number, text: string, businessConnectionId?: string) => Message
  /** A user edits their message: an update `edited_message` is queued, even when nothing visible changed. */
  readonly userEdits: (chatId: number, messageId: number, text: string) => void
  /** The updates not yet confirmed (`getUpdates`) or delivered (webhook), oldest first. */
  readonly pendingUpdates: () => ReadonlyArray<QueuedUpdate>
  /** Every webhook delivery, oldest first. */
  readonly deliveries: ReadonlyArray<Delivery>
  /** Moves the sandbox's clock on by `ms` (edit dates, the 48-hour windows, the 24-hour expiry of updates). */
  readonly advanceClock: (ms: number) => void
  /** The sandbox's clock, Unix ms. */
  readonly now: () => number
  /** Makes another valid token for the same bot. */
  readonly createToken: () => string
  /** Revokes a token: its calls then answer 401 `Unauthorized`. Answers whether it existed. */
  readonly revokeToken: (token: string) => boolean
  /** How many calls the enforced rate limits refused (429). */
  readonly refusedByLimits: () => number
  /** Stops the server and the webhook deliveries. Safe to call twice. */
  readonly stop: () => Promise<void>
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
  /** The bot's token; a new random one by default. */
  readonly botToken?: string | undefined
  /** The rate limits to enforce (429 past them): `faq` for the Bot FAQ's, or your own. Default none. */
  readonly limits?: "faq" | EnforcedLimits | undefined
  /** How webhook deliveries are timed (scaled down from Telegram's by default). */
  readonly webhook?: WebhookTiming | undefined
  /** The most requests kept in the log. Default 10,000. */
  readonly logLimit?: number | undefined
  /** The largest request body taken, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * Fault constructors: core's (`status`, `retryAfter`, `html`, `malformedJson`,
 * `empty`, `truncated`, `reset`, `hang`), and Telegram's documented errors.
 *
 * @category utils
 * @since 0.1.0
 */
export const Faults = {
  ...SandboxServer.Faults,
  /** 429 `Too Many Requests: retry after N`, with `parameters.retry_after` and `Retry-After`. */
  tooManyRequests: (retryAfter: number): SandboxServer.Fault =>
    faultOf(fail(429, `retry after ${retryAfter}`, { retry_after: retryAfter })),
  /** 403 `Forbidden: bot was blocked by the user`. */
  blocked: (): SandboxServer.Fault => faultOf(fail(403, "bot was blocked by the user")),
  /** 400 `Bad Request: chat not found`. */
  chatNotFound: (): SandboxServer.Fault => faultOf(fail(400, "chat not found")),
  /** 400 `Bad Request: group chat was upgraded to a supergroup chat`, with `migrate_to_chat_id`. */
  migrated: (newChatId: number): SandboxServer.Fault =>
    faultOf(fail(400, "group chat was upgraded to a supergroup chat", { migrate_to_chat_id: newChatId })),
  /** A JSON 5xx (`{"ok":false,"error_code":502,"description":"Bad Gateway"}` by default). */
  serverError: (status = 502): SandboxServer.Fault => faultOf(fail(status)),
  /** 409 `Conflict: terminated by other getUpdates request; ...`. */
  conflict: (): SandboxServer.Fault =>
    faultOf(fail(409, "terminated by other getUpdates request; make sure that only one bot instance is running"))
} as const

function faultOf(answer: SandboxServer.SandboxAnswer): SandboxServer.Fault {
  return SandboxServer.Faults.status(answer.status, answer.body, answer.headers)
}

const newToken = (botId: number): string => `${botId}:AA${randomBytes(24).toString("base64url")}`

const plainOf = (env: Environment): PlainSettings => ({
  provider: "telegram",
  telegram: {
    botToken: env.TELEGRAM_BOT_TOKEN,
    ...Object.fromEntries(
      TelegramConfig.settings.flatMap((setting) => {
        const value = (env as Readonly<Record<string, string | undefined>>)[setting.env]
        return value === undefined ? [] : [[setting.key, value]]
      })
    )
  }
})

const idOf = (value: unknown): number | undefined => {
  const id =
    typeof value === "number" ? value : typeof value === "string" && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN
  return Number.isSafeInteger(id) ? id : undefined
}

const typeOfId = (id: number): ChatType => (id > 0 ? "private" : id < -1_000_000_000_000 ? "supergroup" : "group")

/**
 * Starts a sandbox on 127.0.0.1. Rejects when an option is unusable (a token
 * that is not a bot token) or the port is taken.
 *
 * @example
 * ```ts
 * import { TelegramSandbox } from "@reword/telegram/sandbox"
 *
 * const sandbox = await TelegramSandbox.start({ limits: "faq" })
 * console.log(sandbox.env.TELEGRAM_API_URL) // http://127.0.0.1:<port>
 * await sandbox.stop()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = async (options: Options = {}): Promise<Sandbox> => {
  const botToken = options.botToken ?? newToken(6_000_000_000 + Math.floor(Math.random() * 1_000_000))
  if (!TelegramConfig.isBotToken(botToken)) throw new TypeError("botToken must be a bot token: <bot id>:<secret>")
  const botId = Number(botToken.slice(0, botToken.indexOf(":")))
  const emulator = Emulator.make({
    botId,
    limits: options.limits === "faq" ? { perSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20 } : options.limits,
    webhook: options.webhook
  })
  emulator.tokens.add(botToken)
  const { server, stop } = await SandboxServer.host(emulator.handler, {
    port: options.port,
    logLimit: options.logLimit,
    maxBodyBytes: options.maxBodyBytes,
    // The token travels in the path: the log scrubs it there too.
    credentials: tokensIn,
    // An answer the emulator could not give is the Bot API's own 500.
    internalError: (message) => fail(500, message),
    beforeStop: () => emulator.updates.stop()
  })
  const { store } = emulator
  const env: Environment = {
    REWORD_PROVIDER: "telegram",
    TELEGRAM_BOT_TOKEN: botToken,
    TELEGRAM_API_URL: server.url,
    TELEGRAM_ALLOW_INSECURE_LOOPBACK: "true"
  }
  const chatOf = (id: number): Chat => {
    const chat = store.chats.get(id)
    if (chat === undefined) throw new Error(`The sandbox has no chat ${id}`)
    return chat
  }
  /** The chat each external chat was seeded into. */
  const externalChats = new Map<string, number>()
  const seed = SandboxServer.makeSeeder()

  const seedMessage = async (
    text: string,
    ids: Partial<SandboxServer.RelayedIds> = {},
    seedOptions: SeedOptions = {}
  ): Promise<SeededIds> => {
    const external = seed(text, ids)
    const givenChat = ids.providerChatId === undefined ? undefined : idOf(ids.providerChatId)
    if (ids.providerChatId !== undefined && (givenChat === undefined || givenChat === 0)) {
      throw new TypeError(`providerChatId ${ids.providerChatId} is not a Telegram chat id (an integer)`)
    }
    const known = givenChat ?? externalChats.get(external.externalChatId)
    const chat =
      (known === undefined ? undefined : store.chats.get(known)) ??
      Messages.openChat(store, seedOptions.chatType ?? (known === undefined ? "private" : typeOfId(known)), known)
    if (givenChat === undefined) externalChats.set(external.externalChatId, chat.id)
    const wanted = ids.providerMessageId
    if (wanted !== undefined) {
      if (!Number.isSafeInteger(wanted) || wanted <= 0) {
        throw new TypeError(`providerMessageId ${wanted} is not a Telegram message id (a positive integer)`)
      }
      if (store.messages.has(Messages.keyOf(chat.id, wanted))) {
        throw new Error(`The sandbox already has message ${wanted} in chat ${chat.id}`)
      }
      chat.nextMessageId = Math.max(chat.nextMessageId, wanted)
      if (chat.nextMessageId !== wanted) throw new Error(`Message ids in chat ${chat.id} are past ${wanted}`)
    }
    const connection = seedOptions.businessConnectionId
    if (connection !== undefined) store.businessConnections.add(connection)
    const message = Messages.store(store, chat, {
      kind: seedOptions.kind ?? "text",
      from: seedOptions.from ?? "bot",
      text,
      entities: undefined,
      keyboard:
        seedOptions.keyboard === "reply"
          ? { kind: "reply", markup: { keyboard: [[{ text: "Yes" }, { text: "No" }]] } }
          : seedOptions.keyboard === "inline"
            ? { kind: "inline", markup: { inline_keyboard: [[{ text: "Open", callback_data: "open" }]] } }
            : undefined,
      businessConnectionId: connection,
      date: Math.floor((store.now() - (seedOptions.agoMs ?? 0)) / 1000)
    })
    return { ...external, providerChatId: chat.id, providerMessageId: message.messageId }
  }

  const message = (chatId: number, messageId: number) => store.messages.get(Messages.keyOf(chatId, messageId))

  return {
    provider: "telegram",
    url: server.url,
    botToken,
    botId,
    env,
    settings: { botToken: Redacted.make(botToken), apiUrl: server.url, allowInsecureLoopback: true },
    plainSettings: () => plainOf(env),
    server,
    chats: store.chats,
    message,
    openChat: (type = "private") => Messages.openChat(store, type),
    blockBot: (chatId) => {
      chatOf(chatId).blocked = true
    },
    migrateChat: (chatId) => {
      const old = chatOf(chatId)
      const next = Messages.openChat(store, "supergroup")
      old.migratedTo = next.id
      return next
    },
    connectBusiness: () => {
      const id = `sandbox-business-${randomBytes(6).toString("hex")}`
      store.businessConnections.add(id)
      return id
    },
    seedMessage,
    inspect: (ids) => {
      const chatId = idOf(ids?.providerChatId)
      const messageId = idOf(ids?.providerMessageId)
      const inline = ids?.providerInlineMessageId
      const found =
        inline !== undefined
          ? store.inline.get(inline)
          : chatId === undefined || messageId === undefined
            ? undefined
            : message(chatId, messageId)
      return found === undefined ? undefined : { text: found.text, history: [...found.history] }
    },
    seedInlineMessage: (text) => {
      const id = `AgAAA${randomBytes(12).toString("base64url")}`
      store.inline.set(id, {
        chatId: 0,
        messageId: 0,
        kind: "text",
        from: "bot",
        date: Math.floor(store.now() / 1000),
        editDate: undefined,
        text,
        entities: undefined,
        keyboard: undefined,
        businessConnectionId: undefined,
        history: [text]
      })
      return id
    },
    inlineMessage: (inlineMessageId) => store.inline.get(inlineMessageId),
    userSends: (chatId, text, businessConnectionId) => emulator.userSends(chatOf(chatId), text, businessConnectionId),
    userEdits: (chatId, messageId, text) => {
      const found = message(chatId, messageId)
      if (found === undefined) throw new Error(`The sandbox has no message ${messageId} in chat ${chatId}`)
      emulator.userEdits(found, text)
    },
    pendingUpdates: emulator.updates.pending,
    deliveries: emulator.updates.deliveries,
    advanceClock: emulator.advance,
    now: store.now,
    createToken: () => {
      const token = newToken(botId)
      emulator.tokens.add(token)
      return token
    },
    revokeToken: (token) => emulator.tokens.delete(token),
    refusedByLimits: () => emulator.enforcer?.refused() ?? 0,
    stop
  }
}

/**
 * A sandbox for the life of a scope: stopped when the scope closes.
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
export class TelegramSandbox extends Context.Service<TelegramSandbox, Sandbox>()("@reword/telegram/TelegramSandbox") {}

/**
 * The sandbox as a layer: started when the layer is built, stopped when its scope closes.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<TelegramSandbox> => Layer.effect(TelegramSandbox, scoped(options))
