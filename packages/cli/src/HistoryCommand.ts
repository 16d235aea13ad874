/**
 * `reword history <external-message-id>`: a message's history from the
 * outbox's journal (`@reword/outbox`): its ids and state, every version asked
 * for (text, source, when, status, when the provider confirmed it) and every
 * delivery attempt with its outcome and reason. Read from the database the app's
 * outbox writes; nothing is sent.
 *
 * @since 0.1.0
 */
import type { Outbox } from "@reword/outbox"
import { Clock, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import { ExitCode } from "./internal/exit.ts"
import { HelpSections } from "./internal/help.ts"
import * as Journal from "./internal/journal.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"

/**
 * What the command is built from: the providers (their secrets are scrubbed).
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

/** A history as JSON: dates as ISO strings, absent fields left out. */
const historyJson = (history: Outbox.History) => JSON.parse(JSON.stringify(history)) as unknown

const quoted = (version: Outbox.Version): string =>
  version.text === undefined ? `(text not kept: ${version.textHash})` : JSON.stringify(version.text)

/** The lines of one message's history, as printed without --json. */
export const lines = (history: Outbox.History, now: number): ReadonlyArray<string> => {
  const providerId = history.ids.providerMessageId === undefined ? "" : `, provider id ${history.ids.providerMessageId}`
  const state =
    history.state === "failed"
      ? `failed (a dead letter: ${history.lastReason ?? "no reason"})`
      : history.state === "pending"
        ? `pending${history.nextAttemptAt === undefined ? "" : `, next attempt ${Journal.at(history.nextAttemptAt)}`}${history.lastReason === undefined ? "" : ` (${history.lastReason})`}`
        : "idle"
  const out = [
    `${Journal.routeText(history)} message ${JSON.stringify(history.ids.externalMessageId)}${providerId}`,
    `  state: ${state}; confirmed version ${history.confirmedVersion} of ${history.latestVersion}; since ${Journal.at(history.since)} (${Journal.ago(history.since, now)} ago)`
  ]
  const claim = Journal.claimText(history.claim, now)
  if (claim !== undefined) out.push(`  ${claim}`)
  for (const version of history.versions) {
    const confirmed = version.confirmedAt === undefined ? "" : `, confirmed ${Journal.at(version.confirmedAt)}`
    out.push(
      `  v${version.version} ${version.status}: asked ${Journal.at(version.askedAt)}${version.source === undefined ? "" : ` by ${version.source}`}${confirmed}: ${quoted(version)}`
    )
    for (const attempt of version.attempts) {
      out.push(
        `    attempt by ${attempt.worker} at ${Journal.at(attempt.startedAt)}: ${attempt.outcome ?? "in flight"}${attempt.reason === undefined ? "" : ` (${attempt.reason})`}`
      )
    }
  }
  return out
}

/**
 * Builds the `history` command.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const resolved = Providers.resolve(options)
  return Command.make(
    "history",
    {
      externalMessageId: Argument.String("external-message-id").pipe(
        Argument.withDescription("The app's own id of the message (the one it recorded in the outbox).")
      ),
      ...Journal.flags
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          const output = Output.make({ json: input.json })
          const journal = yield* Journal.open(resolved, output, "history", input)
          const histories = yield* journal
            .histories(input.externalMessageId, {
              tenant: Option.getOrUndefined(input.tenant),
              provider: Option.getOrUndefined(input.provider),
              account: Option.getOrUndefined(input.account)
            })
            .pipe(Effect.catchTag("StorageError", (error) => Journal.storageFailure(output, "history", error)))
          if (histories.length === 0) {
            return yield* Journal.fail(output, "history", {
              reason: "NotFound",
              message: `the outbox has no message ${JSON.stringify(input.externalMessageId)}`,
              hint: "the id is the app's own (externalMessageId), as it recorded the message",
              exitCode: ExitCode.ProviderFailure
            })
          }
          if (output.json) {
            yield* output.outJson({ messages: histories.map(historyJson) })
            return
          }
          const now = yield* Clock.currentTimeMillis
          for (const [index, history] of histories.entries()) {
            if (index > 0) yield* output.out("")
            for (const line of lines(history, now)) yield* output.out(line)
          }
        })
      )
  ).pipe(
    Command.withDescription(
      "Prints a message's history from the outbox's journal (@reword/outbox): its ids and state, every version asked for (text, source, when, status, when the provider confirmed it) and every delivery attempt with its outcome and reason. Reads the database the app's outbox writes; sends nothing."
    ),
    Command.withShortDescription("A message's versions and delivery attempts, from the outbox's journal"),
    Command.withExamples([
      { command: "reword history wa-881 --database reword.db", description: "One message's history" },
      { command: "reword history wa-881 --tenant a1b2c3d4", description: "That id in one tenant's messages only" },
      {
        command: "REWORD_OUTBOX_DATABASE=postgres://reword@db/app reword history wa-881 --json",
        description: "As JSON, from PostgreSQL"
      }
    ]),
    Command.annotate(HelpSections, [
      Journal.databaseSection,
      {
        title: "OUTPUT",
        lines: [
          "Without --json: the message's ids and state, then each version (v1, v2, ...) with its attempts.",
          'With --json: {"messages":[{"provider","account","ids","state","latestVersion","confirmedVersion",',
          '  "versions":[{"version","text","textHash","source","askedAt","status","confirmedAt","attempts":[...]}]}]}',
          '(one entry per tenant, provider and account holding that id; "tenant" only when it is not default).',
          " Text is escaped: control characters print as \\uXXXX."
        ]
      },
      {
        title: "EXIT CODES",
        lines: [
          "0  printed",
          "2  bad input: usage, no database named, or a file that is not an outbox database",
          "3  no such message, or the database failed",
          "1  an unexpected error (a bug: please report it)"
        ]
      }
    ])
  )
}

/**
 * The `history` command for Bitrix24 and Acquire.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()
