/**
 * The wire format of the imconnector message methods, as a real portal speaks
 * it (which is not always what its documentation says): requests with
 * lower-case keys inside `MESSAGES`, answers with one item per input, `user`
 * as a string or a number, `message.date` as `{}`, `chat.description` in place
 * of `url`, and extra fields ignored.
 *
 * @since 0.1.0
 */
import { Untrusted } from "@reword/core/adapter"
import { Schema } from "effect"

/**
 * A string or a number, as PHP serialises ids.
 *
 * @category schemas
 * @since 0.1.0
 */
export const IdValue = Schema.Union([Schema.String, Schema.Number])

/**
 * @category schemas
 * @since 0.1.0
 */
export type IdValue = typeof IdValue.Type

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/**
 * `MESSAGES[i].user`: the author as the external system knows them.
 *
 * @category schemas
 * @since 0.1.0
 */
export const User = Schema.Struct({
  /** The external system's user id (required). */
  id: Schema.String,
  name: Schema.optionalKey(Schema.String),
  last_name: Schema.optionalKey(Schema.String),
  picture: Schema.optionalKey(Schema.Struct({ url: Schema.String })),
  url: Schema.optionalKey(Schema.String),
  gender: Schema.optionalKey(Schema.Literals(["male", "female"])),
  email: Schema.optionalKey(Schema.String),
  phone: Schema.optionalKey(Schema.String),
  skip_phone_validate: Schema.optionalKey(Schema.Literal("Y"))
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type User = typeof User.Type

/**
 * A file of a message, by URL.
 *
 * @category schemas
 * @since 0.1.0
 */
export const File = Schema.Struct({
  url: Schema.String,
  name: Schema.optionalKey(Schema.String)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type File = typeof File.Type

/**
 * `MESSAGES[i].message`: the message, by the external system's id.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Message = Schema.Struct({
  /** The external message id: the same one used by `imconnector.send.messages`. */
  id: Schema.String,
  /** Unix seconds. */
  date: Schema.optionalKey(Schema.Int),
  text: Schema.optionalKey(Schema.String),
  files: Schema.optionalKey(Schema.Array(File)),
  disable_crm: Schema.optionalKey(Schema.Literal("Y")),
  /** A Bitrix24 manager's id, to write as that manager. */
  user_id: Schema.optionalKey(Schema.Int)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type Message = typeof Message.Type

/**
 * `MESSAGES[i].chat`: the chat, by the external system's id.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Chat = Schema.Struct({
  id: Schema.String,
  name: Schema.optionalKey(Schema.String),
  url: Schema.optionalKey(Schema.String)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type Chat = typeof Chat.Type

/**
 * One element of `MESSAGES` for `imconnector.send.messages` and
 * `imconnector.update.messages`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const MessageItem = Schema.Struct({ user: User, message: Message, chat: Chat })

/**
 * @category schemas
 * @since 0.1.0
 */
export type MessageItem = typeof MessageItem.Type

/**
 * One element of `MESSAGES` for `imconnector.delete.messages`: ids only.
 *
 * @category schemas
 * @since 0.1.0
 */
export const DeleteItem = Schema.Struct({
  user: Schema.Struct({ id: Schema.String }),
  message: Schema.Struct({ id: Schema.String }),
  chat: Schema.Struct({ id: Schema.String })
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type DeleteItem = typeof DeleteItem.Type

/**
 * The body of the three methods (without `auth`, which the client adds).
 * Top-level keys are upper case; the portal lower-cases every key inside
 * `MESSAGES`, so they are written lower case here.
 *
 * @category schemas
 * @since 0.1.0
 */
export const MessagesRequest = <Item extends Schema.Top>(item: Item) =>
  Schema.Struct({
    CONNECTOR: Schema.String,
    LINE: Schema.Int,
    MESSAGES: Schema.NonEmptyArray(item)
  })

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/**
 * The `time` object of every successful answer. `operating` and
 * `operating_reset_at` feed the operating-time tracking.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Time = Schema.Struct({
  start: Schema.optionalKey(Schema.Number),
  finish: Schema.optionalKey(Schema.Number),
  duration: Schema.optionalKey(Schema.Number),
  processing: Schema.optionalKey(Schema.Number),
  date_start: Schema.optionalKey(Schema.String),
  date_finish: Schema.optionalKey(Schema.String),
  /** Unix seconds at which the oldest minute of operating time drops out. */
  operating_reset_at: Schema.optionalKey(Schema.Number),
  /** Seconds of server time this method used in the last 10 minutes. */
  operating: Schema.optionalKey(Schema.Number)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type Time = typeof Time.Type

/**
 * The session an item was routed to (send only).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Session = Schema.Struct({
  ID: Schema.optionalKey(IdValue),
  CHAT_ID: Schema.optionalKey(IdValue)
})

/**
 * One element of `result.DATA.RESULT`: how one input message fared. Judge each
 * by its own `SUCCESS`: a failed item does not fail the call.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ResultItem = Schema.Struct({
  /** The internal Bitrix24 user id: a string, or a number for a user this call created. */
  user: Schema.optionalKey(Schema.NullOr(IdValue)),
  message: Schema.optionalKey(
    Schema.Struct({
      id: Schema.optionalKey(IdValue),
      /** Serialised as `{}` by the portal: present, but says nothing. */
      date: Schema.optionalKey(Schema.Unknown),
      text: Schema.optionalKey(Schema.NullOr(Schema.String)),
      files: Schema.optionalKey(Schema.Unknown)
    })
  ),
  chat: Schema.optionalKey(
    Schema.Struct({
      id: Schema.optionalKey(IdValue),
      name: Schema.optionalKey(Schema.NullOr(Schema.String)),
      /** Replaces the `url` sent ("Link to the original post: ..."). */
      description: Schema.optionalKey(Schema.NullOr(Schema.String))
    })
  ),
  extra: Schema.optionalKey(Schema.Unknown),
  session: Schema.optionalKey(Schema.Unknown),
  SUCCESS: Schema.Boolean,
  /** Texts without codes, when `SUCCESS` is false. */
  ERRORS: Schema.optionalKey(Schema.Unknown)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type ResultItem = typeof ResultItem.Type

/**
 * `result` of a successful call: `SUCCESS: true` and one item per input.
 *
 * @category schemas
 * @since 0.1.0
 */
export const MessagesSuccess = Schema.Struct({
  SUCCESS: Schema.Literal(true),
  DATA: Schema.Struct({ RESULT: Schema.Array(ResultItem) })
})

/**
 * `result` of a call that an older portal refused with HTTP 200 (`SUCCESS:
 * false`, the code somewhere beside it).
 *
 * @category schemas
 * @since 0.1.0
 */
export const MessagesFailure = Schema.Struct({ SUCCESS: Schema.Literal(false) })

/**
 * The envelope of an answer: `result` and `time`, or `error` and
 * `error_description` (older servers add `argument`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Envelope = Schema.Struct({
  result: Schema.optionalKey(Schema.Unknown),
  time: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.Unknown),
  error_description: Schema.optionalKey(Schema.Unknown),
  argument: Schema.optionalKey(Schema.Unknown)
})

/**
 * What a message method answered: one item per input, in input order, and the
 * call's `time` where the portal sent one.
 *
 * @category schemas
 * @since 0.1.0
 */
export interface MessagesResponse {
  readonly items: ReadonlyArray<ResultItem>
  readonly time: Time | undefined
}

/**
 * The `ERRORS` of a failed item as texts (the portal sends strings; anything
 * else is read for a message).
 *
 * @category schemas
 * @since 0.1.0
 */
export const itemErrors = (item: ResultItem): ReadonlyArray<unknown> =>
  item.ERRORS === undefined || item.ERRORS === null
    ? []
    : typeof item.ERRORS === "object"
      ? Untrusted.entries(item.ERRORS, MAX_ITEM_ERRORS).map(([, value]) => value)
      : [item.ERRORS]

/** The most `ERRORS` entries of one item read. */
const MAX_ITEM_ERRORS = 20

// ---------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------

/**
 * The fields of a token answer besides the pair, each read on its own: one
 * that is missing, `null` or of another type is simply absent.
 */
const tokenAnswerExtras = {
  /** When the access token expires, Unix seconds. */
  expires: Schema.Finite,
  /** Seconds the access token lives (3600). */
  expires_in: Schema.Finite,
  /** The portal's REST base, such as `https://x.bitrix24.com/rest/`. */
  client_endpoint: Schema.String,
  /** The OAuth server's REST base; its origin is the OAuth server to use from now on. */
  server_endpoint: Schema.String,
  domain: Schema.String,
  member_id: Schema.String,
  scope: Schema.String,
  status: Schema.String,
  user_id: IdValue
} as const

/**
 * The OAuth server's answer to a refresh. Only `access_token` and
 * `refresh_token` are required: read it with {@link readTokenResponse}, which
 * never lets an odd extra field cost the new pair (the old refresh token is
 * dead once the server answered).
 *
 * @category schemas
 * @since 0.1.0
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.NonEmptyString,
  refresh_token: Schema.NonEmptyString,
  expires: Schema.optionalKey(tokenAnswerExtras.expires),
  expires_in: Schema.optionalKey(tokenAnswerExtras.expires_in),
  client_endpoint: Schema.optionalKey(tokenAnswerExtras.client_endpoint),
  server_endpoint: Schema.optionalKey(tokenAnswerExtras.server_endpoint),
  domain: Schema.optionalKey(tokenAnswerExtras.domain),
  member_id: Schema.optionalKey(tokenAnswerExtras.member_id),
  scope: Schema.optionalKey(tokenAnswerExtras.scope),
  status: Schema.optionalKey(tokenAnswerExtras.status),
  user_id: Schema.optionalKey(tokenAnswerExtras.user_id)
})

/**
 * @category schemas
 * @since 0.1.0
 */
export type TokenResponse = typeof TokenResponse.Type

const isNonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0

/**
 * Reads a token answer leniently: `undefined` unless it carries both tokens as
 * non-empty strings; every other field is kept only when it has its type.
 *
 * @category schemas
 * @since 0.1.0
 */
export const readTokenResponse = (json: unknown): TokenResponse | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  const record = json as Record<string, unknown>
  const accessToken = record.access_token
  const refreshToken = record.refresh_token
  if (!isNonEmptyString(accessToken) || !isNonEmptyString(refreshToken)) return undefined
  const extras: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(tokenAnswerExtras)) {
    if (Schema.is(schema as Schema.Top)(record[key])) extras[key] = record[key]
  }
  return { ...extras, access_token: accessToken, refresh_token: refreshToken } as TokenResponse
}
