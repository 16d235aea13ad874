/**
 * `reword update`: edits one message already sent (ids, text and files as
 * flags), or many (`--from` a JSON-lines file), on the provider that
 * `REWORD_PROVIDER` (or `--provider`) names, configured from the environment
 * (each setting overridable by its flag), or rehearsed on that provider's
 * local sandbox (`--sandbox`).
 *
 * @since 0.1.0
 */
import { EditError, type EditedMessage, type EditRequest, type MessageEditor, Provider, Secrets } from "@reword/core"
import type { SandboxServer } from "@reword/core/sandbox"
import { type Config, Effect, FileSystem, Option, Result, type Scope, Stdio, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { CommandFailed, ExitCode } from "./internal/exit.ts"
import { type HelpSection, HelpSections } from "./internal/help.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"
import * as Render from "./internal/render.ts"
import * as Requests from "./internal/requests.ts"
import * as Sandboxes from "./internal/sandboxes.ts"
import {
  BITRIX24_TOKEN_FILE,
  type Env,
  type SettingValue,
  secretsIn,
  secretVariables,
  withOverrides
} from "./internal/settings.ts"
import * as Tokens from "./internal/tokens.ts"
import * as Unexpected from "./internal/unexpected.ts"

/**
 * What the command is built from: the providers, their sandboxes, the environment.
 *
 * @since 0.1.0
 */
export type Options = Providers.Options

/**
 * The text a `--sandbox` rehearsal seeds the message with, before the edit.
 *
 * @since 0.1.0
 */
export const SANDBOX_PLACEHOLDER = "(sandbox) the message as it was first sent"

/**
 * How many lines of a `--from` file go to the provider per batch, by default.
 *
 * @since 0.1.0
 */
export const DEFAULT_BATCH_SIZE = 50

const optionalString = (name: string, description: string, metavar: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.withMetavar(metavar), Flag.optional)

const helpSections = (resolved: Providers.Resolved): ReadonlyArray<HelpSection> => {
  const variables: Array<readonly [string, string]> = [
    [Provider.PROVIDER_VARIABLE, `the provider: ${Providers.list(resolved.names)} (--provider overrides it)`],
    ...resolved.providers.flatMap((descriptor) =>
      descriptor.settings.map(
        (setting) =>
          [
            setting.env,
            `[${descriptor.name}] ${setting.description}${setting.optional === true ? " (optional)" : ""}${setting.secret === true ? " (secret)" : ""}`
          ] as const
      )
    ),
    [BITRIX24_TOKEN_FILE, "[bitrix24] the token file (see --bitrix24-token-file) (optional)"]
  ]
  const width = Math.max(...variables.map(([name]) => name.length)) + 2
  const environment = [
    ...variables.map(([name, description]) => `${name.padEnd(width)}${description}`),
    "",
    "Each setting has a flag named after its variable (ACQUIRE_API_KEY: --acquire-api-key); a flag wins over",
    "the variable. Keep secrets in the environment: a flag's value shows in the process list and shell history.",
    "Secrets are never printed: output shows <redacted> in their place."
  ]
  return [
    { title: "ENVIRONMENT", lines: environment },
    {
      title: "MANY MESSAGES (--from)",
      lines: [
        "One request per line, as JSON (JSON lines), the same fields as the port's EditRequest:",
        '  {"ids":{"providerMessageId":8291},"text":"Meet at 10, not 11."}',
        '  {"ids":{"externalMessageId":"m-1","externalChatId":"c-1","externalAuthorId":"u-1"},"text":"Fixed",',
        '   "files":[{"url":"https://cdn.example.com/q3.pdf","name":"Q3.pdf"}],"language":"en"}',
        "Blank lines are skipped (line numbers still count them). A line that is not a valid request is that",
        "line's own InvalidRequest: the other lines still run. Lines go to the provider in batches (--batch-size);",
        "after each batch a progress line goes to stderr: updated 120/1000, failed 3.",
        "With --json, stdout holds one JSON result per request line, in input order, each with its line number:",
        '  {"line":1,"provider":"acquire","ids":{...},"text":"...","files":[]}   or   {"line":2,"error":{...}}'
      ]
    },
    {
      title: "OUTPUT",
      lines: [
        'Without --json: "Updated acquire message 8291: \\"new text\\"" on stdout; errors on stderr as',
        '"error: <message>" followed by "hint: <what to do>".',
        "With --json: one JSON object on stdout and nothing else, the edited message",
        '  {"provider":"acquire","ids":{"providerMessageId":8291},"text":"...","files":[],"updatedAt":"..."}',
        "or the failure",
        '  {"error":{"provider":"acquire","operation":"update","reason":"NotFound","message":"...","retryable":false}}',
        "where reason is an EditError reason (InvalidRequest, Unauthorized, Forbidden, NotFound, RateLimited,",
        "Unavailable, Network, Timeout, Rejected, Unsupported, MalformedResponse), Configuration, Usage or",
        "Unexpected (a bug). Provider text is escaped: control characters print as \\uXXXX, on stdout and stderr."
      ]
    },
    {
      title: "SANDBOX (--sandbox)",
      lines: [
        "Rehearses the edit on a local emulator of the chosen provider, started for this run on 127.0.0.1:",
        "nothing leaves this machine, and no real setting (nor the token file) is read or written.",
        `The emulator is seeded with a message at the given ids ("${SANDBOX_PLACEHOLDER}"),`,
        "the edit runs through the same editor as a real run, and what the emulator stores before and after is",
        'printed (with --json, under "sandbox"). Works with --from too (each request line is seeded first).'
      ]
    },
    {
      title: "EXIT CODES",
      lines: [
        "0  success: the message (with --from, every message) was updated",
        "2  bad input: usage, an invalid request, content the provider cannot take (Unsupported), or configuration; nothing was sent",
        "3  the provider refused or failed (any reason other than InvalidRequest and Unsupported)",
        "   with --from: 3 if any line failed for a provider reason, else 2 if any line was invalid, else 0",
        "   (but 1 if any line met an unexpected error; every other line still has its outcome)",
        "1  an unexpected error (a bug: please report it), printed on one line, never as a stack trace"
      ]
    }
  ]
}

/** The parsed flags. */
interface Input extends Requests.RequestFlags {
  readonly provider: Option.Option<string>
  readonly from: Option.Option<string>
  readonly batchSize: number
  readonly json: boolean
  readonly sandbox: boolean
  readonly bitrix24TokenFile: Option.Option<string>
  readonly settings: Readonly<Record<string, SettingValue>>
}

/** Everything a run needs besides its flags. */
interface Run {
  readonly input: Input
  readonly resolved: Providers.Resolved
  readonly output: Output.Output
  /** The environment the editor reads (flags applied). */
  readonly env: Record<string, string | undefined>
}

const providerNameIn = (env: Env): string | undefined => {
  const name = env[Provider.PROVIDER_VARIABLE]?.trim()
  return name === undefined || name.length === 0 ? undefined : name
}

/** Prints a failure that is not an `EditError` and fails with exit code 2. */
const badInput = (
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

const configurationMessage = (error: Config.ConfigError): string => {
  const text = error.message
  return text.replace(/^SourceError:\s*/, "")
}

/**
 * The editor of the configured provider, for the life of the scope. Its token
 * store (Bitrix24: the token file, or memory) tells the output of every token
 * it loads or saves, so that no token read or refreshed is ever printed.
 */
const editorOf = (
  run: Run,
  env: Env,
  tokenFile: string | undefined
): Effect.Effect<MessageEditor.Service, CommandFailed, Scope.Scope> =>
  Provider.makeEditor(run.resolved.providers, { source: Provider.fromEnv(env) }).pipe(
    Effect.provide(Tokens.layer(tokenFile, run.output.secrets)),
    Effect.catchTag("ConfigError", (error) =>
      badInput(run, "Configuration", configurationMessage(error), Render.CONFIGURATION_HINT)
    )
  )

/** An unexpected error (a defect) as the outcome of the request it met. */
const unexpectedOf = (provider: string, operation: string) => (defect: unknown) =>
  new Unexpected.Unexpected({ provider, operation, detail: Unexpected.describe(defect) })

/** One request's outcome: the edited message, its `EditError`, or an unexpected error (never a defect). */
type LineOutcome = Result.Result<EditedMessage.EditedMessage, EditError.EditError | Unexpected.Unexpected>

/**
 * Every request's outcome, in order: one `updateMany` call; should it die as a
 * whole (a bug), each request again on its own, so that one request's defect
 * is that request's outcome and never loses another's.
 */
const editAll = (
  editor: MessageEditor.Service,
  requests: ReadonlyArray<EditRequest.EditRequest>
): Effect.Effect<ReadonlyArray<LineOutcome>> =>
  requests.length === 0
    ? Effect.succeed([])
    : editor.updateMany(requests).pipe(
        Effect.map(
          (outcomes): ReadonlyArray<LineOutcome> =>
            requests.map(
              (_, index) =>
                outcomes[index] ??
                Result.fail(
                  new Unexpected.Unexpected({
                    provider: editor.provider,
                    operation: "updateMany",
                    detail: "the editor answered no outcome for this request"
                  })
                )
            )
        ),
        Effect.catchDefect(() =>
          Effect.forEach(
            requests,
            (request) =>
              Effect.result(
                editor
                  .update(request)
                  .pipe(
                    Effect.catchDefect((defect) => Effect.fail(unexpectedOf(editor.provider, "updateMany")(defect)))
                  )
              ),
            { concurrency: 4 }
          )
        )
      )

const descriptorOf = (run: Run, provider: string): Provider.AnyDescriptor | undefined =>
  run.resolved.providers.find((descriptor) => descriptor.name === provider)

/** Prints an edit's failure for a person (stderr). */
const printError = (run: Run, error: EditError.EditError | Unexpected.Unexpected, prefix = ""): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* run.output.err(`${prefix}error: ${error.message}`)
    yield* run.output.err(
      `${prefix}hint: ${
        error._tag === "Unexpected"
          ? UNEXPECTED_HINT
          : Render.hintFor(error, secretVariables(descriptorOf(run, error.provider)))
      }`
    )
  })

