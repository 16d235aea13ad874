/**
 * The neutral request: which sent message to change, and into what. One model
 * serves every provider; each adapter says which ids it needs (see
 * `Capabilities.requiredIds`) and checks the rest itself.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema, SchemaIssue, SchemaParser } from "effect"
import { InvalidRequest, type Problem } from "./EditError.ts"
import { Fallback } from "./internal/fallback.ts"

const MAX_ID_LENGTH = 256
const MAX_TEXT_LENGTH = 100_000
const MAX_FILES = 50
// C0 (NUL included), DEL and C1 control characters: never part of an id or a name, and dangerous in paths and logs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/
// The invisible marks that reorder text around them: an id or a name holding one displays as another.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// A surrogate half alone (paired ones are one code point under `u`): not Unicode text, and PHP's
// `json_decode` refuses the whole request body over it (every message of a Bitrix24 chunk).
const LONE_SURROGATE = /\p{Cs}/u

/** Well-formed Unicode: no lone surrogate halves (what `String.prototype.isWellFormed` checks). */
const wellFormed = Schema.makeFilter((s: string) =>
  LONE_SURROGATE.test(s) ? "must be well-formed Unicode (it holds a lone surrogate half)" : undefined
)
const noControlCharacters = Schema.makeFilter((s: string) =>
  CONTROL_CHARACTERS.test(s) ? "must not contain control characters" : undefined
)
const noBidiControls = Schema.makeFilter((s: string) =>
  BIDI_CONTROLS.test(s)
    ? "must not contain bidirectional control characters (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069)"
    : undefined
)

/**
 * A label a person reads or a provider stores as given (a name, a file name,
 * a URL, an email): well-formed Unicode, with no control or bidirectional
 * control characters.
 *
 * @category utils
 * @since 0.1.0
 */
export const Label = Schema.String.check(wellFormed, noControlCharacters, noBidiControls)

/**
 * An identifier as a provider knows it: non-blank, at most 256 characters,
 * well-formed Unicode, no control characters (NUL, C0, DEL, C1) and no
 * bidirectional control characters. Anything else (`/`, `?`, `#`, unicode) is
 * allowed here; adapters encode ids so that no id can change a request's path
 * or host.
 *
 * @category utils
 * @since 0.1.0
 */
export const Id = Schema.String.check(
  Schema.makeFilter((s: string) => (s.trim().length > 0 ? undefined : "must not be blank")),
  Schema.isMaxLength(MAX_ID_LENGTH, { message: `must be at most ${MAX_ID_LENGTH} characters` }),
  wellFormed,
  noControlCharacters,
  noBidiControls
)

/**
 * An absolute `http:` or `https:` URL.
 *
 * @category utils
 * @since 0.1.0
 */
export const HttpUrl = Label.check(
  Schema.makeFilter((s: string) => (isHttpUrl(s) ? undefined : "must be an absolute http(s) URL"))
)

const isHttpUrl = (s: string): boolean => {
  if (!URL.canParse(s)) return false
  const url = new URL(s)
  return (url.protocol === "https:" || url.protocol === "http:") && url.hostname.length > 0
}

/**
 * The ids that point at one sent message. A provider needs some of them:
 * Bitrix24 the external ids (as used when the message was sent), Acquire its own
 * message id.
 *
 * @category services
 * @since 0.1.0
 */
export class MessageIds extends Schema.Class<MessageIds>("@reword/core/MessageIds")({
  /** The message's id in the external messenger (the relaying app's own id). */
  externalMessageId: Schema.optional(Id),
  /** The chat's id in the external messenger. */
  externalChatId: Schema.optional(Id),
  /** The author's id in the external messenger. */
  externalAuthorId: Schema.optional(Id),
  /** The provider's own id of the message (Acquire's numeric message id, for instance). */
  providerMessageId: Schema.optional(Schema.Union([Id, Schema.Number])),
  /**
   * The provider's own id of the chat the message is in, where the provider
   * keys a message by its chat and its id (Telegram's `chat_id`: a message id
   * is unique only inside its chat).
   */
  providerChatId: Schema.optional(Schema.Union([Id, Schema.Number])),
  /**
   * The provider's id of the connection the message was sent through, where
   * the provider needs it to find the message (Telegram's
   * `business_connection_id`, for a message sent on behalf of a connected
   * business account).
   */
  providerConnectionId: Schema.optional(Id),
  /**
   * The provider's id of a message that is found by it alone, with no chat
   * (Telegram's `inline_message_id`, for a message sent in inline mode): an
   * edit then carries it instead of `providerChatId` and `providerMessageId`.
   *
   * @since 0.4.0
   */
  providerInlineMessageId: Schema.optional(Id)
}) {}

