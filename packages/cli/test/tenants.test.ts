/**
 * `reword tenants`' logic in process: the registry's pages read to the
 * limit (and no further), each tenant joined with its backlog from the
 * outbox's totals, and what is printed (no setting but the setup's).
 */
import type { Outbox } from "@reword/outbox"
import type { TenantRegistry } from "@reword/tenants"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ago } from "../src/internal/journal.ts"
import * as Tenants from "../src/internal/tenants.ts"

const summary = (id: string, settings: TenantRegistry.Settings = {}): TenantRegistry.Summary => ({
  id,
  provider: "bitrix24",
  state: "active",
  settings,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
  hasCredentials: true
})

/** A registry of `count` tenants that records each page asked for. */
const registryOf = (count: number) => {
  const ids = Array.from({ length: count }, (_, i) => `t${String(i).padStart(5, "0")}`)
  const pages: Array<number> = []
  return {
    pages,
    list: (query: TenantRegistry.Query = {}) =>
      Effect.sync(() => {
        const page = ids.filter((id) => id > (query.after ?? "")).slice(0, query.limit ?? 100)
        pages.push(page.length)
        return page.map((id) => summary(id))
      })
  }
}

const total = (tenant: string | undefined, pending: number, failed: number, oldest?: number): Outbox.Total => ({
  ...(tenant === undefined ? {} : { tenant }),
  provider: "bitrix24",
  account: "line-1",
  pending,
  failed,
  oldestPending: oldest === undefined ? undefined : new Date(oldest),
  oldestFailed: undefined
})

describe("reword tenants", () => {
  it("reads the registry a page of at most 1,000 at a time, to the limit and one more", async () => {
    const registry = registryOf(2_500)
    const all = await Effect.runPromise(Tenants.listAll(registry, {}, 100_000))
    expect(all.summaries).toHaveLength(2_500)
    expect(all.truncated).toBe(false)
    expect(registry.pages).toEqual([1_000, 1_000, 500])
    const some = registryOf(2_500)
    const first = await Effect.runPromise(Tenants.listAll(some, {}, 1_200))
    expect(first.summaries.map((s) => s.id).at(-1)).toBe("t01199")
    expect(first.truncated).toBe(true)
    expect(some.pages).toEqual([1_000, 201])
  })

  it("joins each tenant with its backlog; a backlog the registry does not hold is listed apart", () => {
    const backlogs = Tenants.backlogByTenant([
      total("a", 2, 1, 5_000),
      { ...total("a", 1, 0, 3_000), account: "line-2" },
      total(undefined, 4, 0, 9_000),
      total("gone", 0, 0)
    ])
    const listing = Tenants.join(
      [
        summary("a", { setup: "failed", setupStep: "bind", setupError: "no handler", domain: "a.example", plan: "x" }),
        summary("b")
      ],
      backlogs,
      false
    )
    expect(listing.tenants.map((row) => [row.tenant, row.backlog])).toEqual([
      ["a", { pending: 3, failed: 1, oldestPending: new Date(3_000) }],
      ["b", { pending: 0, failed: 0, oldestPending: undefined }]
    ])
    expect(listing.unregistered).toEqual([{ tenant: "default", pending: 4, failed: 0, oldestPending: new Date(9_000) }])
    const json = JSON.stringify(Tenants.json(listing, 10_000))
    expect(json).toContain('"setupError":"no handler"')
    expect(json).toContain('"oldestPendingAgeMs":7000')
    expect(json).not.toContain("a.example")
    const lines = Tenants.lines(listing, 10_000, ago)
    expect(lines[0]).toBe("2 tenants (2 active); outbox: 3 pending, 1 dead letters")
    expect(lines[2]).toMatch(/^a\s+bitrix24\s+active\s+failed \(bind\)\s+3\s+1\s+7 s$/)
    expect(lines[3]).toBe("  setup error: no handler")
    expect(Tenants.join([summary("a")], backlogs, true).unregistered).toEqual([])
    expect(Tenants.join([summary("a")], undefined, false).tenants[0]?.backlog).toBeUndefined()
  })

  it("scrubs the master keys of the environment, never reading them for anything else", () => {
    const key = "q".repeat(43)
    const secrets = Tenants.keySecrets({
      REWORD_TENANT_KEY: `k2:${key}`,
      REWORD_TENANT_OLD_KEYS: `k1:${"z".repeat(43)}`
    })
    const values = secrets.map((secret) => Redacted.value(secret))
    expect(values).toContain(key)
    expect(values).toContain("z".repeat(43))
    expect(values).toContain(`k2:${key}`)
  })
})
