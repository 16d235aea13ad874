/**
 * Durable edits: an id map, a journal of every edit asked for, and an outbox
 * whose worker lands the newest edit of each message through the neutral
 * `MessageEditor`, across restarts. `submit` returns once the edit is
 * committed to the database, before any network call.
 *
 * @since 0.1.0
 */
import { EditError, EditRequest, MessageEditor, RetryPolicy } from "@reword/core"
import { Cause, Context, Deferred, Duration, Effect, Layer, Option, Queue, Result, type Scope, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { Delivery } from "./internal/delivery.ts"
import * as Schema from "./internal/schema.ts"
import * as Store from "./internal/store.ts"
import { fromSql, NotFound, type StorageError } from "./OutboxError.ts"

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
  /** Prefix of the outbox's tables, so several outboxes share one database. Default `reword_outbox_`. */
  readonly tablePrefix?: string | undefined
  /** Keep each edit's text in the journal (`true`, the default), or only its SHA-256 once delivered (`false`). */
  readonly keepText?: boolean | undefined
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
  /** Run the worker in the layer's scope (default `true`); `false` to only submit and query. */
  readonly worker?: boolean | undefined
  /** The worker's name in the journal's attempts. Default a random id. */
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
  readonly provider?: string | undefined
  readonly account?: string | undefined
  readonly ids: EditRequest.EditRequestInput["ids"] & { readonly externalMessageId: string }
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
  readonly provider: string
  readonly account: string
  readonly ids: {
    readonly externalMessageId: string
    readonly externalChatId?: string | undefined
    readonly externalAuthorId?: string | undefined
    readonly providerMessageId?: string | undefined
  }
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
}

/**
 * A message's history: its ids and state, and every version with its attempts.
 *
 * @since 0.1.0
 */
export interface History extends Entry {
  readonly versions: ReadonlyArray<Version>
}

/**
 * Which messages `pending`, `failed` and `redrive` look at.
 *
 * @since 0.1.0
 */
export interface Query {
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
  /** Records a message in the id map (its external ids and the provider's); recording again completes it. */
  readonly record: (message: Recorded) => Effect.Effect<void, StorageError>
  /**
   * Runs a send (such as `AcquireClient.send` or `Bitrix24Client.sendMessages`) and records the message
   * with the provider id `providerIdOf` takes from its answer. A failed send records nothing.
   */
  readonly recordSent: <A, E, R>(
    message: Recorded,
    send: Effect.Effect<A, E, R>,
    providerIdOf?: ((answer: A) => string | number | undefined) | undefined
  ) => Effect.Effect<A, E | StorageError, R>
  /** Stores the edit durably as the message's next version; the worker delivers it. */
  readonly submit: (edit: Submission) => Effect.Effect<Receipt, EditError.EditError | NotFound | StorageError>
  /** Waits until nothing is pending (dead letters aside), at most `timeout` (default 60 s); answers what is left. */
  readonly drain: (options?: { readonly timeout?: Duration.Input | undefined }) => Effect.Effect<Counts, StorageError>
  /** A message's history, or `undefined` when the id map does not hold it. */
  readonly history: (
    externalMessageId: string,
    where?: { readonly provider?: string | undefined; readonly account?: string | undefined }
  ) => Effect.Effect<History | undefined, StorageError>
  /** Messages waiting for delivery, one page. */
  readonly pending: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, StorageError>
  /** Dead letters (a permanent failure), one page. */
  readonly failed: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, StorageError>
  /** Every entry `pending` or `failed` would list, page by page from the database. */
  readonly stream: (state: "pending" | "failed", query?: Query) => Stream.Stream<Entry, StorageError>
  /** Puts dead letters back in the outbox (all, or the ones listed); answers how many. */
  readonly redrive: (entries?: ReadonlyArray<Entry>) => Effect.Effect<number, StorageError>
  readonly counts: Effect.Effect<Counts, StorageError>
  /** The worker, for apps that run it themselves (`worker: false`): runs until interrupted. */
  readonly runWorker: Effect.Effect<never, StorageError>
}

