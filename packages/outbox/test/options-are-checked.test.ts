/**
 * The outbox's options are one Schema, decoded once where the outbox is built:
 * every wrong value is a configuration error naming the field, before the
 * database is touched; an unknown key is refused with a "did you mean".
 */
import { assert, describe, it } from "@effect/vitest"
import { InMemoryEditor } from "@reword/core"
import { Effect, Layer } from "effect"
import { afterAll, expect } from "vitest"
import * as OutboxOptions from "../src/internal/options.ts"
import * as Outbox from "../src/Outbox.ts"
import { ConfigurationError, createOutbox } from "../src/promise.ts"
import * as Databases from "./support/databases.ts"

afterAll(Databases.stopAll)

const editor = InMemoryEditor.make(InMemoryEditor.makeStore())

/** The configuration error building an outbox with these options fails with (on a fresh SQLite file). */
const refusal = (options: unknown) =>
  Effect.gen(function* () {
    const place = Databases.sqliteFile.fresh()
    const context = yield* Layer.build(place.client())
    const error = yield* Effect.flip(Effect.provide(Outbox.makeWith([{ editor }], options as Outbox.Options), context))
    assert.strictEqual(error._tag, "ConfigError")
    return error.message
  }).pipe(Effect.scoped)

describe("outbox options", () => {
  it.effect.each([
    [{ lease: Number.NaN }, /lease must be a duration .*got NaN/],
    [{ lease: "-5 seconds" }, /lease must be a duration/],
    [{ pollInterval: 0 }, /pollInterval must be a duration .*at least 10 ms.*got 0/],
    [{ batchSize: Number.NaN }, /batchSize must be an integer from 1 to 1000 \(got NaN\)/],
    [{ batchSize: 50_000 }, /batchSize must be an integer from 1 to 1000 \(got 50000\)/],
    [{ settleWindow: Number.POSITIVE_INFINITY }, /settleWindow must be a duration/],
    [{ tablePrefix: "Prod-Outbox" }, /tablePrefix.*must be lowercase letters/],
    [{ keepText: "no" }, /keepText/],
    [{ unknownMessages: "create" }, /unknownMessages/],
    [{ retry: { maxAttempts: 0 } }, /retry\.maxAttempts must be an integer/],
    [{ workerId: "w\u0000" }, /workerId.*control characters/],
    [{ leese: "1 minute" }, /leese.*is not an option \(did you mean lease\?\)/],
    [{ PollInterval: "1 second" }, /did you mean pollInterval\?/],
    [{ editors: [] }, /editors.*at least one editor/]
  ] as const)("%o is refused, naming the field", ([options, expected]) =>
    Effect.gen(function* () {
      assert.match(yield* refusal(options), expected)
    })
  )

  it.effect("every problem is named at once", () =>
    Effect.gen(function* () {
      const message = yield* refusal({ lease: Number.NaN, batchSize: 0, pollInterval: 0 })
      assert.match(message, /Invalid options: /)
      for (const field of ["lease", "batchSize", "pollInterval"]) assert.include(message, field)
    })
  )

  it.effect("two editors of one provider and account are refused", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.scoped(
          Effect.flatMap(Layer.build(Databases.sqliteMemory.fresh().client()), (context) =>
            Effect.provide(Outbox.makeWith([{ editor }, { editor, account: "default" }]), context)
          )
        )
      )
      assert.match(error.message, /editors.*one editor per provider and account/)
    })
  )

  it("decodes the defaults and durations once", () => {
    const decoded = OutboxOptions.decodeResult({ lease: "2 minutes", pollInterval: 250 })
    assert.isTrue(decoded._tag === "Success")
    if (decoded._tag !== "Success") return
    expect(decoded.success).toMatchObject({
      tablePrefix: "reword_outbox_",
      keepText: true,
      unknownMessages: "reject",
      settleMs: 30_000,
      batchSize: 100,
      leaseMs: 120_000,
      pollMs: 250,
      worker: true
    })
  })

  it.effect("makeJournal checks its table prefix and refuses other options", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(Databases.sqliteMemory.fresh().client())
      const wrong = yield* Effect.flip(Effect.provide(Outbox.makeJournal({ tablePrefix: "A;DROP" }), context))
      assert.match(wrong.message, /tablePrefix/)
      const other = yield* Effect.flip(
        Effect.provide(Outbox.makeJournal({ tablePrefix: "x_", lease: 1 } as never), context)
      )
      assert.match(other.message, /lease.*is not an option/)
    }).pipe(Effect.scoped)
  )
})

describe("createOutbox options", () => {
  const rejection = async (options: unknown) => {
    const error = await createOutbox(options as never).then(
      () => assert.fail("createOutbox accepted wrong options"),
      (error: unknown) => error
    )
    assert.instanceOf(error, ConfigurationError)
    assert.strictEqual((error as Error).name, "ConfigurationError")
    return (error as Error).message
  }

  it("a pool of one connection, a misplaced key and a missing database are ConfigurationErrors", async () => {
    expect(
      await rejection({ editors: [{ editor }], database: { postgres: "postgres://h/db", maxConnections: 1 } })
    ).toMatch(/database\.maxConnections must be an integer from 2 to 1000 \(got 1\)/)
    expect(await rejection({ editors: [{ editor }], database: "x.db", synchronous: "FULL" })).toMatch(
      /synchronous.*it belongs in database: \{ sqlite, synchronous \}/
    )
    expect(await rejection({ editors: [{ editor }] })).toMatch(/database is required/)
    expect(await rejection({ database: ":memory:" })).toMatch(/providers is required/)
    expect(await rejection({ editors: [{ editor }], database: { sqlite: ":memory:", synchronus: "FULL" } })).toMatch(
      /database\.synchronus.*did you mean synchronous\?/
    )
    expect(await rejection({ editors: [{ editor }], database: ":memory:", lease: Number.NaN })).toMatch(/lease/)
    expect(await rejection(null)).toMatch(/\(options\) must be an object/)
  })

  it("a PostgreSQL URL is never repeated in a message", async () => {
    const message = await rejection({ editors: [{ editor }], database: { postgres: "mysql://u:s3cret@h/db" } })
    expect(message).toMatch(/database\.postgres must be a postgres:\/\/ URL/)
    expect(message).not.toContain("s3cret")
  })
})
