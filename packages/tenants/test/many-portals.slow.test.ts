/**
 * The end-to-end case, on the PostgreSQL server of
 * `REWORD_TEST_POSTGRES_URL` (and on a SQLite file): portals install, edit
 * and uninstall through the lifecycle route; a revoked tenant fails only its
 * own edits while 50 others land; a restart keeps every tenant; key rotation
 * re-wraps without losing one; `pg_dump` of the tables finds no token.
 */
import { execFileSync } from "node:child_process"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { KeyRing, TenantEditors, TenantRegistry } from "../src/index.ts"
import { ring, startApp, type TestApp } from "./support/app.ts"
import { databases, encodings, placeOn, secretsInFiles, stopAll } from "./support/places.ts"

let portals: Bitrix24Portals.Portals
beforeAll(async () => {
  portals = await Bitrix24Portals.start()
})
afterAll(async () => {
  await portals?.stop()
  await stopAll()
})

const serverUrl = process.env.REWORD_TEST_POSTGRES_URL
const places = databases.filter((database) => database.name !== "PostgreSQL (PGlite)")

const update = (app: TestApp, tenant: string, ids: object, text: string) =>
  app.run(
    Effect.exit(
      Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.update(tenant, { ids: ids as never, text }))
    )
  )

const rotate = (place: ReturnType<typeof placeOn>, keys: unknown) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(TenantRegistry.make({ keys, tablePrefix: place.prefix }), (registry) => registry.rotate).pipe(
        Effect.provide(place.client())
      )
    )
  )

describe.each(places)("many portals on $name", (database) => {
  it("install, edit, uninstall; a revoked tenant fails alone; restart and rotation keep every tenant; no token stored", async () => {
    const place = placeOn(database)
    const options = { client: place.client(), prefix: place.prefix, filename: place.filename }
    const app = await startApp(portals, options)
    const list: Array<Bitrix24Portals.Portal> = []
    for (let i = 0; i < 52; i++) {
      const portal = portals.add()
      expect((await portal.install(app.handlerUrl)).status).toBe(200)
      list.push(portal)
    }
    const [revoked, leaving, ...others] = list as [
      Bitrix24Portals.Portal,
      Bitrix24Portals.Portal,
      ...Array<Bitrix24Portals.Portal>
    ]
    const seeded = await Promise.all(list.map((portal) => portal.seedMessage("before")))
    revoked.revokeRefreshToken()
    for (const portal of others.slice(0, 25)) portal.expireAccessToken()
    const exits = await Promise.all(list.map((portal, i) => update(app, portal.memberId, seeded[i] as object, "after")))
    expect(exits.flatMap((exit, i) => (Exit.isFailure(exit) ? [i] : []))).toEqual([0])
    expect(JSON.stringify((exits[0] as Exit.Failure<unknown, unknown>).cause)).toContain("Unauthorized")
    expect(others.every((portal, i) => portal.inspect(seeded[i + 2] as never)?.text === "after")).toBe(true)

    expect((await leaving.uninstall(app.handlerUrl, { clean: true })).status).toBe(200)
    const refused = await update(app, leaving.memberId, seeded[1] as object, "after uninstall")
    expect(JSON.stringify(Exit.isFailure(refused) ? refused.cause : "")).toContain("NotActive")
    await app.close()

    // Key rotation re-wraps every data key (the uninstalled tenant has none left); the old key can then go.
    const k2 = KeyRing.generateKey()
    expect(await rotate(place, { current: "k2", keys: { ...ring.keys, k2 } })).toBe(51)
    const onlyNew = { current: "k2", keys: { k2 } }
    const tenants = await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(TenantRegistry.make({ keys: onlyNew, tablePrefix: place.prefix }), (registry) =>
          Effect.all([
            registry.list({ limit: 1000 }),
            Effect.forEach(others, (portal) => registry.get(portal.memberId))
          ])
        ).pipe(Effect.provide(place.client()))
      )
    )
    expect(tenants[0].filter((tenant) => tenant.state === "active").length).toBe(51)
    expect(tenants[1].every((tenant) => tenant.credentials !== undefined)).toBe(true)

    // A restart (on the old ring's current key k1, now missing from the rows) reads nothing: with k2 it does.
    const restarted = await startApp(portals, { ...options, client: place.client() })
    const again = others[0] as Bitrix24Portals.Portal
    const exit = await update(restarted, again.memberId, seeded[2] as object, "after restart")
    expect(JSON.stringify(Exit.isFailure(exit) ? exit.cause : "")).toContain("KeyMissing")
    await restarted.close()

    const tokens = list.flatMap((portal) => [
      portal.tokens().accessToken,
      portal.tokens().refreshToken,
      portal.applicationToken
    ])
    if (place.filename === undefined && serverUrl !== undefined) {
      const dump = execFileSync("pg_dump", ["--data-only", `--table=${place.prefix}*`, serverUrl], {
        encoding: "latin1",
        maxBuffer: 64 * 1024 * 1024
      })
      expect(dump).toContain(leaving.memberId)
      expect(tokens.filter((token) => encodings(token).some((form) => dump.includes(form)))).toEqual([])
    } else if (place.filename !== undefined) {
      expect(secretsInFiles(place.filename, tokens)).toEqual([])
    }
    app.remove()
  })
})
