/**
 * The fallback an app chooses, per editor (`EditorOptions.fallback`) or per
 * request (`EditRequest.fallback`), for an edit the provider cannot make:
 * declared once, decoded at both edges.
 */
import { Schema } from "effect"

const MAX_MARKER_LENGTH = 64
// The invisible marks that reorder text around them (as `EditRequest`'s labels refuse them).
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const LONE_SURROGATE = /\p{Cs}/u

const Marker = Schema.String.check(
  Schema.isMaxLength(MAX_MARKER_LENGTH, { message: `must be at most ${MAX_MARKER_LENGTH} characters` }),
  Schema.makeFilter((s: string) =>
    LONE_SURROGATE.test(s) || BIDI_CONTROLS.test(s)
      ? "must be well-formed Unicode without bidirectional control characters"
      : undefined
  )
)

/** `{ mode: "fail" }` or `{ mode: "newMessage", marker }` (see `Capabilities.Fallback`). */
export const Fallback = Schema.Union([
  Schema.Struct({ mode: Schema.Literal("fail") }),
  Schema.Struct({
    mode: Schema.Literal("newMessage"),
    /** What follows the text in the new message, such as `" (edited)"`. */
    marker: Marker
  })
])

export type Fallback = typeof Fallback.Type