const UNEXPECTED_HINT = "run the command again with --log-level debug and report what it prints; nothing else is known"

const errorJson = (error: EditError.EditError | Unexpected.Unexpected) =>
  error._tag === "Unexpected" ? Unexpected.json(error) : Render.editErrorJson(error)

const exitCodeOf = (error: EditError.EditError | Unexpected.Unexpected): ExitCode =>
  error._tag === "Unexpected" ? ExitCode.Unexpected : Render.exitCodeOf(error)

/** What a sandbox stores, as JSON (`null` when it has no such message). */
const storedJson = (stored: SandboxServer.StoredMessage | undefined) =>
  stored === undefined
    ? null
    : { text: stored.text ?? null, history: stored.history.map((text: string | undefined) => text ?? null) }

const storedLine = (stored: SandboxServer.StoredMessage | undefined): string =>
  stored === undefined
    ? "no such message"
    : `${stored.text === undefined ? "(no text)" : Render.quote(stored.text)} (${stored.history.length} version${stored.history.length === 1 ? "" : "s"})`

interface Rehearsal {
  readonly sandbox: SandboxServer.ProviderSandbox
  readonly seeded: SandboxServer.RelayedIds | undefined
  readonly before: SandboxServer.StoredMessage | undefined
}

/** Seeds a sandbox message at a request's ids; a refusal is reported, and the edit still runs. */
const seed = (
  run: Run,
  sandbox: SandboxServer.ProviderSandbox,
  ids: Parameters<typeof Requests.seedIdsOf>[0],
  prefix = ""
): Effect.Effect<Rehearsal> =>
  Effect.tryPromise(() => sandbox.seedMessage(SANDBOX_PLACEHOLDER, Requests.seedIdsOf(ids))).pipe(
    Effect.map((seeded): Rehearsal => ({ sandbox, seeded, before: sandbox.inspect(seeded) })),
    Effect.catch((error) =>
      run.output
        .err(
          `${prefix}sandbox: could not seed a message at these ids (${error.cause instanceof Error ? error.cause.message : String(error.cause)}); the edit runs anyway`
        )
        .pipe(Effect.as<Rehearsal>({ sandbox, seeded: undefined, before: undefined }))
    )
  )

