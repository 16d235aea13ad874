/**
 * The sandbox's chats and messages, and the methods that change them
 * (`sendMessage`, `editMessageText`, `editMessageCaption`, `deleteMessage`)
 * with the Bot API's rules: messages keyed by chat and id (ids increasing per
 * chat), a bot edits only its own messages (and a business account's within
 * 48 hours of sending), never one with a reply keyboard, unchanged content is
 * `message is not modified`, lengths are counted after parsing, a text edit
 * without `reply_markup` drops the inline keyboard, deletion only within 48
 * hours.
 */
import type { Chat, ChatType, Entity, Keyboard, Message } from "./model.ts"
import { type Answer, badRequest, fail, ok } from "./protocol.ts"

/** 48 hours, in seconds: the edit window of a business message the bot did not send, and the delete window. */
export const WINDOW_SECONDS = 48 * 3600

/** What the store needs: the clock (Unix ms, the test's) and the bot's identity. */
export interface Store {
  readonly now: () => number
  readonly bot: { readonly id: number; readonly username: string }
  readonly chats: Map<number, Chat>
  readonly messages: Map<string, Message>
  /** Inline messages (sent via the bot in other chats), by `inline_message_id`. */
  readonly inline: Map<string, Message>
  readonly businessConnections: Set<string>
}

export const keyOf = (chatId: number, messageId: number): string => `${chatId}:${messageId}`

const seconds = (store: Store): number => Math.floor(store.now() / 1000)

/** A new chat id: private chats positive, groups negative, supergroups and channels -100... */
export const newChatId = (store: Store, type: ChatType): number => {
  let n = 7_000_000 + store.chats.size + 1
  const idOf = (k: number) => (type === "private" ? k : type === "group" ? -k : -(1_000_000_000_000 + k))
  while (store.chats.has(idOf(n))) n += 1
  return idOf(n)
}

export const openChat = (store: Store, type: ChatType, id: number = newChatId(store, type)): Chat => {
  const chat: Chat = { id, type, blocked: false, migratedTo: undefined, nextMessageId: 1 }
  store.chats.set(id, chat)
  return chat
}

/** The Bot API's JSON of a message. */
export const messageJson = (store: Store, message: Message): Record<string, unknown> => {
  const chat = store.chats.get(message.chatId)
  const content =
    message.kind === "text"
      ? { text: message.text, ...(message.entities === undefined ? {} : { entities: message.entities }) }
      : {
          photo: [{ file_id: `photo-${message.chatId}-${message.messageId}`, width: 640, height: 480 }],
          ...(message.text.length === 0 ? {} : { caption: message.text }),
          ...(message.entities === undefined ? {} : { caption_entities: message.entities })
        }
  return {
    message_id: message.messageId,
    ...(message.from === "bot"
      ? { from: { id: store.bot.id, is_bot: true, first_name: "Sandbox bot", username: store.bot.username } }
      : chat?.type === "channel"
        ? {}
        : { from: { id: 5_000_000 + Math.abs(message.chatId % 1000), is_bot: false, first_name: "Sandbox user" } }),
    chat: { id: message.chatId, type: chat?.type ?? "private" },
    date: message.date,
    ...(message.editDate === undefined ? {} : { edit_date: message.editDate }),
    ...(message.businessConnectionId === undefined ? {} : { business_connection_id: message.businessConnectionId }),
    ...content,
    ...(message.keyboard?.kind === "inline" ? { reply_markup: message.keyboard.markup } : {})
  }
}

/** A chat id parameter: an integer (number or digits), else `undefined`. */
const chatIdOf = (value: unknown): number | undefined => {
  const id =
    typeof value === "number" ? value : typeof value === "string" && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN
  return Number.isSafeInteger(id) ? id : undefined
}

/** The chat a call names, or the answer that refuses it (unknown, blocked, upgraded). */
const chatFor = (store: Store, value: unknown): Chat | Answer => {
  const id = chatIdOf(value)
  const chat = id === undefined ? undefined : store.chats.get(id)
  if (chat === undefined) return badRequest("chat not found")
  if (chat.migratedTo !== undefined) {
    return fail(400, "group chat was upgraded to a supergroup chat", { migrate_to_chat_id: chat.migratedTo })
  }
  if (chat.blocked) return fail(403, "bot was blocked by the user")
  return chat
}

const isAnswer = (value: unknown): value is Answer =>
  typeof value === "object" && value !== null && "status" in value && typeof value.status === "number"

