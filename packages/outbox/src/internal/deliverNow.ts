/**
 * `Outbox.deliver`: one message delivered now, in this process, as a worker
 * would deliver it (the same claim, lease, editor and journal), without
 * waiting for the app's workers: for a tool such as `reword update` that
 * submits an edit and wants to know it landed. It honours everything the
 * workers honour: a message due later (a backoff, a settle window) is sent
 * when it is due, and one another worker holds is left to it.
 */
import { Duration, Effect, Fiber } from "effect"
import type { SqlError } from "effect/sql"
import { Delivery } from "./delivery.ts"
import type * as Store from "./store.ts"

const nowMillis = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

/** The shortest sleep between two looks at the message. */
const MIN_SLEEP_MS = 10

/** Whether `version` no longer waits: confirmed (or a newer one is), or the message is not pending. */
const settledFor = (row: Store.MessageRow, version: number): boolean =>
  row.confirmedVersion >= version || row.state !== "pending"

/**
 * One round, run to its end even when the caller is interrupted (a tool's
 * Ctrl-C): an attempt in flight gets its answer (the editor's own timeout
 * bounds it) and is recorded, so the message is never left claimed.
 */
const toItsEnd = <A, E>(round: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkDetach(round)
    return yield* Fiber.join(fiber).pipe(Effect.onInterrupt(() => Fiber.awaitAll([fiber])))
  })

/**
 * Delivers the message `key` until `version` is confirmed (or a newer one
 * is), fails for good, or `deadline` (ms since the epoch) passes. The deadline
 * bounds when an attempt may start: one in flight then runs to its answer,
 * which the editor's own timeout bounds, and so does an interruption. Between
 * attempts it sleeps until the message is due, its claim runs out, or
 * `pollMs`, whichever is first.
 */
export const deliverNow = (
  config: Delivery["config"],
  store: Store.Store,
  key: string,
  version: number,
  deadline: number
): Effect.Effect<void, SqlError.SqlError> =>
  Effect.gen(function* () {
    const single = new Delivery({ ...config, only: key })
    while (true) {
      const row = yield* store.lookup(key)
      if (row === undefined || settledFor(row, version)) return
      const now = yield* nowMillis
      if (now >= deadline) return
      const due = row.nextAttemptAt ?? Number.POSITIVE_INFINITY
      const free = row.claimedUntil === undefined || row.claimedUntil < now
      if (due <= now && free && (yield* toItsEnd(single.round)) > 0) continue
      const wakeAt = Math.min(
        deadline,
        now + config.pollMs,
        due > now ? due : Number.POSITIVE_INFINITY,
        !free && row.claimedUntil !== undefined ? row.claimedUntil + 1 : Number.POSITIVE_INFINITY
      )
      yield* Effect.sleep(Duration.millis(Math.max(MIN_SLEEP_MS, wakeAt - now)))
    }
  })
