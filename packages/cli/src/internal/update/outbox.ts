/**
 * `reword update` where the app's outbox database is configured (the
 * `--database` / `REWORD_OUTBOX_DATABASE` of `reword outbox` and `history`):
 * the edit is submitted through the outbox (source `cli`), so that it is in
 * the journal and ordered with the app's own edits (a settle re-send of an
 * older edit sends this newer one), and this process delivers that one
 * message itself, as a worker would, for at most `--wait`. What is not
 * delivered by then stays queued for the app's workers: exit code 4.
 */
import { hostname } from "node:os"
import type { EditError, EditRequest } from "@reword/core"
import type { Outbox, OutboxError } from "@reword/outbox"
import { Clock, type Config, Duration, Effect, Option, type Scope } from "effect"
import { CommandFailed, ExitCode } from "../exit.ts"
import * as Journal from "../journal.ts"
import * as Render from "../render.ts"
import * as Requests from "../requests.ts"
import { badInput, editorOf, errorJson, exitCodeOf, printError, providerNameIn, type Run } from "./run.ts"

/** How long `reword update` delivers through the outbox before it leaves the edit to the app's workers, by default. */
export const DEFAULT_WAIT = "30 seconds"

/** The outbox's settle window when the app did not set one (the outbox's own default). */
export const DEFAULT_SETTLE_WINDOW = "30 seconds"

/** The variable naming the app's settle window. */
export const SETTLE_WINDOW_VARIABLE = "REWORD_OUTBOX_SETTLE_WINDOW"

/** How long this process's claim holds without renewal: short, so that a killed run strands nothing for long. */
const LEASE = "1 minute"

const DIRECT_HINT =
  "or pass --direct to edit it on the provider directly (the journal then misses the edit, and a pending older edit of the outbox may overwrite it)"

const SHORT_UNITS: ReadonlyMap<string, string> = new Map([
  ["ms", "millis"],
  ["s", "seconds"],
  ["sec", "seconds"],
  ["m", "minutes"],
  ["min", "minutes"],
  ["h", "hours"]
])

/**
 * A duration flag's value (`"30 seconds"`, `"2 minutes"`, or short: `30s`,
 * `1500ms`, `2m`, `1h`), or `undefined` when it is not a finite duration.
 */
export const durationOf = (text: string): Duration.Duration | undefined => {
  const short = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(text.trim())
  const unit = short?.[2] === undefined ? undefined : SHORT_UNITS.get(short[2])
  const input = short !== null && unit !== undefined ? `${short[1]} ${unit}` : text.trim()
  const parsed = Duration.fromInput(input as Duration.Input)
  return Option.isSome(parsed) && Duration.isFinite(parsed.value) ? parsed.value : undefined
}

/** The message the edit names, found in the outbox (exactly one tenant, provider and account must hold its id). */
const findMessage = (run: Run, journal: Outbox.Journal, externalMessageId: string, provider: string | undefined) =>
  Effect.gen(function* () {
    const { output } = run
    const account = Option.getOrUndefined(run.input.account)
    const tenant = Option.getOrUndefined(run.input.tenant)
    const found = yield* journal
      .histories(externalMessageId, { tenant, provider, account })
      .pipe(Effect.catchTag("StorageError", (error) => Journal.storageFailure(output, "update", error)))
    const [first, ...others] = found
    if (first === undefined) {
      const of = [
        tenant === undefined ? undefined : `tenant ${tenant}`,
        provider,
        account === undefined ? undefined : `account ${account}`
      ]
        .filter((part) => part !== undefined)
        .join(" ")
      return yield* Journal.fail(output, "update", {
        reason: "NotFound",
        message: `the outbox has no message ${JSON.stringify(externalMessageId)}${of === "" ? "" : ` of ${of}`}`,
        hint: `the id is the app's own, as it recorded the message (reword history <id> shows it); ${DIRECT_HINT}`,
        exitCode: ExitCode.ProviderFailure
      })
    }
    if (others.length > 0) {
      return yield* badInput(
        run,
        "Usage",
        `several messages have the id ${JSON.stringify(externalMessageId)} in the outbox: ${found.map(Journal.routeText).join(", ")}`,
        "name one with --tenant, --provider and --account"
      )
    }
    return first
  })

/** The flags' checks: the id the outbox knows the message by, and the durations. */
const checked = (run: Run) =>
  Effect.gen(function* () {
    const { input } = run
    const externalMessageId = Option.getOrUndefined(input.externalMessageId)
    if (externalMessageId === undefined) {
      return yield* badInput(
        run,
        "Usage",
        `with the outbox's database (--database or ${Journal.DATABASE_VARIABLE}), name the message by --external-message-id: the app's own id, as reword history shows it`,
        DIRECT_HINT.replace(/^or /, "")
      )
    }
    const wait = durationOf(input.wait)
    if (wait === undefined) {
      return yield* badInput(
        run,
        "Usage",
        '--wait must be a duration, such as "30 seconds" or "2 minutes"',
        'for instance --wait 30s, or --wait "2 minutes"'
      )
    }
    const settleText = Option.getOrUndefined(input.settleWindow) ?? run.env[SETTLE_WINDOW_VARIABLE]
    const settleWindow = durationOf(settleText ?? DEFAULT_SETTLE_WINDOW)
    if (settleWindow === undefined || Duration.toMillis(settleWindow) <= 0) {
      return yield* badInput(
        run,
        "Usage",
        `--settle-window (or ${SETTLE_WINDOW_VARIABLE}) must be a positive duration, such as "30 seconds"`,
        "give the settle window the app's outbox uses"
      )
    }
    return { externalMessageId, wait, settleWindow }
  })

