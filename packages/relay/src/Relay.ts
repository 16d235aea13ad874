/**
 * The two-way relay between Telegram and Bitrix24's Open Lines.
 *
 * - **Verified at the edge**: a Telegram update must carry the webhook's
 *   secret header, a Bitrix24 event the `application_token` stored for its
 *   `member_id` (both compared in constant time); a body of any shape is
 *   bounded and ends as a typed refusal (`Events.EventRefused`,
 *   `Updates.UpdateRefused`) answered 4xx, never echoing a secret.
 * - **Durable before acknowledged**: an accepted event is written to the
 *   relay's inbox (in the outbox's database) before the handler answers
 *   2xx; a repeat (Telegram: the same `update_id`; Bitrix24: the same message
 *   and text as its newest event) is answered 2xx and not written again. The
 *   inbox is then processed: each event carried to the other side through
 *   the outbox (edits) or the clients (sends, deletions, the delivery
 *   status), replayed after a crash, retried with backoff.
 * - **Echoes suppressed**: an edit event whose text the relay itself wrote to
 *   that message within `echoWindow` is recorded (`echo`) and not relayed.
 *
 * Requests that arrive together share one inbox transaction (group commit),
 * each answered once the transaction holding its events committed.
 *
 * The outbox and the relay's inbox cannot share one transaction (the outbox
 * commits submits in groups on a fiber of its own), so the relay records the
 * event first, answers, then submits, and a replay finds what it already
 * submitted (the version's `source` names the event).
 *
 * @since 0.1.0
 */
import { Bitrix24Client, type Events } from "@reword/bitrix24"
import { ConnectorEvents } from "@reword/bitrix24/connector-events"
import type { InboundEvent } from "@reword/core"
import { Outbox, type OutboxError } from "@reword/outbox"
import { TelegramClient } from "@reword/telegram"
import { Updates } from "@reword/telegram/updates"
import {
  type Config,
  Context,
  Duration,
  Effect,
  Layer,
  Queue,
  type Redacted,
  Result,
  type Scope,
  Semaphore
} from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Inbox from "./internal/inbox.ts"
import * as Intake from "./internal/intake.ts"
import * as RelayOptions from "./internal/options.ts"
import * as Process from "./internal/process.ts"

export type { Row as JournalRow, State as JournalState } from "./internal/inbox.ts"

/**
 * The relay's options.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly telegram: {
    /** The webhook's secret (`setWebhook`'s `secret_token`): checked on every update. */
    readonly secretToken: Redacted.Redacted<string>
    /** The bot's id: the account of Telegram's events. */
    readonly account: string
  }
  readonly bitrix24: {
    /** The stored `application_token` of a portal (`undefined`: not a portal of this app). */
    readonly expectedToken: (memberId: string) => Effect.Effect<ConnectorEvents.ExpectedToken | undefined>
    /** This app's connector (events for another are refused). Default: the client's. */
    readonly connector?: string | undefined
  }
  /** The inbox's table prefix (`a-z`, `0-9`, `_`). Default `reword_relay_`. */
  readonly tablePrefix?: string | undefined
  /** How long an edit the relay made counts as its own when it comes back as an event. Default 2 minutes. */
  readonly echoWindow?: Duration.Input | undefined
  /** How often the worker looks for due events it was not told about. Default 1 s. */
  readonly pollInterval?: Duration.Input | undefined
  /** Telegram's delete window: older operator messages are not deleted. Default 48 hours. */
  readonly deleteWindow?: Duration.Input | undefined
  /** Show the operator's name (`Anna Smith:` on its own line) in Telegram. Default `true`. */
  readonly sign?: boolean | undefined
  /** Run the worker in the scope (default `true`). */
  readonly worker?: boolean | undefined
  /** Attempts of an event before it is `failed`. Default 20. */
  readonly maxAttempts?: number | undefined
  /**
   * How long an event done with (`relayed`, `echo`, `ignored`) stays in the inbox before it is deleted.
   * Default 7 days. `failed` events stay until they are dealt with.
   */
  readonly retention?: Duration.Input | undefined
  /**
   * How long a worker holds the events it claimed; a worker that stopped leaves them to another after this.
   * Default 1 minute.
   */
  readonly lease?: Duration.Input | undefined
  /**
   * This worker's id in the inbox's claims (A-Z, a-z, 0-9, `_ . : -`). Give each worker a stable one of its
   * own: restarted, it takes its claims back at once. Default: a random id.
   */
  readonly workerId?: string | undefined
}

