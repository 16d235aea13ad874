/**
 * One contract, every database: the same tests run on SQLite (in memory and in
 * a file), on PostgreSQL through PGlite, and on a PostgreSQL server when
 * `REWORD_TEST_POSTGRES_URL` names one.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Config, Effect, Layer, Redacted, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import type { StorageError } from "../src/OutboxError.ts"
import * as Databases from "./support/databases.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const fast: Outbox.Options = {
  settleWindow: "300 millis",
  pollInterval: "20 millis",
  retry: { initialDelay: 20, maxDelay: 100, jitter: false }
}

const open = (
  place: Databases.Place,
  scripted: ScriptedEditor.Scripted,
  options: Outbox.Options = {}
): Effect.Effect<Outbox.Service, StorageError | Config.ConfigError, Scope.Scope> =>
  Layer.build(place.client()).pipe(
    Effect.flatMap((context) =>
      Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor, account: "acme" }], {
          ...fast,
          tablePrefix: place.prefix,
          ...options
        }),
        context
      )
    )
  )

const ids = (n: number) => ({ externalMessageId: `m-${n}`, externalChatId: "c-1", externalAuthorId: "u-1" })

describe.each(Databases.all)("outbox contract on $name", (database) => {
  it.live("migrates a fresh database to the current schema, and opening it again changes nothing", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      yield* Effect.scoped(open(place, scripted, { worker: false }))
      if (!database.durable) return
      yield* Effect.scoped(open(place, scripted, { worker: false }))
      const rows = yield* Effect.scoped(
        Effect.flatMap(Layer.build(place.client()), (context) =>
          Effect.provide(
            Effect.flatMap(
              SqlClient.SqlClient,
              (sql) => sql`SELECT migration_id FROM ${sql(`${place.prefix}migrations`)}`
            ),
            context
          )
        )
      )
      assert.deepStrictEqual(
        rows.map((row) => Number(row.migration_id)),
        [1, 2, 3, 4, 5, 6]
      )
    })
  )

  it.live("a database of a newer schema is a NewerSchema error, and is left as it was", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const sqlDo = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
        Effect.scoped(
          Effect.flatMap(Layer.build(place.client()), (context) =>
            Effect.provide(Effect.flatMap(SqlClient.SqlClient, f), context)
          )
        )
      if (!database.durable) return
      yield* Effect.scoped(open(place, scripted, { worker: false }))
      const table = `${place.prefix}migrations`
      yield* Effect.orDie(sqlDo((sql) => sql`INSERT INTO ${sql(table)} (migration_id, name) VALUES (99, 'future')`))
      const error = yield* Effect.flip(Effect.scoped(open(place, scripted, { worker: false })))
      assert.strictEqual((error as StorageError).problem, "NewerSchema")
      assert.match(error.message, /newer than the 6 this reword knows/)
      const left = yield* Effect.orDie(
        sqlDo((sql) => sql`SELECT migration_id FROM ${sql(table)} ORDER BY migration_id`)
      )
      assert.deepStrictEqual(
        left.map((row) => Number(row.migration_id)),
        [1, 2, 3, 4, 5, 6, 99]
      )
    })
  )

  it.live("an outbox table reword did not make is a Foreign error", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const error = yield* Effect.flip(
        Effect.scoped(
          Effect.flatMap(Layer.build(place.client()), (context) =>
            Effect.provide(
              Effect.gen(function* () {
                const sql = yield* SqlClient.SqlClient
                yield* Effect.orDie(sql`CREATE TABLE ${sql(`${place.prefix}messages`)} (id INTEGER)`)
                return yield* Outbox.makeWith([{ editor: ScriptedEditor.make().editor }], {
                  tablePrefix: place.prefix,
                  worker: false
                })
              }),
              context
            )
          )
        )
      )
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual((error as StorageError).problem, "Foreign")
    })
  )

  it.live("an edit of a message the id map does not hold is NotFound, saying so; recorded ones are taken", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const outbox = yield* open(place, scripted, { worker: false })
      const error = yield* Effect.flip(outbox.submit({ ids: { externalMessageId: "nope" }, text: "x" }))
      assert.strictEqual(error._tag, "NotFound")
      assert.match(error.message, /the id map has no message "nope"/)
      yield* outbox.record({ ids: ids(1) })
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "first", source: "agent" })
      assert.deepStrictEqual(receipt, { provider: "scripted", account: "acme", externalMessageId: "m-1", version: 1 })
      const second = yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "second" })
      assert.strictEqual(second.version, 2)
      const history = yield* outbox.history("m-1")
      assert.deepStrictEqual(history?.ids, ids(1))
      assert.deepStrictEqual(
        history?.versions.map((v) => [v.version, v.text, v.source, v.status]),
        [
          [1, "first", "agent", "pending"],
          [2, "second", undefined, "pending"]
        ]
      )
      assert.strictEqual(scripted.calls, 0, "submit sends nothing")
      const invalid = yield* Effect.flip(outbox.submit({ ids: { externalMessageId: "m-1" }, text: "" }))
      assert.strictEqual(invalid._tag, "EditError")
    }).pipe(Effect.scoped)
  )

  it.live("with unknownMessages: record, an unknown message is recorded from the edit's ids", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const outbox = yield* open(place, scripted, { unknownMessages: "record" })
      yield* outbox.submit({ ids: ids(7), text: "hello" })
      const left = yield* outbox.drain({ timeout: "10 seconds" })
      assert.deepStrictEqual(left, { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("m-7"), "hello")
    }).pipe(Effect.scoped)
  )

  it.live("many quick edits of one message: only the newest is sent, older versions are superseded", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const outbox = yield* open(place, scripted, { worker: false })
      yield* outbox.record({ ids: ids(1) })
      for (let v = 1; v <= 10; v++) yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: `v${v}` })
      const running = yield* Effect.forkScoped(outbox.runWorker)
      const left = yield* outbox.drain({ timeout: "10 seconds" })
      assert.deepStrictEqual(left, { pending: 0, failed: 0 })
      assert.deepStrictEqual(scripted.history.get("m-1"), ["v10"])
      const history = yield* outbox.history("m-1")
      assert.deepStrictEqual(
        history?.versions.map((v) => v.status),
        [...Array.from({ length: 9 }, () => "superseded"), "confirmed"]
      )
      assert.strictEqual(history?.confirmedVersion, 10)
      assert.strictEqual(history?.versions[9]?.attempts[0]?.outcome, "confirmed")
      void running
    }).pipe(Effect.scoped)
  )

  it.live("a permanent failure is a dead letter with its reason, listed, and delivered after a re-drive", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      scripted.missing.add("m-2")
      const outbox = yield* open(place, scripted)
      yield* outbox.record({ ids: ids(1) })
      yield* outbox.record({ ids: ids(2) })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "fine" })
      yield* outbox.submit({ ids: { externalMessageId: "m-2" }, text: "lost" })
      const left = yield* outbox.drain({ timeout: "10 seconds" })
      assert.deepStrictEqual(left, { pending: 0, failed: 1 })
      const failed = yield* outbox.failed()
      assert.deepStrictEqual(
        failed.map((entry) => entry.ids.externalMessageId),
        ["m-2"]
      )
      assert.match(failed[0]?.lastReason ?? "", /^NotFound: /)
      const history = yield* outbox.history("m-2")
      assert.strictEqual(history?.versions[0]?.status, "failed")
      assert.strictEqual(history?.versions[0]?.attempts[0]?.outcome, "permanent")
      scripted.missing.delete("m-2")
      assert.strictEqual(yield* outbox.redrive(failed), 1)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("m-2"), "lost")
    }).pipe(Effect.scoped)
  )

  it.live("a retryable failure stays pending with a next-attempt time, then lands", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      scripted.faults.push("rateLimited", "rateLimited")
      // A retry 1.5 s after each failure: room to look at the first one on a loaded machine.
      const outbox = yield* open(place, scripted, { retry: { initialDelay: 1_500, maxDelay: 1_500, jitter: false } })
      yield* outbox.record({ ids: ids(1) })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "later" })
      let pending = yield* outbox.pending()
      for (let n = 0; n < 500 && (pending[0]?.failures ?? 0) === 0; n++) {
        yield* Effect.sleep("10 millis")
        pending = yield* outbox.pending()
      }
      assert.strictEqual(pending.length, 1)
      assert.strictEqual(pending[0]?.failures, 1)
      assert.ok((pending[0]?.nextAttemptAt?.getTime() ?? 0) > Date.now(), "the next attempt is in the future")
      assert.match(pending[0]?.lastReason ?? "", /^RateLimited/)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      const history = yield* outbox.history("m-1")
      assert.deepStrictEqual(
        history?.versions[0]?.attempts.map((a) => a.outcome),
        ["retryable", "retryable", "confirmed"]
      )
    }).pipe(Effect.scoped)
  )

  it.live("after a timeout, the newest text is sent again once the settle window has passed", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      scripted.faults.push("timeout")
      // A settle window far longer than v2's first send takes on a loaded machine: that send is then confirmed
      // inside it, and the newest text goes once more after it.
      const outbox = yield* open(place, scripted, { settleWindow: "3 seconds" })
      yield* outbox.record({ ids: ids(1) })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "v1" })
      // v1's attempt has been made (and timed out) before v2 comes, however slow the machine.
      for (let n = 0; n < 500 && scripted.calls === 0; n++) yield* Effect.sleep("10 millis")
      yield* Effect.sleep("60 millis")
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "v2" })
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("m-1"), "v2")
      const attempts = ((yield* outbox.history("m-1"))?.versions ?? []).flatMap((v) =>
        v.attempts.map((a) => ({ version: v.version, ...a }))
      )
      const unknown = attempts.find((a) => a.outcome === "unknown")
      const last = attempts[attempts.length - 1]
      assert.strictEqual(unknown?.version, 1)
      assert.strictEqual(last?.version, 2)
      assert.strictEqual(last?.outcome, "confirmed")
      // The newest text went out once the timed-out attempt could no longer land after it.
      assert.ok(
        (last?.startedAt.getTime() ?? 0) >= (unknown?.finishedAt?.getTime() ?? Infinity) + 3_000,
        "the last send waits for the settle window"
      )
    }).pipe(Effect.scoped)
  )

  it.live("a confirmed edit after a timeout is sent once more after the settle window", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      scripted.faults.push("timeout")
      // The retry is confirmed inside the settle window however loaded the machine: then it is sent once more.
      const outbox = yield* open(place, scripted, { settleWindow: "3 seconds" })
      yield* outbox.record({ ids: ids(1) })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "v1" })
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      assert.deepStrictEqual(scripted.history.get("m-1"), ["v1", "v1"])
      const outcomes = (yield* outbox.history("m-1"))?.versions[0]?.attempts.map((a) => a.outcome)
      assert.deepStrictEqual(outcomes, ["unknown", "confirmed", "confirmed"])
    }).pipe(Effect.scoped)
  )

  it.live("with keepText: false, the journal keeps only each text's hash once delivered", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const outbox = yield* open(place, scripted, {
        keepText: false,
        textHashKey: Redacted.make("a key of the app, 32 characters.")
      })
      yield* outbox.record({ ids: ids(1) })
      yield* outbox.submit({ ids: { externalMessageId: "m-1" }, text: "secret plan" })
      yield* outbox.drain({ timeout: "10 seconds" })
      assert.strictEqual(scripted.texts.get("m-1"), "secret plan")
      const version = (yield* outbox.history("m-1"))?.versions[0]
      assert.strictEqual(version?.text, undefined)
      assert.match(version?.textHash ?? "", /^hmac-sha256:[0-9a-f]{64}$/)
      const dump = yield* Effect.scoped(
        Effect.flatMap(Layer.build(place.client()), (context) =>
          Effect.provide(
            Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM ${sql(`${place.prefix}edits`)}`),
            context
          )
        )
      ).pipe(Effect.orElseSucceed(() => []))
      if (database.durable)
        assert.notInclude(
          JSON.stringify(dump, (_, v) => (typeof v === "bigint" ? String(v) : v)),
          "secret plan"
        )
    }).pipe(Effect.scoped)
  )

  it.live("pending deliveries resume after a restart", () =>
    Effect.gen(function* () {
      if (!database.durable) return
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const outbox = yield* open(place, scripted, { worker: false })
          for (let n = 0; n < 50; n++) {
            yield* outbox.record({ ids: ids(n) })
            yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: `a${n}` })
            yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: `b${n}` })
          }
        })
      )
      assert.strictEqual(scripted.calls, 0)
      const outbox = yield* open(place, scripted)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      for (let n = 0; n < 50; n++) assert.strictEqual(scripted.texts.get(`m-${n}`), `b${n}`)
    }).pipe(Effect.scoped)
  )

  it.live("two workers on one database deliver each message once, newest text", () =>
    Effect.gen(function* () {
      if (!database.durable) return
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      scripted.delayMs = 5
      const first = yield* open(place, scripted, { worker: false, batchSize: 10 })
      for (let n = 0; n < 100; n++) {
        yield* first.record({ ids: ids(n) })
        yield* first.submit({ ids: { externalMessageId: `m-${n}` }, text: `t${n}` })
      }
      yield* open(place, scripted, { batchSize: 10 })
      yield* open(place, scripted, { batchSize: 10 })
      assert.deepStrictEqual(yield* first.drain({ timeout: "20 seconds" }), { pending: 0, failed: 0 })
      for (let n = 0; n < 100; n++) assert.deepStrictEqual(scripted.history.get(`m-${n}`), [`t${n}`])
    }).pipe(Effect.scoped)
  )

  it.live("pending and failed list page by page, by provider and age", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const scripted = ScriptedEditor.make()
      const outbox = yield* open(place, scripted, { worker: false })
      for (let n = 0; n < 25; n++) {
        yield* outbox.record({ ids: ids(n) })
        yield* outbox.submit({ ids: { externalMessageId: `m-${n}` }, text: "x" })
      }
      const first = yield* outbox.pending({ limit: 10 })
      const second = yield* outbox.pending({ limit: 10, after: first[first.length - 1] })
      assert.strictEqual(first.length, 10)
      assert.strictEqual(second.length, 10)
      assert.strictEqual(new Set([...first, ...second].map((e) => e.ids.externalMessageId)).size, 20)
      const streamed = yield* Effect.map(
        Effect.flatMap(Effect.succeed(outbox.stream("pending", { limit: 7 })), (s) =>
          Effect.scoped(
            Effect.map(
              Effect.promise(() => Promise.resolve(s)),
              (x) => x
            )
          )
        ),
        (s) => s
      )
      const { Stream } = yield* Effect.promise(() => import("effect"))
      const all = yield* Stream.runCollect(streamed)
      assert.strictEqual(all.length, 25)
      assert.strictEqual((yield* outbox.pending({ provider: "other" })).length, 0)
      assert.strictEqual((yield* outbox.pending({ olderThan: "1 hour" })).length, 0)
      assert.deepStrictEqual(yield* outbox.counts, { pending: 25, failed: 0 })
    }).pipe(Effect.scoped)
  )
})