/**
 * The outbox service.
 *
 * @since 0.1.0
 */
export class Outbox extends Context.Service<Outbox, Service>()("@reword/outbox/Outbox") {}

const DEFAULT_ACCOUNT = "default"

const toEntry = (row: Store.MessageRow): Entry => ({
  provider: row.provider,
  account: row.account,
  ids: {
    externalMessageId: row.externalMessageId,
    ...(row.externalChatId === undefined ? {} : { externalChatId: row.externalChatId }),
    ...(row.externalAuthorId === undefined ? {} : { externalAuthorId: row.externalAuthorId }),
    ...(row.providerMessageId === undefined ? {} : { providerMessageId: row.providerMessageId })
  },
  state: row.state,
  latestVersion: row.latestVersion,
  confirmedVersion: row.confirmedVersion,
  nextAttemptAt: row.nextAttemptAt === undefined ? undefined : new Date(row.nextAttemptAt),
  failures: row.failures,
  lastReason: row.lastReason,
  since: new Date(row.updatedAt)
})

/**
 * Builds the outbox on the `SqlClient` in context (SQLite or PostgreSQL):
 * checks and migrates the database, and starts the worker in the scope
 * unless `worker: false`.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, StorageError, SqlClient.SqlClient | Scope.Scope | MessageEditor.MessageEditor> =>
  Effect.gen(function* () {
    const routes = options.editors ?? [{ editor: yield* MessageEditor.MessageEditor, account: DEFAULT_ACCOUNT }]
    return yield* makeWith(routes, options)
  })

/**
 * Builds the outbox over the given editors (no `MessageEditor` needed in context).
 *
 * @since 0.1.0
 */
