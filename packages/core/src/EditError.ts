/**
 * The one error every reword operation fails with: {@link EditError}, carrying
 * the provider, the operation and a {@link EditErrorReason} that an app can
 * match on exhaustively.
 *
 * @since 0.1.0
 */
import { type Duration, Predicate, Schema } from "effect"
import { EditErrorReason, millisOf, printable, type ReasonJson, reasonJson } from "./internal/editErrorReasons.ts"

export type {
  Detail,
  ReasonJson,
  ReasonTag
} from "./internal/editErrorReasons.ts"
export {
  EditErrorReason,
  EditLimitReached,
  EditWindowClosed,
  Forbidden,
  InvalidRequest,
  MalformedResponse,
  Network,
  NotFound,
  Problem,
  RateLimited,
  Rejected,
  Timeout,
  Unauthorized,
  Unavailable,
  Unsupported
} from "./internal/editErrorReasons.ts"

const TypeId: unique symbol = Symbol.for("@reword/core/EditError")

/** Network failures in which no request reached the provider. */
const NEVER_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)\b/

/**
 * The reword operations an error can come from.
 *
 * @category utils
 * @since 0.1.0
 */
export const Operation = Schema.Literals(["update", "updateMany", "send", "delete", "get", "refreshToken"])

/**
 * @category models
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
 * @category services
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

  /** {@link retryAfter} in milliseconds (a plain number, for apps that do not use Effect). */
  get retryAfterMs(): number | undefined {
    return millisOf(this.retryAfter)
  }

  override get message(): string {
    return `${this.provider}.${this.operation}: ${this.reason.message}`
  }

  /**
   * A plain object for logs and APIs (what `JSON.stringify(error)` writes):
   * name, message, provider, operation, whether trying again can help,
   * `retryAfterMs`, and the reason with its fields. No stack, and never a
   * secret: provider text is scrubbed of every known secret before it is kept.
   */
  override toJSON(): EditErrorJson {
    const retryAfterMs = this.retryAfterMs
    return {
      _tag: "EditError",
      name: "EditError",
      message: this.message,
      provider: this.provider,
      operation: this.operation,
      isRetryable: this.isRetryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      // The reason's own JSON (a reason with durations gives them in milliseconds).
      reason: (this.reason as { toJSON?: () => ReasonJson }).toJSON?.() ?? reasonJson(this.reason)
    }
  }
}

printable(EditError, "EditError", (error) => error.toJSON())

/**
 * What {@link EditError}'s `toJSON` gives.
 *
 * @example
 * ```ts
 * const json = {
 *   _tag: "EditError",
 *   name: "EditError",
 *   message: "acquire.update: Rate limited, retry after 7s (HTTP 429)",
 *   provider: "acquire",
 *   operation: "update",
 *   isRetryable: true,
 *   retryAfterMs: 7000,
 *   reason: { _tag: "RateLimited", name: "RateLimited", message: "Rate limited, retry after 7s (HTTP 429)", isRetryable: true, retryAfterMs: 7000, status: 429 }
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface EditErrorJson {
  readonly _tag: "EditError"
  readonly name: "EditError"
  readonly message: string
  readonly provider: string
  readonly operation: Operation
  readonly isRetryable: boolean
  readonly retryAfterMs?: number
  readonly reason: ReasonJson
}

/**
 * Whether a value is an {@link EditError}, also one made by another copy of this package.
 *
 * @category guards
 * @since 0.1.0
 */
export const isEditError = (u: unknown): u is EditError => Predicate.hasProperty(u, TypeId)

/**
 * Builds an {@link EditError}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (params: {
  readonly provider: string
  readonly operation: Operation
  readonly reason: EditErrorReason
}): EditError => new EditError(params)
