/**
 * `reword update`: edits one message already sent (ids, text and files as
 * flags), or many (`--from` a JSON-lines file), on the provider that
 * `REWORD_PROVIDER` (or `--provider`) names, configured from the environment
 * (each setting overridable by its flag), or rehearsed on that provider's
 * local sandbox (`--sandbox`).
 *
 * This file holds the flags and the dispatch; the parts live in
 * `internal/update/`: `run.ts` (the run's context, the editor, failures and
 * exit codes), `one.ts` (one message from flags), `many.ts` (`--from`, on
 * `updateStream`), `rehearsal.ts` (`--sandbox`), `help.ts` (the help
 * sections). Provider-specific flags come from the registry
 * (`internal/providers.ts`), never from here.
 *
 * @since 0.1.0
 */
import { Provider } from "@reword/core"
import { Secrets } from "@reword/core/adapter"
import { Effect, type FileSystem, Option, type Scope, type Stdio } from "effect"
import { Command, Flag } from "effect/cli"
import type { CommandFailed } from "./internal/exit.ts"
import * as Extras from "./internal/extras.ts"
import { HelpSections } from "./internal/help.ts"
import * as Journal from "./internal/journal.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"
import * as Requests from "./internal/requests.ts"
import { secretsIn, withOverrides } from "./internal/settings.ts"
import { helpSections } from "./internal/update/help.ts"
import { updateFrom } from "./internal/update/many.ts"
import { updateOne } from "./internal/update/one.ts"
import { DEFAULT_WAIT, SETTLE_WINDOW_VARIABLE, updateThroughOutbox } from "./internal/update/outbox.ts"
import { PLACEHOLDER } from "./internal/update/rehearsal.ts"
import { badInput, type Run, reportDefect } from "./internal/update/run.ts"

/**
 * What the command is built from: the providers, their sandboxes, the environment.
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

/**
 * The text a `--sandbox` rehearsal seeds the message with, before the edit.
 *
 * @category constants
 * @since 0.1.0
 */
export const SANDBOX_PLACEHOLDER = PLACEHOLDER

/**
 * How many lines of a `--from` file go to the provider per batch, by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_BATCH_SIZE = 50

const optionalString = (name: string, description: string, metavar: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.withMetavar(metavar), Flag.optional)

/** Runs the command as its flags ask. */
const dispatch = (run: Run): Effect.Effect<void, CommandFailed, Scope.Scope | FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    const { input } = run
    const given = Requests.requestFlagNames(input)
    if (input.batchSize < 1) {
      return yield* badInput(run, "Usage", "--batch-size must be at least 1", "pass --batch-size 1 or more")
    }
    const outbox = Journal.locationOf(run.env, input.database) !== undefined
    if (input.direct && Option.isSome(input.database)) {
      return yield* badInput(
        run,
        "Usage",
        "--direct cannot be combined with --database: --direct edits on the provider, bypassing the outbox",
        "drop one of the two"
      )
    }
    if (Option.isSome(input.tenant) && (!outbox || input.direct || input.sandbox)) {
      return yield* badInput(
        run,
        "Usage",
        "--tenant names a message in the app's outbox: it needs --database (or REWORD_OUTBOX_DATABASE), without --direct and --sandbox",
        "a direct edit takes the provider settings from the environment: give the tenant's there, without --tenant"
      )
    }
    if (outbox && !input.sandbox && !input.direct) {
      if (Option.isSome(input.from)) {
        return yield* badInput(
          run,
          "Usage",
          `--from does not go through the outbox (--database or ${Journal.DATABASE_VARIABLE}): edit those messages one at a time, or through the app`,
          "or pass --direct to edit them on the provider directly (the journal then misses the edits, and a pending older edit of the outbox may overwrite them)"
        )
      }
      return yield* updateThroughOutbox(run)
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
 * Builds the `update` command for a set of providers.
 *
 * @category constructors
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
        "The provider's own id of the message, such as Acquire's numeric message id (Acquire and Telegram need it).",
        "id"
      ),
      providerChatId: optionalString(
        "provider-chat-id",
        "The provider's own id of the chat, where it keys a message by chat: Telegram's chat_id (Telegram needs it).",
        "id"
      ),
      providerConnectionId: optionalString(
        "provider-connection-id",
        "The connection the message was sent through: Telegram's business_connection_id, for a business message.",
        "id"
      ),
      kind: Flag.Literals("kind", ["text", "caption"]).pipe(
        Flag.withMetavar("text|caption"),
        Flag.withDescription(
          "What the text is: the message's own text (default) or a media message's caption (Telegram edits them apart)."
        ),
        Flag.optional
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
      database: Journal.flags.database,
      tablePrefix: Journal.flags.tablePrefix,
      tenant: optionalString(
        "tenant",
        "With an outbox database: the tenant the app's outbox files the message under (a Bitrix24 portal's member_id, an Acquire account), when several hold its id. The provider settings still come from the environment: give that tenant's.",
        "id"
      ),
      account: optionalString(
        "account",
        "With an outbox database: the account the app's outbox files the message under (as `reword history` shows it), when several hold its id.",
        "label"
      ),
      wait: Flag.String("wait").pipe(
        Flag.withDescription(
          `With an outbox database: how long this command delivers the edit before it leaves it queued for the app's workers (exit code 4; default ${DEFAULT_WAIT}).`
        ),
        Flag.withMetavar("duration"),
        Flag.withDefault(DEFAULT_WAIT)
      ),
      settleWindow: optionalString(
        "settle-window",
        `With an outbox database: the settle window the app's outbox uses, when it set one (default 30 seconds). Overrides ${SETTLE_WINDOW_VARIABLE}.`,
        "duration"
      ),
      direct: Flag.Boolean("direct").pipe(
        Flag.withDescription(
          `Edits on the provider directly even when ${Journal.DATABASE_VARIABLE} names an outbox: the journal then misses the edit, and a pending older edit of the outbox may overwrite it.`
        ),
        Flag.withDefault(false)
      ),
      extras: resolved.extraFlags,
      settings: resolved.settingFlags
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          const processEnv = resolved.env()
          const env = withOverrides(processEnv, { provider: input.provider, settings: input.settings })
          const output = Output.make({ json: input.json, secrets: Secrets.make(secretsIn(env, resolved.providers)) })
          const extras = Extras.valuesOf(resolved.extras, input.extras, env)
          const run: Run = { input: { ...input, extras }, resolved, output, env }
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
 * @category commands
 * @since 0.1.0
 */
export const command = make()
