/**
 * The relay's inbox on every database (SQLite in memory and in a file, PostgreSQL on PGlite, and the
 * PostgreSQL server when `REWORD_TEST_POSTGRES_URL` names one): a repeat is not stored twice, two workers
 * on one inbox never take the same event, the events of one message are taken in order, a worker that
 * stopped leaves its events to another after its lease, and done events are pruned after the retention.
 */
import type { InboundEvent } from "@reword/core"
import { Effect, Layer, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Databases from "../../outbox/test/support/databases.ts"
import * as Inbox from "../src/internal/inbox.ts"
import * as Intake from "../src/internal/intake.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const edited = (message: number, text: string, update: number): InboundEvent.InboundEvent => ({
  _tag: "MessageEdited",
  provider: "telegram",
  account: "bot",
  ids: { externalChatId: "tg:1", externalMessageId: `tg:1:${message}` },
  text,
  eventId: `telegram:bot:${update}`
})

const operatorEdited = (message: number, text: string): InboundEvent.InboundEvent => ({
  _tag: "MessageEdited",
  provider: "bitrix24",
  account: "member-1",
  ids: { externalChatId: "tg:1", externalMessageId: `tg:1:${message}` },
  text,
  eventId: `bitrix24:${message}:${text}`
})

/** Runs `body` on a fresh inbox of `database`, each `client()` a connection of its own (a "process"). */
const onInbox = <A>(
  database: Databases.TestDatabase,
  body: (place: Databases.Place, tables: Inbox.Tables) => Effect.Effect<A, unknown, SqlClient.SqlClient | Scope.Scope>
) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const place = database.fresh()
      const tables = Inbox.tablesOf(`${place.prefix}relay_`)
      const context = yield* Layer.build(place.client())
      return yield* Effect.provide(body(place, tables), context)
    }).pipe(Effect.scoped)
  )

const sqlOf = Effect.service(SqlClient.SqlClient)

