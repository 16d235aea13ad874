/**
 * The outbox's model: what an app gives it (routes, options, submissions) and
 * what it answers (receipts, entries, histories, counts), and the shapes of
 * the service and the journal. Re-exported by `Outbox.ts`.
 */
import type { EditError, EditRequest, MessageEditor } from "@reword/core"
import type { RetryPolicy } from "@reword/core/adapter"
import type { Duration, Effect, Redacted, Result, Stream } from "effect"
import type { NotFound, StorageError } from "../OutboxError.ts"
import type { Series, SeriesQuery } from "./series.ts"
import type { EditorsFor } from "./tenantModel.ts"

export type { EditorsFor, TenantEditors } from "./tenantModel.ts"

/**
 * Where edits go: an editor, and the account it edits in (Bitrix24: the portal,
 * connector and line, for instance `acme.bitrix24.com/my_connector/7`;
 * Acquire: the account id). The provider is the editor's.
 *
 * @since 0.1.0
 */
export interface Route {
  readonly editor: MessageEditor.Service
  /** A label of the account; `default` when omitted. */
  readonly account?: string | undefined
}

/**
 * How the outbox behaves.
 *
 * @since 0.1.0
 */
export interface Options {
  /**
   * The editors edits go to. When omitted, the layer uses the `MessageEditor` in
   * its context, on account `default`. Build them with `retry: { maxAttempts: 1 }`:
   * the outbox retries itself, and must see every attempt that timed out to
   * overwrite it after the settle window (`createOutbox` does this for you).
   */
  readonly editors?: ReadonlyArray<Route> | undefined
  /**
   * The editors of every tenant but `default` (and of `default` too when `editors` is empty), found when
   * its edits are delivered: see {@link EditorsFor}. Without it the worker delivers tenant `default` only
   * (other tenants' edits wait for a worker that has it).
   *
   * @since 0.5.0
   */
  readonly editorsFor?: EditorsFor | undefined
  /** Prefix of the outbox's tables, so several outboxes share one database. Default `reword_outbox_`. */
  readonly tablePrefix?: string | undefined
  /**
   * Keep each edit's text in the journal (`true`, the default), or only its keyed hash
   * once delivered (`false`, which needs {@link Options.textHashKey}): the text is then
   * erased from the database (on SQLite from the file and its WAL too, at the next
   * checkpoint; on PostgreSQL see the README on VACUUM and WAL retention).
   */
  readonly keepText?: boolean | undefined
  /**
   * The secret that keys the hash the journal keeps of each text (HMAC-SHA-256,
   * `hmac-sha256:<hex>`): at least 16 characters, kept as the app keeps its other
   * secrets. Required when `keepText` is `false` (an unkeyed SHA-256 of a short text
   * is reversed by a dictionary); without it, with `keepText: true`, the hash is a
   * plain SHA-256 (`sha256:<hex>`) of a text the journal holds anyway.
   */
  readonly textHashKey?: Redacted.Redacted<string> | undefined
  /**
   * An edit naming a message the id map does not hold: `reject` (the default) fails
   * with `NotFound`; `record` records the ids the edit gives.
   */
  readonly unknownMessages?: "reject" | "record" | undefined
  /**
   * After an attempt whose outcome is unknown (timeout, network error, a 5xx, a
   * worker stopped mid-call), the newest text is sent again this long after it,
   * so that the unknown attempt, if it lands late, is overwritten. Default 30 s:
   * set it above the longest a request can take to reach the provider.
   */
  readonly settleWindow?: Duration.Input | undefined
  /** The backoff of retryable failures: core's retry policy (`initialDelay`, `maxDelay`, `jitter`). */
  readonly retry?: RetryPolicy.RetryOptions | undefined
  /** Messages a worker claims at once (read from the database page by page). Default 100. */
  readonly batchSize?: number | undefined
  /** How long a claim holds before another worker may take it over. Default 5 minutes. */
  readonly lease?: Duration.Input | undefined
  /** How often an idle worker looks for due work it was not told about. Default 1 s. */
  readonly pollInterval?: Duration.Input | undefined
  /**
   * When the worker stops (the layer's scope closes, `close()`), how long the
   * deliveries in flight may still finish. Past it they are recorded as
   * unknown and handed back: the next worker sends them again at once (and
   * once more after the settle window). Claims not yet sent are handed back at
   * once. Default 5 s.
   */
  readonly shutdownGrace?: Duration.Input | undefined
  /**
   * On PostgreSQL, wake waiting workers at once when work arrives from any
   * process (`LISTEN`/`NOTIFY`, on a connection of the worker's own), instead
   * of at their next poll (default `true`; polling stays as the fallback).
   * Without effect with `maxConnections: 1` (one session), or on SQLite.
   */
  readonly notify?: boolean | undefined
  /** Run the worker in the layer's scope (default `true`); `false` to only submit and query. */
  readonly worker?: boolean | undefined
  /**
   * The worker's name in the journal's attempts. Default a random id. Give a
   * stable one per process (a host name, a pod name) and a restart takes its
   * own claims back at once instead of after the lease, once the previous
   * holder is provably gone: the id is locked for the worker's life (on
   * PostgreSQL a session advisory lock, on SQLite a lock file beside the
   * database), and a second live worker of the same id fails to start with a
   * configuration error naming `workerId`.
   */
  readonly workerId?: string | undefined
}

