/**
 * Every statement stays within the database's limits whatever the data size:
 * a re-drive of 40,000 dead letters (past SQLite's 32,766 variables), listed
 * one by one as `reword outbox redrive --all` lists them, or all at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

afterAll(() => Databases.stopAll())

const DEAD = 40_000

describe("re-drive past SQLite's variable limit", () => {
  it.live(
    `${DEAD} dead letters are re-driven, listed or all`,
    () =>
      Effect.gen(function* () {
        const place = Databases.sqliteFile.fresh()
        const context = yield* Layer.build(place.client())
        const { editor } = ScriptedEditor.make()
        const outbox = yield* Effect.provide(Outbox.makeWith([{ editor }], { worker: false }), context)
        const sql = Context.get(context, SqlClient.SqlClient)
        const kill = sql.unsafe(`UPDATE ${place.prefix}messages SET state = 'failed', next_attempt_at = NULL`)
        yield* sql.unsafe(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${DEAD})
          INSERT INTO ${place.prefix}messages
            (message_key, provider, account, external_message_id, recorded_at, latest_version, state, updated_at)
          SELECT 'scripted' || char(31) || 'default' || char(31) || 'm-' || i, 'scripted', 'default', 'm-' || i,
            0, 1, 'failed', 0 FROM n`)
        assert.deepStrictEqual(yield* outbox.counts, { pending: 0, failed: DEAD })
        const listed = yield* Stream.runCollect(outbox.stream("failed", { limit: 10_000 }))
        assert.strictEqual(listed.length, DEAD)
        assert.strictEqual(yield* outbox.redrive(listed), DEAD)
        assert.deepStrictEqual(yield* outbox.counts, { pending: DEAD, failed: 0 })
        yield* kill
        assert.strictEqual(yield* outbox.redrive(), DEAD)
        assert.deepStrictEqual(yield* outbox.counts, { pending: DEAD, failed: 0 })
      }).pipe(Effect.scoped),
    120_000
  )
})
