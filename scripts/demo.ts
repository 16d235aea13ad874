/**
 * `pnpm demo`: the port at work, end to end.
 *
 * By default, and whatever the environment holds, it starts the local
 * sandboxes of every provider (real HTTP servers on 127.0.0.1, nothing leaves
 * the machine), relays a message to each, edits it through the
 * `MessageEditor` that configuration chooses (the same app code for every
 * provider), prints what each provider stores before and after, then shows
 * typed errors and how the app matched on their reasons.
 *
 * Only when asked explicitly with `--real` does it edit a real message, through
 * the provider that `REWORD_PROVIDER` and its settings in the environment name:
 * `pnpm demo --real --provider-message-id 1842 --text "..."` (or
 * `--external-message-id`, `--external-chat-id`, `--external-author-id`).
 * A failed real edit exits with code 1, bad flags with 2. `REWORD_PROVIDER` alone never switches
 * the demo to a real edit (it is set, for instance, after pasting the export
 * lines of `reword sandbox`).
 */
import { parseArgs } from "node:util"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { type EditError, MessageEditor, Provider } from "@reword/core"
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect, Result } from "effect"
import { outboxTour } from "./demo-outbox.ts"
import { relayTour } from "./demo-relay.ts"
import { tenantsTour } from "./demo-tenants.ts"

const providers = [Bitrix24.provider, Acquire.provider]
const line = (text = "") => console.log(text)
const quote = (text: string | undefined) => (text === undefined ? "(no text)" : `"${text}"`)

/** How the app reacts to each reason: it matches on the reason, never on a message. */
const adviceFor = (error: EditError.EditError) =>
  Effect.fail(error).pipe(
    Effect.catchReasons("EditError", {
      NotFound: () => Effect.succeed("drop it: the provider has no such message"),
      InvalidRequest: (reason) =>
        Effect.succeed(`fix the request first (${reason.problems.map((p) => p.path).join(", ")})`),
      Unsupported: (reason) => Effect.succeed(`do without ${reason.capability}: send them as a new message`),
      Unauthorized: () => Effect.succeed("re-authenticate"),
      RateLimited: () => Effect.succeed("wait and retry")
    }),
    Effect.orElseSucceed(() => (error.isRetryable ? "retry later" : "report it"))
  )

/** The app: provider-neutral. It only knows the port and the ids it kept when it relayed the message. */
const editRelayedMessage = (relayed: SandboxServer.RelayedIds, sandbox: SandboxServer.ProviderSandbox) =>
  Effect.gen(function* () {
    const editor = yield* MessageEditor.MessageEditor
    const before = sandbox.inspect(relayed)?.text
    const edited = yield* editor.update({ ids: relayed, text: "See you on Tuesday at 10:00." })
    const stored = sandbox.inspect(relayed)
    line(`  before: ${quote(before)}`)
    line(
      `  after:  ${quote(stored?.text)}   (the provider confirmed ${quote(edited.text)}; ${stored?.history.length} versions stored)`
    )

    const attempts = [
      {
        what: "attach a file",
        ifDone: "this provider stores files",
        request: { ids: relayed, text: "The map", files: [{ url: "https://cdn.example.com/map.png" }] }
      },
      {
        what: "edit a message it never relayed",
        ifDone: "the provider did not object (Bitrix24 portals answer success for ids they never saw: keep ids right)",
        request: { ids: { ...relayed, externalMessageId: "wa-404", providerMessageId: 999_999 }, text: "?" }
      },
      { what: "send an empty edit", ifDone: "", request: { ids: relayed, text: "" } }
    ]
    const outcomes = yield* editor.updateMany(attempts.map((attempt) => attempt.request))
    for (const [index, outcome] of outcomes.entries()) {
      const what = attempts[index]?.what ?? ""
      if (Result.isSuccess(outcome)) {
        line(`  ${what}: done; ${attempts[index]?.ifDone}`)
        continue
      }
      line(`  ${what}: ${outcome.failure.reason._tag} -> ${yield* adviceFor(outcome.failure)}`)
    }
  })

const sandboxes: ReadonlyArray<{ readonly start: () => Promise<SandboxServer.ProviderSandbox> }> = [
  Bitrix24Sandbox,
  AcquireSandbox
]

