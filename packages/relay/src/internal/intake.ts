/**
 * How accepted events reach the inbox before their answer: requests that arrive together share one
 * transaction (group commit: one commit, one `fsync` on SQLite, for up to `MAX_GROUP` requests), each
 * request answered when the transaction that holds its events committed. A group whose transaction
 * fails is written again one request at a time, so that one request the database refuses fails no other.
 * A request waits for its commit at most `WAIT_MS`: past that it is answered 503 (Telegram sends it
 * again; a Bitrix24 event past its handler's answer is lost either way).
 */
import type { InboundEvent } from "@reword/core"
import { Deferred, Duration, Effect, Queue, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import * as Inbox from "./inbox.ts"

/** The most requests one transaction holds. */
export const MAX_GROUP = 256
const WAIT_MS = 30_000

/** What storing one request's events came to: how many were new, or `undefined` when they could not be stored. */
export type Stored = { readonly accepted: number; readonly duplicates: number } | undefined

interface Entry {
  readonly events: ReadonlyArray<InboundEvent.InboundEvent>
  readonly done: Deferred.Deferred<Stored>
}

/** Counts an entry's events as new or repeated. */
const countOf = (fresh: ReadonlyArray<boolean>): Stored => {
  const accepted = fresh.filter(Boolean).length
  return { accepted, duplicates: fresh.length - accepted }
}

/**
 * Writes the events of a group's requests: Telegram's all in one statement (the first of an update in the
 * group is new when the statement wrote it; a later one is a repeat), Bitrix24's one at a time (each is
 * compared with the newest event of its message). Answers, per request, how many were new.
 */
const acceptGroup = (sql: SqlClient.SqlClient, tables: Inbox.Tables, group: ReadonlyArray<Entry>, now: number) =>
  Effect.gen(function* () {
    const firsts = new Map<string, InboundEvent.InboundEvent>()
    for (const entry of group) {
      for (const event of entry.events) {
        if (event.provider === "telegram" && !firsts.has(event.eventId)) firsts.set(event.eventId, event)
      }
    }
    const written = yield* Inbox.acceptUpdates(sql, tables, [...firsts.values()], now)
    const counted = new Set<string>()
    const stored: Array<Stored> = []
    for (const entry of group) {
      const fresh: Array<boolean> = []
      for (const event of entry.events) {
        if (event.provider !== "telegram") fresh.push(yield* Inbox.accept(sql, tables, event, now))
        else if (counted.has(event.eventId)) fresh.push(false)
        else {
          counted.add(event.eventId)
          fresh.push(written.has(event.eventId))
        }
      }
      stored.push(countOf(fresh))
    }
    return stored
  })

/** Writes a group in one transaction, or, when that fails, each request alone. */
const commitGroup = (sql: SqlClient.SqlClient, tables: Inbox.Tables, group: ReadonlyArray<Entry>) =>
  Effect.gen(function* () {
    const together = yield* Effect.result(sql.withTransaction(acceptGroup(sql, tables, group, Date.now())))
    if (together._tag === "Success") {
      yield* Effect.forEach(group, (entry, index) => Deferred.succeed(entry.done, together.success[index]), {
        discard: true
      })
      return
    }
    for (const entry of group) {
      const alone = yield* Effect.result(sql.withTransaction(acceptGroup(sql, tables, [entry], Date.now())))
      yield* Deferred.succeed(entry.done, alone._tag === "Success" ? alone.success[0] : undefined)
    }
  })

/**
 * Starts the committer in the scope; answers `store`, which writes a request's events (with the others of
 * its group) and says how many were new, or `undefined` when they could not be stored in time.
 */
export const start = (
  sql: SqlClient.SqlClient,
  tables: Inbox.Tables,
  onStored: Effect.Effect<void>
): Effect.Effect<(events: ReadonlyArray<InboundEvent.InboundEvent>) => Effect.Effect<Stored>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<Entry>()
    const committer = Effect.forever(
      Effect.flatMap(Queue.takeBetween(queue, 1, MAX_GROUP), (group) =>
        commitGroup(sql, tables, group).pipe(Effect.andThen(onStored))
      )
    )
    yield* Effect.forkScoped(
      committer.pipe(Effect.tapCause((cause) => Effect.logError("reword relay: the inbox writer stopped", cause)))
    )
    return (events) =>
      Effect.gen(function* () {
        if (events.length === 0) return { accepted: 0, duplicates: 0 }
        const done = yield* Deferred.make<Stored>()
        yield* Queue.offer(queue, { events, done })
        return yield* Deferred.await(done).pipe(
          Effect.timeoutOrElse({ duration: Duration.millis(WAIT_MS), orElse: () => Effect.succeed(undefined) })
        )
      })
  })
