/**
 * `--sandbox`: the chosen provider's local emulator, started for the run,
 * seeded with a message at each request's ids before the edit, and read back
 * after it.
 */
import { Provider } from "@reword/core"
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect, type Scope } from "effect"
import type { CommandFailed } from "../exit.ts"
import * as Providers from "../providers.ts"
import * as Render from "../render.ts"
import * as Requests from "../requests.ts"
import * as Sandboxes from "../sandboxes.ts"
import { secretsIn } from "../settings.ts"
import { badInput, providerNameIn, type Run } from "./run.ts"

/** The text a rehearsal seeds the message with, before the edit. */
export const PLACEHOLDER = "(sandbox) the message as it was first sent"

/** A message seeded for one request, and what the sandbox stored before the edit. */
export interface Rehearsal {
  readonly sandbox: SandboxServer.ProviderSandbox
  readonly seeded: SandboxServer.RelayedIds | undefined
  readonly before: SandboxServer.StoredMessage | undefined
}

/** What a sandbox stores, as JSON (`null` when it has no such message). */
const storedJson = (stored: SandboxServer.StoredMessage | undefined) =>
  stored === undefined
    ? null
    : { text: stored.text ?? null, history: stored.history.map((text: string | undefined) => text ?? null) }

/** What a sandbox stores, for a person. */
export const storedLine = (stored: SandboxServer.StoredMessage | undefined): string =>
  stored === undefined
    ? "no such message"
    : `${stored.text === undefined ? "(no text)" : Render.quote(stored.text)} (${stored.history.length} version${stored.history.length === 1 ? "" : "s"})`

/** Seeds a sandbox message at a request's ids; a refusal is reported, and the edit still runs. */
export const seed = (
  run: Run,
  sandbox: SandboxServer.ProviderSandbox,
  ids: Parameters<typeof Requests.seedIdsOf>[0],
  prefix = ""
): Effect.Effect<Rehearsal> =>
  Effect.tryPromise(() => sandbox.seedMessage(PLACEHOLDER, Requests.seedIdsOf(ids))).pipe(
    Effect.map((seeded): Rehearsal => ({ sandbox, seeded, before: sandbox.inspect(seeded) })),
    Effect.catch((error) =>
      run.output
        .err(
          `${prefix}sandbox: could not seed a message at these ids (${error.cause instanceof Error ? error.cause.message : String(error.cause)}); the edit runs anyway`
        )
        .pipe(Effect.as<Rehearsal>({ sandbox, seeded: undefined, before: undefined }))
    )
  )

/** The rehearsal of one request, as JSON: the sandbox, the seeded ids, the message before and after. */
export const rehearsalJson = (rehearsal: Rehearsal) => ({
  sandbox: {
    provider: rehearsal.sandbox.provider,
    url: rehearsal.sandbox.url,
    ids: rehearsal.seeded ?? null,
    before: storedJson(rehearsal.before),
    after: storedJson(rehearsal.seeded === undefined ? undefined : rehearsal.sandbox.inspect(rehearsal.seeded))
  }
})

/** Starts the chosen provider's sandbox for a rehearsal. */
export const startSandbox = (run: Run): Effect.Effect<SandboxServer.ProviderSandbox, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const provider = providerNameIn(run.env)
    const known = Object.keys(run.resolved.sandboxes)
    if (provider === undefined) {
      return yield* badInput(
        run,
        "Usage",
        `--sandbox needs a provider: pass --provider (${Providers.list(known)}) or set ${Provider.PROVIDER_VARIABLE}`,
        "add --provider to the command"
      )
    }
    const starter = run.resolved.sandboxes[provider]
    if (starter === undefined) {
      return yield* badInput(
        run,
        "Usage",
        `there is no sandbox for the provider "${provider}": the sandboxes are ${Providers.list(known)}`,
        "choose one of them with --provider"
      )
    }
    const sandbox = yield* Sandboxes.scoped(provider, starter, 0).pipe(
      Effect.catchTag("SandboxStartError", (error) =>
        badInput(run, "Usage", error.message, "check that 127.0.0.1 accepts local servers")
      )
    )
    run.output.addSecrets(secretsIn(sandbox.env, run.resolved.providers))
    if (!run.output.json) {
      yield* run.output.out(
        `sandbox: rehearsing on a local ${sandbox.provider} emulator at ${sandbox.url}; nothing leaves this machine`
      )
    }
    return sandbox
  })
