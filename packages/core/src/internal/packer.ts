/**
 * Packs concurrent single edits into shared provider calls. Each caller
 * submits one request and waits for its own result; a call leaves as soon as
 * one of the packer's slots is free, carrying every request waiting then (up
 * to the size the adapter asks for now). While every slot is taken (calls in
 * flight, or queued behind the provider's limiter), requests collect; a lone
 * request waits only for the current turn of the scheduler.
 *
 * Whose context a call runs in: a call carrying one caller's request alone
 * runs in that caller's context (its logger, tracer and span, as an unpacked
 * call would), in the caller's own fiber when that caller sends it; a call
 * shared by several callers runs in a fiber of its own with the editor's
 * context (the one the editor was built in, `Options.context`), never in
 * one caller's: its logs and spans belong to no caller in particular. No
 * call is ever sent from another caller's fiber.
 *
 * One caller's interruption never cancels the others'. A request whose
 * caller is interrupted before its call leaves is dropped; a call whose
 * callers are all interrupted is interrupted too (its HTTP request aborted),
 * as a lone `update()` always was.
 *
 * A caller may give a deadline: when it passes, whatever the request waits
 * for (a free slot in the queue, a call waiting for the provider's limiter,
 * an answer), the caller leaves as if interrupted and fails with the
 * deadline's reason, told whether its request had left in a call.
 */
import { type Array as Arr, Clock, Context, Deferred, Duration, Effect, Exit, Fiber, Result } from "effect"
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
  /** The context shared calls run in (the editor's). Default: Effect's defaults. */
  readonly context?: Context.Context<never> | undefined
}

/** When a caller stops waiting, and what it fails with then. */
export interface Deadline {
  /** The time (epoch millis, by the caller's `Clock`) past which the caller does not wait. */
  readonly at: number
  /** The caller's reason at the deadline; `sent`: whether its request had left in a call. */
  readonly reason: (sent: boolean) => EditErrorReason
}

export interface Packer {
  /** Sends one request in a shared call and answers its own result, by the deadline when one is given. */
  readonly submit: (request: EditRequest, deadline?: Deadline) => Effect.Effect<EditedMessage, EditErrorReason>
}

