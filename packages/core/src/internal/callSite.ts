/**
 * The app's call site on a Promise API failure: the stack Effect gives an
 * `EditError` holds its own frames only, so the frames of the app's call are
 * captured at the call (formatted only if it fails) and appended.
 */
import { isEditError } from "../EditError.ts"

/** Where the app called reword: a holder whose `stack` V8 formats only when it is read (a failure). */
export interface CallSite {
  readonly stack?: string
}

/** Captures the app's frames, from the caller of `above` (reword's own frame is left out). */
export const callSite = (above: (...args: ReadonlyArray<never>) => unknown): CallSite => {
  const site: { stack?: string } = {}
  Error.captureStackTrace(site, above)
  return site
}

/**
 * Appends the app's frames to an `EditError`'s stack (Effect's own frames say
 * nothing of where the app called), so `console.error(error)` shows the call.
 */
export const withCallSite = <E>(error: E, site: CallSite): E => {
  if (!isEditError(error)) return error
  const frames = site.stack?.split("\n").slice(1).join("\n")
  if (frames === undefined || frames.length === 0) return error
  Object.defineProperty(error, "stack", {
    value: `${error.stack ?? `${error.name}: ${error.message}`}\n    at reword, called from:\n${frames}`,
    configurable: true,
    writable: true,
    enumerable: false
  })
  return error
}
