/**
 * The answers of the Bot API, as Schemas: the envelope (`{ ok: true, result }`
 * or `{ ok: false, error_code, description, parameters? }`), the `Message` a
 * send or an edit answers, and the `Update` a bot receives. Only what an
 * editing app reads is required; every other field of a `Message` may be
 * added, missing or of an unexpected type without failing the answer (the
 * Bot API grows every few months), and unknown fields are ignored.
 *
 * @since 0.1.0
 */
import { Effect, Option, Schema } from "effect"

/**
 * A field that decodes when it can and is left out when it cannot (missing,
 * `null`, or of another type), instead of failing the whole answer.
 */
const lenient = <S extends Schema.Top>(schema: S) =>
  Schema.optionalKey(schema.pipe(Schema.catchDecoding(() => Effect.succeed(Option.none()))))

/**
 * A Telegram id: an integer that a JS `number` holds exactly (Telegram keeps
 * ids within 52 significant bits; chats of groups and channels are negative).
 *
 * @category schemas
 * @since 0.1.0
 */
export const TelegramId = Schema.Int.check(
  Schema.makeFilter((n: number) => (Number.isSafeInteger(n) ? undefined : "must be a safe integer"))
)

/**
 * The chat a message is in, as far as reword reads it.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Chat extends Schema.Class<Chat>("@reword/telegram/Chat")({
  id: TelegramId,
  /** `private`, `group`, `supergroup` or `channel`. */
  type: lenient(Schema.String),
  title: lenient(Schema.String),
  username: lenient(Schema.String)
}) {}

/**
 * Who sent a message, as far as reword reads it.
 *
 * @category schemas
 * @since 0.3.0
 */
const User = Schema.Struct({
  id: TelegramId,
  is_bot: lenient(Schema.Boolean),
  first_name: lenient(Schema.String),
  last_name: lenient(Schema.String),
  username: lenient(Schema.String)
})

/**
 * One message as the Bot API answers it.
 *
 * @category schemas
 * @since 0.1.0
 */
export class TelegramMessage extends Schema.Class<TelegramMessage>("@reword/telegram/TelegramMessage")({
  /** The message's id, unique inside its chat only: keep it with the chat's id to edit it later. */
  message_id: TelegramId,
  chat: Chat,
  /** Who sent it (absent for channel posts). */
  from: lenient(User),
  /** When it was sent (Unix seconds). */
  date: lenient(Schema.Int),
  /** When it was last edited (Unix seconds); absent on a message never edited. */
  edit_date: lenient(Schema.Int),
  /** The text of a text message. */
  text: lenient(Schema.String),
  /** The caption of a media message. */
  caption: lenient(Schema.String),
  /** The business connection it was sent through, for a business message. */
  business_connection_id: lenient(Schema.String)
}) {}

/**
 * `parameters` of an error answer: how long to wait (`retry_after`, seconds)
 * or where a group moved (`migrate_to_chat_id`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const ResponseParameters = Schema.Struct({
  retry_after: lenient(Schema.Finite),
  migrate_to_chat_id: lenient(TelegramId)
})

/**
 * An error answer: `{ ok: false, error_code, description, parameters? }`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ErrorAnswer = Schema.Struct({
  ok: Schema.Literal(false),
  error_code: Schema.Int,
  description: Schema.String,
  parameters: lenient(ResponseParameters)
})

/**
 * @category models
 * @since 0.1.0
 */
export type ErrorAnswer = typeof ErrorAnswer.Type

/**
 * A success answer carrying one `Message` (send, an edit of a chat message).
 *
 * @category schemas
 * @since 0.1.0
 */
export const MessageAnswer = Schema.Struct({ ok: Schema.Literal(true), result: TelegramMessage })

/**
 * A success answer carrying `true` (delete, an edit of an inline message).
 *
 * @category schemas
 * @since 0.1.0
 */
export const TrueAnswer = Schema.Struct({ ok: Schema.Literal(true), result: Schema.Literal(true) })

/**
 * One update a bot receives (by webhook or `getUpdates`): its id and the
 * payloads an editing app reads; any other payload is ignored.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Update extends Schema.Class<Update>("@reword/telegram/Update")({
  update_id: TelegramId,
  message: lenient(TelegramMessage),
  edited_message: lenient(TelegramMessage),
  channel_post: lenient(TelegramMessage),
  edited_channel_post: lenient(TelegramMessage),
  business_message: lenient(TelegramMessage),
  edited_business_message: lenient(TelegramMessage),
  /** Messages deleted from a connected business account (the only deletions a bot hears of). */
  deleted_business_messages: lenient(
    Schema.Struct({
      business_connection_id: Schema.String,
      chat: Chat,
      message_ids: Schema.Array(TelegramId).check(Schema.isMaxLength(1_000))
    })
  )
}) {}