const sandboxJson = (rehearsal: Rehearsal) => ({
  sandbox: {
    provider: rehearsal.sandbox.provider,
    url: rehearsal.sandbox.url,
    ids: rehearsal.seeded ?? null,
    before: storedJson(rehearsal.before),
    after: storedJson(rehearsal.seeded === undefined ? undefined : rehearsal.sandbox.inspect(rehearsal.seeded))
  }
})

/** Starts the chosen provider's sandbox for a rehearsal. */
const startSandbox = (run: Run): Effect.Effect<SandboxServer.ProviderSandbox, CommandFailed, Scope.Scope> =>
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

/** One message, from the flags. */
const updateOne = (run: Run): Effect.Effect<void, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const { input, output } = run
    const request = Requests.fromFlags(input)
    let rehearsal: Rehearsal | undefined
    let editor: MessageEditor.Service
    if (input.sandbox) {
      const sandbox = yield* startSandbox(run)
      rehearsal = yield* seed(run, sandbox, request.ids)
      if (!output.json && rehearsal.seeded !== undefined) {
        yield* output.out(`sandbox: before: ${storedLine(rehearsal.before)}`)
      }
      editor = yield* editorOf(run, sandbox.env, undefined)
    } else {
      editor = yield* editorOf(run, run.env, Option.getOrUndefined(input.bitrix24TokenFile))
    }
    const result: LineOutcome = yield* Effect.result(
      editor
        .update(request)
        .pipe(Effect.catchDefect((defect) => Effect.fail(unexpectedOf(editor.provider, "update")(defect))))
    )
    const extra = rehearsal === undefined ? {} : sandboxJson(rehearsal)
    if (output.json) {
      yield* output.outJson(
        Result.isSuccess(result)
          ? { ...Render.messageJson(result.success), ...extra }
          : { ...errorJson(result.failure), ...extra }
      )
    }
    if (Result.isSuccess(result)) {
      if (!output.json) yield* output.out(Render.updatedLine(Render.messageJson(result.success)))
    } else {
      yield* printError(run, result.failure)
    }
    if (!output.json && rehearsal?.seeded !== undefined) {
      yield* output.out(`sandbox: after: ${storedLine(rehearsal.sandbox.inspect(rehearsal.seeded))}`)
    }
    if (Result.isFailure(result)) {
      return yield* new CommandFailed({ exitCode: exitCodeOf(result.failure), summary: result.failure.message })
    }
  })

