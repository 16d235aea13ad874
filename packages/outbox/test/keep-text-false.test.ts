/**
 * `keepText: false`: once delivered, a text is nowhere in the database. On
 * SQLite, a byte scan of the file and its write-ahead log after a checkpoint
 * finds none of them (`secure_delete` wipes the erased cells; the log is cut
 * back when it restarts). On PostgreSQL no row holds one, and neither does a
 * `pg_dump` (on the server). The journal keeps a hash keyed with the app's
 * secret (HMAC-SHA-256): without the key, a dictionary cannot reverse it.
 */
import { execFileSync } from "node:child_process"
import { createHash, createHmac } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const KEY = "the app's own secret, 32 chars.."
const secretOf = (n: number) => `secret plan ${n}: meet at the old mill`

const open = (place: Databases.Place, scripted: ScriptedEditor.Scripted, options: Outbox.Options = {}) =>
  Effect.flatMap(Layer.build(place.client()), (context) =>
    Effect.map(
      Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], {
          tablePrefix: place.prefix,
          keepText: false,
          textHashKey: Redacted.make(KEY),
          pollInterval: "20 millis",
          ...options
        }),
        context
      ),
      (outbox) => ({ outbox, sql: Context.get(context, SqlClient.SqlClient) })
    )
  )

/** Several versions of several messages, all delivered. */
const deliverSecrets = (outbox: Outbox.Service, messages: number) =>
  Effect.gen(function* () {
    for (let n = 0; n < messages; n++) {
      yield* outbox.record({ ids: { externalMessageId: `m-${n}` } })
      yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: `${secretOf(n)} (draft)` })
      yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: secretOf(n) })
    }
    assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
  })

const bytesHold = (filename: string, text: string): boolean =>
  existsSync(filename) && readFileSync(filename).includes(Buffer.from(text, "utf8"))

describe("keepText: false on a SQLite file", () => {
  it.live("after a checkpoint, neither the file nor its WAL holds a delivered text", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteFile.fresh()
      const filename = place.filename as string
      const scripted = ScriptedEditor.make()
      const { outbox, sql } = yield* open(place, scripted)
      yield* deliverSecrets(outbox, 20)
      assert.strictEqual(scripted.texts.get("m-3"), secretOf(3))
      // What SQLite's automatic checkpoint does every 1,000 pages; then the app goes on writing.
      yield* Effect.orDie(sql.unsafe("PRAGMA wal_checkpoint(PASSIVE)"))
      yield* outbox.record({ ids: { externalMessageId: "later" } })
      yield* outbox.submit({ ids: { externalMessageId: "later" }, text: "a later edit" })
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      for (let n = 0; n < 20; n++) {
        assert.isFalse(bytesHold(filename, secretOf(n)), `the database file holds text ${n}`)
        assert.isFalse(bytesHold(`${filename}-wal`, secretOf(n)), `the WAL holds text ${n}`)
      }
    }).pipe(Effect.scoped)
  )
})

const postgres = [Databases.pgliteDatabase, ...(Databases.pgServer ? [Databases.pgServer] : [])]

describe.each(postgres)("keepText: false on $name", (database) => {
  it.live("no row of the outbox's tables holds a delivered text (nor a pg_dump of them, on a server)", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const { outbox, sql } = yield* open(place, ScriptedEditor.make())
      yield* deliverSecrets(outbox, 5)
      const rows = []
      for (const table of ["messages", "edits", "attempts", "migrations"]) {
        rows.push(...(yield* Effect.orDie(sql`SELECT * FROM ${sql(`${place.prefix}${table}`)}`)))
      }
      const everything = JSON.stringify(rows, (_, v) => (typeof v === "bigint" ? String(v) : v))
      assert.include(everything, "hmac-sha256:")
      for (let n = 0; n < 5; n++) assert.notInclude(everything, "secret plan")
      if (database === Databases.pgServer && place.spec.kind === "pg") {
        const dump = execFileSync("pg_dump", ["--data-only", "--table", `${place.prefix}*`, place.spec.url], {
          encoding: "utf8",
          timeout: 60_000
        })
        assert.include(dump, "hmac-sha256:")
        assert.notInclude(dump, "secret plan")
      }
    }).pipe(Effect.scoped)
  )
})

describe("the text hash", () => {
  it.live("is HMAC-SHA-256 under the app's key: not the plain SHA-256 a dictionary reverses", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteMemory.fresh()
      const { outbox } = yield* open(place, ScriptedEditor.make(), { worker: false })
      yield* outbox.record({ ids: { externalMessageId: "m-1" } })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "yes" })
      const [version] = (yield* outbox.history("m-1"))?.versions ?? []
      assert.strictEqual(version?.textHash, `hmac-sha256:${createHmac("sha256", KEY).update("yes").digest("hex")}`)
      assert.notInclude(version?.textHash ?? "", createHash("sha256").update("yes").digest("hex"))
    }).pipe(Effect.scoped)
  )

  it.live("is required with keepText: false, must be Redacted and long enough, and is never quoted", () =>
    Effect.gen(function* () {
      const place = Databases.sqliteMemory.fresh()
      const editor = ScriptedEditor.make()
      const missing = yield* Effect.flip(open(place, editor, { textHashKey: undefined }))
      assert.match(String(missing), /textHashKey is required when keepText is false/)
      const plain = "a plain secret given in the clear"
      const clear = yield* Effect.flip(
        open(place, editor, { textHashKey: plain as unknown as Redacted.Redacted<string> })
      )
      assert.match(String(clear), /textHashKey must be a Redacted secret/)
      assert.notInclude(`${String(clear)} ${JSON.stringify(clear)}`, plain)
      const short = yield* Effect.flip(open(place, editor, { textHashKey: Redacted.make("short key") }))
      assert.match(String(short), /textHashKey must be a text of at least 16 characters/)
      assert.notInclude(`${String(short)} ${JSON.stringify(short)}`, "short key")
      // With keepText (the default), no key is needed.
      const kept = yield* open(place, editor, { keepText: true, textHashKey: undefined, worker: false })
      assert.isDefined(kept.outbox)
    }).pipe(Effect.scoped)
  )
})
