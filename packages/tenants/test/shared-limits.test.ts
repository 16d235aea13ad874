/**
 * Many processes serving the same portals share each portal's bucket: `TenantEditors` takes a limiter per plan
 * (`PgRateLimiter` from `@reword/postgres`), and each portal keeps its own bucket in it, keyed by the portal. Two
 * caches (two processes, as far as the limiter knows) editing one portal at once get no limit answer; with a
 * limiter each, the same load meets the portal's limit.
 */

import type { RateLimiter } from "@reword/bitrix24"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { PgRateLimiter } from "@reword/postgres"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pgliteDatabase } from "../../outbox/test/support/databases.ts"
import { TenantEditors } from "../src/index.ts"
import { appOf, startApp, type TestApp } from "./support/app.ts"
import { startPglite, stopAll } from "./support/places.ts"

/**
 * The portal's bucket, and the limiters': 10 calls a second after a burst of 8; the limiters keep 3 in reserve
 * (`headroom`: a call whose process is busy leaves after its slot, into the next ones; with 20 calls a second and
 * 1 in reserve, a busy test run met one limit answer).
 */
const BUCKET = { drainPerSecond: 10, capacity: 8 }
const HEADROOM = 3
const CALLS_EACH = 12

let portals: Bitrix24Portals.Portals
const apps: Array<TestApp> = []

beforeAll(async () => {
  await startPglite()
  portals = await Bitrix24Portals.start()
}, 180_000)
afterAll(async () => {
  for (const app of apps) {
    await app.close()
    app.remove()
  }
  await portals?.stop()
  await stopAll()
})

let tables = 0
/** A PgRateLimiter on PGlite, on a table of its own unless `table` is given. */
const limiter = (table = `htenants_bucket_${process.pid}_${++tables}`): Promise<RateLimiter.Service> =>
  Effect.runPromise(
    Effect.provide(PgRateLimiter.make({ bucket: BUCKET, headroom: HEADROOM, table }), pgliteDatabase.fresh().client())
  )

/** Two caches over one registry, each with its limiter, edit `CALLS_EACH` messages each of one portal at once. */
const twoProcesses = async (first: RateLimiter.Service, second: RateLimiter.Service) => {
  const portal = portals.add({ bucket: BUCKET })
  const options = (rateLimiter: RateLimiter.Service) => ({
    bitrix24: appOf(portals),
    rateLimiters: { standard: rateLimiter },
    // One message a call: every edit is a call that meets the bucket (the portal counts its limit answers).
    editorOptions: { chunkSize: 1 } as never
  })
  const app = await startApp(portals, { editors: { editorOptions: options(first).editorOptions } })
  apps.push(app)
  expect((await portal.install(app.handlerUrl)).status).toBe(200)
  const messages: Array<object> = []
  for (let n = 0; n < 2 * CALLS_EACH; n++) messages.push(await portal.seedMessage(`message ${n}`))
  const exits = await app.run(
    Effect.scoped(
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        const a = yield* Scope.provide(TenantEditors.make(options(first)), scope)
        const b = yield* Scope.provide(TenantEditors.make(options(second)), scope)
        return yield* Effect.forEach(
          messages,
          (ids, n) => Effect.exit((n % 2 === 0 ? a : b).update(portal.memberId, { ids: ids as never, text: `v${n}` })),
          { concurrency: "unbounded" }
        )
      })
    )
  )
  return { portal, exits }
}

describe("a portal's bucket shared by many processes", () => {
  it("two caches on one PgRateLimiter edit one portal at once: every edit lands, no limit answer", async () => {
    const shared = await limiter()
    const { portal, exits } = await twoProcesses(shared, shared)
    expect(exits.filter(Exit.isFailure)).toEqual([])
    expect(portal.limitHits()).toBe(0)
  })

  it("with a limiter each (nothing shared), the same load meets the portal's limit", async () => {
    const { portal } = await twoProcesses(await limiter(), await limiter())
    expect(portal.limitHits()).toBeGreaterThan(0)
  })
})