/** A submit's failure: an invalid request (exit 2), the id map's NotFound, or the database (exit 2 or 3). */
const submitFailure = (run: Run, error: SubmitError) =>
  Effect.gen(function* () {
    if (error._tag === "StorageError") return yield* Journal.storageFailure(run.output, "update", error)
    if (error._tag === "NotFound") {
      return yield* Journal.fail(run.output, "update", {
        reason: "NotFound",
        message: error.message,
        exitCode: ExitCode.ProviderFailure
      })
    }
    if (run.output.json) yield* run.output.outJson(errorJson(error))
    yield* printError(run, error)
    return yield* new CommandFailed({ exitCode: exitCodeOf(error), summary: error.message })
  })

/** Opening the journal or the outbox: a database that cannot be used, or an option it refuses. */
const opening =
  (run: Run) =>
  <A, R>(effect: Effect.Effect<A, OutboxError.StorageError | Config.ConfigError, R>) =>
    effect.pipe(
      Effect.catchTag("StorageError", (error) => Journal.storageFailure(run.output, "update", error)),
      Effect.catchTag("ConfigError", (error) => badInput(run, "Configuration", error.message, "check --table-prefix"))
    )

/** Submits the edit of the flags through the outbox, delivers it for at most `--wait`, and reports. */
export const updateThroughOutbox = (run: Run): Effect.Effect<void, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const { input, output } = run
    const flags = yield* checked(run)
    const { context, tablePrefix } = yield* Journal.connect(run.resolved, output, "update", input)
    const { Outbox } = yield* Effect.promise(() => import("@reword/outbox"))
    const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix }), context).pipe(opening(run))
    const message = yield* findMessage(run, journal, flags.externalMessageId, providerNameIn(run.env))
    // The message's provider is the outbox's: the editor is built for it (the settings still come from the environment).
    const env = { ...run.env, REWORD_PROVIDER: message.provider }
    const editor = yield* editorOf(run, env, false, { retry: { maxAttempts: 1 } })
    const routes = [{ editor, account: message.account }]
    const outbox = yield* Effect.provide(
      Outbox.makeWith(routes, {
        // A tenant's message (not default's) is delivered through the same editor: the settings of the environment.
        editorsFor: message.tenant === undefined ? undefined : () => Effect.succeed(routes),
        worker: false,
        tablePrefix,
        settleWindow: flags.settleWindow,
        lease: LEASE,
        pollInterval: "250 millis",
        workerId: `reword-cli@${hostname()}:${process.pid}`
      }),
      context
    ).pipe(opening(run))
    const request = Requests.fromFlags(input)
    const receipt = yield* outbox
      .submit({
        ...request,
        ids: { ...request.ids, externalMessageId: flags.externalMessageId },
        tenant: message.tenant,
        provider: message.provider,
        account: message.account,
        source: "cli"
      })
      .pipe(Effect.catch((error) => submitFailure(run, error)))
    const label = `${Journal.routeText(receipt)} ${JSON.stringify(receipt.externalMessageId)}`
    if (!output.json) {
      yield* output.err(
        `outbox: queued as v${receipt.version} of ${label} (source cli); delivering it for at most ${Duration.format(flags.wait)}`
      )
    }
    const history = yield* outbox
      .deliver(receipt, { timeout: flags.wait })
      .pipe(Effect.catchTag("StorageError", (error) => Journal.storageFailure(output, "update", error)))
    return yield* report(run, request, receipt, history)
  })

/** What `submit` fails with. */
type SubmitError = EditError.EditError | OutboxError.NotFound | OutboxError.StorageError

/** Where the submitted version stands once the wait ended. */
type Standing = "confirmed" | "superseded" | "failed" | "pending"

const standingOf = (history: Outbox.History, version: number): Standing => {
  const own = history.versions.find((v) => v.version === version)
  if (own?.status === "confirmed") return "confirmed"
  if (history.confirmedVersion >= version || own?.status === "superseded") return "superseded"
  if (own?.status === "failed" || history.state === "failed") return "failed"
  return "pending"
}

