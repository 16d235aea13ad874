import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Bitrix24 } from "../src/index.ts"
import { Bitrix24Portals } from "../src/sandbox.ts"

let portals: Bitrix24Portals.Portals
beforeAll(async () => {
  portals = await Bitrix24Portals.start({ bucket: { drainPerSecond: 1, capacity: 3 } })
})
afterAll(() => portals.stop())

const edit = (portal: Bitrix24Portals.Portal, ids: object, text: string) =>
  Effect.runPromiseExit(
    Effect.scoped(
      Effect.flatMap(Bitrix24.make(portal.settings, { retry: { maxAttempts: 1 } }), (editor) =>
        editor.update({ ids: ids as never, text })
      )
    )
  )

const call = (portal: Bitrix24Portals.Portal, method: string, token: string) =>
  fetch(`${portal.restUrl}${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ auth: token })
  })

describe("many sandbox portals behind one server", () => {
  it("serves each portal at its own address, with its own tokens, member_id and messages", async () => {
    const a = portals.add()
    const b = portals.add({ memberId: "portal-b" })
    expect(a.memberId).not.toBe(b.memberId)
    expect(a.applicationToken).not.toBe(b.applicationToken)
    expect(a.url).toBe(`${portals.url}/p/${a.memberId}`)
    const ids = await a.seedMessage("Meet at 11.")
    expect(Exit.isSuccess(await edit(a, ids, "Meet at 10."))).toBe(true)
    expect(a.inspect(ids)?.text).toBe("Meet at 10.")
    expect(b.inspect(ids)).toBeUndefined()
    // A's token is not B's.
    expect((await call(b, "app.info", a.accessToken)).status).toBe(401)
    const info = await call(a, "app.info", a.accessToken)
    expect(info.status).toBe(200)
    expect(((await info.json()) as { result: { INSTALLED: boolean } }).result.INSTALLED).toBe(true)
  })

  it("one OAuth server refreshes each portal's own pair, naming its member_id", async () => {
    const a = portals.add()
    const b = portals.add()
    const ids = await b.seedMessage("Hello")
    b.expireAccessToken()
    expect(Exit.isSuccess(await edit(b, ids, "Hello!"))).toBe(true)
    expect(b.refreshes()).toBe(1)
    expect(a.refreshes()).toBe(0)
    const answer = await fetch(`${portals.url}/oauth/token/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: portals.clientId,
        client_secret: portals.clientSecret,
        refresh_token: a.tokens().refreshToken
      }).toString()
    })
    expect(((await answer.json()) as { member_id: string }).member_id).toBe(a.memberId)
  })

  it("a revoked grant fails that portal's refresh with invalid_grant, and no other's", async () => {
    const a = portals.add()
    const b = portals.add()
    const [ida, idb] = [await a.seedMessage("x1"), await b.seedMessage("y1")]
    a.revokeRefreshToken()
    b.expireAccessToken()
    const [ea, eb] = [await edit(a, ida, "x2"), await edit(b, idb, "y2")]
    expect(Exit.isFailure(ea) && JSON.stringify(ea.cause)).toContain("Unauthorized")
    expect(Exit.isSuccess(eb)).toBe(true)
    expect(a.errorAnswers("invalid_grant")).toBe(1)
    expect(b.errorAnswers("invalid_grant")).toBe(0)
  })

  it("each portal has its own bucket", async () => {
    const a = portals.add()
    const b = portals.add()
    const hits = async (portal: Bitrix24Portals.Portal) => {
      const statuses = []
      for (let i = 0; i < 5; i++) statuses.push((await call(portal, "app.info", portal.accessToken)).status)
      return statuses
    }
    expect((await hits(a)).filter((status) => status === 503).length).toBeGreaterThan(0)
    expect((await hits(b)).slice(0, 3)).toEqual([200, 200, 200])
    expect(b.limitHits()).toBeLessThanOrEqual(2)
  })

  it("builds the lifecycle events it posts, and refuses to post off the loopback", async () => {
    const a = portals.add({ applicationToken: "app-token-a-123456" })
    expect(a.installEvent()).toMatchObject({
      event: "ONAPPINSTALL",
      "auth[member_id]": a.memberId,
      "auth[application_token]": "app-token-a-123456",
      "auth[client_endpoint]": `${a.url}/rest/`,
      "auth[access_token]": a.tokens().accessToken
    })
    expect(a.uninstallEvent(true)).toMatchObject({ event: "ONAPPUNINSTALL", "data[CLEAN]": "1" })
    await expect(a.install("http://example.com/handler")).rejects.toThrow(/loopback/)
    expect(() => portals.add({ memberId: a.memberId })).toThrow(/memberId/)
  })
})
