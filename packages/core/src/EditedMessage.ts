/**
 * The message as the provider confirmed it after an edit.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { FileRef, MessageIds } from "./EditRequest.ts"

/**
 * What the provider stored: its name, the message's ids (with the provider's
 * own id where it told us), the text and files, and the update time where known.
 *
 * @category services
 * @since 0.1.0
 */
export class EditedMessage extends Schema.Class<EditedMessage>("@reword/core/EditedMessage")({
  /** The provider that stored the edit (`bitrix24`, `acquire`, ...). */
  provider: Schema.String,
  ids: MessageIds,
  text: Schema.optional(Schema.String),
  files: Schema.Array(FileRef),
  /** When the provider says the message was updated; absent when it does not say. */
  updatedAt: Schema.optional(Schema.Date),
  /**
   * Where the edit went to a new message (the `newMessage` fallback): the ids
   * of the message it supersedes, which the provider could not edit. `ids`
   * are then the new message's: later edits go to it.
   *
   * @since 0.4.0
   */
  supersedes: Schema.optional(MessageIds),
  /**
   * Why the superseded message could not be edited (the refusal's message),
   * where `supersedes` is set.
   *
   * @since 0.4.0
   */
  supersededBecause: Schema.optional(Schema.String)
}) {}
