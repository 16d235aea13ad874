/**
 * Files and databases that are not the outbox's are left as they are: another
 * application's SQLite file opened for the outbox changes by no byte (it is
 * checked read-only before anything that writes), and the journal (what the
 * CLI's tools open) neither creates nor migrates tables: a database without
 * outbox tables under the prefix given is refused, naming the prefixes it has.
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { StorageError } from "../src/OutboxError.ts"
import { sqliteClient } from "../src/Sqlite.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

/** The failure, which must be a storage error (not an option's). */
const storage = (error: unknown): StorageError => {
  assert.instanceOf(error, StorageError)
  return error as StorageError
}

const digest = (filename: string): string => createHash("sha256").update(readFileSync(filename)).digest("hex")

/** Another application's file: its own tables, a rollback journal, and (optionally) its application_id. */
const foreignFile = (applicationId: number): string => {
  const { filename } = Databases.sqliteFile.fresh()
  const db = new DatabaseSync(filename as string)
  db.exec(`PRAGMA application_id = ${applicationId}; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')`)
  db.close()
  return filename as string
}

const outboxOn = (layer: Layer.Layer<SqlClient.SqlClient, StorageError>, tablePrefix?: string) =>
  Effect.flatMap(Layer.build(layer), (context) =>
    Effect.provide(
      Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], {
        worker: false,
        ...(tablePrefix === undefined ? {} : { tablePrefix })
      }),
      context
    )
  )

const journalOn = (layer: Layer.Layer<SqlClient.SqlClient, StorageError>, tablePrefix: string) =>
  Effect.flatMap(Layer.build(layer), (context) => Effect.provide(Outbox.makeJournal({ tablePrefix }), context))

const tablesOf = (filename: string): ReadonlyArray<string> => {
  const db = new DatabaseSync(filename, { readOnly: true })
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
  db.close()
  return names.map((row) => String(row.name))
}

describe("another application's SQLite file", () => {
  it.live("opened for the outbox: Foreign, and no byte of it changed (no WAL switch, no stamp)", () =>
    Effect.gen(function* () {
      const filename = foreignFile(1234)
      const before = digest(filename)
      const error = storage(yield* Effect.flip(outboxOn(sqliteClient({ filename }))))
      assert.strictEqual(error.problem, "Foreign")
      assert.match(error.message, /another application \(application_id 1234\)/)
      assert.strictEqual(digest(filename), before)
      assert.isFalse(existsSync(`${filename}-wal`))
    }).pipe(Effect.scoped)
  )

  it.live("opened by a tool (the journal, read-only): Foreign, no table added, no byte changed", () =>
    Effect.gen(function* () {
      const filename = foreignFile(0)
      const before = digest(filename)
      const error = storage(yield* Effect.flip(journalOn(sqliteClient({ filename, readOnly: true }), "reword_outbox_")))
      assert.strictEqual(error.problem, "Foreign")
      assert.match(error.message, /holds no outbox tables with the prefix "reword_outbox_": it holds no outbox at all/)
      assert.strictEqual(digest(filename), before)
      assert.deepStrictEqual(tablesOf(filename), ["notes"])
    }).pipe(Effect.scoped)
  )
})

describe("a mistyped table prefix", () => {
  it.live("on SQLite: the journal names the prefixes the file holds, and creates nothing", () =>
    Effect.gen(function* () {
      const { filename } = Databases.sqliteFile.fresh()
      const file = filename as string
      yield* Effect.scoped(outboxOn(sqliteClient({ filename: file })))
      yield* Effect.scoped(outboxOn(sqliteClient({ filename: file }), "second_"))
      const before = digest(file)
      const tables = tablesOf(file)
      const error = storage(
        yield* Effect.flip(Effect.scoped(journalOn(sqliteClient({ filename: file, readOnly: true }), "reword_outbx_")))
      )
      assert.strictEqual(error.problem, "Foreign")
      assert.match(error.message, /no outbox tables with the prefix "reword_outbx_"/)
      assert.match(error.message, /with the prefixes "reword_outbox_", "second_" \(check the table prefix\)/)
      assert.strictEqual(digest(file), before)
      assert.deepStrictEqual(tablesOf(file), tables)
      // The right prefix opens, read-only.
      const journal = yield* Effect.scoped(
        journalOn(sqliteClient({ filename: file, readOnly: true }), "reword_outbox_")
      )
      assert.isDefined(journal)
    })
  )

  it.live("on PostgreSQL (PGlite): the journal names the prefix that exists, and creates no table", () =>
    Effect.gen(function* () {
      const place = Databases.pgliteDatabase.fresh()
      yield* outboxOn(place.client(), place.prefix)
      const typo = `${place.prefix}x_`
      const error = storage(yield* Effect.flip(journalOn(place.client(), typo)))
      assert.strictEqual(error.problem, "Foreign")
      assert.include(error.message, `"${place.prefix}"`)
      const context = yield* Layer.build(place.client())
      const rows = yield* Effect.orDie(
        Effect.provide(
          Effect.flatMap(
            SqlClient.SqlClient,
            (sql) => sql`SELECT table_name FROM information_schema.tables WHERE table_name LIKE ${`${typo}%`}`
          ),
          context
        )
      )
      assert.deepStrictEqual(rows, [])
    }).pipe(Effect.scoped)
  )
})
