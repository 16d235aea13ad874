/**
 * An unexpected error (a defect: a bug in reword or in a provider's adapter)
 * as the command reports it: one line, never a stack trace, never a secret
 * (the caller scrubs and escapes it like any other line), and under `--json`
 * a JSON error whose reason is `Unexpected`.
 */
import { Data } from "effect"

/** A defect met while editing one request: that request's outcome. */
export class Unexpected extends Data.TaggedError("Unexpected")<{
  readonly provider: string
  readonly operation: string
  readonly detail: string
}> {
  override get message(): string {
    return `an unexpected error, a bug in reword (please report it): ${this.detail}`
  }
}

/** `RangeError: Maximum call stack size exceeded`, whatever the defect is (it never throws). */
export const describe = (defect: unknown): string => {
  try {
    if (defect instanceof Error) {
      const name = typeof defect.name === "string" ? defect.name : "Error"
      const message = typeof defect.message === "string" ? defect.message : ""
      return clip(message.length > 0 ? `${name}: ${message}` : name)
    }
    if (typeof defect === "string") return clip(defect)
    return typeof defect
  } catch {
    return "an error that cannot be described"
  }
}

const clip = (text: string): string => (text.length > 300 ? `${text.slice(0, 300)}…` : text)

/** The JSON of an unexpected error. */
export const json = (error: Unexpected) => ({
  error: {
    provider: error.provider,
    operation: error.operation,
    reason: "Unexpected",
    message: error.message,
    retryable: false
  }
})