export const makeWith = (
  routes: ReadonlyArray<Route>,
  options: Options = {}
): Effect.Effect<Service, StorageError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = Schema.tables(options.tablePrefix ?? "reword_outbox_")
    yield* Schema.prepare(tables)
    const store = Store.make(sql, tables, Store.dialectOf(sql))
    const keepText = options.keepText ?? true
    const wake = yield* Queue.sliding<void>(1)

    if (routes.length === 0) return yield* Effect.die(new Error("the outbox needs at least one editor"))
    const resolved = routes.map((route) => ({ editor: route.editor, account: route.account ?? DEFAULT_ACCOUNT }))

    const target = (where: { readonly provider?: string | undefined; readonly account?: string | undefined }) => {
      const candidates = resolved.filter(
        (route) =>
          (where.provider === undefined || route.editor.provider === where.provider) &&
          (where.account === undefined || route.account === where.account)
      )
      if (candidates.length === 1) return candidates[0]
      if (candidates.length === 0 && where.provider !== undefined) {
        return { editor: undefined, account: where.account ?? DEFAULT_ACCOUNT, provider: where.provider }
      }
      return undefined
    }
    const routeOf = (where: { readonly provider?: string | undefined; readonly account?: string | undefined }) => {
      const found = target(where)
      if (found === undefined) {
        return Effect.die(
          new Error(
            `the outbox has several editors: name the provider (${resolved.map((r) => r.editor.provider).join(", ")}) and the account`
          )
        )
      }
      const provider =
        "editor" in found && found.editor !== undefined
          ? found.editor.provider
          : (found as { provider: string }).provider
      return Effect.succeed({ provider, account: found.account })
    }

    const now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

    const asText = (id: unknown): string | undefined => (id === undefined || id === null ? undefined : String(id))

    const record = (message: Recorded) =>
      Effect.gen(function* () {
        const { provider, account } = yield* routeOf(message)
        yield* store.record(
          {
            provider,
            account,
            externalMessageId: message.ids.externalMessageId,
            externalChatId: message.ids.externalChatId,
            externalAuthorId: message.ids.externalAuthorId,
            providerMessageId: asText(message.ids.providerMessageId)
          },
          yield* now
        )
      }).pipe(storage("recording a message"))

    const recordSent = <A, E, R>(
      message: Recorded,
      send: Effect.Effect<A, E, R>,
      providerIdOf?: (answer: A) => string | number | undefined
    ) =>
      Effect.tap(send, (answer) => {
        const taken =
          providerIdOf?.(answer) ??
          (typeof answer === "object" && answer !== null && "id" in answer
            ? (answer as { id: string | number }).id
            : undefined)
        return record({
          ...message,
          ids: { ...message.ids, ...(taken === undefined ? {} : { providerMessageId: taken }) }
        })
      })

    // Group commit: submits waiting at the same moment share one transaction (one fsync), each
    // answered once it is committed; a submit alone is committed at once.
    const submissions = yield* Queue.unbounded<Queued>()
    const storeOne = (queued: Queued, at: number) =>
      Effect.gen(function* () {
        const known = yield* store.lookup(queued.key)
        if (known === undefined && options.unknownMessages !== "record") {
          return Result.fail(
            new NotFound({
              provider: queued.provider,
              account: queued.account,
              externalMessageId: queued.ids.externalMessageId
            })
          )
        }
        if (known === undefined || hasNewIds(known, queued.ids)) {
          yield* store.record(
            {
              provider: queued.provider,
              account: queued.account,
              externalMessageId: queued.ids.externalMessageId,
              externalChatId: queued.ids.externalChatId,
              externalAuthorId: queued.ids.externalAuthorId,
              providerMessageId: asText(queued.ids.providerMessageId)
            },
            at
          )
        }
        const version = yield* store.submit(
          { messageKey: queued.key, request: queued.request, text: queued.text, source: queued.source, keepText },
          at
        )
        return Result.succeed(version)
      })
    const commit = (batch: ReadonlyArray<Queued>) =>
      Effect.gen(function* () {
        const at = yield* now
        return yield* sql.withTransaction(Effect.forEach(batch, (queued) => storeOne(queued, at)))
      }).pipe(
        // A defect fails the batch too: no submit waits forever.
        Effect.sandbox,
        Effect.matchEffect({
          onFailure: (cause) => {
            const failure = fromSql(Cause.squash(cause), "storing an edit")
            return Effect.forEach(batch, (queued) => Deferred.fail(queued.deferred, failure), { discard: true })
          },
          onSuccess: (results) =>
            Effect.forEach(
              batch,
              (queued, index) => {
                const result = results[index] as Result.Result<number, NotFound>
                return Result.isSuccess(result)
                  ? Deferred.succeed(queued.deferred, result.success)
                  : Deferred.fail(queued.deferred, result.failure)
              },
              { discard: true }
            )
        })
      )
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeBetween(submissions, 1, 512), commit)))

    const submit = (edit: Submission): Effect.Effect<Receipt, EditError.EditError | NotFound | StorageError> =>
      Effect.gen(function* () {
        const { provider, account } = yield* routeOf(edit)
        const externalMessageId = edit.ids.externalMessageId
        const key = Store.keyOf(provider, account, externalMessageId)
        const { provider: _p, account: _a, source, ids, ...rest } = edit
        // Reject junk before it is stored: the request must be one the editor would take.
        const checked = yield* Effect.mapError(
          EditRequest.decode({ ...rest, ids }),
          (reason) => new EditError.EditError({ provider, operation: "update", reason })
        )
        const deferred = yield* Deferred.make<number, NotFound | StorageError>()
        yield* Queue.offer(submissions, {
          key,
          provider,
          account,
          ids,
          request: JSON.stringify(rest),
          text: checked.text,
          source,
          deferred
        })
        const version = yield* Deferred.await(deferred)
        yield* Queue.offer(wake, undefined)
        return { provider, account, externalMessageId, version }
      })

    const delivery = new Delivery({
      store,
      routes: resolved,
      policy: RetryPolicy.make(options.retry),
      settleMs: Duration.toMillis(Duration.fromInputUnsafe(options.settleWindow ?? "30 seconds")),
      leaseMs: Duration.toMillis(Duration.fromInputUnsafe(options.lease ?? "5 minutes")),
      pollMs: Duration.toMillis(Duration.fromInputUnsafe(options.pollInterval ?? "1 second")),
      batchSize: Math.max(1, Math.floor(options.batchSize ?? 100)),
      keepText,
      worker: options.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
      wake
    })
    const runWorker = delivery.run.pipe(storage("delivering"))

    const journal = journalOf(store)
    const counts = journal.counts

    const drain = (drainOptions?: { readonly timeout?: Duration.Input | undefined }) =>
      Effect.gen(function* () {
        const deadline =
          (yield* now) + Duration.toMillis(Duration.fromInputUnsafe(drainOptions?.timeout ?? "60 seconds"))
        while (true) {
          const current = yield* counts
          if (current.pending === 0 || (yield* now) >= deadline) return current
          yield* Effect.sleep("20 millis")
        }
      })

    const history = (
      externalMessageId: string,
      where: { readonly provider?: string | undefined; readonly account?: string | undefined } = {}
    ) =>
      Effect.flatMap(routeOf(where), ({ provider, account }) =>
        journal.historyOf(Store.keyOf(provider, account, externalMessageId))
      )

    const redrive = (entries?: ReadonlyArray<Entry>) =>
      Effect.tap(journal.redrive(entries), (count) => (count > 0 ? Queue.offer(wake, undefined) : Effect.void))

    if (options.worker ?? true) {
      yield* Effect.forkScoped(
        runWorker.pipe(Effect.tapCause((cause) => Effect.logError("reword outbox: the worker stopped", cause)))
      )
    }

    return Outbox.of({
      record,
      recordSent,
      submit,
      drain,
      history,
      pending: (query) => journal.list("pending", query),
      failed: (query) => journal.list("failed", query),
      stream: journal.stream,
      redrive,
      counts,
      runWorker
    })
  })

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
    where?: { readonly provider?: string | undefined; readonly account?: string | undefined }
  ) => Effect.Effect<ReadonlyArray<History>, StorageError>
  /** Messages waiting for delivery, one page. */
  readonly pending: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, StorageError>
  /** Dead letters, one page. */
  readonly failed: (query?: Query) => Effect.Effect<ReadonlyArray<Entry>, StorageError>
  /** Every entry `pending` or `failed` would list, page by page from the database. */
  readonly stream: (state: "pending" | "failed", query?: Query) => Stream.Stream<Entry, StorageError>
  /** Puts dead letters back in the outbox (all, or the ones listed); answers how many. */
  readonly redrive: (entries?: ReadonlyArray<Entry>) => Effect.Effect<number, StorageError>
  readonly counts: Effect.Effect<Counts, StorageError>
}

