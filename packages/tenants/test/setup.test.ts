/**
 * The setup an install runs on each portal (the multi-portal sandbox): the
 * connector registered, activated on the tenant's line, its events bound to
 * the app's handler, idempotently; a failed step leaves the tenant
 * registered, marked with the step's error, and is tried again.
 */
import { createServer, type Server } from "node:http"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { SandboxServer } from "@reword/core/sandbox"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Bitrix24Lifecycle, TenantEditors, TenantRegistry } from "../src/index.ts"
import { startApp, type TestApp } from "./support/app.ts"

let portals: Bitrix24Portals.Portals
let app: TestApp
let receiver: Server
let eventHandler: string
/** The connector events the app's event route received: the event name and the portal's member_id. */
const received: Array<{ readonly event: string; readonly memberId: string | null }> = []

beforeAll(async () => {
  portals = await Bitrix24Portals.start()
  receiver = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8")
    })
    request.on("end", () => {
      const fields = new URLSearchParams(body)
      received.push({ event: fields.get("event") ?? "", memberId: fields.get("auth[member_id]") })
      response.writeHead(200).end("{}")
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
  const address = receiver.address()
  eventHandler = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/bitrix24`
  app = await startApp(portals, {
    app: {
      placementHandler: "https://app.example.com/connector-settings",
      eventHandler,
      connectorName: "Reword sandbox"
    }
  })
})
afterAll(async () => {
  await app?.close()
  app?.remove()
  await new Promise<void>((resolve) => (receiver === undefined ? resolve() : receiver.close(() => resolve())))
  await portals?.stop()
})

const settingsOf = (memberId: string) =>
  app.run(Effect.flatMap(TenantRegistry.TenantRegistry, (registry) => registry.get(memberId))).then((t) => t.settings)
const edit = (memberId: string, ids: object, text: string) =>
  app.run(
    Effect.exit(
      Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.update(memberId, { ids: ids as never, text }))
    )
  )
const EVENTS = ["ONIMCONNECTORMESSAGEADD", "ONIMCONNECTORMESSAGEUPDATE", "ONIMCONNECTORMESSAGEDELETE"]

describe("the setup on install", () => {
  it("registers the connector, activates the line and binds the events on a fresh portal; its edits land", async () => {
    const portal = portals.add({ setUp: false })
    expect(portal.setup().activeLines).toEqual([])
    expect(JSON.parse((await portal.install(app.handlerUrl)).body)).toEqual({ result: "installed" })
    const setup = portal.setup()
    expect(setup.connectors).toEqual([
      {
        id: "reword_sandbox",
        name: "Reword sandbox",
        placementHandler: "https://app.example.com/connector-settings"
      }
    ])
    expect(setup.activeLines).toEqual([{ connector: "reword_sandbox", line: 1 }])
    expect(Object.keys(setup.events).sort()).toEqual([...EVENTS].sort())
    for (const event of EVENTS) expect(setup.events[event]).toEqual([eventHandler])
    expect(await settingsOf(portal.memberId)).toMatchObject({ setup: "done" })
    expect((await settingsOf(portal.memberId)).setupError).toBeUndefined()
    // The line is active: an edit lands.
    const ids = await portal.seedMessage("Meet at 11.")
    expect(Exit.isSuccess(await edit(portal.memberId, ids, "Meet at 10."))).toBe(true)
    expect(portal.inspect(ids)?.text).toBe("Meet at 10.")
    // The portal raises the operator's message to the handler the app bound.
    portal.operatorSends("wa-chat-1", "Hello")
    await portal.eventsSettled()
    expect(received).toContainEqual({ event: "ONIMCONNECTORMESSAGEADD", memberId: portal.memberId })
  })

  it("a repeated or a new install is a success: the connector is registered again, each event bound once", async () => {
    const portal = portals.add({ setUp: false })
    const event = portal.installEvent()
    const post = (fields: Readonly<Record<string, string>>) =>
      fetch(app.handlerUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields as Record<string, string>).toString()
      }).then(async (response) => ({ status: response.status, body: await response.json() }))
    expect(await post(event)).toEqual({ status: 200, body: { result: "installed" } })
    // The same event again: nothing to do, the setup is done.
    expect(await post(event)).toEqual({ status: 200, body: { result: "unchanged" } })
    expect(portal.calls("imconnector.register")).toBe(1)
    // A new install (a later ts): set up again; "Handler already binded" answers count as bound.
    expect(await post({ ...event, ts: String(Number(event.ts) + 10) })).toEqual({
      status: 200,
      body: { result: "installed" }
    })
    expect(portal.calls("imconnector.register")).toBe(2)
    expect(portal.calls("event.bind")).toBe(6)
    for (const name of EVENTS) expect(portal.setup().events[name]).toEqual([eventHandler])
    expect(await settingsOf(portal.memberId)).toMatchObject({ setup: "done" })
  })

  it("a failed step leaves the tenant registered and marked with the step's error; setUp tries again", async () => {
    const portal = portals.add({ setUp: false })
    portals.server.inject({
      fault: SandboxServer.Faults.status(500, {
        error: "INTERNAL_SERVER_ERROR",
        error_description: "the portal is down"
      }),
      times: 1,
      path: `/p/${portal.memberId}/rest/event.bind`
    })
    expect(JSON.parse((await portal.install(app.handlerUrl)).body)).toEqual({ result: "installed" })
    const marked = await settingsOf(portal.memberId)
    expect(marked).toMatchObject({ setup: "failed", setupStep: "bind" })
    expect(String(marked.setupError)).toContain("Unavailable")
    // Registered and active all the same: its edits land (the line was activated before the failed step).
    const tenant = await app.run(Effect.flatMap(TenantRegistry.TenantRegistry, (r) => r.get(portal.memberId)))
    expect(tenant.state).toBe("active")
    const ids = await portal.seedMessage("draft")
    expect(Exit.isSuccess(await edit(portal.memberId, ids, "final"))).toBe(true)
    // Listed with its error, for whoever looks at the registry.
    const listed = await app.run(Effect.flatMap(TenantRegistry.TenantRegistry, (r) => r.list({ limit: 1000 })))
    expect(listed.find((one) => one.id === portal.memberId)?.settings.setup).toBe("failed")
    // The explicit call sets it up; the record is cleared.
    const outcome = await app.run(
      Effect.flatMap(Bitrix24Lifecycle.Bitrix24Lifecycle, (lifecycle) => lifecycle.setUp(portal.memberId))
    )
    expect(outcome).toEqual({ state: "done" })
    const after = await settingsOf(portal.memberId)
    expect(after).toMatchObject({ setup: "done" })
    expect(after.setupStep).toBeUndefined()
    for (const name of EVENTS) expect(portal.setup().events[name]).toEqual([eventHandler])
  })

  it("an update retries a setup that did not finish", async () => {
    const portal = portals.add({ setUp: false })
    portals.server.inject({
      fault: SandboxServer.Faults.status(500, { error: "INTERNAL_SERVER_ERROR", error_description: "down" }),
      times: 1,
      path: `/p/${portal.memberId}/rest/imconnector.register`
    })
    await portal.install(app.handlerUrl)
    expect(await settingsOf(portal.memberId)).toMatchObject({ setup: "failed", setupStep: "register" })
    expect(portal.setup().activeLines).toEqual([])
    const answer = await app.run(
      Effect.flatMap(Bitrix24Lifecycle.Bitrix24Lifecycle, (lifecycle) =>
        lifecycle.handle(
          new URLSearchParams({
            event: "ONAPPUPDATE",
            "data[VERSION]": "2",
            "auth[member_id]": portal.memberId,
            "auth[application_token]": portal.applicationToken
          }).toString(),
          "application/x-www-form-urlencoded"
        )
      )
    )
    expect(answer.outcome).toBe("updated")
    expect(answer.setup).toEqual({ state: "done" })
    expect(portal.setup().activeLines).toEqual([{ connector: "reword_sandbox", line: 1 }])
  })
})
