/**
 * Packs concurrent single edits into shared provider calls. Each caller
 * submits one request and waits for its own result; the packer sends a call
 * as soon as one of its slots is free, carrying every request waiting then (up
 * to the size the adapter asks for now). While every slot is taken (calls in
 * flight, or queued behind the provider's limiter), requests collect; a lone
 * request waits only for the current turn of the scheduler.
 *
 * A call runs in a fiber of its own: one caller's interruption never cancels
 * the others'. A request whose caller is interrupted before its call leaves
 * is dropped; a call whose callers are all interrupted is interrupted too
 * (its HTTP request aborted), as a lone `update()` always was.
 */
import { type Array as Arr, Deferred, Effect, Exit, Fiber, Result } from "effect"
import type { EditErrorReason } from "../EditError.ts"
import type { EditedMessage } from "../EditedMessage.ts"
import type { EditRequest } from "../EditRequest.ts"

/** One request's result: the message as confirmed, or its own reason. */
export type ItemResult = Result.Result<EditedMessage, EditErrorReason>

export interface Options {
  /** How many requests the next call may carry (read for every call; at least 1). */
  readonly size: () => number
  /** How many calls may be in flight (or queued behind a limiter) at once. */
  readonly slots: number
  /** One provider call for the group: one result per request, in order; never fails. */
  readonly send: (requests: Arr.NonEmptyReadonlyArray<EditRequest>) => Effect.Effect<ReadonlyArray<ItemResult>>
}

export interface Packer {
  /** Sends one request in a shared call and answers its own result. */
  readonly submit: (request: EditRequest) => Effect.Effect<EditedMessage, EditErrorReason>
}

interface Entry {
  readonly request: EditRequest
  readonly done: Deferred.Deferred<ItemResult>
  /** The caller stopped waiting. */
  gone: boolean
  /** The call carrying it, once sent. */
  call: Call | undefined
}

interface Call {
  /** Callers still waiting for this call. */
  waiting: number
  fiber: Fiber.Fiber<void> | undefined
}

export const make = (options: Options): Packer => {
  const slots = Math.max(1, Math.floor(options.slots))
  let queue: Array<Entry> = []
  let head = 0
  /** Entries queued whose caller still waits. */
  let live = 0
  let inFlight = 0
  let scheduled = false

  const sizeNow = (): number => {
    const size = Math.floor(options.size())
    return Number.isFinite(size) && size >= 1 ? size : 1
  }

  /** Takes the next group of live entries (those whose caller left are dropped). */
  const takeGroup = (): Array<Entry> => {
    const size = sizeNow()
    const group: Array<Entry> = []
    while (head < queue.length && group.length < size) {
      const entry = queue[head] as Entry
      head += 1
      if (entry.gone) continue
      live -= 1
      group.push(entry)
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
    return group
  }

  const settle = (group: ReadonlyArray<Entry>, results: ReadonlyArray<ItemResult> | undefined) => {
    group.forEach((entry, index) => {
      const result = results?.[index]
      if (result !== undefined) Deferred.doneUnsafe(entry.done, Exit.succeed(result))
    })
  }

  const run = (group: Arr.NonEmptyReadonlyArray<Entry>, call: Call): Effect.Effect<void> =>
    options.send(group.map((entry) => entry.request) as unknown as Arr.NonEmptyReadonlyArray<EditRequest>).pipe(
      Effect.flatMap((results) => Effect.sync(() => settle(group, results))),
      Effect.onExit((exit) =>
        Effect.suspend(() => {
          inFlight -= 1
          call.fiber = undefined
          // Interrupted (every caller left) or a defect: the callers still waiting learn it as interruption.
          if (!Exit.isSuccess(exit)) {
            for (const entry of group) Deferred.doneUnsafe(entry.done, Exit.interrupt())
          }
          return pump
        })
      )
    )

  /** Sends a call for the waiting requests while a slot is free. */
  const pump: Effect.Effect<void> = Effect.suspend(() => {
    const forks: Array<Effect.Effect<void>> = []
    while (inFlight < slots && live > 0) {
      const group = takeGroup()
      const [first] = group
      if (first === undefined) break
      inFlight += 1
      const call: Call = { waiting: group.length, fiber: undefined }
      for (const entry of group) entry.call = call
      forks.push(
        Effect.flatMap(Effect.forkDetach(run(group as unknown as Arr.NonEmptyReadonlyArray<Entry>, call)), (fiber) =>
          Effect.sync(() => {
            // The call may have ended already (an answer in the same turn).
            if (fiber.pollUnsafe() === undefined) call.fiber = fiber
          })
        )
      )
    }
    return forks.length === 0 ? Effect.void : Effect.all(forks, { discard: true })
  })

  /** The first request of a turn schedules one pump after the others of that turn joined it. */
  const schedule: Effect.Effect<void> = Effect.suspend(() => {
    if (scheduled || inFlight >= slots) return Effect.void
    scheduled = true
    return Effect.asVoid(
      Effect.forkDetach(
        Effect.yieldNow.pipe(
          Effect.andThen(
            Effect.suspend(() => {
              scheduled = false
              return pump
            })
          )
        )
      )
    )
  })

  const leave = (entry: Entry): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (entry.gone) return Effect.void
      entry.gone = true
      const call = entry.call
      if (call === undefined) {
        live -= 1
        return Effect.void
      }
      call.waiting -= 1
      const fiber = call.fiber
      return call.waiting === 0 && fiber !== undefined ? Effect.asVoid(Fiber.interrupt(fiber)) : Effect.void
    })

  const submit = (request: EditRequest): Effect.Effect<EditedMessage, EditErrorReason> =>
    Effect.suspend(() => {
      const entry: Entry = { request, done: Deferred.makeUnsafe<ItemResult>(), gone: false, call: undefined }
      queue.push(entry)
      live += 1
      return schedule.pipe(
        Effect.andThen(Deferred.await(entry.done)),
        Effect.onInterrupt(() => leave(entry)),
        Effect.flatMap((result) => Effect.fromResult(result))
      )
    })

  return { submit }
}

/** Whether a value is one request's result as `send` must answer it. */
export const isItemResult = (value: unknown): value is ItemResult => Result.isResult(value)
