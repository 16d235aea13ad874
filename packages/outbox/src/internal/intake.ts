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
import type * as Plan from "./batchPlan.ts"
import * as GroupCommit from "./groupCommit.ts"
import { nowMillis, storage, tenantOf } from "./journal.ts"
import type { Receipt, Recorded, Repoint, Submission } from "./model.ts"
import * as Routing from "./routing.ts"
import * as Store from "./store.ts"
import { decodeRecordedMessage, decodeRepoint, decodeSubmission } from "./submission.ts"

export interface IntakeConfig {
  readonly store: Store.Store
  readonly routes: ReadonlyArray<Routing.Resolved>
  readonly enqueue: GroupCommit.Enqueue
  readonly wake: Queue.Queue<void>
}

/** The most edits (or messages) one `submitMany` (or `recordMany`) takes. */
export const MAX_MANY = 100_000

/** Items decoded and handed to the group commit at a time, so that a long batch starts committing early. */
const SLICE = GroupCommit.MAX_GROUP

/** The provider a refused call names, for its `EditError`. */
const providerOf = (input: unknown): string => {
  const provider = (input as { readonly provider?: unknown } | null | undefined)?.provider
  return typeof provider === "string" && provider.length > 0 && provider.length <= 64 ? provider : "outbox"
}

const refused = (input: unknown) => (reason: EditError.InvalidRequest) =>
  new EditError.EditError({ provider: providerOf(input), operation: "update", reason })

const decoded = <A>(input: unknown, result: Result.Result<A, EditError.InvalidRequest>) =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(refused(input)(result.failure))

/** A call of many whose input is not a list (or is too long): refused as a whole. */
const notAList = (what: string, why: string) =>
  new EditError.EditError({
    provider: "outbox",
    operation: "updateMany",
    reason: new EditError.InvalidRequest({ problems: [{ path: "(request)", message: `${why} (${what})` }] })
  })

/** The first {@link MAX_MANY} items of an iterable input, or why it cannot be taken (never throws). */
const listOf = (input: unknown, what: string): Result.Result<ReadonlyArray<unknown>, EditError.EditError> => {
  if (Array.isArray(input)) {
    return input.length > MAX_MANY
      ? Result.fail(notAList(what, `must hold at most ${MAX_MANY.toLocaleString("en")} items: split it`))
      : Result.succeed(input)
  }
  if (input === null || typeof input !== "object" || !(Symbol.iterator in input)) {
    return Result.fail(notAList(what, "must be an array"))
  }
  try {
    const items: Array<unknown> = []
    for (const item of input as Iterable<unknown>) {
      if (items.length === MAX_MANY) {
        return Result.fail(notAList(what, `must hold at most ${MAX_MANY.toLocaleString("en")} items: split it`))
      }
      items.push(item)
    }
    return Result.succeed(items)
  } catch (error) {
    return Result.fail(notAList(what, `could not be read: ${error instanceof Error ? error.message : String(error)}`))
  }
}

