import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { KeyRing } from "../src/index.ts"
import { ConfigurationError, createRegistry, createTenants, TenantError } from "../src/promise.ts"

const directory = mkdtempSync(join(tmpdir(), "reword-tenants-promise-"))
afterAll(() => rmSync(directory, { recursive: true, force: true }))
const keys = { current: "k1", keys: { k1: KeyRing.generateKey() } }

describe("the Promise registry", () => {
  it("mirrors the service, and keeps its tenants across a restart", async () => {
    const database = join(directory, "a.db")
    const first = await createRegistry({ database, keys })
    const tenant = await first.register({
      tenant: "acme",
      provider: "acquire",
      settings: { accountId: "acme" },
      credentials: Redacted.make({ apiKey: "acq-key-123456" })
    })
    expect(Redacted.value(tenant.credentials as Redacted.Redacted<object>)).toEqual({ apiKey: "acq-key-123456" })
    expect(await first.saveCredentials("acme", { apiKey: "acq-key-2" }, tenant.version)).toBe(tenant.version + 1)
    await first.close()
    const second = await createRegistry({ database, keys })
    expect((await second.list()).map((t) => t.id)).toEqual(["acme"])
    expect(await second.find("other")).toBeUndefined()
    await second.close()
  })

  it("rejects with typed errors that serialise without secrets", async () => {
    const registry = await createRegistry({ database: ":memory:", keys })
    const unknown = await registry.get("nobody").catch((error: unknown) => error)
    expect(unknown).toBeInstanceOf(TenantError)
    expect((unknown as TenantError).reason._tag).toBe("UnknownTenant")
    const tenant = await registry.register({ tenant: "x", provider: "acquire", credentials: { apiKey: "secret-zz-1" } })
    const conflict = await registry
      .saveCredentials("x", { apiKey: "secret-zz-2" }, tenant.version + 5)
      .catch((error: unknown) => error)
    expect(JSON.parse(JSON.stringify(conflict))).toMatchObject({ _tag: "TenantError", reason: { _tag: "Conflict" } })
    expect(JSON.stringify(conflict)).not.toContain("secret-zz")
    await registry.close()
    await expect(registry.list()).rejects.toMatchObject({ reason: { _tag: "Closed" } })
  })

  it("refuses wrong options as a ConfigurationError naming the field", async () => {
    const error = await createRegistry({ database: ":memory:", keys: { curent: "k1" } } as never).catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(String((error as Error).message)).toContain("did you mean current?")
  })
})

describe("the Promise tenants", () => {
  it("handles Bitrix24 events, builds editors, and adds Acquire accounts", async () => {
    const { Bitrix24Portals } = await import("@reword/bitrix24/sandbox")
    const portals = await Bitrix24Portals.start()
    const tenants = await createTenants({
      database: join(directory, "tenants.db"),
      keys,
      bitrix24: {
        clientId: portals.clientId,
        clientSecret: portals.clientSecret,
        oauthUrl: portals.url,
        connector: "reword_sandbox",
        allowInsecureLoopback: true
      },
      editors: { maxEditors: 2 }
    })
    try {
      const portal = portals.add()
      const body = new URLSearchParams(portal.installEvent() as Record<string, string>).toString()
      const answer = await tenants.handleEvent(body, "application/x-www-form-urlencoded")
      expect(answer).toMatchObject({ status: 200, body: { result: "installed" } })
      const ids = await portal.seedMessage("Meet at 11.")
      const edited = await tenants.update(portal.memberId, { ids, text: "Meet at 10." })
      expect(edited.text).toBe("Meet at 10.")
      const spoofed = await tenants.handleEvent(
        new URLSearchParams({ ...portal.uninstallEvent(true), "auth[application_token]": "nope" }).toString(),
        "application/x-www-form-urlencoded"
      )
      expect(spoofed.status).toBe(403)
      const refused = await tenants.update("nobody", { ids, text: "x" }).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(TenantError)
      expect((await tenants.stats()).built).toBe(1)
      await tenants.addAcquireAccount({ accountId: "acme", apiKey: "acq-key-1" })
      expect((await tenants.registry.list()).map((t) => t.provider).sort()).toEqual(["acquire", "bitrix24"])
      expect(await tenants.removeAcquireAccount("acme")).toBe(true)
    } finally {
      await tenants.close()
      await portals.stop()
    }
  })

  it("without the Bitrix24 application, handleEvent rejects with a ConfigurationError", async () => {
    const tenants = await createTenants({ database: ":memory:", keys })
    await expect(tenants.handleEvent("event=ONAPPINSTALL", undefined)).rejects.toBeInstanceOf(ConfigurationError)
    await tenants.close()
  })
})
