/**
 * The reasons of an `EditError` (re-exported by `EditError.ts`, where they are
 * documented for apps), the field-level `Problem`, and how a reason prints and
 * serialises.
 */
import { Duration, Schema } from "effect"
import { millisOf, Problem, ProviderDetail, printable, reasonJson, withDetail } from "./reasonParts.ts"

export { type Detail, millisOf, Problem, printable, type ReasonJson, reasonJson } from "./reasonParts.ts"

/**
 * The request is wrong and will stay wrong: fix it before trying again. Carries
 * every field-level problem found, and never leaves the process when found
 * before sending.
 *
 * @category services
 * @since 0.1.0
 */
export class InvalidRequest extends Schema.Error<InvalidRequest>("@reword/core/EditError/InvalidRequest")({
  _tag: Schema.tag("InvalidRequest"),
  problems: Schema.Array(Problem),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    const listed = this.problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ")
    return withDetail(`Invalid request${listed.length > 0 ? `: ${listed}` : ""}`, this)
  }
}

/**
 * The credentials are missing, invalid or expired beyond repair: re-authenticate.
 *
 * @category services
 * @since 0.1.0
 */
export class Unauthorized extends Schema.Error<Unauthorized>("@reword/core/EditError/Unauthorized")({
  _tag: Schema.tag("Unauthorized"),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return withDetail("Unauthorized: the provider did not accept the credentials", this)
  }
}

/**
 * The credentials are valid but not allowed to do this (scope, permission, auth type).
 *
 * @category services
 * @since 0.1.0
 */
export class Forbidden extends Schema.Error<Forbidden>("@reword/core/EditError/Forbidden")({
  _tag: Schema.tag("Forbidden"),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return withDetail("Forbidden: the credentials are not allowed to edit this message", this)
  }
}

/**
 * The message (or the chat, line, account it lives in) does not exist at the provider.
 *
 * @category services
 * @since 0.1.0
 */
export class NotFound extends Schema.Error<NotFound>("@reword/core/EditError/NotFound")({
  _tag: Schema.tag("NotFound"),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return withDetail("Not found: the provider has no such message", this)
  }
}

/**
 * The provider (or a gateway in front of it) asked to slow down. `retryAfter`
 * says when, where it said so.
 *
 * @category services
 * @since 0.1.0
 */
export class RateLimited extends Schema.Error<RateLimited>("@reword/core/EditError/RateLimited")({
  _tag: Schema.tag("RateLimited"),
  retryAfter: Schema.optional(Schema.Duration),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return true
  }
  /** `retryAfter` in milliseconds, for apps that do not use Effect. */
  get retryAfterMs(): number | undefined {
    return millisOf(this.retryAfter)
  }
  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `, retry after ${Duration.format(this.retryAfter)}`
    return withDetail(`Rate limited${after}`, this)
  }
}

/**
 * The provider is down, overloaded or failing internally; trying again later may work.
 *
 * @category services
 * @since 0.1.0
 */
export class Unavailable extends Schema.Error<Unavailable>("@reword/core/EditError/Unavailable")({
  _tag: Schema.tag("Unavailable"),
  retryAfter: Schema.optional(Schema.Duration),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return true
  }
  /** `retryAfter` in milliseconds, for apps that do not use Effect. */
  get retryAfterMs(): number | undefined {
    return millisOf(this.retryAfter)
  }
  override get message(): string {
    return withDetail("Provider unavailable", this)
  }
}

/**
 * The request never got an answer: connection refused or reset, DNS failure.
 *
 * @category services
 * @since 0.1.0
 */
export class Network extends Schema.Error<Network>("@reword/core/EditError/Network")({
  _tag: Schema.tag("Network"),
  description: Schema.String
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return `Network error: ${this.description}`
  }
}

/**
 * No answer within the time allowed for one attempt.
 *
 * @category services
 * @since 0.1.0
 */
export class Timeout extends Schema.Error<Timeout>("@reword/core/EditError/Timeout")({
  _tag: Schema.tag("Timeout"),
  after: Schema.Duration
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return `Timed out: no answer within ${Duration.format(this.after)}`
  }
}

/**
 * The provider refused the request with a code that maps to no other reason.
 *
 * @category services
 * @since 0.1.0
 */
export class Rejected extends Schema.Error<Rejected>("@reword/core/EditError/Rejected")({
  _tag: Schema.tag("Rejected"),
  /**
   * Where the provider says the chat moved (Telegram's `migrate_to_chat_id`,
   * a group upgraded to a supergroup): the chat's new id. Message ids do not
   * carry over to the new chat, so the edit is not repeated there.
   *
   * @since 0.4.0
   */
  newChatId: Schema.optional(Schema.String),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    const moved = this.newChatId === undefined ? "" : `: the chat moved to ${this.newChatId}`
    return withDetail(`Rejected by the provider${moved}`, this)
  }
}

