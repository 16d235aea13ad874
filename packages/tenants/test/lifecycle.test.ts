import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Effect, Exit, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Bitrix24Lifecycle, TenantEditors, TenantRegistry } from "../src/index.ts"
import { startApp, type TestApp } from "./support/app.ts"
import { secretsInFiles } from "./support/places.ts"

let portals: Bitrix24Portals.Portals
let app: TestApp

beforeAll(async () => {
  portals = await Bitrix24Portals.start()
  app = await startApp(portals)
})
afterAll(async () => {
  await app?.close()
  app?.remove()
  await portals?.stop()
})

const form = (fields: Readonly<Record<string, string>>) =>
  new URLSearchParams(fields as Record<string, string>).toString()
const post = async (fields: Readonly<Record<string, string>>) => {
  const response = await fetch(app.handlerUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form(fields)
  })
  return { status: response.status, body: (await response.json()) as Record<string, string> }
}
const tenantOf = (memberId: string) =>
  app
    .run(Effect.flatMap(TenantRegistry.TenantRegistry, (registry) => registry.find(memberId)))
    .then(Option.getOrUndefined)
const edit = (memberId: string, ids: object, text: string) =>
  app.run(
    Effect.exit(
      Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.update(memberId, { ids: ids as never, text }))
    )
  )