/**
 * What a handler answers: the status, the JSON body, what was accepted, and
 * the typed refusal behind a 4xx (no secret in it).
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly status: 200 | 400 | 403 | 405 | 413 | 503
  readonly body: string
  readonly accepted: number
  readonly duplicates: number
  readonly refusal?: Events.EventRefused | Updates.UpdateRefused | undefined
}

/**
 * The relay.
 *
 * @since 0.1.0
 */
export interface Service {
  /** A Telegram webhook request: verified, stored, answered. Never fails. */
  readonly telegram: (request: InboundEvent.HttpRequest) => Effect.Effect<Answer>
  /** A Bitrix24 event request: verified, stored, answered. Never fails. */
  readonly bitrix24: (request: InboundEvent.HttpRequest) => Effect.Effect<Answer>
  /** Updates read with `getUpdates` (no webhook, no secret): stored as a webhook's would be. */
  readonly acceptUpdates: (updates: ReadonlyArray<unknown>) => Effect.Effect<Answer>
  /** Processes what is due until nothing is left (or the timeout): what the worker does. */
  readonly drain: (options?: {
    readonly timeout?: Duration.Input | undefined
  }) => Effect.Effect<{ readonly pending: number }, SqlError.SqlError | OutboxError.StorageError>
  /** The inbox, oldest first: the journal of both directions. */
  readonly journal: (state?: Inbox.State) => Effect.Effect<ReadonlyArray<Inbox.Row>, SqlError.SqlError>
}

/**
 * The relay as a service.
 *
 * @since 0.1.0
 */
export class Relay extends Context.Service<Relay, Service>()("@reword/relay/Relay") {}

const STATUS: Readonly<Record<string, Answer["status"]>> = {
  WrongMethod: 405,
  Forbidden: 403,
  TooLarge: 413
}

const refusedAnswer = (refusal: Events.EventRefused | Updates.UpdateRefused): Answer => ({
  status: STATUS[refusal.reason._tag] ?? 400,
  body: JSON.stringify({ ok: false, error: refusal.reason._tag, description: refusal.message }),
  accepted: 0,
  duplicates: 0,
  refusal
})

const backoffMs = (attempts: number) => Math.min(60_000, 250 * 2 ** Math.min(attempts, 12))

/** Builds the relay on the `SqlClient`, `Outbox`, `TelegramClient` and `Bitrix24Client` in context. */
export const make = (
  options: Options
): Effect.Effect<
  Service,
  Config.ConfigError | SqlError.SqlError,
  SqlClient.SqlClient | Outbox.Outbox | TelegramClient.TelegramClient | Bitrix24Client.Bitrix24Client | Scope.Scope
