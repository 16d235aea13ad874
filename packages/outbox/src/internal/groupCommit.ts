/**
 * Group commit: submits waiting at the same moment share one transaction (one
 * fsync), each answered once it is committed; a submit alone is committed at
 * once.
 *
 * One submit is judged alone: a batch's rows are locked in one key order (so
 * two instances never deadlock on each other's batches), a collision of
 * concurrent transactions (deadlock, serialization failure) is tried again,
 * bounded, and a failure one submit may cause (a value the database refuses)
 * is narrowed down by halving the batch, so that only that submit fails.
 */
import { EditError } from "@reword/core"
import { Cause, Deferred, Duration, Effect, Queue, Result, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { fromSql, NotFound, StorageError } from "../OutboxError.ts"
import type * as Store from "./store.ts"
import type { RecordedType } from "./submission.ts"

/** What a submit is answered with: its version, or why it was refused. */
export type SubmitError = NotFound | StorageError | EditError.EditError

/** A submit waiting for its transaction. */
export interface Queued {
  readonly key: string
  readonly provider: string
  readonly account: string
  readonly ids: RecordedType["ids"]
  readonly request: string
  readonly text: string | undefined
  readonly source: string | undefined
  readonly deferred: Deferred.Deferred<number, SubmitError>
}

export interface GroupCommitConfig {
  readonly sql: SqlClient.SqlClient
  readonly store: Store.Store
  readonly keepText: boolean
  readonly unknownMessages: "reject" | "record"
}

/** How often a batch whose transaction collided with another is tried again. */
const CONFLICT_ATTEMPTS = 8

/** The failures no submit causes alone: the whole batch fails with them, without narrowing it down. */
const SHARED = new Set(["Corrupt", "Foreign", "NewerSchema", "ReadOnly", "Full", "Unavailable", "Missing", "Denied"])

const asText = (id: unknown): string | undefined => (id === undefined || id === null ? undefined : String(id))

/** The ids of a submit as a record of the id map. */
export const recordOf = (queued: {
  readonly provider: string
  readonly account: string
  readonly ids: RecordedType["ids"]
}): Store.RecordInput => ({
  provider: queued.provider,
  account: queued.account,
  externalMessageId: queued.ids.externalMessageId,
  externalChatId: queued.ids.externalChatId,
  externalAuthorId: queued.ids.externalAuthorId,
  providerMessageId: asText(queued.ids.providerMessageId)
})

const ID_FIELDS = ["externalChatId", "externalAuthorId", "providerMessageId"] as const

/**
 * The ids a call gives that differ from the ones the id map holds: each names
 * both ids. The map is never re-pointed by an edit or a record (`repoint` does it).
 */
export const conflictsOf = (known: Store.MessageRow, ids: RecordedType["ids"]): ReadonlyArray<EditError.Problem> =>
  ID_FIELDS.flatMap((field) => {
    const given = asText(ids[field])
    const held = known[field]
    return given === undefined || held === undefined || given === held
      ? []
      : [
          {
            path: `ids.${field}`,
            message: `is ${JSON.stringify(given)}, but the id map holds ${JSON.stringify(held)} for message ${JSON.stringify(known.externalMessageId)}: to point the message at another one, call repoint`
          }
        ]
  })

const hasNewIds = (known: Store.MessageRow, ids: RecordedType["ids"]): boolean =>
  ID_FIELDS.some((field) => ids[field] !== undefined && known[field] === undefined)

const storeOne = (config: GroupCommitConfig, queued: Queued, at: number) =>
  Effect.gen(function* () {
    const known = yield* config.store.lookup(queued.key)
    if (known === undefined && config.unknownMessages !== "record") {
      return Result.fail<SubmitError>(
        new NotFound({
          provider: queued.provider,
          account: queued.account,
          externalMessageId: queued.ids.externalMessageId
        })
      )
    }
    const conflicts = known === undefined ? [] : conflictsOf(known, queued.ids)
    if (conflicts.length > 0) {
      return Result.fail<SubmitError>(
        new EditError.EditError({
          provider: queued.provider,
          operation: "update",
          reason: new EditError.InvalidRequest({ problems: [...conflicts] })
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
    return Result.succeed(version) as Result.Result<number, SubmitError>
  })

const now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

/** One transaction over the batch: every submit's result, or the failure that rolled it back. */
const transaction = (config: GroupCommitConfig, batch: ReadonlyArray<Queued>) =>
  Effect.gen(function* () {
    const at = yield* now
    return yield* config.sql.withTransaction(Effect.forEach(batch, (queued) => storeOne(config, queued, at)))
  }).pipe(
    // A defect fails the transaction too: no submit waits forever.
    Effect.sandbox,
    Effect.mapError((cause) => fromSql(Cause.squash(cause), "storing an edit"))
  )

/** The transaction, tried again (bounded, after a short random pause) while it collides with another. */
const withConflictsRetried = (config: GroupCommitConfig, batch: ReadonlyArray<Queued>) => {
  const go = (attempt: number): Effect.Effect<ReadonlyArray<Result.Result<number, SubmitError>>, StorageError> =>
    Effect.catchIf(
      transaction(config, batch),
      (error) => error.problem === "Conflict" && attempt < CONFLICT_ATTEMPTS,
      () => Effect.andThen(Effect.sleep(Duration.millis(Math.random() * 10 * 2 ** attempt)), go(attempt + 1))
    )
  return go(1)
}

const answer = (batch: ReadonlyArray<Queued>, results: ReadonlyArray<Result.Result<number, SubmitError>>) =>
  Effect.forEach(
    batch,
    (queued, index) => {
      const result = results[index]
      if (result === undefined) return Deferred.die(queued.deferred, new Error("the group commit lost a result"))
      return Result.isSuccess(result)
        ? Deferred.succeed(queued.deferred, result.success)
        : Deferred.fail(queued.deferred, result.failure)
    },
    { discard: true }
  )

/**
 * Commits a batch; when its transaction fails for a reason one submit may
 * cause, commits each half on its own, down to the one submit that fails.
 */
const commit = (config: GroupCommitConfig, batch: ReadonlyArray<Queued>): Effect.Effect<void> =>
  withConflictsRetried(config, batch).pipe(
    Effect.matchEffect({
      onSuccess: (results) => answer(batch, results),
      onFailure: (failure) => {
        if (batch.length === 1 || SHARED.has(failure.problem)) {
          return Effect.forEach(batch, (queued) => Deferred.fail(queued.deferred, failure), { discard: true })
        }
        const half = Math.ceil(batch.length / 2)
        return Effect.andThen(commit(config, batch.slice(0, half)), commit(config, batch.slice(half)))
      }
    })
  )

/** One key order for every instance: row locks taken in the same order never deadlock (stable: a message's submits keep their order). */
const byKey = (batch: ReadonlyArray<Queued>): ReadonlyArray<Queued> =>
  [...batch].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))

const closed = (doing: string) =>
  new StorageError({
    problem: "Closed",
    description: `the outbox closed ${doing}: it was not acknowledged (its history says whether it was stored)`
  })

/**
 * Starts the committer in the scope; answers how to enqueue a submit (answered
 * through its deferred). When the scope closes, submits still waiting fail
 * with a `Closed` storage error: none waits for ever.
 */
export const start = (
  config: GroupCommitConfig
): Effect.Effect<(queued: Queued) => Effect.Effect<void, StorageError>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const submissions = yield* Queue.unbounded<Queued>()
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const left = yield* Queue.clear(submissions)
        yield* Queue.shutdown(submissions)
        for (const queued of left) yield* Deferred.fail(queued.deferred, closed("before this edit was stored"))
      })
    )
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.takeBetween(submissions, 1, 512), (batch) =>
          commit(config, byKey(batch)).pipe(
            Effect.onInterrupt(() =>
              Effect.forEach(batch, (queued) => Deferred.fail(queued.deferred, closed("while storing this edit")), {
                discard: true
              })
            )
          )
        )
      )
    )
    return (queued: Queued) =>
      Effect.flatMap(Queue.offer(submissions, queued), (taken) =>
        taken ? Effect.void : Effect.fail(closed("before this edit was stored"))
      )
  })