const reasonOf = (exit: Exit.Exit<unknown, unknown>) => (Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success")

describe("the Bitrix24 lifecycle", () => {
  it("install registers the portal once its token is verified; its edits land; nothing in clear", async () => {
    const portal = portals.add()
    const event = portal.installEvent()
    expect(await post(event)).toEqual({ status: 200, body: { result: "installed" } })
    expect(portal.calls("app.info")).toBe(1)
    const tenant = await tenantOf(portal.memberId)
    expect(tenant?.state).toBe("active")
    expect(tenant?.settings).toMatchObject({
      portalUrl: `${portal.url}/`,
      plan: "standard",
      connector: "reword_sandbox",
      line: 1
    })
    expect(JSON.stringify(tenant?.settings)).not.toContain(portal.applicationToken)
    const ids = await portal.seedMessage("Meet at 11.")
    expect(reasonOf(await edit(portal.memberId, ids, "Meet at 10."))).toBe("success")
    expect(portal.inspect(ids)?.text).toBe("Meet at 10.")
    // The same event again: an idempotent success that changes nothing.
    const again = await post(event)
    expect(again).toEqual({ status: 200, body: { result: "unchanged" } })
  })

  it("an install whose access token the portal refuses is a 403, and registers nothing", async () => {
    const portal = portals.add()
    const forged = { ...portal.installEvent(), "auth[access_token]": "forged-access-token-0000" }
    const answer = await post(forged)
    expect(answer.status).toBe(403)
    expect(answer.body.error).toBe("ACCESS_DENIED")
    expect(await tenantOf(portal.memberId)).toBeUndefined()
  })

  it("an install naming another host, plain http off the loopback, or a webhook is a 400", async () => {
    const portal = portals.add()
    for (const endpoint of [
      "http://evil.example.com/rest/",
      "https://elsewhere.example.com/rest/",
      `${portals.url}/rest/1/abc/`
    ]) {
      const answer = await post({ ...portal.installEvent(), "auth[client_endpoint]": endpoint })
      expect(answer.status).toBe(400)
    }
    expect(portal.calls("app.info")).toBe(0)
    expect(await tenantOf(portal.memberId)).toBeUndefined()
  })

  it("a spoofed uninstall (wrong application_token) or an unknown member_id is a 403 and changes nothing", async () => {
    const portal = portals.add()
    await portal.install(app.handlerUrl)
    const before = await tenantOf(portal.memberId)
    const spoofed = await post({ ...portal.uninstallEvent(true), "auth[application_token]": "0".repeat(32) })
    expect(spoofed.status).toBe(403)
    const shorter = await post({ ...portal.uninstallEvent(true), "auth[application_token]": "x" })
    expect(shorter.status).toBe(403)
    const unknown = await post({ ...portal.uninstallEvent(true), "auth[member_id]": "never-installed" })
    expect(unknown.status).toBe(403)
    const after = await tenantOf(portal.memberId)
    expect(after?.state).toBe("active")
    expect(after?.version).toBe(before?.version)
    const ids = await portal.seedMessage("still here")
    expect(reasonOf(await edit(portal.memberId, ids, "still here!"))).toBe("success")
  })

  it("uninstall destroys the data key: edits are refused with a clear reason; a repeat is an idempotent success", async () => {
    const portal = portals.add()
    await portal.install(app.handlerUrl)
    const ids = await portal.seedMessage("before")
    expect(reasonOf(await edit(portal.memberId, ids, "edited"))).toBe("success")
    const secrets = [portal.tokens().accessToken, portal.tokens().refreshToken, portal.applicationToken]
    const answer = await portal.uninstall(app.handlerUrl, { clean: true })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ result: "uninstalled" })
    const tenant = await tenantOf(portal.memberId)
    expect(tenant?.state).toBe("uninstalled")
    expect(tenant?.credentials).toBeUndefined()
    expect(Object.keys(tenant?.settings ?? {})).toEqual(["applicationTokenSha256"])
    const refused = await edit(portal.memberId, ids, "after")
    expect(reasonOf(refused)).toContain("NotActive")
    expect(reasonOf(refused)).toContain("uninstalled")
    expect(await post(portal.uninstallEvent(true))).toEqual({ status: 200, body: { result: "unchanged" } })
    expect((await post({ ...portal.uninstallEvent(true), "auth[application_token]": "f".repeat(32) })).status).toBe(403)
    expect(app.filename).toBeDefined()
    // The database's files (the file and its write-ahead log) hold none of them, in any encoding.
    expect(secretsInFiles(app.filename as string, secrets)).toEqual([])
  })

  it("update: the stored token or a verified grant; a new pair is saved; a wrong token without a grant is a 403", async () => {
    const portal = portals.add()
    await portal.install(app.handlerUrl)
    const base = {
      event: "ONAPPUPDATE",
      "data[VERSION]": "2",
      "data[PREVIOUS_VERSION]": "1",
      "auth[member_id]": portal.memberId,
      "auth[application_token]": portal.applicationToken
    }
    expect(await post(base)).toEqual({ status: 200, body: { result: "updated" } })
    expect((await tenantOf(portal.memberId))?.settings.version).toBe("2")
    expect((await post({ ...base, "auth[application_token]": "b".repeat(32) })).status).toBe(403)
    // A new application_token with an access token the portal accepts: taken.
    const rotated = await post({
      ...base,
      "auth[application_token]": "c".repeat(32),
      "auth[access_token]": portal.tokens().accessToken,
      "auth[refresh_token]": portal.tokens().refreshToken
    })
    expect(rotated.status).toBe(200)
    expect((await post({ ...portal.uninstallEvent(false), "auth[application_token]": "c".repeat(32) })).status).toBe(
      200
    )
    const tenant = await tenantOf(portal.memberId)
    expect(tenant?.state).toBe("uninstalled")
    // CLEAN 0 keeps the settings for a reinstall.
    expect(tenant?.settings.portalUrl).toBe(`${portal.url}/`)
  })

  it("refuses hostile bodies with a typed 400, never a throw", async () => {
    const answer = await app.run(
      Effect.flatMap(Bitrix24Lifecycle.Bitrix24Lifecycle, (lifecycle) =>
        lifecycle.handle(`a${"%5Bb%5D".repeat(50)}=1`, "application/x-www-form-urlencoded")
      )
    )
    expect(answer).toMatchObject({ status: 400, outcome: "refused" })
    expect(answer.error?._tag).toBe("EventRefused")
    const huge = await app.run(
      Effect.flatMap(Bitrix24Lifecycle.Bitrix24Lifecycle, (lifecycle) =>
        lifecycle.handle("x".repeat(200_000), undefined)
      )
    )
    expect(huge.status).toBe(400)
  })
})
