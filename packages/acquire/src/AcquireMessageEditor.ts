/**
 * The Acquire adapter of reword's `MessageEditor`, as core's `MessageEditor.make`
 * takes it: one edit is one `POST /crm/messenger/chat/message/{messageId}`,
 * addressed by Acquire's own message id (`ids.providerMessageId`). Acquire
 * edits text only: files are `Unsupported`, and a language hint becomes
 * `translateLangKey`. This module holds what Acquire adds to core's editor;
 * apps build the editor with `Acquire.make`, `Acquire.layer`,
 * `Acquire.layerConfig` or `Acquire.provider`.
 *
 * @since 0.1.0
 */
import { Capabilities, type EditError, EditedMessage, EditRequest } from "@reword/core"
import { Result } from "effect"
import * as AcquireConfig from "./AcquireConfig.ts"
import type { AcquireMessage } from "./AcquireSchemas.ts"
import { MESSAGE_ID_RULE, parsePositiveId } from "./internal/ids.ts"

/**
 * What Acquire can do: edit the text of one message per call, addressed by its
 * own message id, with an optional language for translation, at once, with no
 * edit window or count it states. It cannot send through reword, so the only
 * fallback is `fail`.
 *
 * @category capabilities
 * @since 0.1.0
 */
export const capabilities: Capabilities.Capabilities = new Capabilities.Capabilities({
  requiredIds: ["providerMessageId"],
  files: false,
  authorDetails: false,
  chatDetails: false,
  language: true,
  maxMessagesPerCall: 1,
  kinds: ["text"],
  applied: "immediately",
  fallbacks: ["fail"]
})

/**
 * The problems of a request that only Acquire has, found once, before anything
 * is sent: its message id must be a positive integer (core already checks that
 * one is there), and its text must not be blank (Acquire stores text only;
 * core refuses files as `Unsupported`).
 *
 * @category validation
 * @since 0.1.0
 */
export const validate = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const id = request.ids.providerMessageId
  const text = request.text
  return [
    ...(id === undefined || Result.isSuccess(parsePositiveId(id))
      ? []
      : [{ path: "ids.providerMessageId", message: MESSAGE_ID_RULE }]),
    ...(text === undefined || text.trim().length > 0
      ? []
      : [{ path: "text", message: "must not be empty: Acquire stores text only" }])
  ]
}

/**
 * The neutral result of an update: the answered id as `providerMessageId` with
 * the request's other ids, the answered text (the text sent when the answer
 * leaves it out), no files, and `dateUpdated` as `updatedAt`.
 *
 * @category results
 * @since 0.1.0
 */
export const toEditedMessage = (
  request: EditRequest.EditRequest,
  message: {
    readonly id: AcquireMessage["id"]
    readonly message?: string | undefined
    readonly dateUpdated?: Date | undefined
  }
): EditedMessage.EditedMessage =>
  new EditedMessage.EditedMessage({
    provider: AcquireConfig.name,
    // The request's own ids when the answer names the same message (as it does): nothing to build again.
    ids:
      message.id === request.ids.providerMessageId
        ? request.ids
        : new EditRequest.MessageIds({ ...request.ids, providerMessageId: message.id }),
    text: message.message ?? request.text,
    files: [],
    ...(message.dateUpdated === undefined ? {} : { updatedAt: message.dateUpdated })
  })
