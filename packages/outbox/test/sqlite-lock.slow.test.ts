/**
 * Another process holds the SQLite file's write lock for 8 s (a backup, a
 * migration, a stuck tool). `node:sqlite` is synchronous: a busy wait inside
 * it freezes the whole process (before, 5 s without a timer, a request or a
 * lease renewal). The outbox waits for the lock without blocking its event
 * loop: the longest delay stays under 1 s; submits waiting longer than the
 * busy timeout fail as `Unavailable`, the others land once the lock is gone.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import type { StorageError } from "../src/OutboxError.ts"
import { sqliteClient } from "../src/Sqlite.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

const directory = mkdtempSync(join(tmpdir(), "reword-sqlite-lock-"))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const HOLD_MS = 8_000

/** A process that takes the write lock, says so, holds it HOLD_MS, then commits and exits. */
const holder = (filename: string) => {
  const code = `
    import { DatabaseSync } from "node:sqlite"
    const db = new DatabaseSync(${JSON.stringify(filename)}, { timeout: 10000 })
    db.exec("BEGIN IMMEDIATE")
    db.exec("CREATE TABLE IF NOT EXISTS held (n INTEGER)")
    process.stdout.write("locked\\n")
    setTimeout(() => { db.exec("COMMIT"); db.close(); process.exit(0) }, ${HOLD_MS})
  `
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] })
  const locked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the lock holder did not start")), 30_000)
    child.stdout.on("data", (chunk) => {
      if (String(chunk).includes("locked")) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return { child, locked, exited }
}

describe("a write lock held 8 s by another process", () => {
  it.live(
    "the event loop is never blocked 1 s; submits past the busy timeout fail Unavailable, the others land",
    () =>
      Effect.gen(function* () {
        const filename = join(directory, "outbox.db")
        const context = yield* Layer.build(sqliteClient({ filename }))
        const outbox = yield* Effect.provide(
          Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], { worker: false }),
          context
        )
        yield* outbox.record({ ids: { externalMessageId: "m-1" } })
        const lock = holder(filename)
        yield* Effect.addFinalizer(() => Effect.sync(() => lock.child.kill("SIGKILL")))
        yield* Effect.promise(() => lock.locked)

        const delay = monitorEventLoopDelay({ resolution: 20 })
        delay.enable()
        const started = performance.now()
        // One submit every 500 ms while the lock is held, each on its own fiber.
        const fibers = []
        for (let n = 0; n < 14; n++) {
          fibers.push(
            yield* Effect.forkChild(
              Effect.result(outbox.submit({ ids: { externalMessageId: "m-1" }, text: `edit ${n}` }))
            )
          )
          yield* Effect.sleep("500 millis")
        }
        const results = yield* Fiber.joinAll(fibers)
        yield* Effect.promise(() => lock.exited)
        delay.disable()
        const elapsed = performance.now() - started

        const landed = results.filter((result) => result._tag === "Success").length
        const failures = results.flatMap((result) =>
          result._tag === "Failure" ? [result.failure as StorageError] : []
        )
        assert.isAtLeast(elapsed, HOLD_MS - 1_000)
        assert.isBelow(delay.max / 1e6, 1_000, `the event loop was blocked ${Math.round(delay.max / 1e6)} ms`)
        // Submits sent in the first 3 s wait past the 5 s busy timeout; those sent later land after the lock.
        assert.isAtLeast(failures.length, 1)
        assert.isAtLeast(landed, 4)
        for (const failure of failures) assert.strictEqual(failure.problem, "Unavailable")
        const history = yield* outbox.history("m-1")
        assert.strictEqual(history?.versions.length, landed)
      }).pipe(Effect.scoped),
    60_000
  )
})
