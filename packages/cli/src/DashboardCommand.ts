/**
 * `reword dashboard`: a local web page on the app's outbox (`@reword/outbox`):
 * the backlog by provider, account and age, a chart of pending edits and dead
 * letters over time, the dead letters with their reasons and a re-drive
 * button, and one message's history as a timeline (versions, attempts,
 * outcomes, which worker held the claim). It reads the outbox's journal; its
 * one write is the re-drive. Bound to 127.0.0.1 unless told otherwise (then
 * every request needs the token of the printed link); a re-drive needs the
 * page's own Origin and Host and this run's token.
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as Guard from "./internal/dashboard/guard.ts"
import * as Server from "./internal/dashboard/server.ts"
import { type CommandFailed, ExitCode } from "./internal/exit.ts"
import { HelpSections } from "./internal/help.ts"
import * as Journal from "./internal/journal.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"

/**
 * What the command is built from: the providers (their secrets are scrubbed from every page).
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

/** The flags: the database's, and where to listen. */
const flags = {
  database: Journal.flags.database,
  tablePrefix: Journal.flags.tablePrefix,
  host: Flag.String("host").pipe(
    Flag.withDescription(
      "The address to listen on (default 127.0.0.1). Any other than loopback needs the token of the printed link on every request."
    ),
    Flag.withMetavar("address"),
    Flag.withDefault("127.0.0.1")
  ),
  port: Flag.Int("port").pipe(
    Flag.withDescription("The port to listen on (default 4880; 0 picks a free one)."),
    Flag.withMetavar("n"),
    Flag.withDefault(4880)
  ),
  allowHost: Flag.String("allow-host").pipe(
    Flag.withDescription(
      "Another host name the page is reached by (a DNS name, a proxy's), comma-separated: requests naming any other Host are refused."
    ),
    Flag.withMetavar("names"),
    Flag.optional
  )
} as const

/** The parsed flags. */
type Input = Command.Command.Config.Infer<typeof flags>

const hostNames = (text: Option.Option<string>): ReadonlyArray<string> | undefined => {
  const names = Option.isNone(text)
    ? []
    : text.value
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name.length > 0)
  return names.every((name) => /^[a-z0-9.:[\]-]{1,253}$/i.test(name)) ? names : undefined
}

/**
 * Builds the `dashboard` command.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}): Command.Command<"dashboard", Input, {}, CommandFailed> => {
  const resolved = Providers.resolve(options)
  return Command.make("dashboard", flags, (input) =>
    Effect.scoped(
      Effect.gen(function* () {
        const output = Output.make({ json: false })
        const usage = (message: string) =>
          Journal.fail(output, "dashboard", { reason: "Usage", message, exitCode: ExitCode.BadInput })
        if (input.port < 0 || input.port > 65_535) return yield* usage("--port must be from 0 to 65535")
        const allowHosts = hostNames(input.allowHost)
        if (allowHosts === undefined) return yield* usage("--allow-host takes host names, comma-separated")
        const journal = yield* Journal.open(resolved, output, "dashboard", input)
        const loopback = Guard.isLoopback(input.host)
        const accessToken = loopback ? undefined : Guard.token()
        const started = yield* Server.start({
          journal,
          host: input.host,
          port: input.port,
          allowHosts,
          accessToken,
          redriveToken: Guard.token(),
          clean: (text) => output.clean(text),
          onRedrive: (count, what) => {
            Effect.runFork(output.err(`re-driven from the dashboard: ${what} (${count} back in the outbox)`))
          }
        }).pipe(
          Effect.catch((error: Error) =>
            Journal.fail(output, "dashboard", {
              reason: "Listen",
              message: `cannot listen on ${input.host}:${input.port}: ${"code" in error ? String(error.code) : "failed"}`,
              hint: "choose another --port (0 picks a free one)",
              exitCode: ExitCode.BadInput
            })
          )
        )
        // The access token is the operator's to open the page: printed once, on stdout, and nowhere else.
        yield* Console.log(accessToken === undefined ? started.url : `${started.url}?token=${accessToken}`)
        yield* output.err(
          loopback
            ? "the dashboard listens on loopback only; Ctrl-C stops it"
            : "the dashboard listens beyond loopback: the link above carries its token (keep it private); Ctrl-C stops it"
        )
        return yield* Effect.never
      })
    )
  ).pipe(
    Command.withDescription(
      "Serves a local web page on the app's outbox: the backlog by provider, account and age, a chart of pending edits and dead letters over time, the dead letters with their reasons and a re-drive button, and each message's history as a timeline. Reads the database the app's outbox writes; its one write is a re-drive (the app's worker delivers)."
    ),
    Command.withShortDescription("A local web page on the outbox: backlog, dead letters, re-drive, timelines"),
    Command.withExamples([
      { command: "reword dashboard --database reword.db", description: "Serve http://127.0.0.1:4880/" },
      {
        command: "REWORD_OUTBOX_DATABASE=postgres://reword@db/app reword dashboard --port 0",
        description: "From PostgreSQL, on a free port (the URL is printed)"
      }
    ]),
    Command.annotate(HelpSections, [
      Journal.databaseSection,
      {
        title: "SAFETY",
        lines: [
          "Bound to 127.0.0.1 by default. With --host beyond loopback, every request needs the token of the printed link.",
          "A request naming another Host is refused (DNS rebinding); a re-drive needs the page's own Origin and this run's token.",
          "Every text from the database is escaped, and no secret setting nor the database URL appears on a page."
        ]
      }
    ])
  )
}

/**
 * The `dashboard` command for Bitrix24 and Acquire.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()