/** The outbox's part of the result, as JSON. */
const outboxJson = (history: Outbox.History, receipt: Outbox.Receipt, standing: Standing) => {
  const own = history.versions.find((v) => v.version === receipt.version)
  return JSON.parse(
    JSON.stringify({
      account: receipt.account,
      version: receipt.version,
      status: standing,
      confirmedVersion: history.confirmedVersion,
      latestVersion: history.latestVersion,
      state: history.state,
      nextAttemptAt: history.nextAttemptAt,
      lastReason: history.lastReason,
      claim: history.claim,
      attempts: own?.attempts
    })
  ) as Record<string, unknown>
}

/** The reason of a journal's `lastReason` (`NotFound: ...`), as an EditError reason. */
const reasonOf = (lastReason: string | undefined): string => /^([A-Za-z]+):/.exec(lastReason ?? "")?.[1] ?? "Rejected"

/** Prints where the edit stands, and fails with its exit code unless it landed. */
const report = (
  run: Run,
  request: EditRequest.EditRequestInput,
  receipt: Outbox.Receipt,
  found: Outbox.History | undefined
): Effect.Effect<void, CommandFailed> =>
  Effect.gen(function* () {
    const { output } = run
    if (found === undefined) {
      return yield* Journal.fail(output, "update", {
        reason: "NotFound",
        message: `the message ${JSON.stringify(receipt.externalMessageId)} left the outbox while it was delivered`,
        exitCode: ExitCode.ProviderFailure
      })
    }
    const history = found
    const standing = standingOf(history, receipt.version)
    const message: Render.MessageJson = {
      provider: receipt.provider,
      ids: Render.idsJson(history.ids),
      ...(request.text === undefined ? {} : { text: request.text }),
      files: (request.files ?? []).map((file) => ({
        url: file.url,
        ...(file.name === undefined ? {} : { name: file.name })
      }))
    }
    const own = history.versions.find((v) => v.version === receipt.version)
    const outbox = outboxJson(history, receipt, standing)
    const at = `(${receipt.account}, v${receipt.version})`
    if (standing === "failed") return yield* deadLetter(run, receipt, history, outbox)
    const confirmedAt = own?.confirmedAt
    if (output.json) {
      yield* output.outJson({
        ...message,
        ...(confirmedAt === undefined ? {} : { updatedAt: confirmedAt.toISOString() }),
        outbox
      })
    }
    if (standing === "pending") return yield* queued(run, receipt, history, message)
    if (!output.json) {
      yield* output.out(
        standing === "confirmed"
          ? `${Render.updatedLine(message)} ${at} through the outbox`
          : `${Render.messageLabel(message.provider, message.ids)}: v${receipt.version} ${at} was superseded by a newer edit, v${history.confirmedVersion}, that the provider holds`
      )
      const by = own?.attempts.find((attempt) => attempt.outcome === "confirmed")?.worker
      if (by !== undefined) yield* output.err(`outbox: confirmed by ${by} at ${Journal.at(confirmedAt)}`)
      if (history.state === "pending") {
        yield* output.err(
          `outbox: the newest text is sent once more at ${Journal.at(history.nextAttemptAt)}, after the settle window (the app's workers do it)`
        )
      }
    }
  })

/** The provider refused the edit for good: a dead letter in the outbox (exit 3). */
const deadLetter = (run: Run, receipt: Outbox.Receipt, history: Outbox.History, outbox: Record<string, unknown>) =>
  Effect.gen(function* () {
    const { output } = run
    const reason = history.lastReason ?? "the provider refused the edit"
    if (output.json) {
      yield* output.outJson({
        error: {
          provider: receipt.provider,
          operation: "update",
          reason: reasonOf(history.lastReason),
          message: reason,
          retryable: false,
          outbox
        }
      })
    }
    yield* output.err(`error: ${reason}`)
    yield* output.err(
      `hint: v${receipt.version} is a dead letter in the outbox: fix the cause, then reword outbox redrive ${receipt.externalMessageId} (or edit it again)`
    )
    return yield* new CommandFailed({ exitCode: ExitCode.ProviderFailure, summary: reason })
  })

/** The wait ended before the edit landed: it stays in the outbox for the app's workers (exit 4). */
const queued = (run: Run, receipt: Outbox.Receipt, history: Outbox.History, message: Render.MessageJson) =>
  Effect.gen(function* () {
    const { output } = run
    const now = yield* Clock.currentTimeMillis
    const claim = Journal.claimText(history.claim, now)
    const why = [
      history.nextAttemptAt === undefined ? undefined : `next attempt at ${Journal.at(history.nextAttemptAt)}`,
      history.lastReason,
      claim
    ].filter((part) => part !== undefined)
    const summary = `v${receipt.version} was not delivered within --wait: it stays queued in the outbox, for the app's workers`
    if (!output.json) {
      yield* output.out(
        `Queued ${Render.messageLabel(message.provider, message.ids)} (${receipt.account}, v${receipt.version}) in the outbox`
      )
    }
    yield* output.err(`outbox: ${summary}${why.length === 0 ? "" : ` (${why.join("; ")})`}`)
    yield* output.err(`hint: reword history ${receipt.externalMessageId} shows its progress`)
    return yield* new CommandFailed({ exitCode: ExitCode.Queued, summary })
  })
