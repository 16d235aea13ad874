/**
 * `Journal.series`: the backlog over time, from the journal's own timestamps (a true series, not today's backlog
 * dated back): a message pending and then delivered shows as pending while it was, and no longer after; a dead
 * letter shows from its failure on; a message still pending shows at the end. On every database of the contract
 * suite.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as Scripted from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const PAUSE = "250 millis"

describe.each(Databases.all)("the backlog's series on $name", (database) => {
  it.live("pending while it was, dead from its failure on, and what is pending now", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const scripted = Scripted.make()
      scripted.missing.add("m-2")
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], { worker: false, tablePrefix: place.prefix }),
        context
      )
      const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)
      const ids = (id: string) => ({ externalMessageId: id })
      for (const id of ["m-1", "m-2", "m-3"]) yield* outbox.record({ ids: ids(id) })
      const started = Date.now()
      yield* Effect.sleep(PAUSE)

      // Each bound is read after the step before it returned: a loaded machine may take long over any step.
      const first = yield* outbox.submit({ ids: ids("m-1"), text: "one" })
      const submitted = Date.now()
      yield* Effect.sleep(PAUSE)
      const delivering = Date.now()
      yield* outbox.deliver(first, { timeout: "30 seconds" })
      const delivered = Date.now()
      yield* Effect.sleep(PAUSE)
      const deadSubmit = Date.now()
      const dead = yield* outbox.submit({ ids: ids("m-2"), text: "two" })
      yield* outbox.deliver(dead, { timeout: "30 seconds" })
      yield* Effect.sleep(PAUSE)
      yield* outbox.submit({ ids: ids("m-3"), text: "three" })

      const window = Date.now() - started + 100
      const { points, truncated } = yield* journal.series({ window: `${window} millis`, steps: 500 })
      assert.isFalse(truncated)
      assert.strictEqual(points.length, 501)
      const at = (from: number, to: number) =>
        points.filter((point) => point.at.getTime() > from + 30 && point.at.getTime() < to - 30)

      // Before the first edit: nothing.
      assert.deepInclude(points[0], { pending: 0, failed: 0 })
      // m-1 was pending between its submit and its delivery (today's backlog, dated back, would not show it).
      const whilePending = at(submitted, delivering)
      assert.isAbove(whilePending.length, 0)
      for (const point of whilePending) assert.deepInclude(point, { pending: 1, failed: 0 })
      // Delivered: not pending any more, and nothing dead yet.
      const afterDelivery = at(delivered, deadSubmit)
      assert.isAbove(afterDelivery.length, 0)
      for (const point of afterDelivery) assert.deepInclude(point, { pending: 0, failed: 0 })
      // Now: m-2 dead, m-3 pending.
      assert.deepInclude(points.at(-1), { pending: 1, failed: 1 })
      // The instants run oldest first, evenly, to now.
      assert.isTrue(points.every((point, n) => n === 0 || point.at > (points[n - 1]?.at ?? point.at)))
    }).pipe(Effect.scoped)
  )

  it.live("by provider and account: another account's backlog is not counted", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const context = yield* Layer.build(place.client())
      const scripted = Scripted.make()
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], { worker: false, tablePrefix: place.prefix }),
        context
      )
      const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)
      yield* outbox.record({ ids: { externalMessageId: "m-1" } })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "one" })
      const all = yield* journal.series({ window: "1 minute", steps: 10 })
      const other = yield* journal.series({ window: "1 minute", steps: 10, account: "not-this-one" })
      assert.deepInclude(all.points.at(-1), { pending: 1, failed: 0 })
      assert.deepInclude(other.points.at(-1), { pending: 0, failed: 0 })
    }).pipe(Effect.scoped)
  )
})
