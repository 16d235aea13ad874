/**
 * What the app writes: `record` and `recordSent` (the id map), `submit` (an
 * edit, through the group commit). Each call's input is decoded once here
 * (`submission.ts`'s Schemas) and judged alone: a wrong field, an id that
 * conflicts with the id map, or a route the outbox cannot choose is an
 * `InvalidRequest` for that call only.
 */
import { EditError } from "@reword/core"
import { Deferred, Effect, Queue, Result } from "effect"
import { NotFound, type StorageError } from "../OutboxError.ts"
import * as GroupCommit from "./groupCommit.ts"
import { nowMillis, storage } from "./journal.ts"
import type { Receipt, Recorded, Repoint, Submission } from "./model.ts"
import * as Routing from "./routing.ts"
import * as Store from "./store.ts"
import { decodeRecordedMessage, decodeRepoint, decodeSubmission } from "./submission.ts"

export interface IntakeConfig {
  readonly store: Store.Store
  readonly routes: ReadonlyArray<Routing.Resolved>
  readonly enqueue: (queued: GroupCommit.Queued) => Effect.Effect<void, StorageError>
  readonly wake: Queue.Queue<void>
}

/** The provider a refused call names, for its `EditError`. */
const providerOf = (input: unknown): string => {
  const provider = (input as { readonly provider?: unknown } | null | undefined)?.provider
  return typeof provider === "string" && provider.length > 0 && provider.length <= 64 ? provider : "outbox"
}

const refused = (input: unknown) => (reason: EditError.InvalidRequest) =>
  new EditError.EditError({ provider: providerOf(input), operation: "update", reason })

const decoded = <A>(input: unknown, result: Result.Result<A, EditError.InvalidRequest>) =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(refused(input)(result.failure))

export const make = (config: IntakeConfig) => {
  const routeOf = (where: Routing.Where) => Routing.routeOf(config.routes, where)

  /** Records a message in the id map (completing it); refuses ids that conflict with the ones it holds. */
  const record = (message: Recorded): Effect.Effect<void, EditError.EditError | StorageError> =>
    Effect.gen(function* () {
      const checked = yield* decoded(message, decodeRecordedMessage(message))
      const { provider, account } = yield* routeOf(checked)
      const input = GroupCommit.recordOf({ provider, account, ids: checked.ids })
      const held = yield* config.store.record(input, yield* nowMillis).pipe(storage("recording a message"))
      const conflicts = GroupCommit.conflictsOf(held, checked.ids)
      if (conflicts.length > 0) {
        return yield* new EditError.EditError({
          provider,
          operation: "update",
          reason: new EditError.InvalidRequest({ problems: [...conflicts] })
        })
      }
    })

  const recordSent = <A, E, R>(
    message: Recorded,
    send: Effect.Effect<A, E, R>,
    providerIdOf?: (answer: A) => string | number | undefined
  ): Effect.Effect<A, E | EditError.EditError | StorageError, R> =>
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

  /** Stores the edit as the message's next version (through the group commit); answers once committed. */
  const submit = (edit: Submission): Effect.Effect<Receipt, EditError.EditError | NotFound | StorageError> =>
    Effect.gen(function* () {
      const checked = yield* decoded(edit, decodeSubmission(edit))
      const { provider, account } = yield* routeOf(checked)
      const externalMessageId = checked.ids.externalMessageId
      const deferred = yield* Deferred.make<number, GroupCommit.SubmitError>()
      yield* config.enqueue({
        key: Store.keyOf(provider, account, externalMessageId),
        provider,
        account,
        ids: checked.ids,
        request: checked.request,
        text: checked.text,
        source: checked.source,
        deferred
      })
      const version = yield* Deferred.await(deferred)
      yield* Queue.offer(config.wake, undefined)
      return { provider, account, externalMessageId, version }
    })

  /** Points a message at other ids, deliberately; the journal keeps the change. */
  const repoint = (message: Repoint): Effect.Effect<void, EditError.EditError | NotFound | StorageError> =>
    Effect.gen(function* () {
      const { source, ...rest } = (message ?? {}) as Repoint
      const checked = yield* decoded(message, decodeRepoint(rest, source))
      const { provider, account } = yield* routeOf(checked.message)
      const { externalMessageId, ...ids } = checked.message.ids
      const changes = yield* config.store
        .repoint(
          Store.keyOf(provider, account, externalMessageId),
          {
            ...(ids.externalChatId === undefined ? {} : { externalChatId: ids.externalChatId }),
            ...(ids.externalAuthorId === undefined ? {} : { externalAuthorId: ids.externalAuthorId }),
            ...(ids.providerMessageId === undefined ? {} : { providerMessageId: String(ids.providerMessageId) })
          },
          checked.source,
          yield* nowMillis
        )
        .pipe(storage("re-pointing a message"))
      if (changes === undefined) return yield* new NotFound({ provider, account, externalMessageId })
    })

  return { routeOf, record, recordSent, repoint, submit }
}