/**
 * An edit to submit: the neutral request, where `ids` needs only the external
 * message id when the id map holds the message.
 *
 * @since 0.1.0
 */
export interface Submission extends Omit<EditRequest.EditRequestInput, "ids"> {
  readonly ids: EditRequest.EditRequestInput["ids"] & { readonly externalMessageId: string }
  /**
   * The tenant (one installation: a Bitrix24 portal's `member_id`, an Acquire account); `default` when
   * omitted. Its provider is the one named, or the only one of the outbox's `editors`.
   *
   * @since 0.5.0
   */
  readonly tenant?: string | undefined
  /** The provider, when the outbox has editors of several. */
  readonly provider?: string | undefined
  /** The account, when the outbox has several of one provider. */
  readonly account?: string | undefined
  /** Who asked for it: a free label such as `customer`, `agent`, `cli`. */
  readonly source?: string | undefined
}

/**
 * What `submit` answers once the edit is committed.
 *
 * @since 0.1.0
 */
export interface Receipt {
  /** The tenant; absent for tenant `default` (so a single-tenant app's receipts are as they were). @since 0.5.0 */
  readonly tenant?: string | undefined
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
  /** The edit's version: 1 for the first edit of the message, increasing by one. */
  readonly version: number
}

/**
 * A message to record in the id map.
 *
 * @since 0.1.0
 */
export interface Recorded {
  /** The tenant; `default` when omitted. @since 0.5.0 */
  readonly tenant?: string | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
  readonly ids: EditRequest.EditRequestInput["ids"] & { readonly externalMessageId: string }
  /**
   * What the message's text is: `text`, or `caption` for a media message (Telegram edits the two with
   * different calls); its edits take it when they do not say.
   *
   * @since 0.4.0
   */
  readonly kind?: EditRequest.MessageKind | undefined
}

/**
 * One version of a message in its history.
 *
 * @since 0.1.0
 */
export interface Version {
  readonly version: number
  /** The text asked for; absent when the outbox keeps only hashes (`keepText: false`). */
  readonly text: string | undefined
  readonly textHash: string
  readonly source: string | undefined
  readonly askedAt: Date
  /** `pending`, `superseded` (a newer version was sent instead), `confirmed` or `failed`. */
  readonly status: "pending" | "superseded" | "confirmed" | "failed"
  readonly confirmedAt: Date | undefined
  readonly attempts: ReadonlyArray<Attempt>
}

/**
 * One delivery attempt.
 *
 * @since 0.1.0
 */
