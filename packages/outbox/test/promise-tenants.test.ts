/**
 * The Promise outbox of many tenants, as the Effect one: `editorsFor` (a
 * Promise of a tenant's editor, or an Effect as the Effect API takes)
 * routes each tenant's edits; a tenant it cannot give dead-letters its own
 * edits; `failTenant` dead-letters a tenant's pending edits; a submit of a
 * message the id map lacks names its tenant.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigurationError, createOutbox, NotFound } from "../src/promise.ts"
import * as ScriptedEditor from "./support/scriptedEditor.ts"

const fast = { pollInterval: "20 millis", settleWindow: "50 millis" } as const

describe("createOutbox with editorsFor", () => {
  it("routes each tenant's edits to its own editor (a Promise or an Effect); an unknown tenant's are dead letters", async () => {
    const a = ScriptedEditor.make()
    const b = ScriptedEditor.make()
    await using outbox = await createOutbox({
      database: ":memory:",
      unknownMessages: "record",
      ...fast,
      editorsFor: (tenant) =>
        tenant === "a"
          ? Promise.resolve(a.editor)
          : tenant === "b"
            ? Effect.succeed([{ editor: b.editor }])
            : Promise.reject(new Error("no such tenant"))
    })
    for (const tenant of ["a", "b", "gone"]) {
      const receipt = await outbox.submit({
        tenant,
        provider: "scripted",
        ids: { externalMessageId: "m-1" },
        text: `to ${tenant}`
      })
      expect(receipt.tenant).toBe(tenant)
    }
    expect(await outbox.drain({ timeoutMs: 10_000 })).toEqual({ pending: 0, failed: 1 })
    expect(a.texts.get("m-1")).toBe("to a")
    expect(b.texts.get("m-1")).toBe("to b")
    const dead = await outbox.failed({ tenant: "gone" })
    expect(dead.map((entry) => [entry.tenant, entry.lastReason])).toEqual([["gone", 'tenant "gone": no such tenant']])
    const history = await outbox.history("m-1", { tenant: "a", provider: "scripted" })
    expect(history?.versions.map((v) => [v.text, v.status])).toEqual([["to a", "confirmed"]])
  })

  it("failTenant dead-letters a tenant's pending edits with its reason, once; another tenant's land", async () => {
    const a = ScriptedEditor.make()
    const outbox = await createOutbox({
      database: ":memory:",
      unknownMessages: "record",
      worker: false,
      editorsFor: async () => a.editor
    })
    for (const tenant of ["a", "b"]) {
      await outbox.submit({ tenant, provider: "scripted", ids: { externalMessageId: "m-1" }, text: tenant })
    }
    const reason = "the portal uninstalled the application"
    expect(await outbox.failTenant("b", reason)).toBe(1)
    expect(await outbox.failTenant("b", reason)).toBe(0)
    expect((await outbox.failed({ tenant: "b" })).map((entry) => entry.lastReason)).toEqual([reason])
    expect((await outbox.pending({ tenant: "a" })).length).toBe(1)
    await outbox.close()
    await expect(outbox.failTenant("b", reason)).rejects.toMatchObject({ reason: { _tag: "Closed" } })
  })

  it("an edit of a message the id map lacks is NotFound naming its tenant (not the default one)", async () => {
    const a = ScriptedEditor.make()
    await using outbox = await createOutbox({ database: ":memory:", worker: false, editorsFor: async () => a.editor })
    const refused = await outbox
      .submit({ tenant: "portal-7", provider: "scripted", ids: { externalMessageId: "m-9" }, text: "x" })
      .then(
        () => undefined,
        (error: unknown) => error
      )
    expect(refused).toBeInstanceOf(NotFound)
    expect((refused as NotFound).message).toContain('message "m-9" of tenant "portal-7" for scripted')
    expect((refused as NotFound).toJSON()).toMatchObject({ tenant: "portal-7", externalMessageId: "m-9" })
    const repointed = await outbox
      .repoint({ tenant: "portal-7", provider: "scripted", ids: { externalMessageId: "m-9", providerMessageId: 1 } })
      .then(
        () => undefined,
        (error: unknown) => error
      )
    expect((repointed as NotFound).tenant).toBe("portal-7")
    const own = await createOutbox({ editors: [{ editor: a.editor }], database: ":memory:", worker: false })
    const plain = await own.submit({ ids: { externalMessageId: "m-9" }, text: "x" }).catch((error: unknown) => error)
    expect((plain as NotFound).message).not.toContain("tenant")
    expect((plain as NotFound).toJSON()).not.toHaveProperty("tenant")
    await own.close()
  })

  it("editorsFor must be a function; with it, neither providers nor editors are required", async () => {
    const refused = await createOutbox({ database: ":memory:", editorsFor: "nope" as never }).catch(
      (error: unknown) => error
    )
    expect(refused).toBeInstanceOf(ConfigurationError)
    expect(String((refused as Error).message)).toMatch(/editorsFor.*must be a function/)
    const none = await createOutbox({ database: ":memory:" } as never).catch((error: unknown) => error)
    expect(String((none as Error).message)).toMatch(/providers.*or editorsFor/)
  })
})
