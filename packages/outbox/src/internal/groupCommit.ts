/**
 * Group commit: records and submits waiting at the same moment (a
 * `submitMany`'s edits among them) share one transaction (one fsync), each
 * answered once it is committed; one alone is committed at once. A batch is
 * written set-based: a few statements for the whole batch
 * (`batchStatements.ts`), each item decided alone (`batchPlan.ts`).
 *
 * One submit is judged alone: a batch's rows are locked in one key order (so
 * two instances never deadlock on each other's batches), a collision of
 * concurrent transactions (deadlock, serialization failure) is tried again,
 * bounded, and a failure one submit may cause (a value the database refuses)
 * is narrowed down by halving the batch, so that only that submit fails.
 */
import type { EditError } from "@reword/core"
import { Cause, Deferred, Duration, Effect, Queue, Result, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { fromSql, type NotFound, StorageError } from "../OutboxError.ts"
import * as Plan from "./batchPlan.ts"
import type * as BatchStatements from "./batchStatements.ts"

/** What a submit is answered with: its version, or why it was refused. */
export type SubmitError = NotFound | StorageError | EditError.EditError

/** A record or a submit waiting for its transaction; answered through its deferred (a record with 0). */
export interface Queued extends Plan.Item {
  readonly deferred: Deferred.Deferred<number, SubmitError>
}

export interface GroupCommitConfig {
  readonly sql: SqlClient.SqlClient
  readonly statements: BatchStatements.BatchStatements
  readonly unknownMessages: "reject" | "record"
}

/** The most records and submits one transaction takes (its statements take the batch as one parameter). */
export const MAX_GROUP = 1_000

/** How often a batch whose transaction collided with another is tried again. */
const CONFLICT_ATTEMPTS = 8

/** The failures no submit causes alone: the whole batch fails with them, without narrowing it down. */
const SHARED = new Set(["Corrupt", "Foreign", "NewerSchema", "ReadOnly", "Full", "Unavailable", "Missing", "Denied"])

const now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

/** Another process recorded one of the batch's new messages at the same moment: the batch is tried again. */
const raced = new StorageError({
  problem: "Conflict",
  description: "storing an edit: another process recorded the same message at the same moment"
})

const sortedKeys = (batch: ReadonlyArray<Queued>): ReadonlyArray<string> =>
  [...new Set(batch.map((queued) => queued.key))].sort()

/**
 * One transaction over the batch, set-based (the map's rows read and locked;
 * the messages and the edits written): every item's result, or the failure
 * that rolled it back.
 */
const transaction = (config: GroupCommitConfig, batch: ReadonlyArray<Queued>) =>
  Effect.gen(function* () {
    const at = yield* now
    return yield* config.sql.withTransaction(
      Effect.gen(function* () {
        const known = yield* config.statements.lookup(sortedKeys(batch))
        const plan = Plan.make(batch, known, config.unknownMessages)
        const stored = yield* config.statements.write(plan.writes, plan.edits, at)
        if (!Plan.asPlanned(plan, stored)) return yield* Effect.fail(raced)
        return plan.decisions.map((decision): Result.Result<number, SubmitError> => {
          if (decision._tag === "Refused") return Result.fail(decision.error)
          if (decision._tag === "Recorded") return Result.succeed(0)
          const version = stored.get(decision.key)?.latestVersion
          return version === undefined
            ? Result.fail(fromSql(new Error("the message of an edit was not found"), "storing an edit"))
            : Result.succeed(version - decision.back)
        })
      })
    )
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

const closed = (doing: string) =>
  new StorageError({
    problem: "Closed",
    description: `the outbox closed ${doing}: it was not acknowledged (its history says whether it was stored)`
  })

/** Hands records and submits to the committer; fails (`Closed`) when the outbox closed: none was taken then. */
export type Enqueue = (queued: ReadonlyArray<Queued>) => Effect.Effect<void, StorageError>

/**
 * Starts the committer in the scope; answers how to enqueue records and
 * submits (each answered through its deferred). When the scope closes, the
 * ones still waiting fail with a `Closed` storage error: none waits for ever.
 */
export const start = (config: GroupCommitConfig): Effect.Effect<Enqueue, never, Scope.Scope> =>
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
        Effect.flatMap(Queue.takeBetween(submissions, 1, MAX_GROUP), (batch) =>
          commit(config, batch).pipe(
            Effect.onInterrupt(() =>
              Effect.forEach(batch, (queued) => Deferred.fail(queued.deferred, closed("while storing this edit")), {
                discard: true
              })
            )
          )
        )
      )
    )
    return (queued) =>
      Effect.flatMap(Queue.offerAll(submissions, queued), (left) =>
        left.length === 0 ? Effect.void : Effect.fail(closed("before this edit was stored"))
      )
  })