> =>
  Effect.gen(function* () {
    const settings = yield* RelayOptions.decode(options as unknown as Readonly<Record<string, unknown>>)
    const sql = yield* SqlClient.SqlClient
    const tables = Inbox.tablesOf(settings.tablePrefix)
    yield* Inbox.prepare(sql, tables)
    const worker = settings.workerId ?? `relay-${crypto.randomUUID().slice(0, 8)}`
    if (settings.workerId !== undefined) yield* Inbox.takeBack(sql, tables, worker)
    const deps: Process.Deps = {
      sql,
      tables,
      settings,
      outbox: yield* Outbox.Outbox,
      telegram: yield* TelegramClient.TelegramClient,
      bitrix24: yield* Bitrix24Client.Bitrix24Client,
      now: Date.now
    }
    const wake = yield* Queue.sliding<void>(1)
    const connector = options.bitrix24.connector ?? deps.bitrix24.target.connector

    /** Stores the events (in a transaction shared with the requests that arrived with them): the answer. */
    const write = yield* Intake.start(sql, tables, Queue.offer(wake, undefined).pipe(Effect.asVoid))
    const store = (events: ReadonlyArray<InboundEvent.InboundEvent>) =>
      Effect.map(
        write(events),
        (stored): Answer =>
          stored === undefined
            ? {
                status: 503,
                body: JSON.stringify({ ok: false, error: "Unavailable", description: "the event could not be stored" }),
                accepted: 0,
                duplicates: 0
              }
            : { status: 200, body: JSON.stringify({ ok: true, ...stored }), ...stored }
      )

    const telegram = (request: InboundEvent.HttpRequest) =>
      Effect.suspend(() => {
        const update = Updates.verifyUpdate(request, { secretToken: options.telegram.secretToken })
        if (Result.isFailure(update)) return Effect.succeed(refusedAnswer(update.failure))
        return store(Updates.toInbound(update.success, options.telegram.account))
      })

    const acceptUpdates = (updates: ReadonlyArray<unknown>) =>
      Effect.suspend(() => {
        const events = updates.flatMap((raw) => {
          const update = Updates.decodeUpdate(JSON.stringify(raw))
          return Result.isSuccess(update) ? Updates.toInbound(update.success, options.telegram.account) : []
        })
        return store(events)
      })

    const bitrix24 = (request: InboundEvent.HttpRequest) =>
      ConnectorEvents.verifyConnectorEvent(request, { expectedToken: options.bitrix24.expectedToken, connector }).pipe(
        Effect.matchEffect({
          onFailure: (refusal) => Effect.succeed(refusedAnswer(refusal)),
          onSuccess: (event) => store(ConnectorEvents.toInbound(event))
        })
      )

    /** Processes one claimed row; records its outcome (a failure is retried later, until `maxAttempts`). */
    const processRow = (row: Inbox.Row) =>
      Process.relay(deps, row.event).pipe(
        Effect.flatMap((outcome) => Inbox.settle(sql, tables, row.seq, worker, outcome, Date.now())),
        Effect.catchCause((cause) => {
          const failure = cause.reasons[0]
          const error = failure !== undefined && "error" in failure ? failure.error : undefined
          const message = error instanceof Error ? error.message : String(error ?? cause)
          const permanent =
            (error as { readonly isRetryable?: unknown } | undefined)?.isRetryable === false ||
            row.attempts + 1 >= settings.maxAttempts
          return Inbox.settle(
            sql,
            tables,
            row.seq,
            worker,
            permanent
              ? { state: "failed", outcome: message }
              : { state: "pending", outcome: message, retryInMs: backoffMs(row.attempts) },
            Date.now()
          ).pipe(Effect.ignore)
        })
      )

    /**
     * One pass: claims what is due (other workers on the same inbox skip it), processes it one row at a time
     * (this worker's and `drain`'s passes never overlap), forgets old own writes and prunes done events.
     * Answers how many rows it processed.
     */
    const passes = Semaphore.makeUnsafe(1)
    const pass = passes.withPermits(1)(
      Effect.gen(function* () {
        const rows = yield* Inbox.claimDue(sql, tables, {
          worker,
          leaseMs: settings.leaseMs,
          now: Date.now(),
          limit: 100
        })
        yield* Effect.forEach(rows, processRow, { discard: true })
        yield* Inbox.forgetOwn(sql, tables, settings.echoWindowMs, Date.now())
        yield* Inbox.prune(sql, tables, { retentionMs: settings.retentionMs, now: Date.now(), limit: 1000 })
        return rows.length
      })
    )

    const drain = (drainOptions?: { readonly timeout?: Duration.Input | undefined }) =>
      Effect.gen(function* () {
        const deadline = Date.now() + Duration.toMillis(Duration.fromInputUnsafe(drainOptions?.timeout ?? "60 seconds"))
        while (Date.now() < deadline) {
          yield* pass
          yield* deps.outbox.drain({ timeout: Duration.millis(Math.max(0, deadline - Date.now())) })
          const left = yield* Inbox.list(sql, tables, "pending")
          if (left.length === 0) return { pending: 0 }
          yield* Effect.sleep("50 millis")
        }
        return { pending: (yield* Inbox.list(sql, tables, "pending")).length }
      })

    if (settings.worker) {
      const idle = Effect.race(Queue.take(wake), Effect.sleep(Duration.millis(settings.pollMs)))
      // A pass that found work is followed by another at once (the next event of a message waits for the
      // one before it); an empty or failed one by a wait for news or the poll interval.
      const step = pass.pipe(
        Effect.orElseSucceed(() => 0),
        Effect.flatMap((processed) => (processed > 0 ? Effect.void : idle))
      )
      yield* Effect.forkScoped(
        Effect.forever(step).pipe(
          Effect.tapCause((cause) => Effect.logError("reword relay: the worker stopped", cause))
        )
      )
    }

    return Relay.of({
      telegram,
      bitrix24,
      acceptUpdates,
      drain,
      journal: (state) => Inbox.list(sql, tables, state)
    })
  })

/**
 * The relay as a layer over the `SqlClient`, `Outbox` and clients in context.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  Relay,
  Config.ConfigError | SqlError.SqlError,
  SqlClient.SqlClient | Outbox.Outbox | TelegramClient.TelegramClient | Bitrix24Client.Bitrix24Client
> => Layer.effect(Relay, make(options))
