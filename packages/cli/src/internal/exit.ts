/**
 * The command's exit codes, and the failure that carries one out of a handler.
 */
import { Data, Runtime } from "effect"

/** The exit codes of `reword`. */
export const ExitCode = {
  /** Everything asked for was done. */
  Success: 0,
  /** Bad input: command-line usage, an invalid request, content the provider cannot take (Unsupported) or a configuration error. Nothing was sent. */
  BadInput: 2,
  /** The provider refused or failed (an `EditError` other than `InvalidRequest` and `Unsupported`). */
  ProviderFailure: 3,
  /**
   * `reword update` through an outbox: the edit is stored in the outbox (durable, in the journal) but was
   * not delivered within `--wait`; the app's workers deliver it.
   */
  Queued: 4,
  /** An unexpected error: a bug in reword (reported on one line, never as a stack trace). */
  Unexpected: 1
} as const

/** One of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * A handler's failure whose message was already printed: it only carries the
 * exit code to the runtime (which then logs nothing more).
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly exitCode: ExitCode
  readonly summary: string
}> {
  override readonly [Runtime.errorExitCode]: number = this.exitCode
  override readonly [Runtime.errorReported]: boolean = false
  override get message(): string {
    return this.summary
  }
}

/** The exit code as the runtime reads it from an error. */
export const isCommandFailed = (u: unknown): u is CommandFailed =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "CommandFailed"
