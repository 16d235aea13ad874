/**
 * What a provider can do, so an app can decide before it calls, and so core
 * can refuse what a provider cannot do before anything is sent.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { Problem } from "./EditError.ts"
import { Unsupported } from "./EditError.ts"
import type { EditRequest } from "./EditRequest.ts"

/**
 * The ids a provider may need to find a message.
 *
 * @category utils
 * @since 0.1.0
 */
export const IdName = Schema.Literals([
  "externalMessageId",
  "externalChatId",
  "externalAuthorId",
  "providerMessageId",
  "providerChatId",
  "providerConnectionId"
])

/**
 * @category models
 * @since 0.1.0
 */
export type IdName = typeof IdName.Type

/**
 * @category services
 * @since 0.1.0
 */
export class Capabilities extends Schema.Class<Capabilities>("@reword/core/Capabilities")({
  /** The ids every request must carry for this provider. */
  requiredIds: Schema.Array(IdName),
  /** Whether an edit can change the message's files. */
  files: Schema.Boolean,
  /** Whether author details (names, avatar, ...) are sent along. */
  authorDetails: Schema.Boolean,
  /** Whether chat details (name, url) are sent along. */
  chatDetails: Schema.Boolean,
  /** Whether the language hint is used. */
  language: Schema.Boolean,
  /** The most messages one provider call carries (1 when each edit is its own call). */
  maxMessagesPerCall: Schema.Int
}) {}

/**
 * The problems and unsupported features of a request for a provider with these
 * capabilities. Details the provider ignores (author, chat, language) are not
 * errors: they are optional by nature. Content it cannot store is.
 *
 * @category utils
 * @since 0.1.0
 */
export const check = (
  capabilities: Capabilities,
  request: EditRequest
): { readonly problems: ReadonlyArray<Problem>; readonly unsupported: Unsupported | undefined } => {
  const problems: Array<Problem> = capabilities.requiredIds
    .filter((name) => request.ids[name] === undefined)
    .map((name) => ({ path: `ids.${name}`, message: "is required by this provider" }))
  const unsupported =
    !capabilities.files && request.files !== undefined && request.files.length > 0
      ? new Unsupported({
          capability: "files",
          description: "this provider edits text only; send the files as a new message instead"
        })
      : undefined
  return { problems, unsupported }
}
