/**
 * The inbound port: what a provider tells an app about a message, in neutral
 * terms. A decoder per provider (Bitrix24's connector events, Telegram's
 * updates) turns a verified HTTP request into one of these; a relay stores
 * them and carries them to the other side.
 *
 * - {@link MessageAdded}: a new message (an operator's answer in Bitrix24, a
 *   customer's message in Telegram).
 * - {@link MessageEdited}: a message's text changed.
 * - {@link MessageDeleted}: a message was deleted.
 *
 * Every event names the `provider`, the `account` it arrived for (Bitrix24:
 * the portal's `member_id`; Telegram: the bot's id), the message's ids (the
 * external ids the app uses, and the provider's own where it gives them),
 * `occurredAt` (Unix ms, where the provider says when it happened; for
 * Bitrix24, which does not, when the event left its queue) and `eventId`, the
 * key by which a repeated delivery of the same event is recognised.
 *
 * @since 0.3.0
 */
import { Schema } from "effect"

const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(512))

/**
 * A message's ids as an inbound event gives them: the external ids (the ids
 * the app relays under) and the provider's own.
 *
 * @category schemas
 * @since 0.3.0
 */
const InboundIds = Schema.Struct({
  /** The external chat id (Bitrix24's `chat.id`; for Telegram, the app's id of the chat). */
  externalChatId: Id,
  /** The external message id (Bitrix24's `message.id`; for Telegram, the app's id of the message). */
  externalMessageId: Id,
  /** The provider's chat id (Bitrix24's `im.chat_id`, Telegram's `chat.id`), where given. */
  providerChatId: Schema.optional(Id),
  /** The provider's message id (Bitrix24's `im.message_id`, Telegram's `message_id`), where given. */
  providerMessageId: Schema.optional(Id)
})
export type InboundIds = typeof InboundIds.Type

/**
 * Who wrote the message, where the event says.
 *
 * @category schemas
 * @since 0.3.0
 */
const Author = Schema.Struct({
  id: Id,
  name: Schema.optional(Schema.String.check(Schema.isMaxLength(256)))
})
export type Author = typeof Author.Type

const common = {
  /** `bitrix24`, `telegram`, ... */
  provider: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
  /** The account the event arrived for: Bitrix24's `member_id`, Telegram's bot id. */
  account: Id,
  ids: InboundIds,
  /** When it happened, Unix ms, as the provider says (Telegram: `edit_date`; Bitrix24: `ts`). */
  occurredAt: Schema.optional(Schema.Finite),
  /** The key of this delivery: the same event delivered twice has the same `eventId`. */
  eventId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024))
}

/**
 * A new message.
 *
 * @category schemas
 * @since 0.3.0
 */
const MessageAdded = Schema.TaggedStruct("MessageAdded", {
  ...common,
  text: Schema.String,
  author: Schema.optional(Author)
})
export type MessageAdded = typeof MessageAdded.Type

/**
 * A message's new text.
 *
 * @category schemas
 * @since 0.3.0
 */
const MessageEdited = Schema.TaggedStruct("MessageEdited", {
  ...common,
  text: Schema.String,
  author: Schema.optional(Author)
})
export type MessageEdited = typeof MessageEdited.Type

/**
 * A message deleted.
 *
 * @category schemas
 * @since 0.3.0
 */
const MessageDeleted = Schema.TaggedStruct("MessageDeleted", common)
export type MessageDeleted = typeof MessageDeleted.Type

/**
 * Any inbound event: a Schema whose `members` are `MessageAdded`,
 * `MessageEdited` and `MessageDeleted`. Decode a stored one with
 * `Schema.decodeUnknownResult(InboundEvent.InboundEvent)` (unknown fields are
 * ignored).
 *
 * @example
 * ```ts
 * import { InboundEvent } from "@reword/core"
 * import { Result, Schema } from "effect"
 *
 * const event = Schema.decodeUnknownResult(InboundEvent.InboundEvent)({
 *   _tag: "MessageEdited",
 *   provider: "telegram",
 *   account: "6000000001",
 *   ids: { externalChatId: "tg:42", externalMessageId: "tg:42:7" },
 *   text: "Meet at 10.",
 *   eventId: "telegram:6000000001:901"
 * })
 * if (Result.isSuccess(event)) console.log(event.success._tag, event.success.text) // MessageEdited Meet at 10.
 * ```
 *
 * @category schemas
 * @since 0.3.0
 */
export const InboundEvent = Schema.Union([MessageAdded, MessageEdited, MessageDeleted])
export type InboundEvent = typeof InboundEvent.Type

/**
 * An HTTP request as an inbound decoder takes it: the method, the headers
 * (names in lower case, as `node:http` gives them) and the raw body.
 *
 * @category models
 * @since 0.3.0
 */
export interface HttpRequest {
  readonly method: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: string | Uint8Array
}
