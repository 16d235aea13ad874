/**
 * The worker on a PostgreSQL server (run when `REWORD_TEST_POSTGRES_URL`
 * names one; PGlite is one session, and these need several):
 *
 * - work submitted by another process wakes a waiting worker at once
 *   (`LISTEN`/`NOTIFY`), not at its next poll;
 * - a stable `workerId` is a session advisory lock: a second live worker of
 *   that id fails to start, naming `workerId`;
 * - a settle that loses a deadlock is run again: the deliveries are recorded,
 *   nothing is stranded (issue 18, item 4).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import * as Store from "../src/internal/store.ts"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

afterAll(() => Databases.stopAll())

const server = Databases.pgServer

const waitFor = (done: () => boolean, timeoutMs: number) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!done() && Date.now() - start < timeoutMs) yield* Effect.sleep("5 millis")
    return Date.now() - start
  })

describe.skipIf(server === undefined)("the worker on a PostgreSQL server", () => {
  const database = server as Databases.TestDatabase

  it.live(
    "a submit in another process wakes a worker that polls once a minute",
    () =>
      Effect.gen(function* () {
        const place = database.fresh()
        const scripted = ScriptedEditor.make()
        const routes = [{ editor: scripted.editor }]
        const app = yield* Effect.provide(
          Outbox.makeWith(routes, { tablePrefix: place.prefix, worker: false }),
          yield* Layer.build(place.client())
        )
        yield* Effect.provide(
          Outbox.makeWith(routes, { tablePrefix: place.prefix, pollInterval: "1 minute" }),
          yield* Layer.build(place.client())
        )
        yield* Effect.sleep("500 millis")
        const latencies: Array<number> = []
        for (let n = 0; n < 10; n++) {
          const id = `m${n}`
          yield* app.record({ ids: { externalMessageId: id } })
          const start = Date.now()
          yield* app.submit({ ids: { externalMessageId: id }, text: "v1" })
          yield* waitFor(() => scripted.texts.get(id) === "v1", 10_000)
          latencies.push(Date.now() - start)
        }
        const sorted = [...latencies].sort((a, b) => a - b)
        console.log(`submit to delivery in another process: p50 ${sorted[5]} ms, max ${sorted[9]} ms`)
        assert.strictEqual(scripted.texts.size, 10)
        assert.isBelow(sorted[9] ?? Infinity, 2_000)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a second live worker of the same id fails to start, naming workerId; after a stop the id is free",
    () =>
      Effect.gen(function* () {
        const place = database.fresh()
        const scripted = ScriptedEditor.make()
        const open = Effect.provide(
          Outbox.makeWith([{ editor: scripted.editor }], { tablePrefix: place.prefix, workerId: "host-a" }),
          yield* Layer.build(place.client())
        )
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* open
            return yield* Effect.exit(Effect.scoped(open))
          })
        )
        assert.strictEqual(first._tag, "Failure")
        assert.include(String(Exit.isFailure(first) ? Cause.squash(first.cause) : ""), "workerId")
        // The first one stopped: the id is free again.
        const again = yield* Effect.exit(Effect.scoped(open))
        assert.strictEqual(again._tag, "Success")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a settle that loses a deadlock is run again: both deliveries recorded, none stranded (5-minute lease)",
    () =>
      Effect.gen(function* () {
        const place = database.fresh()
        const scripted = ScriptedEditor.make()
        scripted.delayMs = 800
        const outbox = yield* Effect.provide(
          Outbox.makeWith([{ editor: scripted.editor }], { tablePrefix: place.prefix }),
          yield* Layer.build(place.client())
        )
        for (const id of ["a1", "a2"]) yield* outbox.record({ ids: { externalMessageId: id } })
        // Another transaction holds a2's row while the worker delivers; once the worker's settle holds a1's and
        // waits for a2's, it asks for a1's: a deadlock, which PostgreSQL breaks by failing the settle (whose
        // deadlock_timeout, the default 1 s, runs out first).
        const other = yield* Effect.provide(SqlClient.SqlClient, yield* Layer.build(place.client()))
        const M = other(`${place.prefix}messages`)
        const [k1, k2] = ["a1", "a2"].map((id) => Store.keyOf("scripted", "default", id))
        for (const id of ["a1", "a2"]) yield* outbox.submit({ ids: { externalMessageId: id }, text: "v1" })
        yield* waitFor(() => scripted.calls >= 2, 10_000)
        yield* other.withTransaction(
          Effect.gen(function* () {
            yield* other`SET LOCAL deadlock_timeout = '10s'`
            yield* other`SELECT message_key FROM ${M} WHERE message_key = ${k2} FOR UPDATE`
            yield* Effect.sleep(Duration.millis(1_200))
            yield* other`SELECT message_key FROM ${M} WHERE message_key = ${k1} FOR UPDATE`
          })
        )
        assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
        for (const id of ["a1", "a2"]) {
          const attempts = (yield* outbox.history(id))?.versions[0]?.attempts ?? []
          assert.deepStrictEqual(
            attempts.map((attempt) => attempt.outcome),
            ["confirmed"],
            id
          )
        }
      }).pipe(Effect.scoped),
    60_000
  )
})
