/**
 * The outbox of many tenants: a database of schema 5 with rows migrates to
 * tenants (its rows are tenant `default`, delivered as before); each tenant's
 * edits go through its own editor from `editorsFor`; a tenant that cannot be
 * resolved dead-letters its own edits only; `failTenant` dead-letters a
 * tenant's pending edits once; and a quiet tenant's edit is claimed in the
 * first pages behind another tenant's backlog of 2,000. On SQLite and
 * PostgreSQL (PGlite, and the server when one is named).
 */
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

const fast = { pollInterval: "20 millis", settleWindow: "50 millis" } as const

/** A place holding an outbox of schema 5 with one delivered and one pending message (rows as 0.4 wrote them). */
const placeAtSchema5 = (database: Databases.TestDatabase) =>
  Effect.gen(function* () {
    const place = database.fresh()
    yield* Effect.scoped(
      Effect.flatMap(Layer.build(place.client()), (context) =>
        Effect.provide(
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const t = Schema.tables(place.prefix)
            yield* Schema.prepare(t, 5)
            const message = (id: string, state: string, latest: number, confirmed: number) => ({
              message_key: `scripted\u001fdefault\u001f${id}`,
              provider: "scripted",
              account: "default",
              external_message_id: id,
              provider_message_id: `p-${id}`,
              recorded_at: 1,
              latest_version: latest,
              confirmed_version: confirmed,
              state,
              next_attempt_at: state === "pending" ? 1 : null,
              updated_at: 1
            })
            yield* sql`INSERT INTO ${sql(t.messages)} ${sql.insert(message("wa-1", "idle", 1, 1))}`
            yield* sql`INSERT INTO ${sql(t.messages)} ${sql.insert(message("wa-2", "pending", 1, 0))}`
            for (const [id, status] of [
              ["wa-1", "confirmed"],
              ["wa-2", "pending"]
            ] as const) {
              yield* sql`INSERT INTO ${sql(t.edits)} ${sql.insert({
                message_key: `scripted\u001fdefault\u001f${id}`,
                version: 1,
                request: JSON.stringify({ text: `text of ${id}` }),
                text: `text of ${id}`,
                text_hash: "sha256:x",
                asked_at: 1,
                status
              })}`
            }
          }),
          context
        )
      )
    )
    return place
  })

const durable = Databases.all.filter((database) => database.durable)

