/**
 * The journal: the outbox's lists, counts, histories and re-drives, read from
 * the store and shaped as the model's entries and histories.
 */
import type { EditError } from "@reword/core"
import { Effect, Option, Stream } from "effect"
import { fromSql, type StorageError } from "../OutboxError.ts"
import type { Attempt, Entry, History, IdChange, Query as QueryInput, Total, TotalsQuery, Version } from "./model.ts"
import * as Query from "./query.ts"
import * as Store from "./store.ts"

export const toEntry = (row: Store.MessageRow): Entry => ({
  ...tenantOf(row.tenant),
  provider: row.provider,
  account: row.account,
  ids: {
    externalMessageId: row.externalMessageId,
    ...(row.externalChatId === undefined ? {} : { externalChatId: row.externalChatId }),
    ...(row.externalAuthorId === undefined ? {} : { externalAuthorId: row.externalAuthorId }),
    ...(row.providerMessageId === undefined ? {} : { providerMessageId: row.providerMessageId }),
    ...(row.providerChatId === undefined ? {} : { providerChatId: row.providerChatId }),
    ...(row.providerConnectionId === undefined ? {} : { providerConnectionId: row.providerConnectionId })
  },
  ...(row.kind === undefined ? {} : { kind: row.kind }),
  state: row.state,
  latestVersion: row.latestVersion,
  confirmedVersion: row.confirmedVersion,
  nextAttemptAt: row.nextAttemptAt === undefined ? undefined : new Date(row.nextAttemptAt),
  failures: row.failures,
  lastReason: row.lastReason,
  since: new Date(row.updatedAt),
  claim:
    row.claimedBy === undefined || row.claimedUntil === undefined
      ? undefined
      : { worker: row.claimedBy, until: new Date(row.claimedUntil) }
})

/** A change of the id map, from the journal's entry of it. */
const idChangeOf = (entry: Store.AttemptRow): IdChange => {
  const change = JSON.parse(entry.reason ?? "{}") as {
    readonly field?: IdChange["field"]
    readonly from?: string | null
    readonly to?: string
    readonly source?: string | null
  }
  return {
    field: change.field ?? "providerMessageId",
    from: change.from ?? undefined,
    to: change.to ?? "",
    source: change.source ?? undefined,
    at: new Date(entry.startedAt)
  }
}

/** A tenant as answers carry it: absent for `default`, so a single-tenant app's answers are as they were. */
export const tenantOf = (tenant: string): { readonly tenant?: string } =>
  tenant === Store.DEFAULT_TENANT ? {} : { tenant }

export const storage =
  (doing: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, StorageError, R> =>
    Effect.mapError(effect, (error) => fromSql(error, doing))

export const nowMillis = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

export const journalOf = (store: Store.Store) => {
  const counts = store.counts.pipe(storage("counting"))

  /** One page of a decoded query. */
  const page = (state: "pending" | "failed", query: Query.DecodedQuery) =>
    Effect.gen(function* () {
      const rows = yield* store.list({
        state,
        tenant: query.tenant,
        provider: query.provider,
        account: query.account,
        before: query.olderThanMillis === undefined ? undefined : (yield* nowMillis) - query.olderThanMillis,
        after:
          query.after === undefined
            ? undefined
            : Store.keyOf(query.after.provider, query.after.account, query.after.externalMessageId, query.after.tenant),
        limit: query.limit
      })
      return rows.map(toEntry)
    }).pipe(storage("listing the outbox"))

  /** `pending` and `failed`: the query decoded once (an `InvalidRequest` when wrong), then one page. */
  const list = (state: "pending" | "failed", query?: QueryInput) =>
    Effect.flatMap(Query.decodeQuery(query), (decoded) => page(state, decoded))

  const stream = (
    state: "pending" | "failed",
    query?: QueryInput
  ): Stream.Stream<Entry, StorageError | EditError.EditError> =>
    Stream.unwrap(
      Effect.map(Query.decodeQuery(query), (decoded) =>
        Stream.paginate(decoded.after, (after: Query.DecodedQuery["after"]) =>
          Effect.map(page(state, { ...decoded, after }), (entries) => {
            const last = entries[entries.length - 1]
            return [
              entries,
              entries.length < decoded.limit || last === undefined
                ? Option.none()
                : Option.some({
                    tenant: last.tenant,
                    provider: last.provider,
                    account: last.account,
                    externalMessageId: last.ids.externalMessageId
                  })
            ] as const
          })
        )
      )
    )

  const historyOfRow = (row: Store.MessageRow) =>
    Effect.map(store.history(row.messageKey), ({ edits, attempts: all }): History => {
      const attempts = all.filter((attempt) => attempt.outcome !== "repointed")
      const idChanges = all.filter((attempt) => attempt.outcome === "repointed").map(idChangeOf)
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
              outcome: attempt.outcome as Attempt["outcome"],
              reason: attempt.reason
            }))
        })
      )
      return { ...toEntry(row), versions, idChanges }
    })

  const historyOf = (key: string) =>
    Effect.gen(function* () {
      const row = yield* store.lookup(key)
      return row === undefined ? undefined : yield* historyOfRow(row)
    }).pipe(storage("reading a history"))

  const histories = (externalMessageId: string, where: Store.Where = {}) =>
    Effect.flatMap(store.find(externalMessageId, where), (rows) => Effect.forEach(rows, historyOfRow)).pipe(
      storage("reading a history")
    )

  const redrive = (entries?: ReadonlyArray<Entry>) =>
    Effect.gen(function* () {
      const keys = entries?.map((entry) =>
        Store.keyOf(entry.provider, entry.account, entry.ids.externalMessageId, entry.tenant)
      )
      return yield* store.redrive(keys, yield* nowMillis)
    }).pipe(storage("re-driving"))

  const totals = (query?: TotalsQuery) =>
    Effect.flatMap(Query.decodeTotalsQuery(query), (decoded) =>
      Effect.gen(function* () {
        const before = decoded.olderThanMillis === undefined ? undefined : (yield* nowMillis) - decoded.olderThanMillis
        const rows = yield* store.totals({
          tenant: decoded.tenant,
          provider: decoded.provider,
          account: decoded.account,
          before
        })
        return totalsOf(rows)
      }).pipe(storage("counting the outbox"))
    )

  return { counts, list, stream, historyOf, histories, redrive, totals }
}

/** The store's counts (one row per provider, account and state) as one {@link Total} per provider and account. */
const totalsOf = (rows: ReadonlyArray<Store.TotalRow>): ReadonlyArray<Total> => {
  const byAccount = new Map<string, Total>()
  for (const row of rows) {
    const key = `${row.tenant}\u001f${row.provider}\u001f${row.account}`
    const total = byAccount.get(key) ?? {
      ...tenantOf(row.tenant),
      provider: row.provider,
      account: row.account,
      pending: 0,
      failed: 0,
      oldestPending: undefined,
      oldestFailed: undefined
    }
    byAccount.set(
      key,
      row.state === "pending"
        ? { ...total, pending: row.count, oldestPending: new Date(row.oldest) }
        : { ...total, failed: row.count, oldestFailed: new Date(row.oldest) }
    )
  }
  return [...byAccount.values()]
}
