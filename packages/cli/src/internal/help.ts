/**
 * Help and usage errors: extra help sections (environment, exit codes) that
 * commands attach as an annotation, and a presenter that answers a usage error
 * with the error and a pointer to `--help` on stderr (and, with `--json`, one
 * JSON error on stdout) instead of the whole help.
 */
import { Console, Context, Effect } from "effect"
import { CliOutput, type HelpDoc } from "effect/cli"
import { otherErrorJson } from "./render.ts"

/** A titled section of help text, its lines already worded. */
export interface HelpSection {
  readonly title: string
  readonly lines: ReadonlyArray<string>
}

/** The extra help sections of a command. */
export class HelpSections extends Context.Service<HelpSections, ReadonlyArray<HelpSection>>()(
  "@reword/cli/HelpSections"
) {}

/** The help formatter: the default one, followed by the command's extra sections. */
export const formatter = (base: CliOutput.Formatter = CliOutput.defaultFormatter()): CliOutput.Formatter => ({
  ...base,
  formatHelpDoc: (doc: HelpDoc.HelpDoc): string => {
    const extra = Context.getOrUndefined(doc.annotations as Context.Context<HelpSections>, HelpSections) ?? []
    const rendered = extra.map((section) => [section.title, ...section.lines.map((line) => `  ${line}`)].join("\n"))
    return [base.formatHelpDoc(doc), ...rendered].join("\n\n")
  }
})

/**
 * Presents help on stdout and usage errors on stderr (`error: ...` and where
 * to find the help); with `--json` in the arguments, a usage error is also one
 * JSON object on stdout.
 */
export const presenter = (args: ReadonlyArray<string>): CliOutput.Presenter => ({
  present: (event) =>
    Effect.gen(function* () {
      const output = yield* CliOutput.Formatter
      switch (event._tag) {
        case "Help":
          return yield* Console.log(output.formatHelpDoc(event.helpDoc))
        case "Version":
          return yield* Console.log(output.formatVersion(event.name, event.version))
        case "InvalidInvocation": {
          const messages = event.errors.map((error) => error.message)
          for (const message of messages) yield* Console.error(`error: ${message}`)
          yield* Console.error(`hint: run \`${event.commandPath.join(" ")} --help\` to see every option`)
          if (args.includes("--json")) {
            yield* Console.log(
              JSON.stringify(
                otherErrorJson({
                  provider: undefined,
                  operation: event.commandPath.slice(1).join(" ") || event.commandPath.join(" "),
                  reason: "Usage",
                  message: messages.join("; ")
                })
              )
            )
          }
          return
        }
      }
    })
})
