/**
 * A claim on PostgreSQL reads with one snapshot, taken as it starts, while
 * the rows it locks are their newest versions: an edit committed in between
 * is claimed as the message's newest version, and its request was not seen.
 * It used to be sent as "the journal no longer holds this edit's request", a
 * dead letter. A worker woken by each submit claims at once, so a second
 * edit submitted right after the first lands in that window now and then.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

afterAll(() => Databases.stopAll())

const MESSAGES = 150

describe.skipIf(Databases.pgServer === undefined)("a claim racing a submit on a PostgreSQL server", () => {
  it.live(
    `two quick edits of each of ${MESSAGES} messages: none is a dead letter, each ends with its newest text`,
    () =>
      Effect.gen(function* () {
        const place = (Databases.pgServer as Databases.TestDatabase).fresh()
        const context = yield* Layer.build(place.client())
        const scripted = ScriptedEditor.make()
        const outbox = yield* Effect.provide(
          Outbox.makeWith([{ editor: scripted.editor }], {
            tablePrefix: place.prefix,
            keepText: false,
            textHashKey: Redacted.make("a key of the test's own, long enough"),
            pollInterval: "20 millis"
          }),
          context
        )
        for (let n = 0; n < MESSAGES; n++) {
          yield* outbox.record({ ids: { externalMessageId: `m-${n}` } })
          yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: `m-${n} v1` })
          yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: `m-${n} v2` })
        }
        const left = yield* outbox.drain({ timeout: "60 seconds" })
        const dead = yield* outbox.failed()
        assert.deepStrictEqual(
          dead.map((entry) => `${entry.ids.externalMessageId}: ${entry.lastReason}`),
          [],
          "no dead letter"
        )
        assert.deepStrictEqual(left, { pending: 0, failed: 0 })
        for (let n = 0; n < MESSAGES; n++) assert.strictEqual(scripted.texts.get(`m-${n}`), `m-${n} v2`)
      }).pipe(Effect.scoped),
    120_000
  )
})