describe.each(durable)("tenants on $name", (database) => {
  it.live("a schema-5 database migrates: its rows are tenant default, listed, delivered and edited as before", () =>
    Effect.gen(function* () {
      const place = yield* placeAtSchema5(database)
      const scripted = ScriptedEditor.make()
      const context = yield* Layer.build(place.client())
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: scripted.editor }], { tablePrefix: place.prefix, ...fast }),
        context
      )
      const sql = yield* Effect.provide(SqlClient.SqlClient, context)
      const ids = yield* Effect.orDie(sql`SELECT migration_id FROM ${sql(`${place.prefix}migrations`)}`)
      assert.deepStrictEqual(ids.map((row) => Number(row.migration_id)).sort(), [1, 2, 3, 4, 5, 6])
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      assert.strictEqual(scripted.texts.get("wa-2"), "text of wa-2")
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "second" })
      assert.deepStrictEqual(receipt, {
        provider: "scripted",
        account: "default",
        externalMessageId: "wa-1",
        version: 2
      })
      const history = yield* outbox.history("wa-1", { tenant: "default" })
      assert.deepStrictEqual(
        history?.versions.map((v) => v.text),
        ["text of wa-1", "second"]
      )
      assert.strictEqual(history?.tenant, undefined)
      // The same external id in another tenant is another message.
      yield* outbox.record({ tenant: "portal-b", ids: { externalMessageId: "wa-1" } })
      const journal = yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)
      const all = yield* journal.histories("wa-1")
      assert.deepStrictEqual(all.map((h) => h.tenant ?? "default").sort(), ["default", "portal-b"])
    }).pipe(Effect.scoped)
  )

  it.live("each tenant's edits go through its own editor; an unknown tenant's are dead letters naming why", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const a = ScriptedEditor.make()
      const b = ScriptedEditor.make()
      const editorsFor = (tenant: string) =>
        tenant === "a"
          ? Effect.succeed(a.editor)
          : tenant === "b"
            ? Effect.succeed([{ editor: b.editor }])
            : Effect.fail(new Error("no such tenant"))
      const context = yield* Layer.build(place.client())
      const outbox = yield* Effect.provide(
        Outbox.makeWith([], { tablePrefix: place.prefix, editorsFor, unknownMessages: "record", ...fast }),
        context
      )
      for (const tenant of ["a", "b", "gone"]) {
        const receipt = yield* outbox.submit({
          tenant,
          provider: "scripted",
          ids: { externalMessageId: "m-1" },
          text: `to ${tenant}`
        })
        assert.strictEqual(receipt.tenant, tenant)
      }
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 1 })
      assert.strictEqual(a.texts.get("m-1"), "to a")
      assert.strictEqual(b.texts.get("m-1"), "to b")
      const [dead, ...others] = yield* outbox.failed({ tenant: "gone" })
      assert.strictEqual(others.length, 0)
      assert.strictEqual(dead?.tenant, "gone")
      assert.match(dead?.lastReason ?? "", /tenant "gone": no such tenant/)
      assert.deepStrictEqual(yield* outbox.failed({ tenant: "a" }), [])
    }).pipe(Effect.scoped)
  )

  it.live("failTenant dead-letters a tenant's pending edits once, with its reason; other tenants' land", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      const a = ScriptedEditor.make()
      const context = yield* Layer.build(place.client())
      const outbox = yield* Effect.provide(
        Outbox.makeWith([{ editor: a.editor }], {
          tablePrefix: place.prefix,
          editorsFor: () => Effect.succeed(a.editor),
          unknownMessages: "record",
          worker: false
        }),
        context
      )
      for (const tenant of ["a", "b"]) {
        for (const n of [1, 2, 3]) yield* outbox.submit({ tenant, ids: { externalMessageId: `m-${n}` }, text: tenant })
      }
      const reason = "the portal uninstalled the application"
      assert.strictEqual(yield* outbox.failTenant("b", reason), 3)
      assert.strictEqual(yield* outbox.failTenant("b", reason), 0)
      const dead = yield* outbox.failed({ tenant: "b" })
      assert.deepStrictEqual(
        dead.map((entry) => [entry.ids.externalMessageId, entry.lastReason]),
        [
          ["m-1", reason],
          ["m-2", reason],
          ["m-3", reason]
        ]
      )
      const history = yield* outbox.history("m-1", { tenant: "b" })
      assert.deepStrictEqual(
        history?.versions.map((v) => v.status),
        ["failed"]
      )
      const totals = yield* (yield* Effect.provide(Outbox.makeJournal({ tablePrefix: place.prefix }), context)).totals()
      assert.deepStrictEqual(
        totals.map((t) => [t.tenant, t.pending, t.failed]),
        [
          ["a", 3, 0],
          ["b", 0, 3]
        ]
      )
      yield* Effect.forkScoped(outbox.runWorker)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 3 })
      assert.strictEqual(a.texts.get("m-3"), "a")
    }).pipe(Effect.scoped)
  )

  it.live(
    "a quiet tenant's edit is claimed in the first pages behind another tenant's backlog of 2,000",
    () =>
      Effect.gen(function* () {
        const place = database.fresh()
        const order: Array<string> = []
        const recording = (tenant: string) => {
          const scripted = ScriptedEditor.make()
          return {
            ...scripted.editor,
            updateMany: (requests: Parameters<typeof scripted.editor.updateMany>[0]) =>
              Effect.andThen(
                Effect.sync(() => {
                  for (const request of requests) order.push(`${tenant}:${request.ids.externalMessageId}`)
                }),
                scripted.editor.updateMany(requests)
              )
          }
        }
        const editors = { a: recording("a"), b: recording("b") } as Record<string, ReturnType<typeof recording>>
        const outbox = yield* Effect.provide(
          Outbox.makeWith([], {
            tablePrefix: place.prefix,
            editorsFor: (tenant) => Effect.succeed(editors[tenant] as ReturnType<typeof recording>),
            unknownMessages: "record",
            batchSize: 50,
            worker: false,
            ...fast
          }),
          yield* Layer.build(place.client())
        )
        const backlog = Array.from({ length: 2_000 }, (_, n) => ({
          tenant: "a",
          provider: "scripted",
          ids: { externalMessageId: `a-${n}` },
          text: "backlog"
        }))
        yield* outbox.submitMany(backlog)
        yield* outbox.submit({ tenant: "b", provider: "scripted", ids: { externalMessageId: "b-1" }, text: "quiet" })
        yield* Effect.forkScoped(outbox.runWorker)
        assert.deepStrictEqual(yield* outbox.drain({ timeout: "60 seconds" }), { pending: 0, failed: 0 })
        assert.strictEqual(order.length, 2_001)
        // Without fairness it would be last (2,001st): it is in the first page (two pages of 50 at most).
        assert.isAtMost(order.indexOf("b:b-1"), 100)
      }).pipe(Effect.scoped),
    120_000
  )
})
