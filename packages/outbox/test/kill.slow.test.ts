/**
 * Durability across a crash, with real processes: a worker process with 1,000
 * pending messages (two versions each) is killed with SIGKILL mid-delivery;
 * the app then edits half of them again; a new worker process on the same
 * database lands all 1,000, each with its newest text, and the journal holds
 * every version and every attempt (the killed ones as abandoned). On SQLite
 * (a file) and PostgreSQL (PGlite, and the server when one is named).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Effect, Layer, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const MESSAGES = 1_000
const child = new URL("./support/child.ts", import.meta.url).pathname

const spawnWorker = (args: object): { readonly process: ChildProcess; readonly output: Promise<string> } => {
  const worker = spawn(process.execPath, ["--conditions=@reword/source", child, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  let out = ""
  worker.stdout?.on("data", (chunk) => {
    out += String(chunk)
  })
  const output = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.kill("SIGKILL")
      reject(new Error(`the worker did not finish: ${out}`))
    }, 120_000)
    worker.on("exit", () => {
      clearTimeout(timer)
      resolve(out)
    })
  })
  return { process: worker, output }
}

const durable = Databases.all.filter((database) => database.durable)

describe.each(durable)("SIGKILL mid-delivery on $name", (database) => {
  it.live(
    "a new process lands all 1,000 messages with their newest text; the journal keeps every version and attempt",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.scoped()
        const place = database.fresh()
        const context = yield* Layer.build(place.client())
        const editor = yield* Effect.orDie(Acquire.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
        const outbox = yield* Effect.provide(
          Outbox.makeWith([{ editor }], { tablePrefix: place.prefix, worker: false }),
          context
        )
        const seeded = []
        for (let n = 0; n < MESSAGES; n++) {
          const ids = yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`))
          seeded.push(ids)
          yield* outbox.record({ ids })
          yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: `m${n} v1` })
          yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: `m${n} v2` })
        }
        const args = {
          spec: place.spec,
          settings: {
            accountId: sandbox.accountId,
            apiKey: Redacted.value(sandbox.settings.apiKey),
            baseUrl: sandbox.baseUrl
          },
          delayMs: 5
        }
        const updates = () => sandbox.server.requests.filter((request) => request.method === "POST").length
        const before = updates()
        const first = spawnWorker({ ...args, mode: "forever" })
        // Mid-delivery: some messages have landed, most have not.
        for (let n = 0; n < 2_000 && updates() - before < 150; n++) yield* Effect.sleep("10 millis")
        first.process.kill("SIGKILL")
        yield* Effect.promise(() => first.output)
        const landedBeforeKill = updates() - before
        assert.ok(landedBeforeKill >= 150 && landedBeforeKill < MESSAGES, `killed after ${landedBeforeKill} updates`)
        // The app goes on editing while no worker runs: half the messages get a v3.
        for (let n = 0; n < MESSAGES; n += 2) {
          yield* outbox.submit({ ids: { externalMessageId: seeded[n]?.externalMessageId ?? "" }, text: `m${n} v3` })
        }
        const second = spawnWorker({ ...args, mode: "drain" })
        const printed = yield* Effect.promise(() => second.output)
        assert.include(printed, JSON.stringify({ pending: 0, failed: 0 }))
        seeded.forEach((ids, n) => {
          assert.strictEqual(sandbox.inspect(ids)?.text, n % 2 === 0 ? `m${n} v3` : `m${n} v2`)
        })
        let abandoned = 0
        for (const [n, ids] of seeded.entries()) {
          const history = yield* outbox.history(ids.externalMessageId)
          assert.deepStrictEqual(
            history?.versions.map((v) => v.version),
            n % 2 === 0 ? [1, 2, 3] : [1, 2]
          )
          assert.strictEqual(history?.versions[history.versions.length - 1]?.status, "confirmed")
          const attempts = history?.versions.flatMap((v) => v.attempts) ?? []
          assert.ok(attempts.length > 0)
          assert.ok(
            attempts.every((a) => a.outcome !== undefined),
            "no attempt is left open"
          )
          abandoned += attempts.filter((a) => a.outcome === "abandoned").length
        }
        assert.ok(abandoned > 0, "the attempts in flight at the kill are recorded as abandoned")
      }).pipe(Effect.scoped),
    180_000
  )
})
