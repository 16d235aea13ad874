/**
 * `reword outbox`: what the app's outbox (`@reword/outbox`) has not delivered:
 * the edits still pending and the dead letters (a permanent failure), by
 * provider and age. `reword outbox redrive <external-message-id>` (or
 * `--all`) puts dead letters back in the outbox, for the app's worker to
 * deliver once the cause is fixed.
 *
 * @since 0.1.0
 */

import type { EditError } from "@reword/core"
import type { Outbox, OutboxError } from "@reword/outbox"
import { Clock, Duration, Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
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

const entryJson = (entry: Outbox.Entry) => JSON.parse(JSON.stringify(entry)) as unknown

/** One entry on one line. */
const entryLine = (entry: Outbox.Entry, now: number): string => {
  const next =
    entry.state === "pending" && entry.nextAttemptAt !== undefined
      ? `, next attempt ${Journal.at(entry.nextAttemptAt)}`
      : ""
  const failures = entry.failures > 0 ? `, ${entry.failures} failed attempt${entry.failures === 1 ? "" : "s"}` : ""
  const reason = entry.lastReason === undefined ? "" : `: ${entry.lastReason}`
  const claim = Journal.claimText(entry.claim, now)
  return `  ${Journal.routeText(entry)} ${JSON.stringify(entry.ids.externalMessageId)} v${entry.latestVersion} (confirmed v${entry.confirmedVersion}), ${entry.state} for ${Journal.ago(entry.since, now)}${next}${failures}${claim === undefined ? "" : `, ${claim}`}${reason}`
}

interface Group {
  /** The provider's name, or the tenant's (by tenant). */
  readonly name: string
  pending: number
  failed: number
  oldest: Date | undefined
}

const earliest = (a: Date | undefined, b: Date | undefined): Date | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b

/**
 * Per provider (or per tenant), from the totals of every row (not the page
 * shown): how many are pending and failed, and since when the oldest is.
 */
const groupTotals = (
  totals: ReadonlyArray<Outbox.Total>,
  nameOf: (total: Outbox.Total) => string
): ReadonlyArray<Group> => {
  const groups = new Map<string, Group>()
  for (const total of totals) {
    const name = nameOf(total)
    const group = groups.get(name) ?? { name, pending: 0, failed: 0, oldest: undefined }
    group.pending += total.pending
    group.failed += total.failed
    group.oldest = earliest(group.oldest, earliest(total.oldestPending, total.oldestFailed))
    groups.set(name, group)
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** The counts of every row the totals hold. */
const countsOf = (totals: ReadonlyArray<Outbox.Total>): Outbox.Counts => ({
  pending: totals.reduce((sum, total) => sum + total.pending, 0),
  failed: totals.reduce((sum, total) => sum + total.failed, 0)
})

const durationOf = (text: string): Duration.Duration | undefined => {
  const parsed = Duration.fromInput(text.trim() as Duration.Input)
  return Option.isSome(parsed) && Duration.isFinite(parsed.value) ? parsed.value : undefined
}

/** A bad flag or argument: printed, exit 2. */
const usage = (output: Output.Output, operation: string, message: string) =>
  Journal.fail(output, operation, { reason: "Usage", message, exitCode: ExitCode.BadInput })

/** The entries `--tenant`, `--provider` and `--account` choose (all, when none is given). */
const scopeOf = (input: {
  readonly tenant: Option.Option<string>
  readonly provider: Option.Option<string>
  readonly account: Option.Option<string>
}) => ({
  tenant: Option.getOrUndefined(input.tenant),
  provider: Option.getOrUndefined(input.provider),
  account: Option.getOrUndefined(input.account)
})

const redrive = (resolved: Providers.Resolved) =>
  Command.make(
    "redrive",
    {
      externalMessageId: Argument.String("external-message-id").pipe(
        Argument.withDescription("The dead letter to re-drive: the app's own id of the message."),
        Argument.optional
      ),
      all: Flag.Boolean("all").pipe(
        Flag.withDescription("Re-drives every dead letter (of --tenant, --provider and --account, when given)."),
        Flag.withDefault(false)
      ),
      ...Journal.flags
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          const output = Output.make({ json: input.json })
          const id = Option.getOrUndefined(input.externalMessageId)
          if ((id === undefined) === !input.all) {
            return yield* usage(output, "redrive", "name one dead letter (its external message id), or --all")
          }
          const journal = yield* Journal.open(resolved, output, "redrive", input)
          const where = scopeOf(input)
          const storage = <A, R>(effect: Effect.Effect<A, OutboxError.StorageError | EditError.EditError, R>) =>
            Effect.catchTags(effect, {
              StorageError: (error) => Journal.storageFailure(output, "redrive", error),
              // A --tenant, --provider or --account the journal refuses (an id as core checks one).
              EditError: (error) => usage(output, "redrive", error.message)
            })
          const chosen: ReadonlyArray<Outbox.Entry> =
            id === undefined
              ? yield* journal.stream("failed", { ...where, limit: 500 }).pipe(Stream.runCollect, storage)
              : (yield* journal.histories(id, where).pipe(storage)).filter((history) => history.state === "failed")
          if (id !== undefined && chosen.length === 0) {
            return yield* Journal.fail(output, "redrive", {
              reason: "NotFound",
              message: `the outbox has no dead letter ${JSON.stringify(id)}`,
              hint: "reword outbox lists the dead letters; reword history shows a message's state",
              exitCode: ExitCode.ProviderFailure
            })
          }
          const count = chosen.length === 0 ? 0 : yield* journal.redrive(chosen).pipe(storage)
          if (output.json) {
            yield* output.outJson({
              redriven: count,
              messages: chosen.map((entry) => ({
                ...(entry.tenant === undefined ? {} : { tenant: entry.tenant }),
                provider: entry.provider,
                account: entry.account,
                externalMessageId: entry.ids.externalMessageId
              }))
            })
            return
          }
          for (const entry of chosen) {
            yield* output.out(
              `re-driven: ${Journal.routeText(entry)} ${JSON.stringify(entry.ids.externalMessageId)} v${entry.latestVersion}`
            )
          }
          yield* output.out(
            count === 0
              ? "no dead letters to re-drive"
              : `${count} dead letter${count === 1 ? "" : "s"} back in the outbox: the app's worker delivers ${count === 1 ? "it" : "them"}`
          )
        })
      )
  ).pipe(
    Command.withDescription(
      "Puts dead letters back in the outbox (their newest text), for the app's worker to deliver once the cause of the failure is fixed. Nothing is sent from here."
    ),
    Command.withShortDescription("Put dead letters back in the outbox"),
    Command.withExamples([
      { command: "reword outbox redrive wa-404 --database reword.db", description: "One dead letter" },
      { command: "reword outbox redrive --all --provider bitrix24", description: "Every dead letter of Bitrix24" },
      { command: "reword outbox redrive --all --tenant a1b2c3d4", description: "Every dead letter of one tenant" }
    ]),
    Command.annotate(HelpSections, [Journal.databaseSection])
  )

/**
 * Builds the `outbox` command (and `outbox redrive`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const resolved = Providers.resolve(options)
  return Command.make(
    "outbox",
    {
      olderThan: Flag.String("older-than").pipe(
        Flag.withDescription('Only messages pending or failed for longer than this ("10 minutes", "2 hours").'),
        Flag.withMetavar("duration"),
        Flag.optional
      ),
      limit: Flag.Int("limit").pipe(
        Flag.withDescription("At most this many of each list (default 100)."),
        Flag.withMetavar("n"),
        Flag.withDefault(100)
      ),
      ...Journal.flags
    },
    (input) =>
      Effect.scoped(
        Effect.gen(function* () {
          const output = Output.make({ json: input.json })
          const olderThanText = Option.getOrUndefined(input.olderThan)
          const olderThan = olderThanText === undefined ? undefined : durationOf(olderThanText)
          if (olderThanText !== undefined && olderThan === undefined) {
            return yield* usage(output, "outbox", '--older-than must be a duration, such as "10 minutes" or "2 hours"')
          }
          if (input.limit < 1 || input.limit > 10_000) {
            return yield* usage(output, "outbox", "--limit must be from 1 to 10000")
          }
          const journal = yield* Journal.open(resolved, output, "outbox", input)
          const query = {
            ...scopeOf(input),
            olderThan,
            limit: input.limit
          }
          const [totals, pending, failed] = yield* Effect.all([
            journal.totals({ ...scopeOf(input), olderThan }),
            journal.pending(query),
            journal.failed(query)
          ]).pipe(
            Effect.catchTags({
              StorageError: (error) => Journal.storageFailure(output, "outbox", error),
              // A --tenant, --provider or --account the journal refuses (an id as core checks one).
              EditError: (error) => usage(output, "outbox", error.message)
            })
          )
          const counts = countsOf(totals)
          const groups = groupTotals(totals, (total) => total.provider)
          const tenants = groupTotals(totals, Journal.tenantOf)
          const groupJson = (key: "provider" | "tenant") => (group: Group) => ({
            [key]: group.name,
            pending: group.pending,
            failed: group.failed,
            oldestSince: group.oldest?.toISOString()
          })
          if (output.json) {
            yield* output.outJson({
              counts,
              byProvider: groups.map(groupJson("provider")),
              byTenant: tenants.map(groupJson("tenant")),
              byAccount: totals.map((total) => ({
                tenant: Journal.tenantOf(total),
                provider: total.provider,
                account: total.account,
                pending: total.pending,
                failed: total.failed,
                oldestSince: earliest(total.oldestPending, total.oldestFailed)?.toISOString()
              })),
              pending: pending.map(entryJson),
              failed: failed.map(entryJson)
            })
            return
          }
          const now = yield* Clock.currentTimeMillis
          yield* output.out(`${counts.pending} pending, ${counts.failed} failed (dead letters)`)
          // By tenant only when some message is another tenant's than default (a single-tenant app's output is as it was).
          const perTenant = tenants.length > 1 || tenants.some((group) => group.name !== "default")
          for (const group of perTenant
            ? [...groups, ...tenants.map((t) => ({ ...t, name: `tenant ${t.name}` }))]
            : groups) {
            yield* output.out(
              `  ${group.name}: ${group.pending} pending, ${group.failed} failed${group.oldest === undefined ? "" : `, the oldest for ${Journal.ago(group.oldest, now)}`}`
            )
          }
          if (pending.length > 0) {
            yield* output.out(
              pending.length < counts.pending ? `PENDING (the first ${pending.length}: --limit shows more)` : "PENDING"
            )
            for (const entry of pending) yield* output.out(entryLine(entry, now))
          }
          if (failed.length > 0) {
            yield* output.out(
              `FAILED (${failed.length < counts.failed ? `the first ${failed.length}: --limit shows more; ` : ""}reword outbox redrive <external-message-id> puts one back)`
            )
            for (const entry of failed) yield* output.out(entryLine(entry, now))
          }
        })
      )
  ).pipe(
    Command.withSubcommands([redrive(resolved)]),
    Command.withDescription(
      "Lists what the app's outbox (@reword/outbox) has not delivered: edits still pending (with their next attempt and last reason) and dead letters (a permanent failure, with its reason), by provider and age. Reads the database the app's outbox writes; sends nothing."
    ),
    Command.withShortDescription("Pending edits and dead letters of the outbox; redrive puts dead letters back"),
    Command.withExamples([
      { command: "reword outbox --database reword.db", description: "Pending and failed, by provider and age" },
      { command: "reword outbox --older-than '1 hour' --json", description: "What has waited over an hour, as JSON" },
      { command: "reword outbox --tenant a1b2c3d4", description: "One tenant's backlog" },
      { command: "reword outbox redrive wa-404", description: "Put a dead letter back in the outbox" }
    ]),
    Command.annotate(HelpSections, [
      Journal.databaseSection,
      {
        title: "OUTPUT",
        lines: [
          "Without --json: the counts, then per provider (and per tenant, when any message is another tenant's than",
          "default), then one line per message (PENDING, FAILED; --limit of each). The counts and these lines count every",
          "message --tenant, --provider, --account and --older-than choose, not only the lines shown. A message a worker",
          "is delivering shows who holds it and until when.",
          'With --json: {"counts":{"pending","failed"},"byProvider":[{"provider","pending","failed","oldestSince"}],',
          '  "byTenant":[{"tenant","pending","failed","oldestSince"}],',
          '  "byAccount":[{"tenant","provider","account","pending","failed","oldestSince"}],',
          '  "pending":[{"tenant" (when not default),"provider","account","ids","state","latestVersion","confirmedVersion","nextAttemptAt",',
          '  "failures","lastReason","since","claim":{"worker","until"}}],"failed":[...]}'
        ]
      },
      {
        title: "EXIT CODES",
        lines: [
          "0  printed (or re-driven)",
          "2  bad input: usage, no database named, or a file that is not an outbox database",
          "3  no such dead letter, or the database failed",
          "1  an unexpected error (a bug: please report it)"
        ]
      }
    ])
  )
}

/**
 * The `outbox` command for Bitrix24 and Acquire.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()
