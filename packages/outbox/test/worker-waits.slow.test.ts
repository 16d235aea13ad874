/**
 * A waiting worker costs nothing (issue 18, item 5): behind a delivery in
 * flight and a dead worker's claim whose lease runs, with default options,
 * it runs at most one statement per poll interval and uses no CPU to speak
 * of. Before, it looked for the next due message every millisecond (the ones
 * held counted as due): about 680 statements a second and 1.5-2 s of CPU per
 * 5 s. Statements are counted through effect/sql's own spans. The issue's CPU bound (under 50 ms in 5 s) is
 * measured on a worker in a process of its own (support/waitingChild.ts), where nothing else runs.
 *
 * Leases are read on the database's clock (item 6): on PostgreSQL, a worker
 * whose own clock runs ahead never takes a live claim over.
 */
import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"
import * as Statements from "./support/statements.ts"

afterAll(() => Databases.stopAll())

const WINDOW_MS = 5_000
/** The default poll interval. */
const POLL_MS = 1_000

// PGlite last, started by its own test: the engine runs in this process, and its start-up keeps a core busy
// for seconds (compiling), which would be counted as the worker's.
const databases = [
  Databases.sqliteFile,
  ...(Databases.pgServer === undefined ? [] : [Databases.pgServer]),
  Databases.pgliteDatabase
]

describe.each(databases)("a worker waiting on $name", (database) => {
  it.live(
    "behind a delivery in flight and a dead worker's claim: one statement per poll interval, no CPU",
    () =>
      Effect.gen(function* () {
        const inProcess = database === Databases.pgliteDatabase
        if (inProcess) yield* Effect.promise(() => Databases.startPglite())
        const place = database.fresh()
        const context = yield* Layer.build(place.client())
        const held = ScriptedEditor.make()
        held.delayMs = 600_000
        const routes = [{ editor: held.editor }]
        const app = yield* Effect.provide(
          Outbox.makeWith(routes, { tablePrefix: place.prefix, worker: false }),
          context
        )
        for (const id of ["held-1", "dead-1"]) {
          yield* app.record({ ids: { externalMessageId: id } })
          yield* app.submit({ ids: { externalMessageId: id }, text: `${id} v1` })
        }
        // A worker that died holding dead-1: its lease (5 minutes) still runs.
        const sql = yield* Effect.provide(SqlClient.SqlClient, context)
        yield* sql`UPDATE ${sql(`${place.prefix}messages`)} SET claimed_by = 'gone', claimed_until = ${Date.now() + 300_000}
          WHERE external_message_id = 'dead-1'`

        const counter = Statements.make()
        yield* Effect.provide(
          Outbox.makeWith(routes, { tablePrefix: place.prefix, shutdownGrace: "10 millis" }),
          context
        ).pipe(Statements.counted(counter))
        for (let n = 0; n < 500 && held.calls === 0; n++) yield* Effect.sleep("20 millis")
        assert.strictEqual(held.calls, 1, "the delivery of held-1 started")
        yield* Effect.sleep("200 millis")

        const ranBefore = counter.statements.length
        const cpu = process.cpuUsage()
        yield* Effect.sleep(WINDOW_MS)
        const used = process.cpuUsage(cpu)
        const ran = counter.statements.slice(ranBefore)
        const cpuMs = (used.user + used.system) / 1000
        console.log(`${database.name}: ${ran.length} statements, ${cpuMs.toFixed(1)} ms of CPU in ${WINDOW_MS} ms`)

        assert.isAtMost(ran.length, Math.ceil(WINDOW_MS / POLL_MS) + 1, ran.join("\n---\n"))
        // PGlite's engine runs in this process: its CPU is not the worker's.
        // The issue's target is 50 ms for the worker; this measures the whole test process (vitest's own work and
        // GC included), which varied from 27 to 158 ms on CI machines. A spinning worker used 812-1,031 ms.
        if (!inProcess) assert.isBelow(cpuMs, 250)
        assert.strictEqual(held.calls, 1, "neither held-1 sent twice nor dead-1 taken over")
      }).pipe(Effect.scoped),
    120_000
  )
})

