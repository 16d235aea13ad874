/**
 * The reasons of an `EditError` (re-exported by `EditError.ts`, where they are
 * documented for apps), the field-level `Problem`, and how a reason prints and
 * serialises.
 */
import { Duration, Predicate, Schema } from "effect"

/**
 * One field-level problem of a request or a configuration.
 *
 * @category utils
 * @since 0.1.0
 */
export const Problem = Schema.Struct({
  /** Where the problem is, as a dotted path (`ids.externalMessageId`, `files.0.url`). */
  path: Schema.String,
  /** What is wrong, for a person. */
  message: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type Problem = typeof Problem.Type

/**
 * What the provider itself said, where it said something: the HTTP status, its
 * own error code and description, and a size-capped copy of the raw body.
 * None of these ever contains a secret (the transport scrubs them).
 */
const ProviderDetail = {
  status: Schema.optional(Schema.Int),
  code: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  body: Schema.optional(Schema.String)
}

/**
 * What a provider said about a failure, as every reason with provider detail
 * takes it: the HTTP status, its own code and description, and the raw body.
 * Adapters build it in their `internal/errors.ts`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Detail {
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly description?: string | undefined
  readonly body?: string | undefined
}

interface ProviderDetailFields {
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly description?: string | undefined
}

/** "HTTP 401 invalid_token: The access token provided is invalid" */
const detailText = (detail: ProviderDetailFields): string | undefined => {
  const head = [detail.status === undefined ? undefined : `HTTP ${detail.status}`, detail.code]
    .filter(Predicate.isNotUndefined)
    .join(" ")
  const parts = [head, detail.description].filter((part) => part !== undefined && part.length > 0)
  return parts.length === 0 ? undefined : parts.join(": ")
}

const withDetail = (summary: string, detail: ProviderDetailFields): string => {
  const text = detailText(detail)
  return text === undefined ? summary : `${summary} (${text})`
}

/** Node's `util.inspect` hook (what `console.log` and `console.error` print). */
const NodeInspect = Symbol.for("nodejs.util.inspect.custom")

type Inspect = (value: unknown, options?: object) => string

/** Milliseconds of a duration, for apps that do not use Effect. */
export const millisOf = (duration: Duration.Duration | undefined): number | undefined =>
  duration === undefined ? undefined : Duration.toMillis(duration)

/** The plain fields of a reason or an error (its schema fields, own and enumerable), without `undefined` ones. */
const ownFields = (error: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(error).filter(([, value]) => value !== undefined))

interface Reasonlike {
  readonly _tag: string
  readonly message: string
  readonly isRetryable: boolean
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * What `toJSON` gives for a reason: its tag, its message, whether trying again
 * can help, `retryAfterMs` where the provider said how long to wait, and its
 * fields. Nothing in it is a secret: provider text is scrubbed by the transport.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReasonJson {
  readonly _tag: ReasonTag
  readonly name: ReasonTag
  readonly message: string
  readonly isRetryable: boolean
  readonly retryAfterMs?: number
  readonly [field: string]: unknown
}

export const reasonJson = (reason: Reasonlike): ReasonJson => {
  const { retryAfter, ...fields } = ownFields(reason)
  const retryAfterMs = millisOf(retryAfter as Duration.Duration | undefined)
  return {
    ...fields,
    _tag: reason._tag as ReasonTag,
    name: reason._tag as ReasonTag,
    message: reason.message,
    isRetryable: reason.isRetryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs })
  }
}

/** The fields printed after the stack: what `toJSON` holds, less what the stack's first line already says. */
const printedFields = (json: object): Record<string, unknown> => {
  const { name: _name, message: _message, ...rest } = json as Record<string, unknown>
  if (Predicate.isObject(rest.reason)) {
    const { name: _reasonName, ...reason } = rest.reason as Record<string, unknown>
    return { ...rest, reason }
  }
  return rest
}

/**
 * Makes an error class print as any `Error` does: its `name` (the tag, such as
 * `RateLimited`), its message and stack, then its fields; and gives it a
 * `toJSON` without its stack (unless the class has its own). Effect's errors
 * print their fields only.
 */
export const printable = <C extends new (...args: ReadonlyArray<never>) => Reasonlike & Error>(
  Class: C,
  tag: ReasonTag | "EditError",
  toJson: (self: InstanceType<C>) => object
): void => {
  Object.defineProperty(Class.prototype, "name", { value: tag, configurable: true, writable: true })
  if (!Object.hasOwn(Class.prototype, "toJSON")) {
    Object.defineProperty(Class.prototype, "toJSON", {
      value(this: InstanceType<C>) {
        return toJson(this)
      },
      configurable: true,
      writable: true
    })
  }
  Object.defineProperty(Class.prototype, NodeInspect, {
    value(this: InstanceType<C>, _depth: number, options: object, inspect: Inspect) {
      const head = this.stack ?? `${this.name}: ${this.message}`
      return `${head} ${inspect(printedFields(toJson(this)), options)}`
    },
    configurable: true,
    writable: true
  })
}

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