export const make = (config: IntakeConfig) => {
  const routeOf = (where: Routing.Where) => Routing.routeOf(config.routes, where)

  /** A record decoded and routed, ready for the group commit; or why it is refused. */
  const recordItem = (message: unknown) =>
    Effect.gen(function* () {
      const checked = yield* decoded(message, decodeRecordedMessage(message))
      const { tenant, provider, account } = yield* routeOf(checked)
      const key = Store.keyOf(provider, account, checked.ids.externalMessageId, tenant)
      return {
        kind: "record",
        key,
        tenant,
        provider,
        account,
        ids: checked.ids,
        messageKind: checked.kind
      } satisfies Plan.Item
    })

  /** A submit decoded and routed, ready for the group commit; or why it is refused. */
  const submitItem = (edit: unknown) =>
    Effect.gen(function* () {
      const checked = yield* decoded(edit, decodeSubmission(edit))
      const { tenant, provider, account } = yield* routeOf(checked)
      const key = Store.keyOf(provider, account, checked.ids.externalMessageId, tenant)
      return {
        kind: "submit",
        key,
        tenant,
        provider,
        account,
        ids: checked.ids,
        request: checked.request,
        text: checked.text,
        source: checked.source
      } satisfies Plan.Item
    })

  /** Commits one item through the group commit; answers its version (0 for a record). */
  const commitOne = (item: Plan.Item) =>
    Effect.gen(function* () {
      const deferred = yield* Deferred.make<number, GroupCommit.SubmitError>()
      yield* config.enqueue([{ ...item, deferred }])
      return yield* Deferred.await(deferred)
    })

  /**
   * Commits many items, each judged alone: every input decoded, routed and
   * handed to the group commit (a slice at a time), then every answer awaited.
   */
  const commitMany = <A>(
    inputs: ReadonlyArray<unknown>,
    itemOf: (input: unknown) => Effect.Effect<Plan.Item, EditError.EditError | NotFound>,
    answerOf: (item: Plan.Item, version: number) => A
  ): Effect.Effect<Array<Result.Result<A, GroupCommit.SubmitError>>> =>
    Effect.gen(function* () {
      const waiting: Array<
        Result.Result<readonly [Plan.Item, Deferred.Deferred<number, GroupCommit.SubmitError>], GroupCommit.SubmitError>
      > = []
      for (let from = 0; from < inputs.length; from += SLICE) {
        const queued: Array<GroupCommit.Queued> = []
        for (const input of inputs.slice(from, from + SLICE)) {
          const item = yield* Effect.result(itemOf(input))
          if (Result.isFailure(item)) {
            waiting.push(Result.fail(item.failure))
            continue
          }
          const deferred = Deferred.makeUnsafe<number, GroupCommit.SubmitError>()
          queued.push({ ...item.success, deferred })
          waiting.push(Result.succeed([item.success, deferred] as const))
        }
        const taken = yield* Effect.result(config.enqueue(queued))
        if (Result.isFailure(taken))
          for (const { deferred } of queued) Deferred.doneUnsafe(deferred, Effect.fail(taken.failure))
      }
      const answers: Array<Result.Result<A, GroupCommit.SubmitError>> = []
      for (const entry of waiting) {
        if (Result.isFailure(entry)) {
          answers.push(Result.fail(entry.failure))
          continue
        }
        const [item, deferred] = entry.success
        const version = yield* Effect.result(Deferred.await(deferred))
        answers.push(
          Result.isSuccess(version) ? Result.succeed(answerOf(item, version.success)) : Result.fail(version.failure)
        )
      }
      return answers
    })

  const receiptOf = (item: Plan.Item, version: number): Receipt => ({
    ...tenantOf(item.tenant),
    provider: item.provider,
    account: item.account,
    externalMessageId: item.ids.externalMessageId,
    version
  })

  /** Records a message in the id map (completing it); refuses ids that conflict with the ones it holds. */
  const record = (message: Recorded): Effect.Effect<void, EditError.EditError | StorageError> =>
    Effect.asVoid(Effect.flatMap(recordItem(message), commitOne)) as Effect.Effect<
      void,
      EditError.EditError | StorageError
    >

  /** Records many messages, each judged alone: one result per message, in input order. */
  const recordMany = (
    messages: Iterable<Recorded>
  ): Effect.Effect<Array<Result.Result<void, EditError.EditError | StorageError>>, EditError.EditError> =>
    Effect.suspend(() => {
      const list = listOf(messages, "the messages to record")
      if (Result.isFailure(list)) return Effect.fail(list.failure)
      return commitMany(list.success, recordItem, () => undefined) as Effect.Effect<
        Array<Result.Result<void, EditError.EditError | StorageError>>
      >
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
      const item = yield* submitItem(edit)
      const version = yield* commitOne(item)
      yield* Queue.offer(config.wake, undefined)
      return receiptOf(item, version)
    })

  /**
   * Stores many edits, each judged alone (one wrong edit is refused for
   * itself): one result per edit, in input order; of several edits of one
   * message, the latest in the list is its newest version.
   */
  const submitMany = (
    edits: Iterable<Submission>
  ): Effect.Effect<Array<Result.Result<Receipt, GroupCommit.SubmitError>>, EditError.EditError> =>
    Effect.suspend(() => {
      const list = listOf(edits, "the edits to submit")
      if (Result.isFailure(list)) return Effect.fail(list.failure)
      return Effect.tap(commitMany(list.success, submitItem, receiptOf), (results) =>
        results.some(Result.isSuccess) ? Queue.offer(config.wake, undefined) : Effect.void
      )
    })

  /** Points a message at other ids, deliberately; the journal keeps the change. */
  const repoint = (message: Repoint): Effect.Effect<void, EditError.EditError | NotFound | StorageError> =>
    Effect.gen(function* () {
      const { source, ...rest } = (message ?? {}) as Repoint
      const checked = yield* decoded(message, decodeRepoint(rest, source))
      const { tenant, provider, account } = yield* routeOf(checked.message)
      const { externalMessageId, ...ids } = checked.message.ids
      const changes = yield* config.store
        .repoint(
          Store.keyOf(provider, account, externalMessageId, tenant),
          {
            ...(ids.externalChatId === undefined ? {} : { externalChatId: ids.externalChatId }),
            ...(ids.externalAuthorId === undefined ? {} : { externalAuthorId: ids.externalAuthorId }),
            ...(ids.providerMessageId === undefined ? {} : { providerMessageId: String(ids.providerMessageId) }),
            ...(ids.providerChatId === undefined ? {} : { providerChatId: String(ids.providerChatId) }),
            ...(ids.providerConnectionId === undefined ? {} : { providerConnectionId: ids.providerConnectionId }),
            ...(checked.message.kind === undefined ? {} : { kind: checked.message.kind })
          },
          checked.source,
          yield* nowMillis
        )
        .pipe(storage("re-pointing a message"))
      if (changes === undefined) {
        return yield* new NotFound({
          ...(tenant === Routing.DEFAULT_TENANT ? {} : { tenant }),
          provider,
          account,
          externalMessageId
        })
      }
    })

  return { routeOf, record, recordMany, recordSent, repoint, submit, submitMany }
}
