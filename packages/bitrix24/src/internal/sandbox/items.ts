/**
 * One message of an imconnector call, answered as a real portal answers it:
 * the echo of the user, message and chat (`user` a string, a number for a
 * user the call created; `message.date` as `{}`; `chat.description` in place
 * of `url`), a failed item inside `SUCCESS: true`, and the change the method
 * makes (store, edit with the history kept, delete).
 */
import type { File } from "./model.ts"
import { isRecord, listOf, type Params, textOf } from "./params.ts"
import { messageKey, type PortalState, store, userOf } from "./state.ts"

const MISSING_DATA = "Not all required data was transmitted"

const filesOf = (value: unknown): ReadonlyArray<File> =>
  (listOf(value) ?? []).flatMap((file) =>
    isRecord(file) && typeof file.url === "string" && file.url.length > 0
      ? [{ url: file.url, name: textOf(file.name) }]
      : []
  )

const fileJson = (file: File) => ({ url: file.url, ...(file.name === undefined ? {} : { name: file.name }) })

/** What an item carries, read. */
interface Item {
  readonly method: string
  readonly connector: string
  readonly line: number
  readonly userIn: Params
  readonly messageIn: Params
  readonly authorId: string
  readonly chatId: string
  readonly messageId: string
  readonly text: string | undefined
  readonly files: ReadonlyArray<File>
  readonly date: number
}

const chatEcho = (chatIn: Params, chatId: string) => {
  const chatUrl = textOf(chatIn.url)
  const chatName = textOf(chatIn.name)
  return {
    id: chatId,
    ...(chatName === undefined ? {} : { name: chatName }),
    ...(chatUrl === undefined || chatUrl.length === 0 ? {} : { description: `Link to the original post: ${chatUrl}` })
  }
}

const messageEcho = (item: Item) => {
  const { messageIn, messageId, text, files } = item
  return item.method === "imconnector.delete.messages"
    ? {
        id: messageId,
        ...(messageIn.date === undefined ? {} : { date: {} }),
        ...(text === undefined ? {} : { text }),
        ...(messageIn.files === undefined ? {} : { files: files.map(fileJson) })
      }
    : {
        id: messageId,
        date: {},
        ...(text === undefined ? {} : { text }),
        ...(item.method === "imconnector.send.messages" || messageIn.files !== undefined
          ? { files: files.map(fileJson) }
          : {})
      }
}

const readItem = (method: string, connector: string, line: number, item: Params, start: number): Item => {
  const userIn = item.user as Params
  const messageIn = item.message as Params
  const chatIn = item.chat as Params
  const dateText = textOf(messageIn.date)
  return {
    method,
    connector,
    line,
    userIn,
    messageIn,
    authorId: textOf(userIn.id) ?? "",
    chatId: textOf(chatIn.id) ?? "",
    messageId: textOf(messageIn.id) ?? "",
    text: textOf(messageIn.text),
    files: filesOf(messageIn.files),
    date: dateText !== undefined && /^\d+$/.test(dateText) ? Number(dateText) : Math.floor(start / 1000)
  }
}

const isMissing = (item: Item): boolean =>
  item.authorId.length === 0 ||
  item.chatId.length === 0 ||
  item.messageId.length === 0 ||
  (item.method !== "imconnector.delete.messages" &&
    (item.text === undefined || item.text.length === 0) &&
    item.files.length === 0)

/** What the method does with the item, and the fields it adds to the echo. */
const apply = (s: PortalState, item: Item, userIn: Params): Params => {
  const { connector, line, chatId, messageId, authorId, text, files, date } = item
  const key = messageKey(connector, line, chatId, messageId)
  switch (item.method) {
    case "imconnector.send.messages": {
      const stored = store(s, { connector, line, chatId, messageId, authorId, text, files, date })
      const extra = {
        ...(userIn.skip_phone_validate === "Y" ? { skip_phone_validate: "Y" } : {}),
        ...(item.messageIn.disable_crm === "Y" ? { disable_tracker: "Y" } : {})
      }
      return {
        ...(Object.keys(extra).length === 0 ? {} : { extra }),
        SUCCESS: true,
        session: { ID: String(stored.session.id), CHAT_ID: String(stored.session.chatId) }
      }
    }
    case "imconnector.update.messages": {
      // A message never sent (or deleted) "succeeds" too, and nothing changes: as on a real portal.
      const stored = s.messages.get(key)
      if (stored !== undefined && !stored.deleted) {
        stored.text = text
        stored.files = files
        stored.editedAt = date
        stored.history.push(text)
        s.options.operator?.updated({
          connector,
          line,
          chatId,
          messageId,
          imChatId: stored.session.chatId,
          text
        })
      }
      return { SUCCESS: true }
    }
    default: {
      const stored = s.messages.get(key)
      if (stored !== undefined) stored.deleted = true
      return { SUCCESS: true }
    }
  }
}

/** One item of `RESULT`. */
export const itemOf = (
  s: PortalState,
  method: string,
  connector: string,
  line: number,
  raw: Params,
  start: number
): Params => {
  const item = readItem(method, connector, line, raw, start)
  const message = messageEcho(item)
  const chat = chatEcho(raw.chat as Params, item.chatId)
  if (isMissing(item)) {
    const known = item.authorId.length === 0 ? undefined : s.users.get(`${connector}\u0000${item.authorId}`)
    return {
      ...(known === undefined ? {} : { user: String(known.id) }),
      message,
      chat,
      SUCCESS: false,
      ERRORS: [MISSING_DATA]
    }
  }
  const { user, created } = userOf(s, connector, item.authorId, item.userIn)
  const echo = { user: created ? user.id : String(user.id), message, chat }
  return { ...echo, ...apply(s, item, item.userIn) }
}