/** Text as parsed by `parse_mode` (HTML: tags dropped, entities decoded; MarkdownV2: markers and escapes dropped). */
const parsed = (text: string, mode: unknown): string | Answer => {
  if (mode === undefined || mode === null || mode === "") return text
  if (mode === "HTML") {
    if (/<[^>]*$/.test(text)) return badRequest("can't parse entities: unclosed start tag")
    return text
      .replace(/<[^>]*>/g, "")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&")
  }
  if (mode === "MarkdownV2" || mode === "Markdown") return text.replace(/\\(.)/g, "$1").replace(/[*_~`|]/g, "")
  return badRequest(`unsupported parse_mode "${String(mode)}"`)
}

const lengthOf = (text: string): number => [...text].length

/** A keyboard parameter: inline or reply, or the answer that refuses it. */
const keyboardOf = (markup: unknown, inlineOnly: boolean): Keyboard | undefined | Answer => {
  if (markup === undefined || markup === null) return undefined
  const value = typeof markup === "string" ? safeJson(markup) : markup
  if (typeof value !== "object" || value === null) return badRequest("can't parse reply keyboard markup JSON object")
  if (Array.isArray((value as Record<string, unknown>).inline_keyboard)) return { kind: "inline", markup: value }
  if (inlineOnly) return badRequest("inline keyboard expected")
  return { kind: "reply", markup: value }
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const entitiesOf = (value: unknown): ReadonlyArray<Entity> | undefined =>
  Array.isArray(value) && value.length > 0 ? (value as ReadonlyArray<Entity>) : undefined

/** Stores a message (seeding, a send, a user's message) in an open chat. */
export const store = (
  s: Store,
  chat: Chat,
  fields: Pick<Message, "kind" | "from" | "text" | "entities" | "keyboard" | "businessConnectionId"> & {
    readonly date?: number | undefined
  }
): Message => {
  const { date, ...rest } = fields
  const message: Message = {
    ...rest,
    chatId: chat.id,
    messageId: chat.nextMessageId++,
    date: date ?? seconds(s),
    editDate: undefined,
    history: [fields.text]
  }
  s.messages.set(keyOf(chat.id, message.messageId), message)
  return message
}

/** `sendMessage`. */
export const send = (s: Store, params: Record<string, unknown>): Answer => {
  const chat = chatFor(s, params.chat_id)
  if (isAnswer(chat)) return chat
  const connection = params.business_connection_id
  if (connection !== undefined && !s.businessConnections.has(String(connection))) {
    return badRequest("BUSINESS_CONNECTION_INVALID")
  }
  if (typeof params.text !== "string") return badRequest("message text is empty")
  const text = parsed(params.text, params.parse_mode)
  if (isAnswer(text)) return text
  if (text.trim().length === 0) return badRequest("message text is empty")
  if (lengthOf(text) > 4096) return badRequest("message is too long")
  const keyboard = keyboardOf(params.reply_markup, false)
  if (isAnswer(keyboard)) return keyboard
  const message = store(s, chat, {
    kind: "text",
    from: "bot",
    text,
    entities: entitiesOf(params.entities),
    keyboard,
    businessConnectionId: connection === undefined ? undefined : String(connection)
  })
  return ok(messageJson(s, message))
}

/** The message an edit or a delete names, or the answer that refuses it. */
const target = (s: Store, params: Record<string, unknown>, verb: "edit" | "delete"): Message | Answer => {
  if (params.inline_message_id !== undefined && verb === "edit") {
    return s.inline.get(String(params.inline_message_id)) ?? badRequest("message to edit not found")
  }
  const chat = chatFor(s, params.chat_id)
  if (isAnswer(chat)) return chat
  const id = chatIdOf(params.message_id)
  const notFound = badRequest(`message to ${verb} not found`)
  if (id === undefined || id <= 0) return notFound
  const message = s.messages.get(keyOf(chat.id, id))
  if (message === undefined) return notFound
  const connection = params.business_connection_id
  if ((message.businessConnectionId ?? undefined) !== (connection === undefined ? undefined : String(connection))) {
    return notFound
  }
  return message
}

/** Whether the bot may edit this message: its own, or a business account's (within 48 h, or with an inline keyboard). */
const editable = (s: Store, message: Message): boolean => {
  if (message.keyboard?.kind === "reply") return false
  if (message.from === "bot") return true
  if (message.businessConnectionId === undefined) return false
  return message.keyboard?.kind === "inline" || seconds(s) - message.date < WINDOW_SECONDS
}

const NOT_MODIFIED =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/** `editMessageText` (`kind: "text"`) and `editMessageCaption` (`kind: "caption"`). */
export const edit = (s: Store, params: Record<string, unknown>, kind: "text" | "caption"): Answer => {
  const message = target(s, params, "edit")
  if (isAnswer(message)) return message
  if (!editable(s, message)) return badRequest("message can't be edited")
  if (kind === "text" && message.kind !== "text") return badRequest("there is no text in the message to edit")
  if (kind === "caption" && message.kind === "text") return badRequest("there is no caption in the message to edit")
  const raw = kind === "text" ? params.text : (params.caption ?? "")
  if (typeof raw !== "string" || (kind === "text" && raw.length === 0)) return badRequest("message text is empty")
  if (raw.length > 32_768) return badRequest("text is too long")
  const text = parsed(raw, params.parse_mode)
  if (isAnswer(text)) return text
  if (kind === "text" && text.trim().length === 0) return badRequest("message text is empty")
  if (kind === "text" && lengthOf(text) > 4096) return badRequest("MESSAGE_TOO_LONG")
  if (kind === "caption" && lengthOf(text) > 1024) return badRequest("message caption is too long")
  const keyboard = keyboardOf(params.reply_markup, true)
  if (isAnswer(keyboard)) return keyboard
  const entities = entitiesOf(kind === "text" ? params.entities : params.caption_entities)
  if (text === message.text && same(entities, message.entities) && same(keyboard, message.keyboard)) {
    return badRequest(NOT_MODIFIED)
  }
  message.text = text
  message.entities = entities
  message.keyboard = keyboard
  message.editDate = seconds(s)
  message.history.push(text)
  // An inline message has no chat to answer: `true`.
  return message.chatId === 0 ? ok(true) : ok(messageJson(s, message))
}

/** `deleteMessage`: within 48 hours of sending. */
export const remove = (s: Store, params: Record<string, unknown>): Answer => {
  const message = target(s, params, "delete")
  if (isAnswer(message)) return message
  if (seconds(s) - message.date >= WINDOW_SECONDS) return badRequest("message can't be deleted")
  s.messages.delete(keyOf(message.chatId, message.messageId))
  return ok(true)
}