interface Entry {
  readonly request: EditRequest
  readonly done: Deferred.Deferred<ItemResult>
  /** The caller's context, for a call that carries this request alone. */
  readonly context: Context.Context<never>
  /** Its result, once its call ended (interrupted when the call could not answer it). */
  settled: Exit.Exit<ItemResult> | undefined
  /** The caller stopped waiting. */
  gone: boolean
  /** When the caller stops waiting (by its `Clock`), if it gave a deadline. */
  readonly expires: { readonly at: number; readonly clock: Clock.Clock } | undefined
  /** Taken out of the queue unsent: its deadline had come (its caller is leaving). */
  dropped: boolean
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
  const shared = options.context ?? Context.empty()
  let queue: Array<Entry> = []
  let head = 0
  /** Entries queued whose caller still waits. */
  let live = 0
  let inFlight = 0

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
      // Its caller is about to leave (its deadline's timer may not have fired yet): no call for it.
      if (entry.expires !== undefined && entry.expires.clock.currentTimeMillisUnsafe() >= entry.expires.at) {
        entry.dropped = true
        continue
      }
      group.push(entry)
    }
    if (head >= queue.length) {
      queue = []
      head = 0
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
    return group
  }

  const requestsOf = (group: ReadonlyArray<Entry>) =>
    group.map((entry) => entry.request) as unknown as Arr.NonEmptyReadonlyArray<EditRequest>

  /** A call ended: its slot is free for the requests waiting. */
  const ended = (call: Call) => {
    inFlight -= 1
    call.fiber = undefined
    pump()
  }

  /** A call in a fiber of its own: it settles every entry, whatever its end. */
  const run = (group: ReadonlyArray<Entry>, call: Call): Effect.Effect<void> =>
    options.send(requestsOf(group)).pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          const results = Exit.isSuccess(exit) ? exit.value : undefined
          group.forEach((entry, index) => {
            const result = results?.[index]
            // Interrupted (every caller left), a defect, or no result: the callers still waiting learn it as interruption.
            entry.settled = result === undefined ? Exit.interrupt() : Exit.succeed(result)
            Deferred.doneUnsafe(entry.done, entry.settled)
          })
          ended(call)
        })
      )
    )

  const open = (group: ReadonlyArray<Entry>): Call => {
    inFlight += 1
    const call: Call = { waiting: group.length, fiber: undefined }
    for (const entry of group) entry.call = call
    return call
  }

  /**
   * Sends a call for the waiting requests while a slot is free, each in a
   * fiber of its own with its context (never the fiber that runs this). When
   * `own` is given and its request makes a group alone, that group is not
   * forked: it is answered for its caller to send in its own fiber.
   */
  const pump = (own?: Entry): Call | undefined => {
    let inline: Call | undefined
    while (inFlight < slots && live > 0) {
      const group = takeGroup()
      const [first] = group
      if (first === undefined) break
      const call = open(group)
      if (group.length === 1 && first === own) {
        inline = call
        continue
      }
      const fiber = Effect.runForkWith(group.length === 1 ? first.context : shared)(run(group, call))
      // The call may have ended already (an answer in the same turn).
      if (fiber.pollUnsafe() === undefined && call.waiting > 0) call.fiber = fiber
    }
    return inline
  }

  const leave = (entry: Entry): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (entry.gone) return Effect.void
      entry.gone = true
      const call = entry.call
      if (call === undefined) {
        if (!entry.dropped) live -= 1
        return Effect.void
      }
      call.waiting -= 1
      const fiber = call.fiber
      return call.waiting === 0 && fiber !== undefined ? Effect.asVoid(Fiber.interrupt(fiber)) : Effect.void
    })

  /** The caller's own request, alone in its call: sent from the caller's fiber, in its context. */
  const sendInline = (entry: Entry, call: Call): Effect.Effect<EditedMessage, EditErrorReason> =>
    options.send([entry.request]).pipe(
      Effect.onExit(() => Effect.sync(() => ended(call))),
      Effect.flatMap((results) => {
        const result = results[0]
        return result === undefined ? Effect.interrupt : Effect.fromResult(result)
      })
    )

  const waitFor = (entry: Entry): Effect.Effect<EditedMessage, EditErrorReason> => {
    // Already answered (its call ended within this turn): on at once, as the callers that were waiting go on.
    const settled = entry.settled
    if (settled !== undefined) return Exit.isSuccess(settled) ? Effect.fromResult(settled.value) : Effect.interrupt
    return Deferred.await(entry.done).pipe(
      Effect.onInterrupt(() => leave(entry)),
      Effect.flatMap((result) => Effect.fromResult(result))
    )
  }

  /** Queues the caller's request and waits for its result (or sends it itself, alone). */
  const enqueue = (entry: Entry): Effect.Effect<EditedMessage, EditErrorReason> => {
    queue.push(entry)
    live += 1
    // The other requests of this turn of the event loop join it first (a microtask would be sooner, but
    // requests arriving in the same turn from other callbacks, such as retries whose timers fire together,
    // would then each take a provider call of their own: calls are the scarce resource).
    return Effect.yieldNow.pipe(
      Effect.onInterrupt(() => leave(entry)),
      Effect.flatMap(() => {
        if (entry.call !== undefined || entry.gone) return waitFor(entry)
        const inline = pump(entry)
        return inline === undefined ? waitFor(entry) : sendInline(entry, inline)
      })
    )
  }

  const submit = (request: EditRequest, deadline?: Deadline): Effect.Effect<EditedMessage, EditErrorReason> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const remaining = deadline === undefined ? 0 : deadline.at - clock.currentTimeMillisUnsafe()
      if (deadline !== undefined && remaining <= 0) return Effect.fail(deadline.reason(false))
      const entry: Entry = {
        request,
        done: Deferred.makeUnsafe<ItemResult>(),
        context: fiber.context,
        settled: undefined,
        gone: false,
        expires: deadline === undefined ? undefined : { at: deadline.at, clock },
        dropped: false,
        call: undefined
      }
      const waiting = enqueue(entry)
      if (deadline === undefined) return waiting
      // Past the deadline the caller leaves (as an interrupted caller does) and learns where its request was.
      return Effect.timeoutOrElse(waiting, {
        duration: Duration.millis(remaining),
        orElse: () => Effect.fail(deadline.reason(entry.call !== undefined))
      })
    })

  return { submit }
}

/** Whether a value is one request's result as `send` must answer it. */
export const isItemResult = (value: unknown): value is ItemResult => Result.isResult(value)