/** The request lines of a `--from` source, numbered from 1, blank lines left out. */
const linesOf = (
  source: string
): Stream.Stream<readonly [line: string, number: number], unknown, FileSystem.FileSystem | Stdio.Stdio> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const bytes =
        source === "-"
          ? (yield* Stdio.Stdio).stdin
          : Stream.unwrap(Effect.map(FileSystem.FileSystem, (fs) => fs.stream(source)))
      return bytes.pipe(
        Stream.decodeText,
        Stream.splitLines,
        Stream.zipWithIndex,
        Stream.map(([line, index]) => [line, index + 1] as const),
        Stream.filter(([line]) => line.trim().length > 0)
      )
    })
  )

/** How many request lines a regular file holds (`undefined` for stdin and pipes: not known ahead). */
const countLines = (source: string): Effect.Effect<number | undefined, unknown, FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    if (source === "-") return undefined
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(source)
    if (info.type !== "File") return undefined
    return yield* Stream.runCount(linesOf(source))
  })

const readErrorMessage = (source: string, error: unknown): string => {
  const detail = error instanceof Error ? error.message : String(error)
  return source === "-" ? `could not read the requests from stdin: ${detail}` : `could not read ${source}: ${detail}`
}

/** Many messages, one request per line of a file (or stdin). */
const updateFrom = (
  run: Run,
  source: string
): Effect.Effect<void, CommandFailed, Scope.Scope | FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    const { input, output } = run
    const total = yield* countLines(source).pipe(
      Effect.catch((error) =>
        badInput(run, "Usage", readErrorMessage(source, error), "check the path given to --from (or use - for stdin)")
      )
    )
    if (source === "-" && (yield* (yield* Stdio.Stdio).stdinIsTerminal)) {
      yield* output.err("reading the requests from the terminal, one JSON request per line (Ctrl-D to end)")
    }
    const sandbox = input.sandbox ? yield* startSandbox(run) : undefined
    const editor =
      sandbox === undefined
        ? yield* editorOf(run, run.env, Option.getOrUndefined(input.bitrix24TokenFile))
        : yield* editorOf(run, sandbox.env, undefined)

    const counts = { updated: 0, invalid: 0, providerFailed: 0, unexpected: 0 }
    const reasons = new Map<string, EditError.EditError | Unexpected.Unexpected>()

    const runBatch = (batch: ReadonlyArray<readonly [string, number]>) =>
      Effect.gen(function* () {
        const parsed = yield* Effect.forEach(batch, ([line]) => Effect.result(Requests.fromJsonLine(line)))
        const ready: Array<{ readonly position: number; readonly request: EditRequest.EditRequest }> = []
        const outcomes: Array<LineOutcome> = new Array(batch.length)
        const rehearsals: Array<Rehearsal | undefined> = new Array(batch.length)
        for (const [position, result] of parsed.entries()) {
          if (Result.isSuccess(result)) ready.push({ position, request: result.success })
          else {
            outcomes[position] = Result.fail(
              EditError.make({ provider: editor.provider, operation: "updateMany", reason: result.failure })
            )
          }
        }
        if (sandbox !== undefined) {
          for (const entry of ready) {
            const number = batch[entry.position]?.[1] ?? 0
            rehearsals[entry.position] = yield* seed(run, sandbox, entry.request.ids, `line ${number}: `)
          }
        }
        const edited = yield* editAll(
          editor,
          ready.map((entry) => entry.request)
        )
        ready.forEach((entry, index) => {
          const outcome = edited[index]
          if (outcome !== undefined) outcomes[entry.position] = outcome
        })
        for (const [position, [, number]] of batch.entries()) {
          const outcome = outcomes[position]
          if (outcome === undefined) continue
          const rehearsal = rehearsals[position]
          const extra = rehearsal === undefined ? {} : sandboxJson(rehearsal)
          if (Result.isSuccess(outcome)) {
            counts.updated += 1
            const message = Render.messageJson(outcome.success)
            if (output.json) yield* output.outJson({ line: number, ...message, ...extra })
            else yield* output.out(`line ${number}: ${Render.updatedLine(message)}`)
          } else {
            const error = outcome.failure
            const code = exitCodeOf(error)
            if (code === ExitCode.Unexpected) counts.unexpected += 1
            else if (code === ExitCode.BadInput) counts.invalid += 1
            else counts.providerFailed += 1
            const tag = error._tag === "Unexpected" ? "Unexpected" : error.reason._tag
            if (!reasons.has(tag)) reasons.set(tag, error)
            if (output.json) yield* output.outJson({ line: number, ...errorJson(error), ...extra })
            else yield* output.err(`line ${number}: error: ${error.message}`)
          }
        }
        const failed = counts.invalid + counts.providerFailed + counts.unexpected
        yield* output.err(`updated ${counts.updated}${total === undefined ? "" : `/${total}`}, failed ${failed}`)
      })

    const readFailure = yield* linesOf(source).pipe(
      Stream.grouped(input.batchSize),
      Stream.runForEach(runBatch),
      Effect.match({ onFailure: (error) => Option.some(error), onSuccess: () => Option.none<unknown>() })
    )

    const failed = counts.invalid + counts.providerFailed + counts.unexpected
    const processed = counts.updated + failed
    if (processed === 0 && Option.isNone(readFailure)) yield* output.err("updated 0, failed 0: no request lines")
    if (!output.json) {
      for (const [tag, error] of reasons) {
        yield* output.err(
          `hint (${tag}): ${
            error._tag === "Unexpected"
              ? UNEXPECTED_HINT
              : Render.hintFor(error, secretVariables(descriptorOf(run, error.provider)))
          }`
        )
      }
    }
    yield* output.err(
      `done: updated ${counts.updated} of ${processed}, failed ${failed} (${counts.invalid} invalid, ${counts.providerFailed} refused or failed by the provider${counts.unexpected > 0 ? `, ${counts.unexpected} unexpected` : ""})`
    )
    if (Option.isSome(readFailure)) {
      const message = readErrorMessage(source, readFailure.value)
      yield* output.err(`error: ${message}`)
      return yield* new CommandFailed({
        exitCode:
          counts.unexpected > 0
            ? ExitCode.Unexpected
            : counts.providerFailed > 0
              ? ExitCode.ProviderFailure
              : ExitCode.BadInput,
        summary: message
      })
    }
    if (counts.unexpected > 0) {
      return yield* new CommandFailed({
        exitCode: ExitCode.Unexpected,
        summary: `${counts.unexpected} lines met an unexpected error`
      })
    }
    if (counts.providerFailed > 0) {
      return yield* new CommandFailed({
        exitCode: ExitCode.ProviderFailure,
        summary: `${counts.providerFailed} lines failed at the provider`
      })
    }
    if (counts.invalid > 0) {
      return yield* new CommandFailed({ exitCode: ExitCode.BadInput, summary: `${counts.invalid} lines were invalid` })
    }
  })

