/**
 * On PostgreSQL an edit becomes due on the database's clock, the clock claims
 * and leases read: a process whose clock runs hours ahead (or behind) submits
 * edits that a worker with a right clock delivers at once, not hours later.
 * (SQLite is one machine: its submits and claims both read the process's clock.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const HOURS = 6 * 3_600_000

/** The process's clock, `offsetMs` off (its sleeps are real). */
const skewed = (offsetMs: number): Clock.Clock => {
  const base = Clock.Clock.defaultValue()
  const shifted: Clock.Clock = Object.create(base)
  Object.defineProperties(shifted, {
    currentTimeMillisUnsafe: { value: () => base.currentTimeMillisUnsafe() + offsetMs },
    currentTimeMillis: { get: () => Effect.sync(() => base.currentTimeMillisUnsafe() + offsetMs) },
    currentTimeNanosUnsafe: { value: () => base.currentTimeNanosUnsafe() + BigInt(offsetMs) * 1_000_000n },
    currentTimeNanos: { get: () => Effect.sync(() => base.currentTimeNanosUnsafe() + BigInt(offsetMs) * 1_000_000n) }
  })
  return shifted
}

const postgres = [Databases.pgliteDatabase, ...(Databases.pgServer === undefined ? [] : [Databases.pgServer])]

describe.each(postgres)("an edit is due on the database's clock, on $name", (database) => {
  for (const offset of [HOURS, -HOURS]) {
    it.live(
      `a submit from a process whose clock is ${offset > 0 ? "6 hours ahead" : "6 hours behind"} is due now`,
      () =>
        Effect.gen(function* () {
          const place = database.fresh()
          const context = yield* Layer.build(place.client())
          const writer = yield* Effect.provide(
            Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], {
              tablePrefix: place.prefix,
              worker: false,
              unknownMessages: "record"
            }),
            context
          ).pipe(Effect.provideService(Clock.Clock, skewed(offset)))
          const receipts = yield* writer
            .submitMany([{ ids: { externalMessageId: "m-2" }, text: "many" }])
            .pipe(Effect.provideService(Clock.Clock, skewed(offset)))
          assert.strictEqual(receipts.length, 1)
          yield* writer
            .submit({ ids: { externalMessageId: "m-1" }, text: "one" })
            .pipe(Effect.provideService(Clock.Clock, skewed(offset)))

          const sql = yield* Effect.provide(SqlClient.SqlClient, context)
          const rows = yield* sql<{ readonly next: unknown; readonly now: unknown }>`SELECT next_attempt_at AS next,
            (EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint AS now
          FROM ${sql(`${place.prefix}messages`)} ORDER BY message_key`
          assert.strictEqual(rows.length, 2)
          for (const row of rows) {
            assert.isBelow(
              Math.abs(Number(row.next) - Number(row.now)),
              60_000,
              "due within a minute of the database's now"
            )
          }

          // A worker whose clock is right delivers both at once.
          const scripted = ScriptedEditor.make()
          const worker = yield* Effect.provide(
            Outbox.makeWith([{ editor: scripted.editor }], { tablePrefix: place.prefix, pollInterval: "20 millis" }),
            context
          )
          const left = yield* worker.drain({ timeout: "20 seconds" })
          assert.deepStrictEqual(left, { pending: 0, failed: 0 })
          assert.deepStrictEqual([scripted.texts.get("m-1"), scripted.texts.get("m-2")], ["one", "many"])
        }).pipe(Effect.scoped)
    )
  }
})
