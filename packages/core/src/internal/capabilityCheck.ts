/**
 * The capability check core runs before any call (`internal/editor/attempts.ts`):
 * the ids a provider needs, and what it refuses of a right request (a feature
 * it lacks, a closed edit window, a used-up edit count).
 */
import { Duration } from "effect"
import type { Capabilities, EditWindow } from "../Capabilities.ts"
import type { EditRequest } from "../EditRequest.ts"
import { EditLimitReached, EditWindowClosed, type Problem, Unsupported } from "./editErrorReasons.ts"

/** What {@link check} says of a request. */
export interface Checked {
  /** The request's field-level problems: it will stay wrong (`InvalidRequest`). */
  readonly problems: ReadonlyArray<Problem>
  /**
   * Why the provider cannot make this edit, though the request is right: a
   * feature it lacks (`Unsupported`), a closed window (`EditWindowClosed`), a
   * used-up count (`EditLimitReached`). Only the last two (and `Unsupported`
   * `edit`) can fall back to a new message.
   */
  readonly refusal: Unsupported | EditWindowClosed | EditLimitReached | undefined
}

/** Whether a window holds for a request. */
const holdsFor = (window: EditWindow, request: EditRequest): boolean =>
  window.appliesTo === "every message" || (request.ids.providerConnectionId !== undefined && request.sentBy === "other")

/** The first window a request is past at `now`, with the message's age. */
const closedWindow = (capabilities: Capabilities, request: EditRequest, now: number): EditWindowClosed | undefined => {
  const sentAt = request.sentAt
  if (sentAt === undefined) return undefined
  const ageMillis = now - sentAt.getTime()
  for (const window of capabilities.editWindows) {
    if (holdsFor(window, request) && ageMillis > Duration.toMillis(window.maxAge)) {
      return new EditWindowClosed({ rule: window.rule, maxAge: window.maxAge, age: Duration.millis(ageMillis) })
    }
  }
  return undefined
}

const unsupportedKind = (capabilities: Capabilities, request: EditRequest): Unsupported | undefined => {
  if (!capabilities.files && request.files !== undefined && request.files.length > 0) {
    return new Unsupported({
      capability: "files",
      description: "this provider edits text only; send the files as a new message instead"
    })
  }
  const kind = request.kind ?? "text"
  return request.text !== undefined && !capabilities.kinds.includes(kind)
    ? new Unsupported({
        capability: "kinds",
        description: `this provider cannot edit a message's ${kind} (it edits: ${capabilities.kinds.join(", ")})`
      })
    : undefined
}

/** What the provider refuses of a right request, in the order a person would fix it. */
const refusalOf = (capabilities: Capabilities, request: EditRequest, now: number): Checked["refusal"] => {
  if (capabilities.edit === "none") {
    return new Unsupported({ capability: "edit", description: "this provider cannot edit a message once it is sent" })
  }
  const unsupported = unsupportedKind(capabilities, request)
  if (unsupported !== undefined) return unsupported
  const closed = closedWindow(capabilities, request, now)
  if (closed !== undefined) return closed
  const max = capabilities.maxEdits
  return max !== undefined && request.editCount !== undefined && request.editCount >= max
    ? new EditLimitReached({ maxEdits: max, editCount: request.editCount })
    : undefined
}

/**
 * The problems of a request for a provider with these capabilities, and why
 * the provider would refuse it (at `now`, epoch millis: the time of the
 * call). Details the provider ignores (author, chat, language) are not
 * errors: they are optional by nature. Content it cannot store is, and so is
 * an edit past the provider's window or count. Core runs it before any call
 * (an app learns the same from `update`'s typed reason, with no call made).
 *
 */
export const check = (capabilities: Capabilities, request: EditRequest, now: number = Date.now()): Checked => ({
  problems: idProblems(capabilities, request),
  refusal: refusalOf(capabilities, request, now)
})

/** The ids a request lacks (or carries of both sets, where a provider finds a message in two ways). */
const idProblems = (capabilities: Capabilities, request: EditRequest): Array<Problem> => {
  const ids = request.ids as Readonly<Record<string, unknown>>
  const alternative = capabilities.alternativeIds ?? []
  const required = capabilities.requiredIds
  const missingRequired = required.filter((name) => ids[name] === undefined)
  if (alternative.length === 0) {
    return missingRequired.map((name) => ({ path: `ids.${name}`, message: "is required by this provider" }))
  }
  const instead = alternative.filter((name) => ids[name] !== undefined)
  // The usual request: every required id, none of the alternative ones.
  if (missingRequired.length === 0 && instead.length === 0) return []
  const names = (list: ReadonlyArray<string>) => list.map((name) => `ids.${name}`).join(" and ")
  const given = required.filter((name) => ids[name] !== undefined)
  if (given.length > 0 && instead.length > 0) {
    const both = `a message is found by ${names(required)}, or by ${names(alternative)} instead, not both`
    return [
      ...given.map((name) => ({
        path: `ids.${name}`,
        message: `must not be given with ${names(alternative)}: ${both}`
      })),
      ...instead.map((name) => ({ path: `ids.${name}`, message: `must not be given with ${names(required)}: ${both}` }))
    ]
  }
  if (instead.length > 0) {
    return alternative
      .filter((name) => ids[name] === undefined)
      .map((name) => ({ path: `ids.${name}`, message: `is required with ${names(instead)}` }))
  }
  return missingRequired.map((name) => ({
    path: `ids.${name}`,
    message: `is required by this provider (or ${names(alternative)} instead)`
  }))
}
