import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Effect, Exit, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AcquireAccounts, TenantEditors, TenantRegistry } from "../src/index.ts"
import { startApp, type TestApp } from "./support/app.ts"

let portals: Bitrix24Portals.Portals
const apps: Array<TestApp> = []

beforeAll(async () => {
  portals = await Bitrix24Portals.start()
})
afterAll(async () => {
  for (const app of apps) {
    await app.close()
    app.remove()
  }
  await portals?.stop()
})

const started = async (editors: Omit<TenantEditors.Options, "bitrix24">) => {
  const app = await startApp(portals, { editors })
  apps.push(app)
  return app
}

const installed = async (app: TestApp, count: number) => {
  const list: Array<Bitrix24Portals.Portal> = []
  for (let i = 0; i < count; i++) {
    const portal = portals.add()
    const answer = await portal.install(app.handlerUrl)
    expect(answer.status).toBe(200)
    list.push(portal)
  }
  return list
}

const update = (app: TestApp, tenant: string, ids: object, text: string) =>
  app.run(
    Effect.exit(
      Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.update(tenant, { ids: ids as never, text }))
    )
  )
const stats = (app: TestApp) => app.run(Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.stats))

/** Polls `check` until it holds, at most `tries` times 20 ms apart. */
const eventually = async (check: () => Promise<boolean>, tries = 500) => {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

describe("editorFor: an editor per tenant, on demand", () => {
  it("touching more tenants than the cache holds keeps at most its size alive, disposing the rest", async () => {
    const app = await started({ maxEditors: 3 })
    const list = await installed(app, 8)
    for (const portal of list) {
      const ids = await portal.seedMessage("draft")
      expect(Exit.isSuccess(await update(app, portal.memberId, ids, "final"))).toBe(true)
      expect(portal.inspect(ids)?.text).toBe("final")
      expect((await stats(app)).alive).toBeLessThanOrEqual(3)
    }
    expect(await eventually(async () => (await stats(app)).disposed === 5)).toBe(true)
    expect(await stats(app)).toEqual({ alive: 3, built: 8, disposed: 5 })
    // An evicted tenant is built again on its next use.
    const first = list[0] as Bitrix24Portals.Portal
    const ids = await first.seedMessage("again")
    expect(Exit.isSuccess(await update(app, first.memberId, ids, "again!"))).toBe(true)
    expect((await stats(app)).built).toBe(9)
  })

  it("one build per tenant however many ask at once; idle editors are retired", async () => {
    const app = await started({ maxEditors: 10, idleMs: 50 })
    const [portal] = await installed(app, 1)
    const memberId = (portal as Bitrix24Portals.Portal).memberId
    const editors = await app.run(
      Effect.flatMap(TenantEditors.TenantEditors, (cache) =>
        Effect.all(
          Array.from({ length: 20 }, () => cache.editorFor(memberId)),
          { concurrency: "unbounded" }
        )
      )
    )
    expect(new Set(editors).size).toBe(1)
    expect((await stats(app)).built).toBe(1)
    expect(await eventually(async () => (await stats(app)).alive === 0)).toBe(true)
    expect(await eventually(async () => (await stats(app)).disposed === 1)).toBe(true)
  })

  it("a tenant whose refresh token was revoked fails only its own edits (Unauthorized) while the others land", async () => {
    const app = await started({ maxEditors: 100 })
    const list = await installed(app, 6)
    const revoked = list[0] as Bitrix24Portals.Portal
    const seeded = await Promise.all(list.map((portal) => portal.seedMessage("before")))
    revoked.revokeRefreshToken()
    for (const portal of list.slice(1, 4)) portal.expireAccessToken()
    const exits = await Promise.all(list.map((portal, i) => update(app, portal.memberId, seeded[i] as object, "after")))
    const failed = exits.flatMap((exit, i) => (Exit.isFailure(exit) ? [i] : []))
    expect(failed).toEqual([0])
    expect(JSON.stringify((exits[0] as Exit.Failure<unknown, unknown>).cause)).toContain("Unauthorized")
    expect(list.slice(1).every((portal, i) => portal.inspect(seeded[i + 1] as object as never)?.text === "after")).toBe(
      true
    )
    // Each expired portal refreshed once, its own pair stored sealed in its own row.
    expect(list.slice(1, 4).map((portal) => portal.refreshes())).toEqual([1, 1, 1])
    const stored = await app.run(
      Effect.flatMap(TenantRegistry.TenantRegistry, (registry) =>
        registry.get((list[1] as Bitrix24Portals.Portal).memberId)
      )
    )
    const pair = Redacted.value(stored.credentials as Redacted.Redacted<Record<string, unknown>>)
    expect(pair.refreshToken).toBe((list[1] as Bitrix24Portals.Portal).tokens().refreshToken)
  })

  it("builds Acquire tenants' editors with their own key; a removed account is refused", async () => {
    const sandbox = await AcquireSandbox.start({ apiKey: "acq-tenant-key-1" })
    try {
      const app = await started({})
      const ids = await sandbox.seedMessage("Meet at 11.")
      await app.run(
        Effect.flatMap(TenantRegistry.TenantRegistry, (registry) =>
          AcquireAccounts.add(registry, {
            tenant: "acq-acme",
            accountId: "acme",
            apiKey: Redacted.make("acq-tenant-key-1"),
            baseUrl: sandbox.baseUrl,
            allowInsecureLoopback: true
          })
        )
      )
      expect(Exit.isSuccess(await update(app, "acq-acme", ids, "Meet at 10."))).toBe(true)
      expect(sandbox.inspect(ids)?.text).toBe("Meet at 10.")
      await app.run(
        Effect.flatMap(TenantRegistry.TenantRegistry, (registry) => AcquireAccounts.remove(registry, "acq-acme"))
      )
      await app.run(Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.retire("acq-acme")))
      const after = await update(app, "acq-acme", ids, "Meet at 9.")
      expect(JSON.stringify(Exit.isFailure(after) ? after.cause : "")).toContain("UnknownTenant")
    } finally {
      await sandbox.stop()
    }
  })
})
