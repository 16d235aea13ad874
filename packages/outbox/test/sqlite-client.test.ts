/**
 * The SQLite client the outbox opens (`@effect/sql-sqlite-node` with what the
 * outbox needs on top): durable commits, the write lock taken at `BEGIN`,
 * another connection's lock waited for without blocking the event loop,
 * read-only opening that writes nothing, and a file deleted while open.
 */
import { mkdtempSync, rmSync, unlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import { fromSql, type StorageError } from "../src/OutboxError.ts"
import { sqliteClient } from "../src/Sqlite.ts"
import type * as SqliteClient from "../src/SqliteClient.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

const directories: Array<string> = []
afterAll(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

const freshFile = (): string => {
  const directory = mkdtempSync(join(tmpdir(), "reword-sqlite-client-"))
  directories.push(directory)
  return join(directory, "outbox.db")
}

const open = (options: SqliteClient.Options) =>
  Effect.map(Layer.build(sqliteClient(options)), (context) => Context.get(context, SqlClient.SqlClient))

const pragma = (sql: SqlClient.SqlClient, name: string) =>
  Effect.map(
    Effect.orDie(sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`)),
    (rows) => Object.values(rows[0] ?? {})[0]
  )

/** Another connection (as another process would) holding the write lock until `release` is called. */
const holdWriteLock = (filename: string) => {
  const other = new DatabaseSync(filename, { timeout: 0 })
  other.exec("BEGIN IMMEDIATE")
  other.exec("CREATE TABLE IF NOT EXISTS held (n INTEGER)")
  return {
    release: () => {
      if (other.isTransaction) other.exec("COMMIT")
      other.close()
    }
  }
}

describe("the SQLite client", () => {
  it.live(
    "commits are durable (synchronous = FULL by default), the file is in WAL mode, deleted content is wiped",
    () =>
      Effect.gen(function* () {
        const filename = freshFile()
        const sql = yield* open({ filename })
        assert.strictEqual(yield* pragma(sql, "synchronous"), 2)
        assert.strictEqual(yield* pragma(sql, "journal_mode"), "wal")
        assert.strictEqual(yield* pragma(sql, "secure_delete"), 1)
        assert.strictEqual(yield* pragma(sql, "journal_size_limit"), 0)
        const normal = yield* open({ filename, synchronous: "NORMAL" })
        assert.strictEqual(yield* pragma(normal, "synchronous"), 1)
      }).pipe(Effect.scoped)
  )

  it.live("a transaction takes the write lock at BEGIN (BEGIN IMMEDIATE), even when it only reads", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const sql = yield* open({ filename })
      yield* Effect.orDie(sql`CREATE TABLE t (n INTEGER)`)
      const other = new DatabaseSync(filename, { timeout: 0 })
      const refused = yield* Effect.orDie(
        sql.withTransaction(
          Effect.flatMap(sql`SELECT COUNT(*) AS n FROM t`, () =>
            Effect.sync(() => {
              try {
                other.exec("BEGIN IMMEDIATE")
                other.exec("ROLLBACK")
                return undefined
              } catch (error) {
                return String(error)
              }
            })
          )
        )
      )
      other.close()
      assert.match(refused ?? "the other connection took the write lock", /locked/)
    }).pipe(Effect.scoped)
  )

  it.live("another connection's write lock is waited for without blocking: the write lands once it is released", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const sql = yield* open({ filename })
      yield* Effect.orDie(sql`CREATE TABLE t (n INTEGER)`)
      const lock = holdWriteLock(filename)
      // Released by a timer of this very process: it fires only if the wait leaves the event loop free.
      const timer = setTimeout(lock.release, 600)
      const delay = monitorEventLoopDelay({ resolution: 10 })
      delay.enable()
      const started = performance.now()
      yield* Effect.orDie(sql.withTransaction(sql`INSERT INTO t (n) VALUES (1)`))
      yield* Effect.orDie(sql`INSERT INTO t (n) VALUES (2)`)
      const waited = performance.now() - started
      delay.disable()
      clearTimeout(timer)
      const rows = yield* Effect.orDie(sql<{ n: number }>`SELECT n FROM t ORDER BY n`)
      assert.deepStrictEqual(
        rows.map((row) => Number(row.n)),
        [1, 2]
      )
      assert.isAtLeast(waited, 500)
      // Each native wait is at most 20 ms; a loaded machine may add to it, never the 600 ms of the lock.
      assert.isBelow(delay.max / 1e6, 300)
    }).pipe(Effect.scoped)
  )

  it.live("a lock held past busyTimeoutMs is an Unavailable error after that time, not before", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const sql = yield* open({ filename, busyTimeoutMs: 400 })
      yield* Effect.orDie(sql`CREATE TABLE t (n INTEGER)`)
      const lock = holdWriteLock(filename)
      const started = performance.now()
      const error = yield* Effect.flip(sql.withTransaction(sql`INSERT INTO t (n) VALUES (1)`))
      const waited = performance.now() - started
      lock.release()
      assert.strictEqual(fromSql(error, "writing").problem, "Unavailable")
      assert.isAtLeast(waited, 380)
      assert.isBelow(waited, 5_000)
    }).pipe(Effect.scoped)
  )

  it.live("read-only: the file is not switched to WAL nor written, and every write is a ReadOnly error", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const db = new DatabaseSync(filename)
      db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
      db.close()
      const sql = yield* open({ filename, readOnly: true })
      assert.strictEqual(yield* pragma(sql, "journal_mode"), "delete")
      const rows = yield* Effect.orDie(sql<{ body: string }>`SELECT body FROM notes`)
      assert.deepStrictEqual(
        rows.map((row) => row.body),
        ["mine"]
      )
      const error = yield* Effect.flip(sql`INSERT INTO notes VALUES ('theirs')`)
      assert.strictEqual(fromSql(error, "writing").problem, "ReadOnly")
    }).pipe(Effect.scoped)
  )
})

describe("a database file deleted while the outbox runs", () => {
  it.live("submits after the deletion fail with a typed ReadOnly error; none is acknowledged and lost", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const context = yield* Layer.build(sqliteClient({ filename }))
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], { worker: false }),
        context
      )
      yield* outbox.record({ ids: { externalMessageId: "m-1" } })
      const first = yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "before" })
      assert.strictEqual(first.version, 1)
      unlinkSync(filename)
      const error = (yield* Effect.flip(
        outbox.submit({ ids: { externalMessageId: "m-1" }, text: "after" })
      )) as StorageError
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.problem, "ReadOnly")
      assert.match(error.message, /was deleted while it was open/)
      const recorded = (yield* Effect.flip(outbox.record({ ids: { externalMessageId: "m-2" } }))) as StorageError
      assert.strictEqual(recorded._tag, "StorageError")
      assert.strictEqual(recorded.problem, "ReadOnly")
    }).pipe(Effect.scoped)
  )

  it.live("a file replaced by another (a restore by rename) fails too", () =>
    Effect.gen(function* () {
      const filename = freshFile()
      const sql = yield* open({ filename })
      yield* Effect.orDie(sql`CREATE TABLE t (n INTEGER)`)
      unlinkSync(filename)
      new DatabaseSync(filename).close()
      const error = yield* Effect.flip(sql.withTransaction(sql`INSERT INTO t (n) VALUES (1)`))
      assert.strictEqual(fromSql(error, "writing").problem, "ReadOnly")
      assert.match(fromSql(error, "writing").message, /was replaced while it was open/)
    }).pipe(Effect.scoped)
  )
})
