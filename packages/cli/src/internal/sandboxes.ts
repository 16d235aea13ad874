/**
 * The providers' local emulators, started for the life of a scope.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { Data, Effect, type Scope } from "effect"

/** What the command needs of a provider's sandbox module: `start` (the `ProviderSandbox` contract). */
export interface Starter {
  readonly start: (options?: { readonly port?: number | undefined }) => Promise<SandboxServer.ProviderSandbox>
}

/** A sandbox that could not start (an unusable port, most often). */
export class SandboxStartError extends Data.TaggedError("SandboxStartError")<{
  readonly provider: string
  readonly detail: string
}> {
  override get message(): string {
    return `Could not start the ${this.provider} sandbox: ${this.detail}`
  }
}

/** Starts a sandbox, and stops it when the scope closes. */
export const scoped = (
  provider: string,
  starter: Starter,
  port: number
): Effect.Effect<SandboxServer.ProviderSandbox, SandboxStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => starter.start({ port }),
      catch: (error) =>
        new SandboxStartError({ provider, detail: error instanceof Error ? error.message : String(error) })
    }),
    (sandbox) => Effect.promise(() => sandbox.stop())
  )

/** `export NAME=value`, the value quoted for a POSIX shell when needed. */
export const exportLine = (name: string, value: string): string =>
  `export ${name}=${/^[A-Za-z0-9_./:@%+=,-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`}`