/**
 * The request needs something this provider cannot do (see `capabilities`),
 * such as files on a provider that edits text only. Nothing was sent.
 *
 * @category services
 * @since 0.1.0
 */
export class Unsupported extends Schema.Error<Unsupported>("@reword/core/EditError/Unsupported")({
  _tag: Schema.tag("Unsupported"),
  capability: Schema.String,
  description: Schema.String
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `Unsupported (${this.capability}): ${this.description}`
  }
}

/** A duration to the second, for a person (an age of "3d 12ms" reads as "3d"). */
const roughly = (duration: Duration.Duration): string => {
  const millis = Duration.toMillis(duration)
  return Duration.format(millis >= 1000 ? Duration.seconds(Math.floor(millis / 1000)) : duration)
}

/**
 * The message is past the provider's edit window (see `Capabilities.editWindows`):
 * `rule` names the rule, `maxAge` is the window and `age` the message's age at
 * the edit (from its `sentAt`). Nothing was sent; trying again cannot help.
 *
 * @category services
 * @since 0.4.0
 */
export class EditWindowClosed extends Schema.Error<EditWindowClosed>("@reword/core/EditError/EditWindowClosed")({
  _tag: Schema.tag("EditWindowClosed"),
  rule: Schema.String,
  maxAge: Schema.Duration,
  age: Schema.Duration
}) {
  /** @since 0.4.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `Edit window closed: ${this.rule} (the message is ${roughly(this.age)} old, the window ${Duration.format(this.maxAge)})`
  }
}

/**
 * The message had as many edits as the provider takes (see
 * `Capabilities.maxEdits`): `editCount` edits were made before this one, and
 * `maxEdits` is the most. Nothing was sent; trying again cannot help.
 *
 * @category services
 * @since 0.4.0
 */
export class EditLimitReached extends Schema.Error<EditLimitReached>("@reword/core/EditError/EditLimitReached")({
  _tag: Schema.tag("EditLimitReached"),
  maxEdits: Schema.Int,
  editCount: Schema.Int
}) {
  /** @since 0.4.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `Edit limit reached: the provider takes at most ${this.maxEdits} edit${this.maxEdits === 1 ? "" : "s"} of a message, and it had ${this.editCount}`
  }
}

/**
 * The provider answered something reword cannot read: not JSON, empty,
 * truncated, too large, or not the documented shape. Editing is idempotent, so
 * trying an edit again is safe (`EditError.isRetryable` says no for a `send`,
 * which may have been stored).
 *
 * @category services
 * @since 0.1.0
 */
export class MalformedResponse extends Schema.Error<MalformedResponse>("@reword/core/EditError/MalformedResponse")({
  _tag: Schema.tag("MalformedResponse"),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return withDetail("Malformed response from the provider", this)
  }
}

/**
 * Every reason an edit can fail for. Match on `_tag`.
 *
 * @category utils
 * @since 0.1.0
 */
export const EditErrorReason = Schema.Union([
  InvalidRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  RateLimited,
  Unavailable,
  Network,
  Timeout,
  Rejected,
  Unsupported,
  MalformedResponse,
  EditWindowClosed,
  EditLimitReached
])

/**
 * @category models
 * @since 0.1.0
 */
export type EditErrorReason = typeof EditErrorReason.Type

/**
 * The tags of {@link EditErrorReason}.
 *
 * @category models
 * @since 0.1.0
 */
export type ReasonTag = EditErrorReason["_tag"]

printable(InvalidRequest, "InvalidRequest", reasonJson)
printable(Unauthorized, "Unauthorized", reasonJson)
printable(Forbidden, "Forbidden", reasonJson)
printable(NotFound, "NotFound", reasonJson)
printable(RateLimited, "RateLimited", reasonJson)
printable(Unavailable, "Unavailable", reasonJson)
printable(Network, "Network", reasonJson)
printable(Timeout, "Timeout", reasonJson)
printable(Rejected, "Rejected", reasonJson)
printable(Unsupported, "Unsupported", reasonJson)
printable(MalformedResponse, "MalformedResponse", reasonJson)
printable(EditWindowClosed, "EditWindowClosed", (reason) => {
  const { maxAge: _maxAge, age: _age, ...json } = reasonJson(reason)
  return { ...json, maxAgeMs: Duration.toMillis(reason.maxAge), ageMs: Duration.toMillis(reason.age) }
})
printable(EditLimitReached, "EditLimitReached", reasonJson)
