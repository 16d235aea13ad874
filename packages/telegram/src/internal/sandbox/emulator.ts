/**
 * The state and the routes of the Telegram sandbox: bot tokens, chats and
 * messages (`./messages.ts`), the update queue (`./updates.ts`), the rate
 * limits it enforces when asked (`./limits.ts`), and a clock the test moves.
 * The server itself (loopback HTTP, request log, faults) is core's
 * `SandboxServer`.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import * as Limits from "./limits.ts"
import * as Messages from "./messages.ts"
import type { Chat, EnforcedLimits, Message, WebhookTiming } from "./model.ts"
import { type Answer, fail, ok, paramsOf, routeOf, tooManyRequests } from "./protocol.ts"
import * as Updates from "./updates.ts"

export interface Emulator {
  readonly store: Messages.Store
  readonly updates: Updates.Updates
  readonly tokens: Set<string>
  readonly enforcer: Limits.Enforcer | undefined
  /** Moves the sandbox's clock on (or back) by `ms`. */
  readonly advance: (ms: number) => void
  readonly handler: SandboxServer.Handler
  /** A user's message in a chat (an update `message`, or `business_message`). */
  readonly userSends: (chat: Chat, text: string, businessConnectionId?: string) => Message
  /** A user's edit of their message (an update `edited_message`), even one that changes nothing. */
  readonly userEdits: (message: Message, text: string) => void
}

/** The methods that act on a chat: the limits count them. */
const CHAT_METHODS = new Set(["sendmessage", "editmessagetext", "editmessagecaption", "deletemessage"])

export const make = (options: {
  readonly botId: number
  readonly limits: EnforcedLimits | undefined
  readonly webhook: WebhookTiming | undefined
}): Emulator => {
  let offset = 0
  const now = () => Date.now() + offset
  const store: Messages.Store = {
    now,
    bot: { id: options.botId, username: "reword_sandbox_bot" },
    chats: new Map(),
    messages: new Map(),
    inline: new Map(),
    businessConnections: new Set()
  }
  const updates = Updates.make(now, options.webhook)
  const tokens = new Set<string>()
  const enforcer = options.limits === undefined ? undefined : Limits.make(options.limits, now)

  const call = (method: string, params: Record<string, unknown>): Answer | Promise<Answer> => {
    if (enforcer !== undefined && CHAT_METHODS.has(method)) {
      const chatId = Number(params.chat_id)
      const wait = Number.isSafeInteger(chatId) ? enforcer.admit(chatId) : undefined
      if (wait !== undefined) return tooManyRequests(wait)
    }
    switch (method) {
      case "getme":
        return ok({ id: store.bot.id, is_bot: true, first_name: "Sandbox bot", username: store.bot.username })
      case "sendmessage":
        return Messages.send(store, params)
      case "editmessagetext":
        return Messages.edit(store, params, "text")
      case "editmessagecaption":
        return Messages.edit(store, params, "caption")
      case "deletemessage":
        return Messages.remove(store, params)
      case "getupdates":
        return updates.getUpdates(params)
      case "setwebhook":
        return updates.setWebhook(params)
      case "deletewebhook":
        return updates.deleteWebhook(params)
      case "getwebhookinfo":
        return updates.getWebhookInfo()
      default:
        return fail(404)
    }
  }

  const handler: SandboxServer.Handler = (request) => {
    const route = routeOf(request.path)
    if (route._tag === "NotFound") return fail(404)
    if (!tokens.has(route.token)) return fail(401)
    const read = paramsOf(request)
    if (read._tag === "Bad") return read.answer
    return call(route.method, read.params)
  }

  const userSends = (chat: Chat, text: string, businessConnectionId?: string): Message => {
    const message = Messages.store(store, chat, {
      kind: "text",
      from: "user",
      text,
      entities: undefined,
      keyboard: undefined,
      businessConnectionId
    })
    const json = Messages.messageJson(store, message)
    const field =
      businessConnectionId !== undefined ? "business_message" : chat.type === "channel" ? "channel_post" : "message"
    updates.enqueue(chat.id, { [field]: json })
    return message
  }

  const userEdits = (message: Message, text: string): void => {
    message.text = text
    message.editDate = Math.floor(now() / 1000)
    message.history.push(text)
    const chat = store.chats.get(message.chatId)
    const field =
      message.businessConnectionId !== undefined
        ? "edited_business_message"
        : chat?.type === "channel"
          ? "edited_channel_post"
          : "edited_message"
    updates.enqueue(message.chatId, { [field]: Messages.messageJson(store, message) })
  }

  return {
    store,
    updates,
    tokens,
    enforcer,
    advance: (ms) => {
      offset += ms
    },
    handler,
    userSends,
    userEdits
  }
}
