/**
 * What every part of `reword update` shares: the parsed flags, the run's
 * context, the editor of the configured provider, and how a failure is
 * printed and which exit code it gives.
 */
import { type EditError, type EditedMessage, type MessageEditor, Provider } from "@reword/core"
import { type Config, Effect, type Option, type Redacted, type Result, type Scope } from "effect"
import { CommandFailed, ExitCode } from "../exit.ts"
import * as Extras from "../extras.ts"
import type * as Output from "../output.ts"
import type * as Providers from "../providers.ts"
import * as Render from "../render.ts"
import type * as Requests from "../requests.ts"
import { type Env, type SettingValue, secretVariables } from "../settings.ts"
import * as Unexpected from "../unexpected.ts"

/** The parsed flags. */
export interface Input extends Requests.RequestFlags {
  readonly provider: Option.Option<string>
  readonly from: Option.Option<string>
  readonly batchSize: number
  readonly json: boolean
  readonly sandbox: boolean
  /** The outbox's database (`--database`, else `REWORD_OUTBOX_DATABASE`): the edit goes through it. */
  readonly database: Option.Option<Redacted.Redacted<string>>
  readonly tablePrefix: Option.Option<string>
  /** The outbox's tenant of the message, when several hold its id. */
  readonly tenant: Option.Option<string>
  /** The outbox's account label of the message, when several hold its id. */
  readonly account: Option.Option<string>
  /** How long to deliver through the outbox before leaving the edit to the app's workers. */
  readonly wait: string
  /** The app's settle window, when it set one. */
  readonly settleWindow: Option.Option<string>
  /** Edit on the provider directly, even with an outbox database configured. */
  readonly direct: boolean
  /** The settings providers add to the command (`Extra`), by variable: flag, else variable. */
  readonly extras: Readonly<Record<string, string | undefined>>
  readonly settings: Readonly<Record<string, SettingValue>>
}

/** Everything a run needs besides its flags. */
export interface Run {
  readonly input: Input
  readonly resolved: Providers.Resolved
  readonly output: Output.Output
  /** The environment the editor reads (flags applied). */
  readonly env: Record<string, string | undefined>
}

/** One request's outcome: the edited message, its `EditError`, or an unexpected error (never a defect). */
export type LineOutcome = Result.Result<EditedMessage.EditedMessage, EditError.EditError | Unexpected.Unexpected>

/** A failure of one request. */
export type Failure = EditError.EditError | Unexpected.Unexpected

/** The provider an environment names, if any. */
export const providerNameIn = (env: Env): string | undefined => {
  const name = env[Provider.PROVIDER_VARIABLE]?.trim()
  return name === undefined || name.length === 0 ? undefined : name
}

/** Prints a failure that is not an `EditError` and fails with exit code 2. */
export const badInput = (
  run: Pick<Run, "output" | "env">,
  reason: "Configuration" | "Usage",
  message: string,
  hint: string
): Effect.Effect<never, CommandFailed> =>
  Effect.gen(function* () {
    const { output } = run
    if (output.json) {
      yield* output.outJson(
        Render.otherErrorJson({ provider: providerNameIn(run.env), operation: "update", reason, message })
      )
    }
    yield* output.err(`error: ${message}`)
    yield* output.err(`hint: ${hint}`)
    return yield* new CommandFailed({ exitCode: ExitCode.BadInput, summary: message })
  })

const configurationMessage = (error: Config.ConfigError): string => error.message.replace(/^SourceError:\s*/, "")

/**
 * The editor of the configured provider, for the life of the scope, with the
 * services the providers' extras give it: in a real run from their values
 * (Bitrix24: the token file), in a rehearsal (`rehearsal: true`) from none
 * (memory). Each tells the output of every secret it learns. `options` are
 * the editor's (`retry`, ...).
 */
export const editorOf = (
  run: Run,
  env: Env,
  rehearsal: boolean,
  options: MessageEditor.EditorOptions = {}
): Effect.Effect<MessageEditor.Service, CommandFailed, Scope.Scope> =>
  Provider.makeEditor(run.resolved.providers, { ...options, source: Provider.fromEnv(env) }).pipe(
    Effect.provide(Extras.layerOf(run.resolved.extras, rehearsal ? {} : run.input.extras, run.output.secrets)),
    Effect.catchTag("ConfigError", (error) =>
      badInput(run, "Configuration", configurationMessage(error), Render.CONFIGURATION_HINT)
    )
  )

/** An unexpected error (a defect) as the outcome of the request it met. */
export const unexpectedOf = (provider: string, operation: string) => (defect: unknown) =>
  new Unexpected.Unexpected({ provider, operation, detail: Unexpected.describe(defect) })

/** What to do about an unexpected error. */
export const UNEXPECTED_HINT =
  "run the command again with --log-level debug and report what it prints; nothing else is known"

/** What to do about a failure. */
export const hintOf = (run: Run, error: Failure): string =>
  error._tag === "Unexpected"
    ? UNEXPECTED_HINT
    : Render.hintFor(
        error,
        secretVariables(run.resolved.providers.find((descriptor) => descriptor.name === error.provider))
      )

/** Prints an edit's failure for a person (stderr). */
export const printError = (run: Run, error: Failure, prefix = ""): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* run.output.err(`${prefix}error: ${error.message}`)
    yield* run.output.err(`${prefix}hint: ${hintOf(run, error)}`)
  })

/** A failure as JSON. */
export const errorJson = (error: Failure) =>
  error._tag === "Unexpected" ? Unexpected.json(error) : Render.editErrorJson(error)

/** The exit code of a failure. */
export const exitCodeOf = (error: Failure): ExitCode =>
  error._tag === "Unexpected" ? ExitCode.Unexpected : Render.exitCodeOf(error)

/**
 * A defect outside any one request (a bug): one error line on stderr (and
 * one JSON error under `--json`), scrubbed and escaped, never a stack trace;
 * exit code 1.
 */
export const reportDefect = (run: Run, defect: unknown): Effect.Effect<never, CommandFailed> =>
  Effect.gen(function* () {
    const error = new Unexpected.Unexpected({
      provider: providerNameIn(run.env) ?? "none",
      operation: "update",
      detail: Unexpected.describe(defect)
    })
    if (run.output.json) yield* run.output.outJson(Unexpected.json(error))
    yield* run.output.err(`error: ${error.message}`)
    yield* run.output.err(`hint: ${UNEXPECTED_HINT}`)
    return yield* new CommandFailed({ exitCode: ExitCode.Unexpected, summary: error.message })
  })
