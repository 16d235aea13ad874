/**
 * `reword sandbox [bitrix24|acquire|telegram|all]`: runs the providers' local emulators
 * in the foreground, prints where they are and the environment that points
 * reword (or an app) at them, and stops them cleanly on Ctrl-C or SIGTERM.
 *
 * @since 0.1.0
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { CommandFailed, ExitCode } from "./internal/exit.ts"
import { HelpSections } from "./internal/help.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"
import { otherErrorJson } from "./internal/render.ts"
import * as Sandboxes from "./internal/sandboxes.ts"

/**
 * What the command is built from: the providers and their sandboxes.
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

const shellWord = (value: string): string =>
  /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`

/** The `reword update` flags that address a seeded message. */
const updateCommandFor = (provider: string, ids: SandboxServer.RelayedIds, text: string): string =>
  [
    "reword update --provider",
    provider,
    ...(ids.providerChatId === undefined ? [] : ["--provider-chat-id", String(ids.providerChatId)]),
    ...(ids.providerMessageId === undefined ? [] : ["--provider-message-id", String(ids.providerMessageId)]),
    "--external-message-id",
    shellWord(ids.externalMessageId),
    "--external-chat-id",
    shellWord(ids.externalChatId),
    "--external-author-id",
    shellWord(ids.externalAuthorId),
    "--text",
    shellWord(`${text} (edited)`)
  ].join(" ")

/**
 * Builds the `sandbox` command for a set of providers and their sandboxes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const resolved = Providers.resolve(options)
  const available = Object.keys(resolved.sandboxes)
  const choices = [...available, "all"] as const
  return Command.make(
    "sandbox",
    {
      which: Argument.Literals("provider", choices).pipe(
        Argument.withDescription(`Which sandbox to run: ${Providers.list(available)}, or all of them (the default).`),
        Argument.withDefault("all")
      ),
      port: Flag.Int("port").pipe(
        Flag.withDescription(
          "The port to listen on, on 127.0.0.1 (default 0: a free port). With several sandboxes, the next ones take the next ports."
        ),
        Flag.withMetavar("n"),
        Flag.withDefault(0)
      ),
      seed: Flag.String("seed").pipe(
        Flag.withDescription(
          "Stores a message with this text in each sandbox at start, and prints its ids and a ready `reword update` command. Repeat for several messages."
        ),
        Flag.withMetavar("text"),
        Flag.atLeast(0)
      ),
      json: Flag.Boolean("json").pipe(
        Flag.withDescription(
          'Prints one JSON line on stdout once every sandbox listens: {"sandboxes":[{"provider","url","env","seeded":[{"text","ids"}]}]}.'
        ),
        Flag.withDefault(false)
      )
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          // The credentials printed here are the sandboxes' own, made up for this run: nothing to scrub.
          const output = Output.make({ json: input.json })
          const chosen = input.which === "all" ? available : [input.which]
          if (input.port < 0 || input.port + chosen.length - 1 > 65_535) {
            const message = `--port must be from 0 to ${65_536 - chosen.length}`
            if (output.json) {
              yield* output.outJson(
                otherErrorJson({ provider: undefined, operation: "sandbox", reason: "Usage", message })
              )
            }
            yield* output.err(`error: ${message}`)
            return yield* new CommandFailed({ exitCode: ExitCode.BadInput, summary: message })
          }
          const started: Array<{
            readonly sandbox: SandboxServer.ProviderSandbox
            readonly seeded: ReadonlyArray<{ readonly text: string; readonly ids: SandboxServer.RelayedIds }>
          }> = []
          for (const [index, provider] of chosen.entries()) {
            const starter = resolved.sandboxes[provider]
            if (starter === undefined) continue
            const port = input.port === 0 ? 0 : input.port + index
            const sandbox = yield* Sandboxes.scoped(provider, starter, port).pipe(
              Effect.catchTag("SandboxStartError", (error) =>
                Effect.gen(function* () {
                  if (output.json) {
                    yield* output.outJson(
                      otherErrorJson({ provider, operation: "sandbox", reason: "Usage", message: error.message })
                    )
                  }
                  yield* output.err(`error: ${error.message}`)
                  yield* output.err("hint: choose another --port, or 0 for a free one")
                  return yield* new CommandFailed({ exitCode: ExitCode.BadInput, summary: error.message })
                })
              )
            )
            yield* Effect.addFinalizer(() => output.err(`stopped the ${provider} sandbox`))
            const seeded: Array<{ readonly text: string; readonly ids: SandboxServer.RelayedIds }> = []
            for (const text of input.seed) {
              const ids = yield* Effect.promise(() => sandbox.seedMessage(text))
              seeded.push({ text, ids })
            }
            started.push({ sandbox, seeded })
          }
          if (output.json) {
            yield* output.outJson({
              sandboxes: started.map(({ sandbox, seeded }) => ({
                provider: sandbox.provider,
                url: sandbox.url,
                env: sandbox.env,
                seeded
              }))
            })
          } else {
            for (const { sandbox, seeded } of started) {
              yield* output.out(
                `${sandbox.provider} sandbox listening at ${sandbox.url} (a local emulator: nothing leaves this machine)`
              )
              yield* output.out("  # point reword (or your app) at it:")
              for (const [name, value] of Object.entries(sandbox.env)) {
                yield* output.out(`  ${Sandboxes.exportLine(name, value)}`)
              }
              for (const { text, ids } of seeded) {
                yield* output.out(`  # a seeded message (${JSON.stringify(text)}), to edit:`)
                yield* output.out(`  ${updateCommandFor(sandbox.provider, ids, text)}`)
              }
              yield* output.out("")
            }
            if (started.length > 1) {
              yield* output.out("Each block sets REWORD_PROVIDER: paste the block of the provider to use.")
            }
            yield* output.out("Press Ctrl-C to stop.")
          }
          return yield* Effect.never
        })
      )
  ).pipe(
    Command.withDescription(
      "Runs the providers' local emulators (real HTTP servers on 127.0.0.1, with fake credentials) in the foreground until Ctrl-C or SIGTERM, and prints their URL and the export lines of the environment that points reword at them. Nothing leaves this machine."
    ),
    Command.withShortDescription("Run the local emulators of the providers (Ctrl-C stops them)"),
    Command.withExamples([
      { command: "reword sandbox acquire --port 8787", description: "The Acquire emulator on a fixed port" },
      {
        command: 'reword sandbox bitrix24 --seed "Meet at 11."',
        description: "The Bitrix24 emulator, with one message to edit"
      },
      { command: "reword sandbox --json", description: "Every emulator, described as one JSON line for scripts" }
    ]),
    Command.annotate(HelpSections, [
      {
        title: "EXIT CODES",
        lines: [
          "130  stopped by Ctrl-C or SIGTERM (the sandboxes were stopped cleanly)",
          "2    bad input: command-line usage, or a port that cannot be used",
          "1    an unexpected error (a bug: please report it)"
        ]
      }
    ])
  )
}

/**
 * The `sandbox` command for Bitrix24 and Acquire.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()