const sandboxTour = Effect.gen(function* () {
  line("reword demo: the local sandboxes of every provider, on 127.0.0.1. No credentials, nothing leaves the machine.")
  for (const module of sandboxes) {
    const sandbox = yield* Effect.acquireRelease(
      Effect.promise(() => module.start()),
      (started) => Effect.promise(() => started.stop())
    )
    line()
    line(`[${sandbox.provider}] sandbox at ${sandbox.url}; REWORD_PROVIDER=${sandbox.env.REWORD_PROVIDER}`)
    const relayed = yield* Effect.promise(() =>
      sandbox.seedMessage("See you on Monday at 10:00.", {
        externalMessageId: "wa-881",
        externalChatId: "wa-chat-7",
        externalAuthorId: "wa-user-3"
      })
    )
    line(`  relayed ${quote(sandbox.inspect(relayed)?.text)} and kept its ids: ${JSON.stringify(relayed)}`)
    yield* editRelayedMessage(relayed, sandbox).pipe(
      Effect.provide(Provider.layer(providers, { source: Provider.fromEnv(sandbox.env), retry: { maxAttempts: 2 } }))
    )
  }
  line()
  line("The same app code ran on each provider; only REWORD_PROVIDER and its settings changed.")
  line("Run the tests with: npx -y pnpm@10.34.9 test")
}).pipe(Effect.scoped)

/** The flags of a real edit; `--real` is the explicit request for one. */
const flags = {
  real: { type: "boolean" },
  "external-message-id": { type: "string" },
  "external-chat-id": { type: "string" },
  "external-author-id": { type: "string" },
  "provider-message-id": { type: "string" },
  text: { type: "string" }
} as const

/** Bad command-line input: reported on stderr, exit code 2, nothing sent. */
class UsageError extends Error {}

type Values = ReturnType<typeof parseArgs<{ options: typeof flags }>>["values"]

const parse = (argv: ReadonlyArray<string>): Values => {
  try {
    return parseArgs({ args: [...argv], options: flags, strict: true }).values
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}

/** One line for any failure: its name and message (Effect's ConfigError is not an `Error`). */
const describeFailure = (error: unknown): string => {
  if (error instanceof UsageError) return error.message
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return "name" in error && typeof error.name === "string" ? `${error.name}: ${error.message}` : error.message
  }
  return String(error)
}

/** Asked with `--real`: edit one real message on the provider the environment configures. */
const realEdit = (values: Values) =>
  Effect.gen(function* () {
    const ids = Object.fromEntries(
      [
        ["externalMessageId", values["external-message-id"]],
        ["externalChatId", values["external-chat-id"]],
        ["externalAuthorId", values["external-author-id"]],
        ["providerMessageId", values["provider-message-id"]]
      ].filter((entry) => entry[1] !== undefined)
    )
    const editor = yield* MessageEditor.MessageEditor
    line(`reword demo --real: editing a real message on ${editor.provider}.`)
    const edited = yield* editor.update({ ids, text: values.text ?? "" })
    line(`Updated: ${quote(edited.text)}`)
  }).pipe(
    Effect.catchTag("EditError", (error) =>
      Effect.flatMap(adviceFor(error), (advice) =>
        Effect.sync(() => {
          console.error(`${describeFailure(error)}\n-> ${error.reason._tag}: ${advice}`)
          process.exitCode = 1
        })
      )
    ),
    Effect.provide(Provider.layer(providers, { source: Provider.fromEnv(process.env) }))
  )

const main = (argv: ReadonlyArray<string>) => {
  // `pnpm demo relay`: the two-way relay on the sandboxes.
  if (argv[0] === "relay") return Effect.promise(relayTour)
  // `pnpm demo tenants`: many Bitrix24 portals installing, editing and uninstalling.
  if (argv[0] === "tenants") return Effect.promise(tenantsTour)
  const values = parse(argv)
  if (values.real === true) return realEdit(values)
  const stray = Object.keys(values)
  if (stray.length > 0) {
    throw new UsageError(
      `--${stray.join(", --")} need --real to edit a real message; without --real the demo runs on the local sandboxes.`
    )
  }
  if (process.env.REWORD_PROVIDER !== undefined) {
    line(
      `(REWORD_PROVIDER=${process.env.REWORD_PROVIDER} is ignored here: only \`pnpm demo --real ...\` edits a real message.)`
    )
  }
  return Effect.andThen(sandboxTour, outboxTour)
}

const argv = process.argv.slice(2).filter((arg) => arg !== "--")

Effect.suspend(() => main(argv))
  .pipe(Effect.runPromise)
  .catch((error: unknown) => {
    console.error(describeFailure(error))
    process.exitCode = error instanceof UsageError ? 2 : 1
  })
