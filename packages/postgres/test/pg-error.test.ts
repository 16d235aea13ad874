/**
 * One error model (issue 19): `@reword/postgres`'s setup fails with a `PgError` carrying a reason class
 * (`InvalidOptions`, `Unavailable`, `Denied`, `Timeout`, `Failed`), each with `isRetryable`, that serialises
 * with its name, message and reason, as core's `EditError` and the outbox's `StorageError` do.
 */
import { createServer } from "node:net"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { PgError, PgRateLimiter } from "@reword/postgres"
import { Effect, Redacted } from "effect"

const serialised = (error: unknown) => JSON.parse(JSON.stringify(error)) as Record<string, unknown>

describe("PgError", () => {
  it.effect.each([
    [{ table: "Bad Name" }, /table must be a PostgreSQL name/],
    [{ bucket: { drainPerSecond: 0, capacity: 5 } }, /drainPerSecond/]
  ] as const)("wrong options %j are an InvalidOptions PgError, before the database is asked", ([options, message]) =>
    Effect.gen(function* () {
      // No PostgreSQL at all (a closed port): the options are refused before anything connects.
      const client = PgClient.layer({ url: Redacted.make("postgres://reword@127.0.0.1:1/reword") })
      const error = yield* Effect.flip(Effect.provide(PgRateLimiter.make(options as PgRateLimiter.Options), client))
      assert.instanceOf(error, PgError.PgError)
      assert.strictEqual(error.reason._tag, "InvalidOptions")
      assert.isFalse(error.reason.isRetryable)
      assert.match(error.message, message)
      assert.deepInclude(serialised(error), { _tag: "PgError", name: "PgError" })
      assert.deepInclude(serialised(error).reason as object, { _tag: "InvalidOptions", isRetryable: false })
    }).pipe(Effect.scoped)
  )

  it.live("a database that does not answer is an Unavailable PgError, retryable, without the URL", () =>
    Effect.gen(function* () {
      // A port that accepts and closes at once: no PostgreSQL there.
      const server = createServer((socket) => socket.destroy())
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
      yield* Effect.addFinalizer(() =>
        Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
      )
      const { port } = server.address() as { readonly port: number }
      const url = Redacted.make(`postgres://reword:s3cret-password@127.0.0.1:${port}/reword`)
      const client = PgClient.layer({ url, connectTimeout: "5 seconds" })
      const error = yield* Effect.flip(
        Effect.provide(PgRateLimiter.make({ table: "reword_pg_error_buckets" }), client).pipe(
          Effect.mapError((error) => error as unknown)
        )
      )
      assert.instanceOf(error, PgError.PgError)
      const pgError = error as PgError.PgError
      assert.strictEqual(pgError.reason._tag, "Unavailable")
      assert.isTrue(pgError.reason.isRetryable)
      assert.notInclude(JSON.stringify(pgError), "s3cret-password")
      assert.notInclude(pgError.message, "s3cret-password")
    }).pipe(Effect.scoped)
  )

  it("maps each SQLSTATE class to its reason", () => {
    const of = (code: string) => PgError.reasonOf({ cause: { code } }, "creating the table")._tag
    assert.strictEqual(of("08006"), "Unavailable")
    assert.strictEqual(of("57P01"), "Unavailable")
    assert.strictEqual(of("28P01"), "Denied")
    assert.strictEqual(of("42501"), "Denied")
    assert.strictEqual(of("57014"), "Timeout")
    assert.strictEqual(of("55P03"), "Timeout")
    assert.strictEqual(of("23505"), "Failed")
    assert.strictEqual(PgError.reasonOf(new Error("ECONNREFUSED"), "connecting")._tag, "Unavailable")
    assert.match(
      PgError.fromSql({ code: "42P07" }, "creating the table").message,
      /creating the table \(SQLSTATE 42P07\)/
    )
  })
})
