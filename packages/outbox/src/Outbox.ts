/**
 * Durable edits: an id map, a journal of every edit asked for, and an outbox
 * whose worker lands the newest edit of each message through the neutral
 * `MessageEditor`, across restarts. `submit` returns once the edit is
 * committed to the database, before any network call.
 *
 * @since 0.1.0
 */
import { MessageEditor } from "@reword/core"
import { OptionCheck, RetryPolicy } from "@reword/core/adapter"
import { type Config, Context, Duration, Effect, Layer, Queue, Result, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import * as BatchStatements from "./internal/batchStatements.ts"
import * as Claims from "./internal/claims.ts"
import { deliverNow } from "./internal/deliverNow.ts"
import { Delivery } from "./internal/delivery.ts"
import * as EditCounts from "./internal/editCounts.ts"
import * as GroupCommit from "./internal/groupCommit.ts"
import * as Intake from "./internal/intake.ts"
import { journalOf, nowMillis, storage } from "./internal/journal.ts"
import type { Journal, Options, Receipt, Route, Service } from "./internal/model.ts"
import * as OutboxOptions from "./internal/options.ts"
import * as Query from "./internal/query.ts"
import * as Routing from "./internal/routing.ts"
import * as Schema from "./internal/schema.ts"
import * as BacklogSeries from "./internal/series.ts"
import * as Store from "./internal/store.ts"
import * as WorkerSession from "./internal/workerSession.ts"
import type { StorageError } from "./OutboxError.ts"

export type {
  Attempt,
  Counts,
  EditorsFor,
  Entry,
  History,
  IdChange,
  Journal,
  Options,
  Query,
  Receipt,
  Recorded,
  Repoint,
  Route,
  Service,
  Submission,
  TenantEditors,
  Total,
  TotalsQuery,
  Version
} from "./internal/model.ts"
export type { Series, SeriesPoint, SeriesQuery } from "./internal/series.ts"

/**
 * The outbox service.
 *
 * @since 0.1.0
 */
export class Outbox extends Context.Service<Outbox, Service>()("@reword/outbox/Outbox") {}

/**
 * Builds the outbox on the `SqlClient` in context (SQLite or PostgreSQL):
 * checks the options (a `ConfigError` naming each wrong one), checks and
 * migrates the database, and starts the worker in the scope unless `worker: false`.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  Service,
  StorageError | Config.ConfigError,
  SqlClient.SqlClient | Scope.Scope | MessageEditor.MessageEditor
> =>
  Effect.gen(function* () {
    const settings = yield* OutboxOptions.decode(options)
    const routes = settings.editors ?? [
      { editor: yield* MessageEditor.MessageEditor, account: Routing.DEFAULT_ACCOUNT }
    ]
    return yield* build(routes, settings)
  })

/**
 * Builds the outbox over the given editors (no `MessageEditor` needed in context).
 *
 * @since 0.1.0
 */
export const makeWith = (
  routes: ReadonlyArray<Route>,
  options: Options = {}
): Effect.Effect<Service, StorageError | Config.ConfigError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const settings = yield* OutboxOptions.decode(options)
    // An outbox of tenants only (`editorsFor`) may have no editors of its own.
    if (settings.editorsFor !== undefined && Array.isArray(routes) && routes.length === 0) {
      return yield* build([], settings)
    }
    const checked = OutboxOptions.decodeRoutes(routes)
    if (Result.isFailure(checked)) return yield* Effect.fail(OptionCheck.toConfigError(checked.failure))
    return yield* build(checked.success, settings)
  })

