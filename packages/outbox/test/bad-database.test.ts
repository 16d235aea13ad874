/**
 * Databases the outbox must refuse or survive: a file that is not a database,
 * another application's SQLite file, a database opened read-only, a full one.
 * Each is a clear `StorageError`, and nothing acknowledged is lost.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { fromSql, StorageError } from "../src/OutboxError.ts"
import * as SqliteClient from "../src/SqliteClient.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const client = (options: SqliteClient.Options) =>
  Layer.effect(
    SqlClient.SqlClient,
    Effect.mapError(SqliteClient.make(options), (e) => fromSql(e, "opening"))
  ).pipe(Layer.provide(Reactivity.layer))

const openOn = (layer: Layer.Layer<SqlClient.SqlClient, StorageError>, options: Outbox.Options = {}) =>
  Effect.flatMap(Layer.build(layer), (context) =>
    Effect.provide(
      Effect.zip(
        Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], { worker: false, ...options }),
        SqlClient.SqlClient
      ),
      context
    )
  )

describe("bad databases", () => {
  it.live("a file that is not a database is Corrupt, and is left as it was", () =>
    Effect.gen(function* () {
      const { filename } = Databases.sqliteFile.fresh()
      const junk = "this is a text file, not a database\n".repeat(200)
      writeFileSync(filename as string, junk)
      const error = yield* Effect.flip(Effect.scoped(openOn(client({ filename: filename as string }))))
      assert.instanceOf(error, StorageError)
      assert.strictEqual(error.problem, "Corrupt")
      assert.strictEqual(readFileSync(filename as string, "utf8"), junk)
    })
  )

  it.live("another application's SQLite file is Foreign, and is left as it was", () =>
    Effect.gen(function* () {
      const { filename } = Databases.sqliteFile.fresh()
      const db = new DatabaseSync(filename as string)
      db.exec("PRAGMA application_id = 1234; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
      db.close()
      const error = (yield* Effect.flip(
        Effect.scoped(openOn(client({ filename: filename as string })))
      )) as StorageError
      assert.strictEqual(error.problem, "Foreign")
      assert.match(error.message, /another application/)
      // Its content is untouched (foreign-files.test.ts: no byte of it changes).
      const after = new DatabaseSync(filename as string, { readOnly: true })
      const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      const rows = after.prepare("SELECT body FROM notes").all()
      const id = after.prepare("PRAGMA application_id").get()
      after.close()
      assert.deepStrictEqual(
        tables.map((t) => t.name),
        ["notes"]
      )
      assert.deepStrictEqual(
        rows.map((r) => r.body),
        ["mine"]
      )
      assert.strictEqual(Number(id?.application_id), 1234)
    })
  )

  it.live("a read-only database: reads work, a submit is a ReadOnly error, acknowledged edits stay", () =>
    Effect.gen(function* () {
      const { filename } = Databases.sqliteFile.fresh()
      const file = filename as string
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [outbox] = yield* openOn(client({ filename: file }))
          yield* outbox.record({ ids: { externalMessageId: "m-1" } })
          yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "kept" })
        })
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [outbox] = yield* openOn(client({ filename: file, readOnly: true }))
          const error = yield* Effect.flip(outbox.submit({ ids: { externalMessageId: "m-1" }, text: "refused" }))
          assert.strictEqual(error._tag, "StorageError")
          assert.strictEqual((error as StorageError).problem, "ReadOnly")
          const history = yield* outbox.history("m-1")
          assert.deepStrictEqual(
            history?.versions.map((v) => v.text),
            ["kept"]
          )
        })
      )
    })
  )

  it.live("a full database: a submit is a Full error, and every edit acknowledged before is there", () =>
    Effect.gen(function* () {
      const { filename } = Databases.sqliteFile.fresh()
      const file = filename as string
      const acknowledged: Array<number> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [outbox, sql] = yield* openOn(client({ filename: file }))
          yield* outbox.record({ ids: { externalMessageId: "m-1" } })
          const [pages] = yield* Effect.orDie(sql<{ page_count: number }>`PRAGMA page_count`)
          // The database may grow by a few pages only: the disk is "full".
          yield* Effect.orDie(sql.unsafe(`PRAGMA max_page_count = ${Number(pages?.page_count) + 4}`))
          let failure: StorageError | undefined
          for (let n = 0; n < 5_000 && failure === undefined; n++) {
            const result = yield* Effect.result(
              outbox.submit({ ids: { externalMessageId: "m-1" }, text: `edit ${n} ${"x".repeat(500)}` })
            )
            if (result._tag === "Success") acknowledged.push(result.success.version)
            else failure = result.failure as StorageError
          }
          assert.strictEqual(failure?.problem, "Full")
          assert.ok(acknowledged.length > 0)
        })
      )
      const history = yield* Effect.scoped(
        Effect.flatMap(openOn(client({ filename: file })), ([outbox]) => outbox.history("m-1"))
      )
      assert.deepStrictEqual(
        history?.versions.map((v) => v.version),
        acknowledged
      )
    })
  )
})

const postgres = [Databases.pgliteDatabase, ...(Databases.pgServer ? [Databases.pgServer] : [])]

describe.each(postgres)("bad databases on $name", (database) => {
  it.live(
    "a read-only PostgreSQL: a submit is a ReadOnly error (SQLSTATE 25006), reads work, acknowledged edits stay",
    () =>
      Effect.gen(function* () {
        const place = database.fresh()
        // One connection, so that the session setting holds for every statement (and for nobody else).
        const layer =
          place.spec.kind === "pg" && database !== Databases.pgliteDatabase
            ? Databases.clientOf({ ...place.spec, maxConnections: 1 })
            : place.client()
        const [outbox, sql] = yield* openOn(layer, { tablePrefix: place.prefix })
        yield* outbox.record({ ids: { externalMessageId: "m-1" } })
        yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "kept" })
        yield* Effect.acquireRelease(Effect.orDie(sql`SET default_transaction_read_only = on`), () =>
          Effect.orDie(sql`RESET default_transaction_read_only`)
        )
        const error = yield* Effect.flip(outbox.submit({ ids: { externalMessageId: "m-1" }, text: "refused" }))
        assert.strictEqual(error._tag, "StorageError")
        assert.strictEqual((error as StorageError).problem, "ReadOnly")
        assert.match(error.message, /read-only/)
        const history = yield* outbox.history("m-1")
        assert.deepStrictEqual(
          history?.versions.map((v) => v.text),
          ["kept"]
        )
        assert.deepStrictEqual(yield* outbox.counts, { pending: 1, failed: 0 })
      }).pipe(Effect.scoped)
  )
})

describe("PostgreSQL's codes for a full or read-only database", () => {
  // A disk that fills up cannot be provoked on a shared server: the codes the server answers then are mapped.
  const pgError = (code: string) => ({ reason: { _tag: "UnknownError" }, cause: { code, message: `pg ${code}` } })
  it("disk_full, out_of_memory and program limits are Full; read_only_sql_transaction is ReadOnly", () => {
    assert.strictEqual(fromSql(pgError("53100"), "storing").problem, "Full")
    assert.strictEqual(fromSql(pgError("53200"), "storing").problem, "Full")
    assert.strictEqual(fromSql(pgError("54000"), "storing").problem, "Full")
    assert.strictEqual(fromSql(pgError("25006"), "storing").problem, "ReadOnly")
    assert.strictEqual(fromSql(pgError("08006"), "storing").problem, "Unavailable")
    assert.strictEqual(fromSql(pgError("23505"), "storing").problem, "Failed")
  })
})
