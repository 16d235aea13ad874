/**
 * The `reword` command tree (`reword update`, `reword sandbox`), and how to run
 * it with reword's help, usage errors and exit codes: exported so that tests
 * and apps can embed it.
 *
 * @example
 * ```ts
 * import { RewordCommand } from "@reword/cli"
 * import { Effect } from "effect"
 *
 * RewordCommand.runWith(["update", "--help"]).pipe(Effect.provide(RewordCommand.layerNode), RewordCommand.runMain)
 * ```
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { Cause, Console, Effect, Exit, Layer, Logger, Runtime, Stdio } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as DashboardCommand from "./DashboardCommand.ts"
import * as HistoryCommand from "./HistoryCommand.ts"
import { ExitCode as Codes, CommandFailed } from "./internal/exit.ts"
import * as Help from "./internal/help.ts"
import * as Node from "./internal/node.ts"
import type * as Providers from "./internal/providers.ts"
import { safe } from "./internal/terminal.ts"
import * as Unexpected from "./internal/unexpected.ts"
import * as OutboxCommand from "./OutboxCommand.ts"
import * as SandboxCommand from "./SandboxCommand.ts"
import * as TenantsCommand from "./TenantsCommand.ts"
import * as UpdateCommand from "./UpdateCommand.ts"

/** The `version` of this package's own package.json (one level above `src` and `dist` alike). */
const packageVersion = (): string => {
  const manifest: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  return typeof manifest === "object" &&
    manifest !== null &&
    "version" in manifest &&
    typeof manifest.version === "string"
    ? manifest.version
    : "unknown"
}

/**
 * The version `reword --version` prints: the package's own, as `changeset version` sets it.
 *
 * @category constants
 * @since 0.1.0
 */
export const VERSION = packageVersion()

/**
 * The exit codes: 0 success, 2 bad input (usage, invalid request,
 * configuration), 3 the provider refused or failed. (1 is left to unexpected
 * errors.)
 *
 * @category utils
 * @since 0.1.0
 */
export const ExitCode = Codes

/**
 * The failure a run ends with, carrying its exit code (its message was printed already).
 *
 * @since 0.1.0
 */
export { CommandFailed }

/**
 * What the command tree is built from: the providers, their sandboxes, the environment.
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

/**
 * Builds the command tree.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}) =>
  Command.make("reword").pipe(
    Command.withDescription(
      "Edits chat messages already sent on a helpdesk (Bitrix24, Acquire), for operators who must fix a relayed message by hand."
    ),
    Command.withSubcommands([
      UpdateCommand.make(options),
      SandboxCommand.make(options),
      HistoryCommand.make(options),
      OutboxCommand.make(options),
      DashboardCommand.make(options),
      TenantsCommand.make(options)
    ]),
    Command.annotate(Help.HelpSections, [
      {
        title: "EXIT CODES",
        lines: [
          "0  success",
          "2  bad input: command-line usage, an invalid request or a configuration error; nothing was sent",
          "3  the provider refused or failed the edit (with --from: any line did)",
          "4  reword update through the app's outbox: queued there, not delivered within --wait (its workers deliver it)",
          "1  an unexpected error (a bug: please report it)",
          "Run `reword update --help` for every option, the environment variables and the output formats."
        ]
      }
    ])
  )

/**
 * The command tree for Bitrix24 and Acquire.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()

/** The built-in global flags, without the interactive wizard (settings include secrets). */
const builtIns = GlobalFlag.BuiltIns.filter((flag) => flag !== GlobalFlag.Wizard)

/**
 * A defect that escaped every command (a bug): one line on stderr and, with
 * `--json`, one JSON error on stdout; never a stack trace, never the defect's
 * own text (it may hold anything); exit code 1.
 */
const reportDefect = (args: ReadonlyArray<string>, defect: unknown): Effect.Effect<never, CommandFailed> =>
  Effect.gen(function* () {
    const name = defect instanceof Error ? safe(Unexpected.describe(defect).split(":")[0] ?? "Error") : typeof defect
    const message = `an unexpected error, a bug in reword (please report it): ${name}`
    if (args.includes("--json")) {
      const json = { error: { provider: null, operation: "reword", reason: "Unexpected", message, retryable: false } }
      yield* Console.log(JSON.stringify(json))
    }
    yield* Console.error(`error: ${message}`)
    return yield* new CommandFailed({ exitCode: Codes.Unexpected, summary: message })
  })

/**
 * Runs the command tree with these arguments (without the program name):
 * reword's help sections, usage errors on stderr (and as JSON with `--json`),
 * logs on stderr, and every failure carrying its exit code (a usage error is a
 * {@link CommandFailed} with code 2, an unexpected error one with code 1,
 * reported on one line: never a stack trace).
 *
 * @category utils
 * @since 0.1.0
 */
export const runWith = (
  args: ReadonlyArray<string>,
  options: Options = {}
): Effect.Effect<void, CommandFailed, Command.Environment> =>
  Command.runWith(Object.keys(options).length === 0 ? command : make(options), { version: VERSION })(args).pipe(
    Effect.catchIf(CliError.isCliError, (error) =>
      Effect.fail(new CommandFailed({ exitCode: Codes.BadInput, summary: error.message }))
    ),
    Effect.catchDefect((defect) => reportDefect(args, defect)),
    Effect.provide(
      Layer.mergeAll(
        CliOutput.layer(Help.formatter()),
        CliOutput.layerPresenter(Help.presenter(args)),
        CliConfig.layer({ builtIns }),
        Layer.succeed(Logger.LogToStderr, true)
      )
    )
  )

/**
 * Runs the command tree with the process's arguments (from `Stdio`).
 *
 * @category utils
 * @since 0.1.0
 */
export const run = (options: Options = {}): Effect.Effect<void, CommandFailed, Command.Environment> =>
  Stdio.Stdio.use((stdio) => Effect.flatMap(stdio.args, (args) => runWith(args, options)))

/**
 * The Node services the command needs (arguments and standard streams, reading
 * `--from` files), on `effect` alone: no other platform package.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerNode: Layer.Layer<Command.Environment> = Node.layer

/**
 * Runs the command as the process's main program: SIGINT and SIGTERM stop it
 * cleanly (exit code 130), its exit code is the failure's, and the process
 * ends once its output is flushed. Nothing is logged on the way out: every
 * failure was reported already, on one line.
 *
 * @category utils
 * @since 0.1.0
 */
export const runMain = <E, A>(effect: Effect.Effect<A, E>): void =>
  Node.runMain(effect, {
    disableErrorReporting: true,
    // The exit code is set, and the process ends once its output is flushed (process.exit could cut
    // stdout short when it is a pipe). An interruption (Ctrl-C, SIGTERM) still exits at once.
    teardown: (exit, onExit) =>
      Runtime.defaultTeardown(exit, (code) => {
        if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) onExit(code)
        else process.exitCode = code
      })
  })