const build = (
  routes: ReadonlyArray<Route>,
  settings: OutboxOptions.Settings
): Effect.Effect<Service, StorageError | Config.ConfigError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = Schema.tables(settings.tablePrefix)
    yield* Schema.prepare(tables)
    const dialect = Store.dialectOf(sql)
    const store = Store.make(sql, tables)
    const keepText = settings.keepText
    const wake = yield* Queue.sliding<void>(1)

    const resolved = Routing.resolve(routes)
    const enqueue = yield* GroupCommit.start({
      sql,
      statements: BatchStatements.make(sql, tables, dialect, { keepText, textHashKey: settings.textHashKey }),
      unknownMessages: settings.unknownMessages
    })
    const { routeOf, record, recordMany, recordSent, repoint, submit, submitMany } = Intake.make({
      store,
      routes: resolved,
      enqueue,
      wake
    })

    // The worker's own session (its id's lock, notifications), held as long as the outbox's scope.
    const session = settings.worker
      ? yield* WorkerSession.open(sql, tables, { workerId: settings.workerId, notify: settings.notify, wake })
      : { ownsId: false }
    const delivery = new Delivery({
      claims: Claims.make(sql, tables, dialect),
      routes: resolved,
      editorsFor: settings.editorsFor,
      policy: RetryPolicy.make(settings.retry),
      settleMs: settings.settleMs,
      leaseMs: settings.leaseMs,
      pollMs: settings.pollMs,
      batchSize: settings.batchSize,
      keepText,
      worker: settings.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
      wake,
      shutdownGraceMs: settings.shutdownGraceMs,
      takeBack: session.ownsId,
      editCounts: EditCounts.make(sql, tables),
      repoint: store.repoint
    })
    const runWorker = delivery.run.pipe(storage("delivering"))

    const journal = journalOf(store)
    const counts = journal.counts

    const deliver = (receipt: Receipt, deliverOptions?: { readonly timeout?: Duration.Input | undefined }) =>
      Effect.gen(function* () {
        const key = Store.keyOf(receipt.provider, receipt.account, receipt.externalMessageId, receipt.tenant)
        const timeout = Duration.toMillis(Duration.fromInputUnsafe(deliverOptions?.timeout ?? "30 seconds"))
        yield* deliverNow(delivery.config, store, key, receipt.version, (yield* nowMillis) + timeout)
        return yield* journal.historyOf(key)
      }).pipe(storage("delivering"))

    const drain = (drainOptions?: { readonly timeout?: Duration.Input | undefined }) =>
      Effect.gen(function* () {
        const deadline =
          (yield* nowMillis) + Duration.toMillis(Duration.fromInputUnsafe(drainOptions?.timeout ?? "60 seconds"))
        // Polled with one row of an index (counting a backlog of 100,000 each time would cost the database more
        // than the worker); counted once at the end.
        while ((yield* nowMillis) < deadline && (yield* store.hasPending.pipe(storage("counting")))) {
          yield* Effect.sleep("20 millis")
        }
        return yield* counts
      })

    const history = (externalMessageId: string, where: Routing.Where = {}) =>
      Effect.flatMap(routeOf(where), ({ tenant, provider, account }) =>
        journal.historyOf(Store.keyOf(provider, account, externalMessageId, tenant))
      )

    const redrive = (entries?: Parameters<Service["redrive"]>[0]) =>
      Effect.tap(journal.redrive(entries), (count) => (count > 0 ? Queue.offer(wake, undefined) : Effect.void))

    const failTenant = (tenant: string, reason: string) =>
      Effect.gen(function* () {
        const keys = yield* store.failTenant(tenant, reason, yield* nowMillis)
        if (keys.length > 0) {
          yield* Effect.logInfo(
            `reword outbox: ${keys.length} pending edits of tenant ${tenant} dead-lettered: ${reason}`
          )
        }
        return keys.length
      }).pipe(storage("dead-lettering a tenant's edits"))

    if (settings.worker) {
      yield* Effect.forkScoped(
        runWorker.pipe(Effect.tapCause((cause) => Effect.logError("reword outbox: the worker stopped", cause)))
      )
    }

    return Outbox.of({
      record,
      recordMany,
      recordSent,
      repoint,
      submit,
      submitMany,
      failTenant,
      drain,
      history,
      pending: (query) => journal.list("pending", query),
      failed: (query) => journal.list("failed", query),
      stream: journal.stream,
      redrive,
      counts,
      runWorker,
      deliver
    })
  })

/**
 * Opens the journal on the `SqlClient` in context (open it read-only for a
 * tool that only reads). It checks the database and writes nothing: a
 * database without outbox tables under `tablePrefix` is a `Foreign`
 * `StorageError` naming the prefixes it does hold; a newer schema is
 * `NewerSchema`. It never creates nor migrates tables: the app's outbox does.
 *
 * @since 0.1.0
 */
export const makeJournal = (
  options: { readonly tablePrefix?: string | undefined } = {}
): Effect.Effect<Journal, StorageError | Config.ConfigError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = Schema.tables(yield* OutboxOptions.decodePrefix(options))
    yield* Schema.check(tables)
    const journal = journalOf(Store.make(sql, tables))
    const series = BacklogSeries.seriesOf(sql, tables)
    return {
      series: (query) =>
        Effect.flatMap(Query.decodeSeriesQuery(query), (decoded) =>
          Effect.flatMap(nowMillis, (now) => series(decoded, now)).pipe(storage("reading the backlog's series"))
        ),
      histories: journal.histories,
      pending: (query) => journal.list("pending", query),
      failed: (query) => journal.list("failed", query),
      stream: journal.stream,
      redrive: journal.redrive,
      counts: journal.counts,
      totals: journal.totals
    }
  })

/**
 * The outbox as a layer over the `SqlClient` and `MessageEditor` in context
 * (or the `editors` given).
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Outbox, StorageError | Config.ConfigError, SqlClient.SqlClient | MessageEditor.MessageEditor> =>
  Layer.effect(Outbox, make(options))

/**
 * The outbox as a layer over the `SqlClient` in context and the editors given.
 *
 * @since 0.1.0
 */
export const layerWith = (
  routes: ReadonlyArray<Route>,
  options: Options = {}
): Layer.Layer<Outbox, StorageError | Config.ConfigError, SqlClient.SqlClient> =>
  Layer.effect(Outbox, makeWith(routes, options))