export interface Attempt {
  readonly worker: string
  readonly startedAt: Date
  readonly finishedAt: Date | undefined
  /**
   * `confirmed`; `unknown` (timeout, network, 5xx: it may have landed); `retryable`
   * (refused for now, such as rate limited); `permanent`; `abandoned` (the worker
   * stopped before an answer); absent while in flight.
   */
  readonly outcome: "confirmed" | "unknown" | "retryable" | "permanent" | "abandoned" | undefined
  readonly reason: string | undefined
}

/**
 * A message's state in the outbox.
 *
 * @since 0.1.0
 */
export interface Entry {
  /** The tenant the message belongs to; absent for tenant `default` (a single-tenant app's). @since 0.5.0 */
  readonly tenant?: string | undefined
  readonly provider: string
  readonly account: string
  readonly ids: {
    readonly externalMessageId: string
    readonly externalChatId?: string | undefined
    readonly externalAuthorId?: string | undefined
    readonly providerMessageId?: string | undefined
    /** @since 0.4.0 */
    readonly providerChatId?: string | undefined
    /** @since 0.4.0 */
    readonly providerConnectionId?: string | undefined
  }
  /**
   * What the message's text is (`text` or `caption`), where the id map knows it.
   *
   * @since 0.4.0
   */
  readonly kind?: "text" | "caption" | undefined
  /** `idle` (nothing to deliver), `pending` or `failed` (a dead letter, waiting for a re-drive or a newer edit). */
  readonly state: "idle" | "pending" | "failed"
  readonly latestVersion: number
  readonly confirmedVersion: number
  readonly nextAttemptAt: Date | undefined
  /** Failed attempts since the last success. */
  readonly failures: number
  readonly lastReason: string | undefined
  /** When its state last changed. */
  readonly since: Date
  /**
   * The worker that holds the message (it is delivering it) and until when, when one does. A claim
   * whose `until` has passed was left by a worker that stopped: the next worker takes it over.
   *
   * @since 0.2.0
   */
  readonly claim: { readonly worker: string; readonly until: Date } | undefined
}

/**
 * A message's history: its ids and state, and every version with its attempts.
 *
 * @since 0.1.0
 */
export interface History extends Entry {
  readonly versions: ReadonlyArray<Version>
  /** Every deliberate change of the message's ids (`repoint`), oldest first. */
  readonly idChanges: ReadonlyArray<IdChange>
}

/**
 * A deliberate change of one id of a message (`repoint`), as the journal keeps it.
 *
 * @since 0.2.0
 */
export interface IdChange {
  readonly field:
    | "externalChatId"
    | "externalAuthorId"
    | "providerMessageId"
    | "providerChatId"
    | "providerConnectionId"
    | "kind"
  /** The id before; absent when the map held none. */
  readonly from: string | undefined
  readonly to: string
  /** Who asked for it (`repoint`'s `source`). */
  readonly source: string | undefined
  readonly at: Date
}

/**
 * What `repoint` takes: the message (its external id) and the ids it now points at.
 *
 * @since 0.2.0
 */
export interface Repoint extends Recorded {
  /** Who asks for it: a free label such as `agent`, `cli`. */
  readonly source?: string | undefined
}

/**
 * Which messages `pending`, `failed` and `stream` look at. Decoded once where
 * it is given: a wrong value, or an unknown key (refused with a "did you
 * mean"), is an `EditError` (`InvalidRequest`, operation `get`) naming the field.
 *
 * @since 0.1.0
 */
export interface Query {
  /** Only this tenant's messages. @since 0.5.0 */
  readonly tenant?: string | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
  /** Only messages in this state since before this long ago (`"1 hour"`). */
  readonly olderThan?: Duration.Input | undefined
  /** At most this many. Default 100. */
  readonly limit?: number | undefined
  /** Paging: the entries after this one (pass the last entry of the previous page). */
  readonly after?: Entry | undefined
}

