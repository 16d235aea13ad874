/**
 * Two outbox instances (two pools) submitting to the same messages at once
 * never make a deadlock an app-visible failure: each group commit locks its
 * rows in one key order, and a collision is tried again, bounded. On PGlite
 * (one session) and on the PostgreSQL server when `REWORD_TEST_POSTGRES_URL`
 * names one, where the deadlocks happened.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const MESSAGES = 40

/** PGlite is one session (no two transactions at once): a smaller run proves the path there; the server runs the whole. */
const databases = [
  { database: Databases.pgliteDatabase, perInstance: 250 },
  ...(Databases.pgServer === undefined ? [] : [{ database: Databases.pgServer, perInstance: 1_000 }])
]

describe.each(databases)(
  "two instances submitting to the same messages on $database.name",
  ({ database, perInstance }) => {
    const PER_INSTANCE = perInstance
    it.live(
      `${2 * PER_INSTANCE} concurrent submits: none fails, every version is counted once`,
      () =>
        Effect.gen(function* () {
          const place = database.fresh()
          const { editor } = ScriptedEditor.make()
          const open = Effect.flatMap(Layer.build(place.client()), (context) =>
            Effect.provide(Outbox.makeWith([{ editor }], { tablePrefix: place.prefix, worker: false }), context)
          )
          const first = yield* open
          const second = yield* open
          for (let m = 0; m < MESSAGES; m++) yield* first.record({ ids: { externalMessageId: `m-${m}` } })
          // Each instance walks the messages in its own order, so that their batches lock rows in opposite orders.
          const edits = (instance: Outbox.Service, reverse: boolean) =>
            Array.from({ length: PER_INSTANCE }, (_, i) => {
              const m = reverse ? MESSAGES - 1 - (i % MESSAGES) : (i * 7) % MESSAGES
              return Effect.result(instance.submit({ ids: { externalMessageId: `m-${m}` }, text: `t ${i}` }))
            })
          const results = yield* Effect.all([...edits(first, false), ...edits(second, true)], {
            concurrency: "unbounded"
          })
          const failures = results.filter(Result.isFailure).map((result) => result.failure.message)
          assert.deepStrictEqual(failures.slice(0, 3), [])
          assert.strictEqual(failures.length, 0)
          let versions = 0
          for (let m = 0; m < MESSAGES; m++) versions += (yield* first.history(`m-${m}`))?.latestVersion ?? 0
          assert.strictEqual(versions, 2 * PER_INSTANCE)
        }).pipe(Effect.scoped),
      120_000
    )
  }
)