/** Runs the command as its flags ask. */
const dispatch = (run: Run): Effect.Effect<void, CommandFailed, Scope.Scope | FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    const { input } = run
    const given = Requests.requestFlagNames(input)
    if (input.batchSize < 1) {
      return yield* badInput(run, "Usage", "--batch-size must be at least 1", "pass --batch-size 1 or more")
    }
    if (Option.isSome(input.from)) {
      if (given.length > 0) {
        return yield* badInput(
          run,
          "Usage",
          `--from cannot be combined with ${given.join(", ")}: with --from, every request comes from the file`,
          "put the ids and the text in the file's lines, or drop --from"
        )
      }
      return yield* updateFrom(run, input.from.value)
    }
    return yield* updateOne(run)
  })

/**
 * A defect outside any one request (a bug): one error line on stderr (and
 * one JSON error under `--json`), scrubbed and escaped, never a stack trace;
 * exit code 1.
 */
const reportDefect = (run: Run, defect: unknown): Effect.Effect<never, CommandFailed> =>
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

/**
 * Builds the `update` command for a set of providers.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const resolved = Providers.resolve(options)
  const names = resolved.names
  return Command.make(
    "update",
    {
      externalMessageId: optionalString(
        "external-message-id",
        "The message's id in the external messenger, as the relaying app sent it (Bitrix24 needs it).",
        "id"
      ),
      externalChatId: optionalString(
        "external-chat-id",
        "The chat's id in the external messenger (Bitrix24 needs it).",
        "id"
      ),
      externalAuthorId: optionalString(
        "external-author-id",
        "The author's id in the external messenger (Bitrix24 needs it).",
        "id"
      ),
      providerMessageId: optionalString(
        "provider-message-id",
        "The provider's own id of the message, such as Acquire's numeric message id (Acquire needs it).",
        "id"
      ),
      text: optionalString(
        "text",
        "The new text of the message. With --file, at least one of the two is needed.",
        "text"
      ),
      files: Flag.String("file").pipe(
        Flag.withDescription(
          "A file the message carries after the edit, by http(s) URL; a #fragment gives its file name, percent-encoded (https://cdn.example.com/f/81#Q3%20report.pdf). Repeat for several files. Providers that edit text only (Acquire) refuse files."
        ),
        Flag.withMetavar("url[#name]"),
        Flag.atLeast(0)
      ),
      language: optionalString(
        "language",
        "The ISO language code of the new text (en, pt-BR), for providers that translate (Acquire).",
        "code"
      ),
      provider: Flag.Literals("provider", names).pipe(
        Flag.withMetavar("name"),
        Flag.withDescription(`The provider: ${Providers.list(names)}. Overrides ${Provider.PROVIDER_VARIABLE}.`),
        Flag.optional
      ),
      from: optionalString(
        "from",
        "Updates many messages: a file of requests, one JSON EditRequest per line (JSON lines), or - for stdin. Cannot be combined with the request flags above. See MANY MESSAGES below.",
        "file.jsonl"
      ),
      batchSize: Flag.Int("batch-size").pipe(
        Flag.withDescription(
          `With --from: how many lines go to the provider at a time, and how often the progress line is printed (default ${DEFAULT_BATCH_SIZE}).`
        ),
        Flag.withMetavar("n"),
        Flag.withDefault(DEFAULT_BATCH_SIZE)
      ),
      json: Flag.Boolean("json").pipe(
        Flag.withDescription(
          "Prints JSON on stdout and nothing else: one object (the edited message, or {error}); with --from, one line per request line. See OUTPUT below."
        ),
        Flag.withDefault(false)
      ),
      sandbox: Flag.Boolean("sandbox").pipe(
        Flag.withDescription(
          "Rehearses the edit on a local emulator of the provider, started for this run: nothing leaves this machine. Prints what the emulator stores before and after. See SANDBOX below."
        ),
        Flag.withDefault(false)
      ),
      bitrix24TokenFile: optionalString(
        "bitrix24-token-file",
        `[bitrix24] A JSON file that keeps the OAuth token pair: a pair in it wins over the configured one, and a refreshed pair is saved to it (owner-only). Bitrix24 refresh tokens rotate: without it, a pair refreshed during this run is lost at exit. Overrides ${BITRIX24_TOKEN_FILE}.`,
        "path"
      ),
      settings: resolved.settingFlags
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          const processEnv = resolved.env()
          const env = withOverrides(processEnv, { provider: input.provider, settings: input.settings })
          const output = Output.make({ json: input.json, secrets: Secrets.make(secretsIn(env, resolved.providers)) })
          const tokenFile = Option.orElse(input.bitrix24TokenFile, () =>
            Option.fromUndefinedOr(env[BITRIX24_TOKEN_FILE]?.trim() || undefined)
          )
          const run: Run = { input: { ...input, bitrix24TokenFile: tokenFile }, resolved, output, env }
          return yield* output.guard(dispatch(run)).pipe(Effect.catchDefect((defect) => reportDefect(run, defect)))
        })
      )
  ).pipe(
    Command.withDescription(
      "Updates a message that was already sent: its ids, the new text or files, on the provider that REWORD_PROVIDER (or --provider) names, configured from the environment (or the flags). With --from, many messages from a JSON-lines file; with --sandbox, a rehearsal on a local emulator."
    ),
    Command.withShortDescription("Update a message already sent (or many, --from a JSON-lines file)"),
    Command.withExamples([
      {
        command: 'reword update --provider acquire --provider-message-id 8291 --text "Meet at 10, not 11."',
        description: "Fix an Acquire message (ACQUIRE_ACCOUNT_ID and ACQUIRE_API_KEY in the environment)"
      },
      {
        command:
          'reword update --provider bitrix24 --external-message-id wa-881 --external-chat-id wa-chat-7 --external-author-id wa-user-3 --text "Sorry, Tuesday." --file "https://cdn.example.com/f/81#menu.pdf"',
        description: "Fix a Bitrix24 message and its file"
      },
      {
        command: 'reword update --sandbox --provider acquire --provider-message-id 8291 --text "Meet at 10."',
        description: "Rehearse on the local Acquire emulator: nothing leaves this machine"
      },
      {
        command: "reword update --from fixes.jsonl --json > results.jsonl",
        description: "Many messages, one JSON result line per request line"
      }
    ]),
    Command.annotate(HelpSections, helpSections(resolved))
  )
}

/**
 * The `update` command for Bitrix24 and Acquire.
 *
 * @since 0.1.0
 */
export const command = make()