/**
 * A file attached to a message, by URL.
 *
 * @category services
 * @since 0.1.0
 */
export class FileRef extends Schema.Class<FileRef>("@reword/core/FileRef")({
  url: HttpUrl,
  name: Schema.optional(Label.check(Schema.isMaxLength(255)))
}) {}

/**
 * Who wrote the message, as the external messenger knows them.
 *
 * @category services
 * @since 0.1.0
 */
export class Author extends Schema.Class<Author>("@reword/core/Author")({
  firstName: Schema.optional(Label),
  lastName: Schema.optional(Label),
  avatarUrl: Schema.optional(HttpUrl),
  profileUrl: Schema.optional(HttpUrl),
  email: Schema.optional(Label.check(Schema.isPattern(/^[^\s@]+@[^\s@]+$/, { message: "must be an email address" }))),
  phone: Schema.optional(
    Schema.String.check(Schema.isPattern(/^\+?[0-9 ()-]{3,32}$/, { message: "must be a phone number" }))
  ),
  gender: Schema.optional(Schema.Literals(["male", "female"]))
}) {}

/**
 * The chat the message belongs to.
 *
 * @category services
 * @since 0.1.0
 */
export class Chat extends Schema.Class<Chat>("@reword/core/Chat")({
  name: Schema.optional(Label),
  url: Schema.optional(HttpUrl)
}) {}

const ValidDate = Schema.Date.check(
  Schema.makeFilter((d: Date) => (Number.isNaN(d.getTime()) ? "must be a valid date" : undefined))
)

/**
 * What an edit's text is: the message's own text, or the caption of a media message.
 *
 * @category utils
 * @since 0.4.0
 */
export const MessageKind = Schema.Literals(["text", "caption"])

/**
 * @category models
 * @since 0.4.0
 */
export type MessageKind = typeof MessageKind.Type

const Fields = Schema.Struct({
  /** Which message. */
  ids: MessageIds,
  /** The new text: well-formed Unicode. With `files`, at least one of the two is required. */
  text: Schema.optional(
    Schema.String.check(
      Schema.isMaxLength(MAX_TEXT_LENGTH, { message: `must be at most ${MAX_TEXT_LENGTH} characters` }),
      wellFormed
    )
  ),
  /** The new files. */
  files: Schema.optional(
    Schema.Array(FileRef).check(Schema.isMaxLength(MAX_FILES, { message: `must hold at most ${MAX_FILES} files` }))
  ),
  author: Schema.optional(Author),
  chat: Schema.optional(Chat),
  /** An ISO language code of the text (`en`, `pt-BR`), for providers that translate. */
  language: Schema.optional(
    Schema.String.check(
      Schema.isPattern(/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$/, {
        message: "must be an ISO language code such as en or pt-BR"
      })
    )
  ),
  /** When the edit happened; the time of the call when omitted. */
  editedAt: Schema.optional(ValidDate),
  /** When the message was sent, where the app knows it (a provider's edit window counts from it). */
  sentAt: Schema.optional(ValidDate),
  /**
   * What the text is: the message's own text (`text`, the default) or the
   * caption of a media message (`caption`), for providers that edit the two
   * with different calls (Telegram's `editMessageText` and `editMessageCaption`).
   */
  kind: Schema.optional(MessageKind),
  /**
   * How many edits the message had before this one, where the app counts them
   * (the outbox does): a provider with a most-edits rule (`Capabilities.maxEdits`)
   * refuses the edit before any call once it is reached.
   */
  editCount: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  /**
   * Who sent the message: the app itself (`app`, the default) or someone else
   * (`other`: a message of a connected business account its owner wrote,
   * which Telegram lets a bot edit within 48 hours only).
   */
  sentBy: Schema.optional(Schema.Literals(["app", "other"])),
  /**
   * What to do when the provider cannot edit the message (its window is
   * closed, its edits used up, or it cannot edit at all): `{ mode: "fail" }`,
   * or `{ mode: "newMessage", marker: " (edited)" }` to send the text, the
   * marker after it, as a new message where the provider can send. Default:
   * the editor's `fallback` option, else `fail`.
   */
  fallback: Schema.optional(Fallback)
}).check(
  Schema.makeFilter((request) =>
    (request.text !== undefined && request.text.length > 0) || (request.files !== undefined && request.files.length > 0)
      ? undefined
      : { path: ["text"], issue: "text or files are required: an edit must say what the message becomes" }
  )
)