/**
 * Which messages {@link Journal.totals} counts: as {@link Query}, without paging.
 *
 * @since 0.2.0
 */
export type TotalsQuery = Pick<Query, "tenant" | "provider" | "account" | "olderThan">

/**
 * Every message of one provider and account that {@link Journal.totals} counts: how many are
 * pending and failed, and since when the oldest of each is in that state.
 *
 * @since 0.2.0
 */
export interface Total {
  /** The tenant; absent for tenant `default`. @since 0.5.0 */
  readonly tenant?: string | undefined
  readonly provider: string
  readonly account: string
  readonly pending: number
  readonly failed: number
  readonly oldestPending: Date | undefined
  readonly oldestFailed: Date | undefined
}

/**
 * Counts of messages waiting (`pending`) and dead letters (`failed`).
 *
 * @since 0.1.0
 */
export interface Counts {
  readonly pending: number
  readonly failed: number
}

/**
 * The outbox's interface.
 *
 * @since 0.1.0
 */
export interface Service {
  /**
   * Records a message in the id map (its external ids and the provider's); recording again completes it.
   * An id that differs from the one the map holds is refused (`InvalidRequest` naming both): see `repoint`.
   */
  readonly record: (message: Recorded) => Effect.Effect<void, EditError.EditError | StorageError>
  /**
   * Records many messages (as `record` does each) in few transactions, each message judged alone: one
   * result per message, in input order; one refused fails no other. Fails as a whole only when the input
   * is not a list, or holds more than 100,000 messages.
   *
   * @since 0.2.0
   */
  readonly recordMany: (
    messages: Iterable<Recorded>
  ) => Effect.Effect<Array<Result.Result<void, EditError.EditError | StorageError>>, EditError.EditError>
  /**
   * Runs a send (such as `AcquireClient.send` or `Bitrix24Client.sendMessages`) and records the message
   * with the provider id `providerIdOf` takes from its answer. A failed send records nothing.
   */
  readonly recordSent: <A, E, R>(
    message: Recorded,
    send: Effect.Effect<A, E, R>,
    providerIdOf?: ((answer: A) => string | number | undefined) | undefined
  ) => Effect.Effect<A, E | EditError.EditError | StorageError, R>
  /**
   * Points a message of the id map at other ids (such as the provider's id of a message sent again), and
   * keeps the change in the journal (`History.idChanges`). Edits not yet delivered go to the new ids.
   * `NotFound` when the map has no such message.
   */
  readonly repoint: (message: Repoint) => Effect.Effect<void, EditError.EditError | NotFound | StorageError>
  /** Stores the edit durably as the message's next version; the worker delivers it. */
  readonly submit: (edit: Submission) => Effect.Effect<Receipt, EditError.EditError | NotFound | StorageError>
  /**
   * Stores many edits durably (as `submit` does each), set-based, in few transactions: one result per
   * edit, in input order, each edit judged alone (one wrong, conflicting or unknown edit is refused for
   * itself, and a value the database refuses fails that edit only). Of several edits of one message, the
   * latest in the list is its newest version. Fails as a whole only when the input is not a list, or
   * holds more than 100,000 edits.
   *
   * @since 0.2.0
   */
  readonly submitMany: (
    edits: Iterable<Submission>
  ) => Effect.Effect<Array<Result.Result<Receipt, EditError.EditError | NotFound | StorageError>>, EditError.EditError>
  /**
   * Dead-letters every pending edit of a tenant with this reason (such as "the portal uninstalled the
   * application"); answers how many messages. Idempotent: called again it finds none. A message a worker
   * is delivering now is left to it; its next attempt finds the tenant as `editorsFor` answers it.
   *
   * @since 0.5.0
   */
  readonly failTenant: (tenant: string, reason: string) => Effect.Effect<number, StorageError>
  /** Waits until nothing is pending (dead letters aside), at most `timeout` (default 60 s); answers what is left. */
  readonly drain: (options?: { readonly timeout?: Duration.Input | undefined }) => Effect.Effect<Counts, StorageError>
  /** A message's history, or `undefined` when the id map does not hold it. */
  readonly history: (
    externalMessageId: string,
    where?: {
      readonly tenant?: string | undefined
      readonly provider?: string | undefined
      readonly account?: string | undefined
    }
  ) => Effect.Effect<History | undefined, EditError.EditError | StorageError>
  /** Messages waiting for delivery, one page. */
  readonly pending: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, EditError.EditError | StorageError>
  /** Dead letters (a permanent failure), one page. */
  readonly failed: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, EditError.EditError | StorageError>
  /** Every entry `pending` or `failed` would list, page by page from the database. */
  readonly stream: (
    state: "pending" | "failed",
    query?: Query
  ) => Stream.Stream<Entry, EditError.EditError | StorageError>
  /** Puts dead letters back in the outbox (all, or the ones listed); answers how many. */
  readonly redrive: (entries?: ReadonlyArray<Entry>) => Effect.Effect<number, StorageError>
  readonly counts: Effect.Effect<Counts, StorageError>
  /** The worker, for apps that run it themselves (`worker: false`): runs until interrupted. */
  readonly runWorker: Effect.Effect<never, StorageError>
  /**
   * Delivers one submitted edit now, in this process, as a worker would (same claim, lease and
   * journal), for tools that must know it landed (`reword update`): until its version is confirmed
   * (or a newer one is), fails for good, or `timeout` (default 30 s) passes; answers the message's
   * history then. A message due later (a backoff, a settle window) is sent when due; one another
   * worker holds is left to it. The timeout bounds when an attempt may start: one in flight then runs
   * to its answer (the editor's own timeout bounds it), and so does an interruption, so that the message
   * is never left claimed. What is not delivered stays pending for the workers.
   *
   * @since 0.2.0
   */
  readonly deliver: (
    receipt: Receipt,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<History | undefined, StorageError>
}

/**
 * The journal and the outbox's lists, without an editor nor a worker: what a
 * person or a tool (the `reword` CLI) reads and re-drives. A re-drive puts a
 * dead letter back in the outbox; the app's worker delivers it (a worker polls
 * every `pollInterval`).
 *
 * @since 0.1.0
 */
export interface Journal {
  /** The history of every message with this external id (of any provider and account, unless named). */
  readonly histories: (
    externalMessageId: string,
    where?: {
      readonly tenant?: string | undefined
      readonly provider?: string | undefined
      readonly account?: string | undefined
    }
  ) => Effect.Effect<ReadonlyArray<History>, StorageError>
  /** Messages waiting for delivery, one page. */
  readonly pending: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, EditError.EditError | StorageError>
  /** Dead letters, one page. */
  readonly failed: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, EditError.EditError | StorageError>
  /** Every entry `pending` or `failed` would list, page by page from the database. */
  readonly stream: (
    state: "pending" | "failed",
    query?: Query
  ) => Stream.Stream<Entry, EditError.EditError | StorageError>
  /** Puts dead letters back in the outbox (all, or the ones listed); answers how many. */
  readonly redrive: (entries?: ReadonlyArray<Entry>) => Effect.Effect<number, StorageError>
  readonly counts: Effect.Effect<Counts, StorageError>
  /**
   * Every pending and failed message the query chooses (all of them, not a page), counted by
   * provider and account, with the oldest of each state (at most 10,000 provider and account pairs).
   *
   * @since 0.2.0
   */
  readonly totals: (query?: TotalsQuery) => Effect.Effect<ReadonlyArray<Total>, EditError.EditError | StorageError>
  /**
   * The backlog over a window ending now, from the journal's own timestamps: at each instant, how many
   * messages were pending and how many were dead letters (a chart's series).
   *
   * @since 0.2.0
   */
  readonly series: (query: SeriesQuery) => Effect.Effect<Series, EditError.EditError | StorageError>
}
