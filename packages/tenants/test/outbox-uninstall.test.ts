/**
 * The outbox routes by tenant on the multi-portal sandbox: two portals
 * install, edits to both are submitted, one uninstalls (ONAPPUNINSTALL): its
 * pending edits are dead letters naming why, idempotently, and the other's land.
 */
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Outbox } from "@reword/outbox"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TenantEditors } from "../src/index.ts"
import { startApp, type TestApp } from "./support/app.ts"

let portals: Bitrix24Portals.Portals
let app: TestApp

beforeAll(async () => {
  portals = await Bitrix24Portals.start()
  app = await startApp(portals, {
    outbox: {
      tablePrefix: "outbox_",
      unknownMessages: "record",
      worker: false,
      pollInterval: "20 millis",
      settleWindow: "50 millis"
    }
  })
})
afterAll(async () => {
  await app?.close()
  app?.remove()
  await portals?.stop()
})

/** The app's runtime holds the outbox (`startApp`'s `outbox` option): its type names the services it always has. */
const runOutbox = <A, E>(effect: Effect.Effect<A, E, Outbox.Outbox>) => app.run(effect as Effect.Effect<A, E>)
const withOutbox = <A, E>(use: (outbox: Outbox.Service) => Effect.Effect<A, E>) =>
  runOutbox(Effect.flatMap(Outbox.Outbox, use))
const drained = () =>
  runOutbox(
    Effect.flatMap(Outbox.Outbox, (outbox) =>
      Effect.scoped(Effect.andThen(Effect.forkScoped(outbox.runWorker), outbox.drain({ timeout: "30 seconds" })))
    )
  )

describe("the outbox of many portals", () => {
  it("an uninstalled portal's pending edits are dead letters naming why; the other portal's land", async () => {
    const kept = portals.add()
    const leaving = portals.add()
    for (const portal of [kept, leaving]) expect((await portal.install(app.handlerUrl)).status).toBe(200)
    const edits: Array<{ readonly portal: Bitrix24Portals.Portal; readonly ids: object }> = []
    for (const [portal, n] of [
      [kept, 1],
      [kept, 2],
      [leaving, 1],
      [leaving, 2]
    ] as const) {
      const ids = await portal.seedMessage(`Meet at ${n}.`)
      edits.push({ portal, ids })
      const receipt = await withOutbox((outbox) =>
        outbox.submit({
          tenant: portal.memberId,
          provider: "bitrix24",
          ids,
          text: `Meet at ${n + 10}.`
        })
      )
      expect(receipt.tenant).toBe(portal.memberId)
    }
    expect((await leaving.uninstall(app.handlerUrl, { clean: true })).status).toBe(200)
    const dead = await withOutbox((outbox) => outbox.failed({ tenant: leaving.memberId }))
    expect(dead.map((entry) => entry.lastReason)).toEqual([TenantEditors.UNINSTALLED, TenantEditors.UNINSTALLED])
    // A repeated uninstall changes nothing.
    expect((await leaving.uninstall(app.handlerUrl, { clean: true })).status).toBe(200)
    expect(await withOutbox((outbox) => outbox.failTenant(leaving.memberId, TenantEditors.UNINSTALLED))).toBe(0)

    const counts = await drained()
    expect(counts).toEqual({ pending: 0, failed: 2 })
    for (const { portal, ids } of edits) {
      const text = portal.inspect(ids as never)?.text
      if (portal === kept) expect(text).toMatch(/^Meet at 1[12]\.$/)
      else expect(text).toMatch(/^Meet at [12]\.$/)
    }
    // An edit submitted after the uninstall is a dead letter too, naming why.
    await withOutbox((outbox) =>
      outbox.submit({
        tenant: leaving.memberId,
        provider: "bitrix24",
        ids: edits[2]?.ids as never,
        text: "Too late."
      })
    )
    const late = await drained()
    expect(late).toEqual({ pending: 0, failed: 2 })
    const [first] = await withOutbox((outbox) => outbox.failed({ tenant: leaving.memberId }))
    expect(first?.lastReason).toContain(TenantEditors.UNINSTALLED)
  }, 60_000)
})
