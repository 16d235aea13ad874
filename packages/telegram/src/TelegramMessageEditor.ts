/**
 * The Telegram adapter of reword's `MessageEditor`, as core's
 * `MessageEditor.make` takes it: one edit is one `editMessageText` (or
 * `editMessageCaption`, for a request whose `kind` is `caption`), addressed by
 * the chat's id and the message's id in that chat (`ids.providerChatId`,
 * `ids.providerMessageId`), with the business connection
 * (`ids.providerConnectionId`) for a message sent on behalf of a connected
 * business account. Telegram's answer `message is not modified` is a success:
 * the message already shows the text asked for. This module holds what
 * Telegram adds to core's editor; apps build the editor with `Telegram.make`,
 * `Telegram.layer`, `Telegram.layerConfig` or `Telegram.provider`.
 *
 * @since 0.1.0
 */
import { Capabilities, type EditError, EditedMessage, type EditRequest } from "@reword/core"
import { Duration, Result } from "effect"
import type { Edited } from "./internal/edited.ts"
import { lengthOf, MAX_CAPTION, MAX_TEXT, parseChatId, parseInlineMessageId, parseMessageId } from "./internal/ids.ts"
import * as TelegramConfig from "./TelegramConfig.ts"

/**
 * What Telegram can do: edit the text (or the caption) of one message per
 * call, addressed by its chat and its id (or, for a message sent in inline
 * mode, by `ids.providerInlineMessageId` alone: never both), at once; a business message someone
 * else sent (`ids.providerConnectionId` with `sentBy: "other"`) only within
 * 48 hours of its `sentAt` (stated on every edit method); and send a new
 * message (`sendMessage`), so the `newMessage` fallback is there. No edit
 * count: Telegram states none.
 *
 * @category capabilities
 * @since 0.1.0
 */
export const capabilities: Capabilities.Capabilities = new Capabilities.Capabilities({
  requiredIds: ["providerChatId", "providerMessageId"],
  alternativeIds: ["providerInlineMessageId"],
  files: false,
  authorDetails: false,
  chatDetails: false,
  language: false,
  maxMessagesPerCall: 1,
  kinds: ["text", "caption"],
  editWindows: [
    {
      rule: "telegram: a business message the bot did not send can be edited within 48 hours of sending",
      maxAge: Duration.hours(48),
      appliesTo: "business messages sent by others"
    }
  ],
  applied: "immediately",
  fallbacks: ["fail", "newMessage"]
})

const problemOf = (path: string, parsed: Result.Result<unknown, string>): ReadonlyArray<EditError.Problem> =>
  Result.isFailure(parsed) ? [{ path, message: parsed.failure }] : []

/** Problems of a text, by what it is. */
const textProblems = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const text = request.text
  if (text === undefined) return []
  if (text.trim().length === 0) {
    return [{ path: "text", message: "must not be blank: Telegram refuses a text of spaces only" }]
  }
  const max = request.kind === "caption" ? MAX_CAPTION : MAX_TEXT
  return lengthOf(text) > max
    ? [{ path: "text", message: `must be at most ${max} characters for a Telegram ${request.kind ?? "text"}` }]
    : []
}

/**
 * The problems of a request that only Telegram has, found once, before
 * anything is sent: its chat id is an integer or an `@username`, its message
 * id a positive integer, an inline message id is the text Telegram gave (core
 * already checks that one way of finding the message is there, whole), and its
 * text is not blank and within Telegram's length (4096 characters for a text,
 * 1024 for a caption).
 *
 * @category validation
 * @since 0.1.0
 */
export const validate = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const { providerChatId, providerMessageId, providerInlineMessageId } = request.ids
  return [
    ...(providerChatId === undefined ? [] : problemOf("ids.providerChatId", parseChatId(providerChatId))),
    ...(providerMessageId === undefined ? [] : problemOf("ids.providerMessageId", parseMessageId(providerMessageId))),
    ...(providerInlineMessageId === undefined
      ? []
      : problemOf("ids.providerInlineMessageId", parseInlineMessageId(providerInlineMessageId))),
    ...textProblems(request)
  ]
}

/**
 * The neutral result of an edit: the request's ids, the text (or caption)
 * Telegram answered (the one sent when it answered `message is not
 * modified`), no files, and `edit_date` as `updatedAt`.
 *
 * @category results
 * @since 0.1.0
 */
export const toEditedMessage = (request: EditRequest.EditRequest, edited: Edited): EditedMessage.EditedMessage =>
  new EditedMessage.EditedMessage({
    provider: TelegramConfig.name,
    ids: request.ids,
    text: (request.kind === "caption" ? edited.caption : edited.text) ?? request.text,
    files: [],
    ...(edited.editDate === undefined ? {} : { updatedAt: new Date(edited.editDate * 1000) })
  })
