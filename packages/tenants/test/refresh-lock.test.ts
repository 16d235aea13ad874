/**
 * The registry's token rows shared by processes: on PostgreSQL, two editors
 * of one tenant on separate pools (two "processes") that meet an expired
 * token at once refresh it once, and both go on; the lock's wait is bounded.
 * On every database, a stale save never lands over a newer pair (the
 * compare-and-swap on the row's version).
 */
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TenantEditors, TenantRegistry, TenantTokenStore } from "../src/index.ts"
import { appOf, ring } from "./support/app.ts"
import { databases, type Place, placeOn, startPglite, stopAll } from "./support/places.ts"

/**
 * PGlite (about 10 s to start on a loaded machine) runs here only beside the server, in `pnpm test:slow`:
 * `pnpm test` keeps this file to the SQLite case, in well under a second.
 */
const withServer = (process.env.REWORD_TEST_POSTGRES_URL ?? "") !== ""
const used = databases.filter((database) => withServer || !database.name.startsWith("PostgreSQL"))

let portals: Bitrix24Portals.Portals
beforeAll(async () => {
  if (withServer) await startPglite()
  portals = await Bitrix24Portals.start()
}, 120_000)
afterAll(async () => {
  await portals?.stop()
  await stopAll()
})

/** A registry and the editors over it, on a pool of their own: one "process". */
const processOn = (place: Place) =>
  TenantEditors.layer({ bitrix24: appOf(portals), editorOptions: { retry: { maxAttempts: 2 } } }).pipe(
    Layer.provideMerge(TenantRegistry.layer({ keys: ring, tablePrefix: place.prefix })),
    Layer.provide(place.client())
  )

const registered = (portal: Bitrix24Portals.Portal) =>
  Effect.flatMap(TenantRegistry.TenantRegistry, (registry) =>
    registry.register({
      tenant: portal.memberId,
      provider: "bitrix24",
      settings: {
        portalUrl: `${portal.url}/`,
        oauthUrl: portals.url,
        connector: "reword_sandbox",
        line: 1,
        plan: "standard",
        applicationTokenSha256: "0".repeat(64)
      },
      credentials: Redacted.make({
        accessToken: portal.tokens().accessToken,
        refreshToken: portal.tokens().refreshToken,
        oauthUrl: portals.url
      })
    })
  )

const update = (tenant: string, ids: object, text: string) =>
  Effect.exit(
    Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.update(tenant, { ids: ids as never, text }))
  )

/** The token requests the OAuth server received. */
const tokenRequests = () => portals.server.requests.filter((request) => request.path.startsWith("/oauth/token")).length

const postgres = used.filter((database) => database.name.startsWith("PostgreSQL"))

describe.each(postgres)("the refresh lock on $name", (database) => {
  it("two processes meeting an expired token at once refresh it once, and both edits land", async () => {
    const place = placeOn(database)
    const portal = portals.add()
    let tokenRequestsBefore = 0
    const [first, second] = await Promise.all([portal.seedMessage("one"), portal.seedMessage("two")])
    const outcome = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const a = yield* Layer.build(processOn(place))
          const b = yield* Layer.build(processOn(place))
          yield* Effect.provide(registered(portal), a)
          // Each process builds its editor (reading the pair) before the token expires.
          yield* Effect.provide(
            Effect.flatMap(TenantEditors.TenantEditors, (e) => e.editorFor(portal.memberId)),
            a
          )
          yield* Effect.provide(
            Effect.flatMap(TenantEditors.TenantEditors, (e) => e.editorFor(portal.memberId)),
            b
          )
          portal.expireAccessToken()
          tokenRequestsBefore = tokenRequests()
          return yield* Effect.all(
            [
              Effect.provide(update(portal.memberId, first, "one!"), a),
              Effect.provide(update(portal.memberId, second, "two!"), b)
            ],
            { concurrency: 2 }
          )
        })
      )
    )
    expect(outcome.map(Exit.isSuccess)).toEqual([true, true])
    expect(portal.inspect(first)?.text).toBe("one!")
    expect(portal.inspect(second)?.text).toBe("two!")
    expect(portal.refreshes()).toBe(1)
    // One token request in all: the other process read the pair the first stored, and asked for none.
    expect(tokenRequests() - tokenRequestsBefore).toBe(1)
  })

  if (database.name === "PostgreSQL server") {
    it("a lock held elsewhere past the wait fails with a retryable Busy, and the holder goes on", async () => {
      const place = placeOn(database)
      const portal = portals.add()
      const result = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const a = yield* Layer.build(processOn(place))
            const b = yield* Layer.build(processOn(place))
            const registry = (context: typeof a) =>
              Effect.provide(Effect.service(TenantRegistry.TenantRegistry), context)
            const ra = yield* registry(a)
            const rb = yield* registry(b)
            yield* Effect.provide(registered(portal), a)
            const lockA = ra.withLock as NonNullable<TenantRegistry.Service["withLock"]>
            const lockB = rb.withLock as NonNullable<TenantRegistry.Service["withLock"]>
            const holder = yield* Effect.forkChild(lockA(portal.memberId, Effect.sleep("1500 millis")))
            yield* Effect.sleep("300 millis")
            const started = Date.now()
            const busy = yield* Effect.exit(lockB(portal.memberId, Effect.void, { timeoutMs: 200 }))
            const waited = Date.now() - started
            const held = yield* Effect.exit(Fiber.join(holder))
            return { busy, waited, held }
          })
        )
      )
      expect(Exit.isFailure(result.busy) ? JSON.stringify(result.busy.cause) : "success").toContain('"Busy"')
      expect(result.waited).toBeLessThan(5_000)
      expect(Exit.isSuccess(result.held)).toBe(true)
    })
  }
})

describe.each(used)("the token row on $name", (database) => {
  it("a stale save never lands over a newer pair", async () => {
    const place = placeOn(database)
    const portal = portals.add()
    const stored = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(processOn(place))
          yield* Effect.provide(registered(portal), context)
          const registry = yield* Effect.provide(Effect.service(TenantRegistry.TenantRegistry), context)
          const stale = TenantTokenStore.make(registry, portal.memberId)
          const fresh = TenantTokenStore.make(registry, portal.memberId)
          yield* stale.load
          yield* fresh.load
          const pair = (n: string) => ({ accessToken: Redacted.make(`a-${n}`), refreshToken: Redacted.make(`r-${n}`) })
          yield* fresh.save(pair("newer"))
          const late = yield* Effect.exit(stale.save(pair("older")))
          const now = yield* fresh.load
          return { late, refresh: Option.map(now, (tokens) => Redacted.value(tokens.refreshToken)) }
        })
      )
    )
    expect(Exit.isFailure(stored.late)).toBe(true)
    expect(stored.refresh).toEqual(Option.some("r-newer"))
  })
})