describe.each(Databases.all)("the relay's inbox on $name", (database) => {
  it("stores a Telegram update once, a Bitrix24 event once per new text", () =>
    onInbox(database, (_place, tables) =>
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* Inbox.prepare(sql, tables)
        const now = Date.now()
        const stored = [
          yield* Inbox.accept(sql, tables, edited(1, "a", 10), now),
          yield* Inbox.accept(sql, tables, edited(1, "a", 10), now),
          yield* Inbox.accept(sql, tables, operatorEdited(2, "b"), now),
          yield* Inbox.accept(sql, tables, operatorEdited(2, "b"), now),
          yield* Inbox.accept(sql, tables, operatorEdited(2, "c"), now)
        ]
        expect(stored).toEqual([true, false, true, false, true])
        expect((yield* Inbox.list(sql, tables)).map((row) => row.event.eventId)).toEqual([
          "telegram:bot:10",
          "bitrix24:2:b",
          "bitrix24:2:c"
        ])
      })
    ))

  it("stores many requests together: each update once, whether repeated in the group or stored before", () =>
    onInbox(database, (_place, tables) =>
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* Inbox.prepare(sql, tables)
        const write = yield* Intake.start(sql, tables, Effect.void)
        yield* write([edited(1, "a", 1)])
        const answers = yield* Effect.all(
          [
            write([edited(1, "a", 1), edited(2, "b", 2)]),
            write([edited(2, "b", 2)]),
            write([edited(3, "c", 3), operatorEdited(4, "d"), operatorEdited(4, "d")]),
            write([])
          ],
          { concurrency: "unbounded" }
        )
        expect(answers).toEqual([
          { accepted: 1, duplicates: 1 },
          { accepted: 0, duplicates: 1 },
          { accepted: 2, duplicates: 1 },
          { accepted: 0, duplicates: 0 }
        ])
        expect((yield* Inbox.list(sql, tables)).map((row) => row.event.eventId).sort()).toEqual([
          "bitrix24:4:d",
          "telegram:bot:1",
          "telegram:bot:2",
          "telegram:bot:3"
        ])
      })
    ))

  it("two workers on one inbox take each event once, and the events of one message in order", () =>
    onInbox(database, (place, tables) =>
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* Inbox.prepare(sql, tables)
        // 8 messages, 6 edits each: 48 events.
        for (let update = 0; update < 48; update++) {
          yield* Inbox.accept(sql, tables, edited(update % 8, `text ${update}`, update), Date.now())
        }
        const taken: Array<{ readonly worker: string; readonly seq: number; readonly message: string }> = []
        /** A worker: claims a few, "relays" them (a short pause), settles, until nothing is left. */
        const worker = (name: string, client: SqlClient.SqlClient) =>
          Effect.gen(function* () {
            for (let round = 0; round < 1000; round++) {
              const rows = yield* Inbox.claimDue(client, tables, {
                worker: name,
                leaseMs: 60_000,
                now: Date.now(),
                limit: 7
              })
              if (rows.length === 0 && (yield* Inbox.list(client, tables, "pending")).length === 0) return
              for (const row of rows) {
                taken.push({ worker: name, seq: row.seq, message: row.event.ids.externalMessageId })
                yield* Effect.yieldNow
                yield* Inbox.settle(client, tables, row.seq, name, { state: "relayed", outcome: "done" }, Date.now())
              }
              if (rows.length === 0) yield* Effect.sleep("5 millis")
            }
          })
        // The second worker has a connection of its own (another process would), where the database lives
        // longer than one (not SQLite in memory).
        const other = database.durable ? yield* Effect.provide(sqlOf, yield* Layer.build(place.client())) : sql
        yield* Effect.all([worker("w1", sql), worker("w2", other)], { concurrency: 2 })
        expect(taken).toHaveLength(48)
        expect(new Set(taken.map((entry) => entry.seq)).size).toBe(48)
        // Per message, in the order stored.
        for (let message = 0; message < 8; message++) {
          const seqs = taken.filter((entry) => entry.message === `tg:1:${message}`).map((entry) => entry.seq)
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
        }
        expect((yield* Inbox.list(sql, tables, "relayed")).length).toBe(48)
      })
    ))

  it("leaves the events of a worker that stopped to another after its lease; its late settle changes nothing", () =>
    onInbox(database, (_place, tables) =>
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* Inbox.prepare(sql, tables)
        yield* Inbox.accept(sql, tables, edited(1, "a", 1), Date.now())
        const held = yield* Inbox.claimDue(sql, tables, { worker: "w1", leaseMs: 60_000, now: Date.now(), limit: 10 })
        expect(held).toHaveLength(1)
        const during = yield* Inbox.claimDue(sql, tables, { worker: "w2", leaseMs: 60_000, now: Date.now(), limit: 10 })
        expect(during).toEqual([])
        yield* Inbox.takeBack(sql, tables, "w1")
        // A lease of 0 ms: over at once, as a long one is once its time has passed.
        const first = yield* Inbox.claimDue(sql, tables, { worker: "gone", leaseMs: 0, now: Date.now(), limit: 10 })
        expect(first).toHaveLength(1)
        yield* Effect.sleep("20 millis")
        const after = yield* Inbox.claimDue(sql, tables, { worker: "w2", leaseMs: 60_000, now: Date.now(), limit: 10 })
        expect(after.map((row) => row.seq)).toEqual(first.map((row) => row.seq))
        yield* Inbox.settle(sql, tables, first[0]?.seq ?? 0, "gone", { state: "failed", outcome: "late" }, Date.now())
        expect((yield* Inbox.list(sql, tables, "pending")).length).toBe(1)
        yield* Inbox.settle(sql, tables, first[0]?.seq ?? 0, "w2", { state: "relayed", outcome: "done" }, Date.now())
        expect((yield* Inbox.list(sql, tables)).map((row) => [row.state, row.outcome])).toEqual([["relayed", "done"]])
        // Restarted under its id, a worker takes its claims back at once.
        yield* Inbox.accept(sql, tables, edited(2, "b", 2), Date.now())
        yield* Inbox.claimDue(sql, tables, { worker: "w3", leaseMs: 60_000, now: Date.now(), limit: 10 })
        yield* Inbox.takeBack(sql, tables, "w3")
        const retaken = yield* Inbox.claimDue(sql, tables, {
          worker: "w3",
          leaseMs: 60_000,
          now: Date.now(),
          limit: 10
        })
        expect(retaken.map((row) => row.event.eventId)).toEqual(["telegram:bot:2"])
      })
    ))

  it("prunes events done longer ago than the retention, keeps failed and pending ones", () =>
    onInbox(database, (_place, tables) =>
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* Inbox.prepare(sql, tables)
        for (let update = 0; update < 5; update++) {
          yield* Inbox.accept(sql, tables, edited(update, `t${update}`, update), Date.now())
        }
        const rows = yield* Inbox.claimDue(sql, tables, { worker: "w", leaseMs: 60_000, now: Date.now(), limit: 4 })
        const states = ["relayed", "echo", "ignored", "failed"] as const
        for (const [index, row] of rows.entries()) {
          yield* Inbox.settle(
            sql,
            tables,
            row.seq,
            "w",
            { state: states[index] ?? "relayed", outcome: "x" },
            Date.now()
          )
        }
        // Within the retention: nothing goes.
        expect(yield* Inbox.prune(sql, tables, { retentionMs: 60_000, now: Date.now(), limit: 1000 })).toBe(0)
        yield* Effect.sleep("50 millis")
        expect(yield* Inbox.prune(sql, tables, { retentionMs: 10, now: Date.now(), limit: 2 })).toBe(2)
        expect(yield* Inbox.prune(sql, tables, { retentionMs: 10, now: Date.now(), limit: 1000 })).toBe(1)
        expect((yield* Inbox.list(sql, tables)).map((row) => row.state)).toEqual(["failed", "pending"])
      })
    ))
})
