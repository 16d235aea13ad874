import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, type Bitrix24MessageEditor, type TokenStore } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Deferred, Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PgTokenStore from "../src/PgTokenStore.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const PORTAL = "https://acme.bitrix24.com/rest/"
const APP = "local.0123abcd.4567"

const pair = (n: number, extra: Partial<TokenStore.Tokens> = {}): TokenStore.Tokens => ({
  accessToken: Redacted.make(`access-${n}-0123456789abcdef`),
  refreshToken: Redacted.make(`refresh-${n}-0123456789abcdef`),
  ...extra
})

const plain = (tokens: Option.Option<TokenStore.Tokens>) =>
  Option.map(tokens, (t) => ({
    access: Redacted.value(t.accessToken),
    refresh: Redacted.value(t.refreshToken),
    expiresAt: t.expiresAt,
    oauthUrl: t.oauthUrl
  }))

/** A store in a fresh table of `database`, on a client of its own (a "process"). */
const storeOn = (database: Databases.TestDatabase) => {
  const place = database.fresh()
  const table = `${place.prefix}tokens`
  return {
    table,
    open: (options: Partial<PgTokenStore.Options> = {}) =>
      Effect.flatMap(Layer.build(place.client()), (context) =>
        Effect.provide(PgTokenStore.make({ portal: PORTAL, app: APP, table, ...options }), context)
      )
  }
}

describe.each(Databases.all)("PgTokenStore on $name", (database) => {
  it.effect("an empty row loads as none; a saved pair loads back whole, keyed by the portal's origin and the app", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      const store = yield* place.open()
      assert.isTrue(Option.isNone(yield* store.load))
      yield* store.save(pair(1, { expiresAt: 1_900_000_000, oauthUrl: "https://oauth.bitrix.info" }))
      const other = yield* place.open({ portal: "https://acme.bitrix24.com" })
      assert.deepStrictEqual(
        plain(yield* other.load),
        Option.some({
          access: "access-1-0123456789abcdef",
          refresh: "refresh-1-0123456789abcdef",
          expiresAt: 1_900_000_000,
          oauthUrl: "https://oauth.bitrix.info"
        })
      )
      // Another application on the same portal has its own row.
      const otherApp = yield* place.open({ app: "local.other.app" })
      assert.isTrue(Option.isNone(yield* otherApp.load))
    }).pipe(Effect.scoped)
  )

  it.effect("saves are compare-and-swap on the pair they replace: a stale write never lands over a newer pair", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      const a = yield* place.open()
      const b = yield* place.open()
      yield* a.load
      yield* b.load
      yield* a.save(pair(1))
      // b read an empty row: the row now holds a's pair, which b never saw.
      const refused = yield* Effect.flip(b.save(pair(2)))
      assert.include(refused.message, "another process stored another pair")
      assert.notInclude(refused.message, "refresh-2")
      assert.strictEqual(Option.getOrThrow(plain(yield* a.load)).refresh, "refresh-1-0123456789abcdef")
      // Once b has read a's pair, it may replace it.
      yield* b.load
      yield* b.save(pair(2))
      // a's late write of the pair it had (now replaced) is refused; the newer pair stays.
      yield* Effect.flip(a.save(pair(1)))
      assert.strictEqual(Option.getOrThrow(plain(yield* b.load)).refresh, "refresh-2-0123456789abcdef")
      // Saving the pair the row already holds is no conflict (a retried save that had landed).
      yield* b.save(pair(2))
      yield* a.load
      yield* a.save(pair(2))
    }).pipe(Effect.scoped)
  )

  it.effect("a store that never read the row does not write over it", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      const a = yield* place.open()
      yield* a.load
      yield* a.save(pair(1))
      const blind = yield* place.open()
      const refused = yield* Effect.flip(blind.save(pair(9)))
      assert.include(refused.message, "never read it")
    }).pipe(Effect.scoped)
  )

  it.effect("bad options are a TokenStoreError naming the option", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      assert.include((yield* Effect.flip(place.open({ table: "Bad-Name" }))).message, "table")
      assert.include((yield* Effect.flip(place.open({ portal: "not a url" }))).message, "portal")
      assert.include((yield* Effect.flip(place.open({ app: "" }))).message, "app")
    }).pipe(Effect.scoped)
  )
})

const server = Databases.server
describe.skipIf(server === undefined)("PgTokenStore's refresh lock (PostgreSQL server: two sessions)", () => {
  const database = server as Databases.TestDatabase

  it.live("one process at a time holds the lock; another waits, then goes on", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      const a = yield* place.open()
      const b = yield* place.open()
      const events: Array<string> = []
      const release = yield* Deferred.make<void>()
      const held = yield* Deferred.make<void>()
      const first = yield* Effect.forkChild(
        (a.withRefreshLock ?? ((e) => e))(
          Effect.gen(function* () {
            events.push("a in")
            yield* Deferred.succeed(held, undefined)
            yield* Deferred.await(release)
            events.push("a out")
          })
        )
      )
      yield* Deferred.await(held)
      const second = yield* Effect.forkChild((b.withRefreshLock ?? ((e) => e))(Effect.sync(() => events.push("b in"))))
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual(events, ["a in"])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.deepStrictEqual(events, ["a in", "a out", "b in"])
    }).pipe(Effect.scoped)
  )

  it.live("a wait longer than lockTimeout is a TokenStoreError (timedOut), and the holder is not disturbed", () =>
    Effect.gen(function* () {
      const place = storeOn(database)
      const a = yield* place.open()
      const b = yield* place.open({ lockTimeout: "200 millis" })
      const release = yield* Deferred.make<void>()
      const held = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        (a.withRefreshLock ?? ((e) => e))(Effect.andThen(Deferred.succeed(held, undefined), Deferred.await(release)))
      )
      yield* Deferred.await(held)
      const exit = yield* Effect.exit((b.withRefreshLock ?? ((e) => e))(Effect.void))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip((b.withRefreshLock ?? ((e) => e))(Effect.void))
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual((error as TokenStore.TokenStoreError).timedOut, true)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      // Released: b takes it now.
      yield* (b.withRefreshLock ?? ((e) => e))(Effect.void)
    }).pipe(Effect.scoped)
  )

  it.live("two editors on separate pools meet an expired token at once: exactly one refresh, both go on", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const place = storeOn(database)
      const editors: Array<Bitrix24MessageEditor.Service> = []
      for (let n = 0; n < 2; n++) {
        const tokenStore = yield* place.open({ portal: sandbox.url, app: sandbox.clientId })
        editors.push(yield* Bitrix24.make(sandbox.settings, { tokenStore, retry: { maxAttempts: 1 } }))
      }
      const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      for (let round = 1; round <= 3; round++) {
        sandbox.expireAccessToken()
        yield* Effect.all(
          editors.flatMap((editor, n) =>
            [0, 1, 2].map((k) => editor.update({ ids, text: `round ${round} editor ${n} call ${k}` }))
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(sandbox.refreshes(), round)
      }
      assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
      // The row holds the pair the OAuth server issued last.
      const reader = yield* place.open({ portal: sandbox.url, app: sandbox.clientId })
      assert.strictEqual(Option.getOrThrow(plain(yield* reader.load)).refresh, sandbox.tokens().refreshToken)
    }).pipe(Effect.scoped)
  )
})