/** The process's clock, `offsetMs` ahead: a machine whose clock is wrong. */
const skewedBy = (offsetMs: number) =>
  Effect.clockWith((clock) =>
    Effect.succeed<Clock.Clock>({
      currentTimeMillisUnsafe: () => clock.currentTimeMillisUnsafe() + offsetMs,
      currentTimeMillis: Effect.sync(() => clock.currentTimeMillisUnsafe() + offsetMs),
      currentTimeNanosUnsafe: () => clock.currentTimeNanosUnsafe() + BigInt(offsetMs) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => clock.currentTimeNanosUnsafe() + BigInt(offsetMs) * 1_000_000n),
      monotonicTimeNanosUnsafe: () => clock.monotonicTimeNanosUnsafe(),
      monotonicTimeNanos: clock.monotonicTimeNanos,
      sleep: (duration) => clock.sleep(duration)
    })
  )

const postgres = [Databases.pgliteDatabase, ...(Databases.pgServer === undefined ? [] : [Databases.pgServer])]

describe.each(postgres)("leases on the database's clock, on $name", (database) => {
  it.live(
    "a worker whose clock runs 6 minutes ahead never takes over a live claim (default 5-minute lease)",
    () =>
      Effect.gen(function* () {
        yield* Effect.promise(() => Databases.startPglite())
        const place = database.fresh()
        const context = yield* Layer.build(place.client())
        const held = ScriptedEditor.make()
        held.delayMs = 600_000
        const live = yield* Effect.provide(
          Outbox.makeWith([{ editor: held.editor }], { tablePrefix: place.prefix, shutdownGrace: "10 millis" }),
          context
        )
        yield* live.record({ ids: { externalMessageId: "m1" } })
        yield* live.submit({ ids: { externalMessageId: "m1" }, text: "v1" })
        for (let n = 0; n < 500 && held.calls === 0; n++) yield* Effect.sleep("20 millis")
        assert.strictEqual(held.calls, 1, "the live worker is delivering")

        const other = ScriptedEditor.make()
        const ahead = yield* skewedBy(6 * 60_000)
        yield* Effect.provide(
          Outbox.makeWith([{ editor: other.editor }], {
            tablePrefix: place.prefix,
            pollInterval: "100 millis",
            shutdownGrace: "10 millis"
          }),
          context
        ).pipe(Effect.provideService(Clock.Clock, ahead))
        yield* Effect.sleep("1500 millis")
        assert.strictEqual(other.calls, 0, "the worker ahead took the live claim over")
        assert.strictEqual(held.calls, 1)
      }).pipe(Effect.scoped),
    120_000
  )
})

/** Runs support/waitingChild.ts on `spec`; resolves with what it printed. */
const waitingWorker = (spec: object, windowMs: number): Promise<{ cpuMs: number; calls: number }> =>
  new Promise((resolve, reject) => {
    const script = new URL("./support/waitingChild.ts", import.meta.url).pathname
    const child = spawn(process.execPath, ["--conditions=@reword/source", script, JSON.stringify({ spec, windowMs })], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => {
      out += String(chunk)
    })
    child.stderr.on("data", (chunk) => {
      err += String(chunk)
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the waiting worker did not finish\n${out}\n${err}`))
    }, 120_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}"))
      else reject(new Error(`the waiting worker exited with ${code}\n${out}\n${err}`))
    })
  })

describe("a waiting worker in a process of its own (SQLite file, default options)", () => {
  it("uses under 50 ms of CPU in 5 s behind a delivery in flight and a dead worker's claim", async () => {
    const place = Databases.sqliteFile.fresh()
    const { cpuMs, calls } = await waitingWorker(place.spec, WINDOW_MS)
    console.log(`a waiting worker's own process: ${cpuMs.toFixed(1)} ms of CPU in ${WINDOW_MS} ms`)
    assert.strictEqual(calls, 1, "the held delivery was not sent twice")
    // The issue's bound, on the worker's process alone (a spinning worker used 812-1,031 ms of CPU per 5 s).
    assert.isBelow(cpuMs, 50)
  }, 180_000)
})
