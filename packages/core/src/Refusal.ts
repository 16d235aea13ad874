/**
 * The refusal of an inbound request (a webhook event, an update) by a
 * provider's decoder: one shape for every decoder, so that a relay matches
 * `reason._tag` the same way whichever provider sent the request, and answers
 * it with a 4xx. A refusal never carries the body nor a secret: its
 * `description` says what was wrong in words.
 *
 * @since 0.5.0
 */
import { type Cause, Data } from "effect"

/**
 * Why a request was refused: not a `POST` (`WrongMethod`), not proven to come
 * from the provider (`Forbidden`: a missing or wrong secret, an unknown
 * sender), too large (`TooLarge`), nested too deep (`TooDeep`), not in the
 * encoding the provider uses (`Malformed`), or not an event the decoder takes,
 * or one missing what it must carry (`Unsupported`).
 *
 * @category models
 * @since 0.5.0
 */
export type Reason = "WrongMethod" | "Forbidden" | "TooLarge" | "TooDeep" | "Malformed" | "Unsupported"

/**
 * What a refusal holds: why (`problem`), and what was wrong, in words.
 *
 * @category models
 * @since 0.5.0
 */
export interface Fields {
  readonly problem: Reason
  readonly description: string
}

/**
 * A refusal: an `Error` tagged for its decoder, with `reason._tag` to match on.
 *
 * @category models
 * @since 0.5.0
 */
export interface Refused<Tag extends string> extends Cause.YieldableError, Fields {
  readonly _tag: Tag
  readonly reason: { readonly _tag: Reason }
  toJSON(): {
    readonly _tag: Tag
    readonly name: Tag
    readonly message: string
    readonly reason: { readonly _tag: Reason }
  }
}

/**
 * The base class of a decoder's refusal, tagged `tag`, whose message starts
 * with `what` (`"Bitrix24 event"` reads "Bitrix24 event refused: TooLarge:
 * ..."). It has `reason._tag` to match on, as `EditError` does, and
 * serialises (`JSON.stringify`) with its message and reason.
 *
 * @example
 * ```ts
 * import { Refusal } from "@reword/core/adapter"
 *
 * class HookRefused extends Refusal.Class("HookRefused", "Example hook") {}
 *
 * const refusal = new HookRefused({ problem: "Forbidden", description: "no secret header" })
 * console.log(refusal.reason._tag) // Forbidden
 * console.log(refusal.message) // Example hook refused: Forbidden: no secret header
 * ```
 *
 * @category constructors
 * @since 0.5.0
 */
export const Class = <Tag extends string>(tag: Tag, what: string): (new (fields: Fields) => Refused<Tag>) => {
  class Base extends Data.TaggedError(tag as string)<Fields> {
    get reason(): { readonly _tag: Reason } {
      return { _tag: this.problem }
    }
    override get message(): string {
      return `${what} refused: ${this.problem}: ${this.description}`
    }
    override toJSON() {
      return { _tag: tag, name: tag, message: this.message, reason: this.reason }
    }
  }
  Object.defineProperty(Base.prototype, "name", { value: tag })
  return Base as unknown as new (
    fields: Fields
  ) => Refused<Tag>
}
