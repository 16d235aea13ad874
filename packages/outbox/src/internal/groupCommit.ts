/**
 * Group commit: submits waiting at the same moment share one transaction (one
 * fsync), each answered once it is committed; a submit alone is committed at
 * once.
 */
import { Cause, Deferred, Effect, Queue, Result, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { fromSql, NotFound, type StorageError } from "../OutboxError.ts"
import type { Submission } from "./model.ts"
import type * as Store from "./store.ts"

/** A submit waiting for its transaction. */
export interface Queued {
  readonly key: string
  readonly provider: string
  readonly account: string
  readonly ids: Submission["ids"]
  readonly request: string
  readonly text: string | undefined
  readonly source: string | undefined
  readonly deferred: Deferred.Deferred<number, NotFound | StorageError>
}

export interface GroupCommitConfig {
  readonly sql: SqlClient.SqlClient
  readonly store: Store.Store
  readonly keepText: boolean
  readonly unknownMessages: "reject" | "record"
}

const asText = (id: unknown): string | undefined => (id === undefined || id === null ? undefined : String(id))

/** The ids of a submit as a record of the id map. */
export const recordOf = (queued: {
  readonly provider: string
  readonly account: string
  readonly ids: Submission["ids"]
}): Store.RecordInput => ({
  provider: queued.provider,
  account: queued.account,
  externalMessageId: queued.ids.externalMessageId,
  externalChatId: queued.ids.externalChatId,
  externalAuthorId: queued.ids.externalAuthorId,
  providerMessageId: asText(queued.ids.providerMessageId)
})

const hasNewIds = (known: Store.MessageRow, ids: Submission["ids"]): boolean =>
  (ids.externalChatId !== undefined && known.externalChatId === undefined) ||
  (ids.externalAuthorId !== undefined && known.externalAuthorId === undefined) ||
  (ids.providerMessageId !== undefined && known.providerMessageId === undefined)

const storeOne = (config: GroupCommitConfig, queued: Queued, at: number) =>
  Effect.gen(function* () {
    const known = yield* config.store.lookup(queued.key)
    if (known === undefined && config.unknownMessages !== "record") {
      return Result.fail(
        new NotFound({
          provider: queued.provider,
          account: queued.account,
          externalMessageId: queued.ids.externalMessageId
        })
      )
    }
    if (known === undefined || hasNewIds(known, queued.ids)) yield* config.store.record(recordOf(queued), at)
    const version = yield* config.store.submit(
      {
        messageKey: queued.key,
        request: queued.request,
        text: queued.text,
        source: queued.source,
        keepText: config.keepText
      },
      at
    )
    return Result.succeed(version)
  })

const now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

const commit = (config: GroupCommitConfig, batch: ReadonlyArray<Queued>) =>
  Effect.gen(function* () {
    const at = yield* now
    return yield* config.sql.withTransaction(Effect.forEach(batch, (queued) => storeOne(config, queued, at)))
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

/** Starts the committer in the scope; answers how to enqueue a submit (answered through its deferred). */
export const start = (
  config: GroupCommitConfig
): Effect.Effect<(queued: Queued) => Effect.Effect<boolean>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const submissions = yield* Queue.unbounded<Queued>()
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.takeBetween(submissions, 1, 512), (batch) => commit(config, batch)))
    )
    return (queued: Queued) => Queue.offer(submissions, queued)
  })
