/**
 * The one error every reword operation fails with: {@link EditError}, carrying
 * the provider, the operation and a {@link EditErrorReason} that an app can
 * match on exhaustively.
 *
 * @since 0.1.0
 */
import { Duration, Predicate, Schema } from "effect"

const TypeId: unique symbol = Symbol.for("@reword/core/EditError")

/**
 * One field-level problem of a request or a configuration.
 *
 * @since 0.1.0
 */
export const Problem = Schema.Struct({
  /** Where the problem is, as a dotted path (`ids.externalMessageId`, `files.0.url`). */
  path: Schema.String,
  /** What is wrong, for a person. */
  message: Schema.String
})

/**
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

/**
 * The request is wrong and will stay wrong: fix it before trying again. Carries
 * every field-level problem found, and never leaves the process when found
 * before sending.
 *
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
  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `, retry after ${Duration.format(this.retryAfter)}`
    return withDetail(`Rate limited${after}`, this)
  }
}

/**
 * The provider is down, overloaded or failing internally; trying again later may work.
 *
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
  override get message(): string {
    return withDetail("Provider unavailable", this)
  }
}

/**
 * The request never got an answer: connection refused or reset, DNS failure.
 *
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
 * @since 0.1.0
 */
export class Rejected extends Schema.Error<Rejected>("@reword/core/EditError/Rejected")({
  _tag: Schema.tag("Rejected"),
  ...ProviderDetail
}) {
  /** @since 0.1.0 */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return withDetail("Rejected by the provider", this)
  }
}

/**
 * The request needs something this provider cannot do (see `capabilities`),
 * such as files on a provider that edits text only. Nothing was sent.
 *
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

/**
 * The provider answered something reword cannot read: not JSON, empty,
 * truncated, too large, or not the documented shape. Editing is idempotent, so
 * trying an edit again is safe (`EditError.isRetryable` says no for a `send`,
 * which may have been stored).
 *
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
  MalformedResponse
])

/**
 * @since 0.1.0
 */
export type EditErrorReason = typeof EditErrorReason.Type

/**
 * The tags of {@link EditErrorReason}.
 *
 * @since 0.1.0
 */
export type ReasonTag = EditErrorReason["_tag"]

/** Network failures in which no request reached the provider. */
const NEVER_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)\b/

/**
 * The reword operations an error can come from.
 *
 * @since 0.1.0
 */
export const Operation = Schema.Literals(["update", "updateMany", "send", "delete", "get", "refreshToken"])

/**
 * @since 0.1.0
 */
export type Operation = typeof Operation.Type

/**
 * The error of every reword operation. `reason` says what happened and whether
 * trying again can help (`isRetryable`); `message` reads well to a person and
 * never contains a secret.
 *
 * @example
 * ```ts
 * import { EditError } from "@reword/core"
 * import { Effect } from "effect"
 *
 * declare const edit: Effect.Effect<string, EditError.EditError>
 *
 * const handled = edit.pipe(
 *   Effect.catchReasons("EditError", {
 *     Unauthorized: () => Effect.succeed("re-authenticate"),
 *     InvalidRequest: (reason) => Effect.succeed(`fix: ${reason.message}`)
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
export class EditError extends Schema.Error<EditError>("@reword/core/EditError")({
  _tag: Schema.tag("EditError"),
  provider: Schema.String,
  operation: Operation,
  reason: EditErrorReason
}) {
  /** Marks reword errors across duplicated package copies. */
  readonly [TypeId]: typeof TypeId = TypeId

  /**
   * Whether trying again can help, and is safe. An edit sets the same text
   * again, so repeating it is harmless; a `send` that may have reached the
   * provider is not (the customer would see the message twice): for `send`,
   * only a refusal before any processing (rate limited, no connection made) is
   * retryable.
   */
  get isRetryable(): boolean {
    if (!this.reason.isRetryable) return false
    if (this.operation !== "send") return true
    return (
      this.reason._tag === "RateLimited" ||
      (this.reason._tag === "Network" && NEVER_CONNECTED.test(this.reason.description))
    )
  }

  /** How long the provider asked to wait, where it said so. */
  get retryAfter(): Duration.Duration | undefined {
    return "retryAfter" in this.reason ? this.reason.retryAfter : undefined
  }

  override get message(): string {
    return `${this.provider}.${this.operation}: ${this.reason.message}`
  }
}

/**
 * Whether a value is an {@link EditError}, also one made by another copy of this package.
 *
 * @since 0.1.0
 */
export const isEditError = (u: unknown): u is EditError => Predicate.hasProperty(u, TypeId)

/**
 * Builds an {@link EditError}.
 *
 * @since 0.1.0
 */
export const make = (params: {
  readonly provider: string
  readonly operation: Operation
  readonly reason: EditErrorReason
}): EditError => new EditError(params)
