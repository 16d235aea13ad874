/**
 * What a provider can do, so an app can decide before it calls, and so core
 * can refuse what a provider cannot do before anything is sent: which ids it
 * needs, what it can edit (text, caption, files), until when (an edit window
 * from the message's `sentAt`), how many times (`maxEdits`), whether an
 * accepted edit shows at once or later, and whether it can send a new message
 * instead (the `newMessage` fallback).
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import type { Fallback as FallbackType } from "./internal/fallback.ts"

const IdName = Schema.Literals([
  "externalMessageId",
  "externalChatId",
  "externalAuthorId",
  "providerMessageId",
  "providerChatId",
  "providerConnectionId",
  "providerInlineMessageId"
])

/**
 * The ids a provider may need to find a message.
 *
 * @category models
 * @since 0.1.0
 */
export type IdName = typeof IdName.Type

const EditKind = Schema.Literals(["text", "caption", "files"])

/**
 * What an edit can change: a message's text, a media message's caption, its files.
 *
 * @category models
 * @since 0.4.0
 */
export type EditKind = typeof EditKind.Type

const EditWindow = Schema.Struct({
  /** The rule, as a person reads it (it is repeated in `EditWindowClosed`). */
  rule: Schema.String,
  /** The longest time after the message's `sentAt` that an edit is accepted. */
  maxAge: Schema.Duration,
  /**
   * Which messages the window holds for: every message, or (Telegram's rule)
   * only the messages of a business connection (`ids.providerConnectionId`)
   * that someone else sent (`sentBy: "other"`).
   */
  appliesTo: Schema.Literals(["every message", "business messages sent by others"])
})

/**
 * An edit window: how long after it was sent a message can be edited.
 *
 * @category models
 * @since 0.4.0
 */
export type EditWindow = typeof EditWindow.Type

/**
 * What the app chooses to happen when a provider cannot edit a message (its
 * window is closed, its edits are used up, or it cannot edit at all): `fail`
 * (the default), or send the text as a new message with the app's marker
 * after it (such as `" (edited)"`), where the provider can send.
 *
 * @category models
 * @since 0.4.0
 */
export type Fallback = FallbackType

/**
 * @category services
 * @since 0.1.0
 */
export class Capabilities extends Schema.Class<Capabilities>("@reword/core/Capabilities")({
  /** The ids every request must carry for this provider (unless it carries `alternativeIds` instead). */
  requiredIds: Schema.Array(IdName),
  /**
   * Another set of ids that finds a message instead of `requiredIds`
   * (Telegram: an inline message's `providerInlineMessageId` instead of its
   * chat and message ids). A request carries one set, whole, and never ids
   * of both. Default none.
   *
   * @since 0.4.0
   */
  alternativeIds: Schema.optional(Schema.Array(IdName)),
  /** Whether an edit can change the message's files (`kinds` then holds `files`). */
  files: Schema.Boolean,
  /** Whether author details (names, avatar, ...) are sent along. */
  authorDetails: Schema.Boolean,
  /** Whether chat details (name, url) are sent along. */
  chatDetails: Schema.Boolean,
  /** Whether the language hint is used. */
  language: Schema.Boolean,
  /** The most messages one provider call carries (1 when each edit is its own call). */
  maxMessagesPerCall: Schema.Int,
  /**
   * Whether the provider can edit a sent message at all: `none` for one that
   * cannot (WhatsApp's Cloud API), whose every edit is refused before any
   * call (`Unsupported`, capability `edit`). Default `messages`.
   *
   * @since 0.4.0
   */
  edit: Schema.Literals(["messages", "none"]).pipe(
    Schema.withConstructorDefault(Effect.succeed<"messages" | "none">("messages"))
  ),
  /**
   * What an edit can change (a request's `kind`, default `text`; `files`
   * where `files` is true). Default `["text"]`.
   *
   * @since 0.4.0
   */
  kinds: Schema.Array(EditKind).pipe(Schema.withConstructorDefault(Effect.succeed<ReadonlyArray<EditKind>>(["text"]))),
  /**
   * The provider's edit windows, counted from a request's `sentAt` (a request
   * without `sentAt` is left to the provider). Default none.
   *
   * @since 0.4.0
   */
  editWindows: Schema.Array(EditWindow).pipe(
    Schema.withConstructorDefault(Effect.succeed<ReadonlyArray<EditWindow>>([]))
  ),
  /**
   * The most edits a message takes, where the provider has such a rule: a
   * request whose `editCount` (edits made before it) reaches it is refused.
   *
   * @since 0.4.0
   */
  maxEdits: Schema.optional(Schema.Int),
  /**
   * Whether an edit the provider accepted shows at once (`immediately`) or
   * later (`later`: the provider queues it). Default `immediately`.
   *
   * @since 0.4.0
   */
  applied: Schema.Literals(["immediately", "later"]).pipe(
    Schema.withConstructorDefault(Effect.succeed<"immediately" | "later">("immediately"))
  ),
  /**
   * The fallbacks an app may choose: `fail` always; `newMessage` where the
   * provider can send (its adapter has `send`). Default `["fail"]`.
   *
   * @since 0.4.0
   */
  fallbacks: Schema.Array(Schema.Literals(["fail", "newMessage"])).pipe(
    Schema.withConstructorDefault(Effect.succeed<ReadonlyArray<"fail" | "newMessage">>(["fail"]))
  )
}) {}