/**
 * A request to update one sent message.
 *
 * @example
 * ```ts
 * const request = {
 *   ids: { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" },
 *   text: "Sorry, I meant Tuesday."
 * }
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class EditRequest extends Schema.Class<EditRequest>("@reword/core/EditRequest")(Fields) {}

/**
 * What an app passes to `update`: the plain-object form of {@link EditRequest}.
 *
 * @category models
 * @since 0.1.0
 */
export type EditRequestInput = typeof EditRequest.Encoded

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Turns a schema failure into field-level problems with dotted paths.
 *
 * @category utils
 * @since 0.1.0
 */
export const problemsOf = (issue: SchemaIssue.Issue): Array<Problem> =>
  formatter(issue).issues.map((entry) => ({
    path: entry.path === undefined || entry.path.length === 0 ? "(request)" : entry.path.map(segmentOf).join("."),
    message: entry.message
  }))

const segmentOf = (segment: PropertyKey | { readonly key: PropertyKey }): string =>
  String(typeof segment === "object" ? segment.key : segment)

const decodeRequest = SchemaParser.decodeUnknownResult(EditRequest, { errors: "all", onExcessProperty: "ignore" })

const ID_KEYS: ReadonlyArray<string> = [
  "externalMessageId",
  "externalChatId",
  "externalAuthorId",
  "providerMessageId",
  "providerChatId",
  "providerConnectionId",
  "providerInlineMessageId"
]
/** The ids that may be numbers as well as strings. */
const NUMERIC_ID_KEYS: ReadonlyArray<string> = ["providerMessageId", "providerChatId"]
const trusted = { disableChecks: true } as const

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether a string passes every check of {@link Id}. */
const isId = (s: unknown): s is string =>
  typeof s === "string" &&
  s.length <= MAX_ID_LENGTH &&
  s.trim().length > 0 &&
  !LONE_SURROGATE.test(s) &&
  !CONTROL_CHARACTERS.test(s) &&
  !BIDI_CONTROLS.test(s)

/**
 * The common request (`{ ids, text }`, every value given and valid) without
 * Schema's walk: the same checks, written out. `undefined` for anything else
 * (another field, a value to refuse, an odd object), which Schema then
 * decodes, naming every problem.
 */
const decodeCommon = (input: unknown): EditRequest | undefined => {
  if (!isPlainObject(input)) return undefined
  let count = 0
  for (const key in input) {
    if (key !== "ids" && key !== "text") return undefined
    count += 1
  }
  const ids = input.ids
  const text = input.text
  if (count !== 2 || !isPlainObject(ids)) return undefined
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT_LENGTH || LONE_SURROGATE.test(text)) {
    return undefined
  }
  const fields: Record<string, string | number> = {}
  let idCount = 0
  for (const key in ids) {
    if (!ID_KEYS.includes(key)) return undefined
    idCount += 1
  }
  // In the schema's order, as Schema would build them.
  for (const key of ID_KEYS) {
    if (!(key in ids)) continue
    const value = ids[key]
    if (typeof value === "number" && NUMERIC_ID_KEYS.includes(key)) {
      if (!Number.isFinite(value)) return undefined
    } else if (!isId(value)) return undefined
    fields[key] = value as string | number
    idCount -= 1
  }
  if (idCount !== 0) return undefined
  return new EditRequest({ ids: new MessageIds(fields, trusted), text }, trusted)
}

/**
 * {@link decode} as a `Result`, synchronously.
 *
 * @category utils
 * @since 0.2.0
 */
export const decodeResult = (input: unknown): Result.Result<EditRequest, InvalidRequest> => {
  if (input instanceof EditRequest) return Result.succeed(input)
  const common = decodeCommon(input)
  if (common !== undefined) return Result.succeed(common)
  const result = decodeRequest(input)
  return Result.isSuccess(result)
    ? Result.succeed(result.success)
    : Result.fail(new InvalidRequest({ problems: problemsOf(result.failure) }))
}

/**
 * Validates untrusted input into an {@link EditRequest}, or fails with
 * {@link InvalidRequest} naming every field that is wrong.
 *
 * @category utils
 * @since 0.1.0
 */
export const decode = (input: unknown): Effect.Effect<EditRequest, InvalidRequest> => {
  // Decoding is synchronous: no fiber is needed to run it.
  const result = decodeResult(input)
  return Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)
}
