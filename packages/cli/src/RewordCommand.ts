/**
 * The `reword` command tree (`reword update`, `reword sandbox`), and how to run
 * it with reword's help, usage errors and exit codes: exported so that tests
 * and apps can embed it.
 *
 * @example
 * ```ts
 * import { RewordCommand } from "@reword/cli"
 * import { NodeRuntime, NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 *
 * RewordCommand.run(["update", "--help"]).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Layer, Logger, Stdio } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import { ExitCode as Codes, CommandFailed } from "./internal/exit.ts"
import * as Help from "./internal/help.ts"
import type * as Providers from "./internal/providers.ts"
import * as SandboxCommand from "./SandboxCommand.ts"
import * as UpdateCommand from "./UpdateCommand.ts"

/**
 * The version `reword --version` prints.
 *
 * @since 0.1.0
 */
export const VERSION = "0.1.0"

/**
 * The exit codes: 0 success, 2 bad input (usage, invalid request,
 * configuration), 3 the provider refused or failed. (1 is left to unexpected
 * errors.)
 *
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
 * @since 0.1.0
 */
export type Options = Providers.Options

/**
 * Builds the command tree.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}) =>
  Command.make("reword").pipe(
    Command.withDescription(
      "Edits chat messages already sent on a helpdesk (Bitrix24, Acquire), for operators who must fix a relayed message by hand."
    ),
    Command.withSubcommands([UpdateCommand.make(options), SandboxCommand.make(options)]),
    Command.annotate(Help.HelpSections, [
      {
        title: "EXIT CODES",
        lines: [
          "0  success",
          "2  bad input: command-line usage, an invalid request or a configuration error; nothing was sent",
          "3  the provider refused or failed the edit (with --from: any line did)",
          "1  an unexpected error (a bug: please report it)",
          "Run `reword update --help` for every option, the environment variables and the output formats."
        ]
      }
    ])
  )

/**
 * The command tree for Bitrix24 and Acquire.
 *
 * @since 0.1.0
 */
export const command = make()

/** The built-in global flags, without the interactive wizard (settings include secrets). */
const builtIns = GlobalFlag.BuiltIns.filter((flag) => flag !== GlobalFlag.Wizard)

/**
 * Runs the command tree with these arguments (without the program name):
 * reword's help sections, usage errors on stderr (and as JSON with `--json`),
 * logs on stderr, and every failure carrying its exit code (a usage error is a
 * {@link CommandFailed} with code 2).
 *
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
 * @since 0.1.0
 */
export const run = (options: Options = {}): Effect.Effect<void, CommandFailed, Command.Environment> =>
  Stdio.Stdio.use((stdio) => Effect.flatMap(stdio.args, (args) => runWith(args, options)))
