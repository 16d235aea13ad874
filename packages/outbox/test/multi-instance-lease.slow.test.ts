/**
 * Two outbox workers on one database (two instances of an app), against a
 * Bitrix24 sandbox whose every call takes three times the workers' lease (the
 * sandbox answers once its server time has passed). A live worker renews its
 * claims while its delivery runs, so the other one never delivers the same
 * message at the same time: in the sandbox's request log, the calls carrying
 * one message id never overlap, each message is sent once per version at
 * most, and its texts land oldest to newest.
 *
 * On a SQLite file and on the PostgreSQL server (when one is named); PGlite is
 * one session, so two workers on it would share one transaction.
 */
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"

afterAll(() => Databases.stopAll())

// A lease a loaded machine can renew: a 500 ms lease was taken over from a live worker whose event loop stalled
// for longer than that (load average 20), which is no defect of the outbox but of the test's lease.
const LEASE_MS = 1_500
/** Seconds the sandbox takes to answer each call: three leases. */
const CALL_SECONDS = 4.5

interface InFlight {
  readonly from: number
  readonly to: number
}

/** For each message id, the times its update calls were in flight at the sandbox. */
const inFlightById = (sandbox: Bitrix24Sandbox.Sandbox): Map<string, Array<InFlight>> => {
  const found = new Map<string, Array<InFlight>>()
  for (const request of sandbox.server.requests) {
    if (!request.path.includes("imconnector.update.messages")) continue
    const body = JSON.parse(request.text) as { MESSAGES?: ReadonlyArray<{ message?: { id?: unknown } }> }
    for (const item of body.MESSAGES ?? []) {
      const id = String(item.message?.id)
      const list = found.get(id) ?? []
      list.push({ from: request.receivedAt.getTime(), to: request.at.getTime() })
      found.set(id, list)
    }
  }
  return found
}

const overlaps = (calls: ReadonlyArray<InFlight>): number => {
  const sorted = [...calls].sort((a, b) => a.from - b.from)
  let count = 0
  for (let n = 1; n < sorted.length; n++) {
    if ((sorted[n]?.from ?? 0) < (sorted[n - 1]?.to ?? 0)) count += 1
  }
  return count
}

const databases = [Databases.sqliteFile, ...(Databases.pgServer === undefined ? [] : [Databases.pgServer])]

describe.each(databases)("two workers, deliveries slower than the lease, on $name", (database) => {
  it.live(
    "no message is delivered by both at once; each lands oldest to newest; no claim of a live worker is taken over",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({
          bucket: false,
          serverTime: { wait: true },
          operatingLimit: { costPerCall: CALL_SECONDS, limitSeconds: 10_000 }
        })
        const account = `${sandbox.url}/${sandbox.connector}/${sandbox.line}`
        const place = database.fresh()
        const open = (workerId: string) =>
          Effect.gen(function* () {
            const context = yield* Layer.build(place.client())
            const editor = yield* Effect.orDie(Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
            return yield* Effect.provide(
              Outbox.makeWith([{ editor, account }], {
                tablePrefix: place.prefix,
                workerId,
                lease: LEASE_MS,
                pollInterval: "20 millis",
                settleWindow: "100 millis",
                batchSize: 4,
                retry: { initialDelay: 20, maxDelay: 100 }
              }),
              context
            )
          })
        const first = yield* open("first")
        const second = yield* open("second")
        const seeded = []
        for (let n = 0; n < 8; n++) {
          const ids = yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`))
          seeded.push(ids)
          yield* first.record({ ids })
        }
        // Version 1 of each, half through each instance.
        for (const [n, ids] of seeded.entries()) {
          yield* (n % 2 === 0 ? first : second).submit({
            ids: { externalMessageId: ids.externalMessageId },
            text: `m${n} v1`
          })
        }
        // While the first calls are held at the sandbox (each longer than a lease), version 2 of each.
        for (let n = 0; n < 200 && sandbox.server.requests.length === 0; n++) yield* Effect.sleep("10 millis")
        yield* Effect.sleep(LEASE_MS * 2)
        for (const [n, ids] of seeded.entries()) {
          yield* (n % 2 === 0 ? second : first).submit({
            ids: { externalMessageId: ids.externalMessageId },
            text: `m${n} v2`
          })
        }
        assert.deepStrictEqual(yield* first.drain({ timeout: "90 seconds" }), { pending: 0, failed: 0 })

        const calls = inFlightById(sandbox)
        for (const [n, ids] of seeded.entries()) {
          const mine = calls.get(ids.externalMessageId) ?? []
          assert.strictEqual(overlaps(mine), 0, `message ${n}: two calls in flight at once`)
          assert.isAtMost(mine.length, 2, `message ${n}: sent once per version at most`)
          const history = sandbox.inspect(ids)?.history ?? []
          assert.strictEqual(history[history.length - 1], `m${n} v2`)
          assert.include([`m${n} v0,m${n} v1,m${n} v2`, `m${n} v0,m${n} v2`], history.join(","))
          const journal = yield* first.history(ids.externalMessageId)
          const attempts = journal?.versions.flatMap((version) => version.attempts) ?? []
          assert.deepStrictEqual(
            attempts.map((attempt): string | undefined => attempt.outcome),
            attempts.map(() => "confirmed"),
            `message ${n}: no attempt abandoned`
          )
          assert.strictEqual(journal?.versions[1]?.status, "confirmed")
        }
        // The deliveries did outlast the lease.
        const longest = Math.max(
          ...sandbox.server.requests.map((request) => request.at.getTime() - request.receivedAt.getTime())
        )
        assert.isAbove(longest, LEASE_MS * 2)
      }).pipe(Effect.scoped),
    180_000
  )
})