/**
 * Opens the journal on the `SqlClient` in context: checks and migrates the
 * database as the outbox does (same `tablePrefix`).
 *
 * @since 0.1.0
 */
export const makeJournal = (
  options: { readonly tablePrefix?: string | undefined } = {}
): Effect.Effect<Journal, StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = Schema.tables(options.tablePrefix ?? "reword_outbox_")
    yield* Schema.prepare(tables)
    const journal = journalOf(Store.make(sql, tables, Store.dialectOf(sql)))
    return {
      histories: journal.histories,
      pending: (query) => journal.list("pending", query),
      failed: (query) => journal.list("failed", query),
      stream: journal.stream,
      redrive: journal.redrive,
      counts: journal.counts
    }
  })

const storage =
  (doing: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, StorageError, R> =>
    Effect.mapError(effect, (error) => fromSql(error, doing))

const nowMillis = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

/** A listing's page: the query's limit, from 1 to 10,000 (100 when none). */
const pageSize = (query: Query): number => Math.max(1, Math.min(10_000, Math.floor(query.limit ?? 100)))

const journalOf = (store: Store.Store) => {
  const counts = store.counts.pipe(storage("counting"))

  const list = (state: "pending" | "failed", query: Query = {}) =>
    Effect.gen(function* () {
      const olderThan =
        query.olderThan === undefined
          ? undefined
          : (yield* nowMillis) - Duration.toMillis(Duration.fromInputUnsafe(query.olderThan))
      const rows = yield* store.list({
        state,
        provider: query.provider,
        account: query.account,
        before: olderThan,
        after:
          query.after === undefined
            ? undefined
            : Store.keyOf(query.after.provider, query.after.account, query.after.ids.externalMessageId),
        limit: pageSize(query)
      })
      return rows.map(toEntry)
    }).pipe(storage("listing the outbox"))

  const stream = (state: "pending" | "failed", query: Query = {}): Stream.Stream<Entry, StorageError> =>
    Stream.paginate(query.after, (after: Entry | undefined) =>
      Effect.map(list(state, { ...query, after }), (page) => {
        const last = page[page.length - 1]
        return [page, page.length < pageSize(query) || last === undefined ? Option.none() : Option.some(last)] as const
      })
    )

  const historyOfRow = (row: Store.MessageRow) =>
    Effect.map(store.history(row.messageKey), ({ edits, attempts }): History => {
      const versions = edits.map(
        (edit): Version => ({
          version: edit.version,
          text: edit.text,
          textHash: edit.textHash,
          source: edit.source,
          askedAt: new Date(edit.askedAt),
          status: edit.status,
          confirmedAt: edit.confirmedAt === undefined ? undefined : new Date(edit.confirmedAt),
          attempts: attempts
            .filter((attempt) => attempt.version === edit.version)
            .map((attempt) => ({
              worker: attempt.worker,
              startedAt: new Date(attempt.startedAt),
              finishedAt: attempt.finishedAt === undefined ? undefined : new Date(attempt.finishedAt),
              outcome: attempt.outcome,
              reason: attempt.reason
            }))
        })
      )
      return { ...toEntry(row), versions }
    })

  const historyOf = (key: string) =>
    Effect.gen(function* () {
      const row = yield* store.lookup(key)
      return row === undefined ? undefined : yield* historyOfRow(row)
    }).pipe(storage("reading a history"))

  const histories = (
    externalMessageId: string,
    where: { readonly provider?: string | undefined; readonly account?: string | undefined } = {}
  ) =>
    Effect.flatMap(store.find(externalMessageId, where), (rows) => Effect.forEach(rows, historyOfRow)).pipe(
      storage("reading a history")
    )

  const redrive = (entries?: ReadonlyArray<Entry>) =>
    Effect.gen(function* () {
      const keys = entries?.map((entry) => Store.keyOf(entry.provider, entry.account, entry.ids.externalMessageId))
      return yield* store.redrive(keys, yield* nowMillis)
    }).pipe(storage("re-driving"))

  return { counts, list, stream, historyOf, histories, redrive }
}

interface Queued {
  readonly key: string
  readonly provider: string
  readonly account: string
  readonly ids: Submission["ids"]
  readonly request: string
  readonly text: string | undefined
  readonly source: string | undefined
  readonly deferred: Deferred.Deferred<number, NotFound | StorageError>
}

const hasNewIds = (known: Store.MessageRow, ids: Submission["ids"]): boolean =>
  (ids.externalChatId !== undefined && known.externalChatId === undefined) ||
  (ids.externalAuthorId !== undefined && known.externalAuthorId === undefined) ||
  (ids.providerMessageId !== undefined && known.providerMessageId === undefined)

/**
 * The outbox as a layer over the `SqlClient` and `MessageEditor` in context
 * (or the `editors` given).
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Outbox, StorageError, SqlClient.SqlClient | MessageEditor.MessageEditor> =>
  Layer.effect(Outbox, make(options))

/**
 * The outbox as a layer over the `SqlClient` in context and the editors given.
 *
 * @since 0.1.0
 */
export const layerWith = (
  routes: ReadonlyArray<Route>,
  options: Options = {}
): Layer.Layer<Outbox, StorageError, SqlClient.SqlClient> => Layer.effect(Outbox, makeWith(routes, options))
