/**
 * Restarts with real processes (issue 18, item 6), on a SQLite file, with the
 * default 5-minute lease and the default 5-second shutdown grace: an edit in
 * flight when its process stops is delivered by the next process within
 * seconds, not when the lease runs out.
 *
 * - SIGTERM (a deploy): the app closes the outbox; the delivery in flight is
 *   recorded as unknown and handed back once the grace has passed.
 * - SIGKILL (a crash), restarted with the same stable `workerId`: the new
 *   process holds the id's lock, so the old one is provably gone, and takes
 *   its claims back at once.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"

afterAll(() => Databases.stopAll())

const child = new URL("./support/restartChild.ts", import.meta.url).pathname

interface Running {
  readonly process: ChildProcess
  readonly output: () => string
  readonly exited: Promise<void>
}

const start = (args: object): Running => {
  const worker = spawn(process.execPath, ["--conditions=@reword/source", child, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  let out = ""
  worker.stdout?.on("data", (chunk) => {
    out += String(chunk)
  })
  const exited = new Promise<void>((resolve) => worker.on("exit", () => resolve()))
  return { process: worker, output: () => out, exited }
}

const waitFor = (done: () => boolean, timeoutMs: number) =>
  Effect.gen(function* () {
    const begun = Date.now()
    while (!done() && Date.now() - begun < timeoutMs) yield* Effect.sleep("20 millis")
    return done()
  })

describe("an edit in flight when its process stops (default lease and grace)", () => {
  for (const how of ["SIGTERM", "SIGKILL"] as const) {
    it.live(
      `${how}${how === "SIGKILL" ? ", restarted with the same workerId" : ""}: the next process delivers it within seconds`,
      () =>
        Effect.gen(function* () {
          const sandbox = yield* AcquireSandbox.scoped()
          const place = Databases.sqliteFile.fresh()
          const editor = yield* Effect.orDie(Acquire.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
          const app = yield* Effect.provide(
            Outbox.makeWith([{ editor }], { tablePrefix: place.prefix, worker: false }),
            yield* Layer.build(place.client())
          )
          const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
          yield* app.record({ ids })
          const args = {
            filename: place.filename,
            env: sandbox.env,
            ...(how === "SIGKILL" ? { workerId: "host-a" } : {})
          }
          const first = start({ ...args, hang: true })
          yield* app.submit({ ids: { externalMessageId: ids.externalMessageId }, text: "v1" })
          assert.isTrue(yield* waitFor(() => first.output().includes("calling"), 60_000), "the delivery started")

          const stopped = Date.now()
          first.process.kill(how)
          yield* Effect.promise(() => first.exited)
          const stopMs = Date.now() - stopped
          const second = start({ ...args, hang: false })
          const delivered = yield* waitFor(() => sandbox.inspect(ids)?.text === "v1", 60_000)
          const deliveredMs = Date.now() - stopped
          second.process.kill("SIGKILL")
          yield* Effect.promise(() => second.exited)
          console.log(`${how}: stopped in ${stopMs} ms; delivered by the next process ${deliveredMs} ms after the stop`)
          assert.isTrue(delivered, `not delivered within a minute of the ${how}`)
          assert.isBelow(deliveredMs, 30_000)
          const attempts = (yield* app.history(ids.externalMessageId))?.versions[0]?.attempts ?? []
          assert.strictEqual(attempts[0]?.outcome, how === "SIGTERM" ? "unknown" : "abandoned")
        }).pipe(Effect.scoped),
      180_000
    )
  }
})
