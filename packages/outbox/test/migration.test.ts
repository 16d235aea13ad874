/**
 * A database left by an older reword: schema version 1, written by
 * @reword/outbox 0.1.0 (`fixtures/schema-v1.db`, made by
 * `fixtures/make-schema-v1.ts`). Opening it with this reword migrates it to
 * version 2, and everything acknowledged survives and is usable: the
 * journal's versions and attempts, the pending edit (delivered), the dead
 * letter (re-driven). On the fixture file itself, and on PostgreSQL (PGlite,
 * and the server when one is named) with the fixture's rows written into
 * tables of schema 1.
 */
import { copyFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Schema from "../src/internal/schema.ts"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const FIXTURE = fileURLToPath(new URL("./fixtures/schema-v1.db", import.meta.url))
const TABLES = ["messages", "edits", "attempts"] as const

/** The fixture's rows, table by table (read from a copy: the fixture is never opened in place). */
const fixtureRows = (): Record<(typeof TABLES)[number], Array<Record<string, unknown>>> => {
  const copy = join(mkdtempSync(join(tmpdir(), "reword-fixture-")), "v1.db")
  copyFileSync(FIXTURE, copy)
  const db = new DatabaseSync(copy, { readOnly: true })
  try {
    const read = (table: string) =>
      db
        .prepare(`SELECT * FROM reword_outbox_${table}`)
        .all()
        .map((row) => ({ ...row }))
    return { messages: read("messages"), edits: read("edits"), attempts: read("attempts") }
  } finally {
    db.close()
  }
}

/** A place holding the fixture at schema 1: the file itself (SQLite), or its rows in tables of schema 1. */
const placeAtSchema1 = (database: Databases.TestDatabase) =>
  Effect.gen(function* () {
    const place = database.fresh()
    if (place.filename !== undefined) {
      copyFileSync(FIXTURE, place.filename)
      return place
    }
    const rows = fixtureRows()
    yield* Effect.scoped(
      Effect.flatMap(Layer.build(place.client()), (context) =>
        Effect.provide(
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const tables = Schema.tables(place.prefix)
            yield* Schema.prepare(tables, 1)
            for (const table of TABLES) {
              for (const row of rows[table]) yield* sql`INSERT INTO ${sql(tables[table])} ${sql.insert(row)}`
            }
          }),
          context
        )
      )
    )
    return place
  })

const durable = Databases.all.filter((database) => database.durable)

describe.each(durable)("a schema-1 database on $name", (database) => {
  it.live("migrates to the current schema: every version, attempt and dead letter survives, and is usable", () =>
    Effect.gen(function* () {
      const place = yield* placeAtSchema1(database)
      const scripted = ScriptedEditor.make({ provider: "acquire" })
      const context = yield* Layer.build(place.client())
      const sql = yield* Effect.provide(SqlClient.SqlClient, context)
      const migrationIds = () =>
        Effect.map(
          Effect.orDie(sql`SELECT migration_id FROM ${sql(`${place.prefix}migrations`)} ORDER BY migration_id`),
          (rows) => rows.map((row) => Number(row.migration_id))
        )
      assert.deepStrictEqual(yield* migrationIds(), [1])

      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor, account: "acct-1" }], {
          tablePrefix: place.prefix,
          pollInterval: "20 millis",
          settleWindow: "50 millis"
        }),
        context
      )
      assert.deepStrictEqual(yield* migrationIds(), [1, 2, 3, 4, 5, 6])

      // The journal of schema 1, as it was.
      const confirmed = yield* outbox.history("wa-1")
      assert.deepStrictEqual(
        confirmed?.versions.map((v) => [v.version, v.text, v.source, v.status, v.attempts.map((a) => a.outcome)]),
        [
          [1, "first", "agent", "superseded", []],
          [2, "second", "agent", "confirmed", ["confirmed"]]
        ]
      )
      assert.strictEqual(confirmed?.ids.providerMessageId, "101")

      // The edit pending at schema 1 is delivered; the dead letter is listed, then re-driven.
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 1 })
      assert.strictEqual(scripted.texts.get("wa-2"), "still pending")
      const [dead] = yield* outbox.failed()
      assert.strictEqual(dead?.ids.externalMessageId, "wa-404")
      assert.match(dead?.lastReason ?? "", /^NotFound/)
      assert.strictEqual(yield* outbox.redrive([dead as Outbox.Entry]), 1)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("wa-404"), "never there")

      // New edits go on from the versions of schema 1; schema 2 finds a message by its external id alone.
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "third" })
      assert.strictEqual(receipt.version, 3)
      const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)
      const [found] = yield* journal.histories("wa-1")
      assert.deepStrictEqual(
        found?.versions.map((v) => v.text),
        ["first", "second", "third"]
      )
    }).pipe(Effect.scoped)
  )
})
