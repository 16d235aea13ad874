/**
 * A small public surface (issue 19): `scripts/count-exports.ts` counts the runtime names of every entry
 * point of every package (a namespace export counts its members), and the limits are pinned here: at most
 * 60 in `@reword/core`, at most 40 in each adapter's main entry, and no entry point above what it exports
 * today (docs/surface.md records the counts before and after), so that the surface grows only on purpose.
 */
import { readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { countAll, countNames, entryPoints } from "../scripts/count-exports.ts"

/** The most each entry point may export; a new entry point must be added here (and to docs/surface.md). */
const CEILINGS: Readonly<Record<string, number>> = {
  "@reword/acquire": 24,
  "@reword/acquire/sandbox": 5,
  "@reword/bitrix24": 40,
  "@reword/bitrix24/connector-events": 4,
  "@reword/bitrix24/sandbox": 6,
  "@reword/cli": 22,
  // 59: EditRequest.MessageKind (text or caption), the port's new field for Telegram (issue 21).
  // 60: InboundEvent (issue 22). Still 60 with capabilities v2 (issue 21): EditError.EditWindowClosed and
  // EditError.EditLimitReached in, Capabilities.IdName (a type only now) and Capabilities.check (internal: core
  // runs it before any call, and `update` answers its refusal without one) out.
  "@reword/core": 60,
  // 79: Refusal (issue 19: one refusal class for every inbound decoder, Bitrix24 events and Telegram updates).
  // 81: ProviderKit.invalidSetting and ProviderKit.parseBoolean (issue 19: three adapters kept their own copies).
  // 84: OptionCheck.field, struct and decode (issue 19: an adapter declares its own options as one Schema).
  // 89: SharedLimiter (issue 21: LimitFull, the SharedLimiter service, local, spacingOf, runReserved), the provider-neutral
  // limiter @reword/postgres's PgLimiter keeps in PostgreSQL and Telegram's limits run on.
  "@reword/core/adapter": 89,
  "@reword/core/promise": 5,
  "@reword/core/sandbox": 15,
  "@reword/outbox": 25,
  "@reword/outbox/pg": 2,
  "@reword/outbox/promise": 4,
  // 16: PgLimiter (issue 21: make, layer), the provider-neutral limiter shared by every process.
  "@reword/postgres": 16,
  "@reword/postgres/promise": 1,
  "@reword/relay": 9,
  // 35: TelegramRateLimiter.shared and layerShared (issue 21: the Bot FAQ's limits shared across processes).
  "@reword/telegram": 35,
  "@reword/telegram/sandbox": 5,
  "@reword/telegram/updates": 8,
  // 49: TenantEditors.editorsFor, scoped and UNINSTALLED (the outbox routes by tenant) and the setup on install (issue 20).
  "@reword/tenants": 49,
  "@reword/tenants/pg": 1,
  "@reword/tenants/promise": 5
}

/** Whether an entry point is an adapter's main entry: it exports a provider descriptor (`X.provider`). */
const isAdapter = async (source: string): Promise<boolean> => {
  const module = (await import(pathToFileURL(source).href)) as Record<string, unknown>
  return Object.values(module).some((value) => {
    const provider = (value as { readonly provider?: { readonly name?: unknown; readonly make?: unknown } }).provider
    return typeof provider?.name === "string" && typeof provider.make === "function" && !source.includes("/core/")
  })
}

describe("the public surface", () => {
  it("counts a namespace export by its members and a plain export as one", () => {
    const namespace = Object.create(null, { [Symbol.toStringTag]: { value: "Module" } }) as Record<string, unknown>
    expect(countNames({ a: 1, b: () => 2 })).toBe(2)
    expect(countNames({ Promise: {}, createEditor: () => undefined })).toBe(2)
    const loaded = { Outbox: Object.assign(namespace, { make: 1, layer: 2, Outbox: 3 }), createOutbox: 4 }
    expect(countNames(loaded)).toBe(4)
  })

  it("finds every entry point of every package's exports map", () => {
    const found = entryPoints().map((entry) => entry.specifier)
    expect(found).toContain("@reword/core")
    expect(found).toContain("@reword/core/adapter")
    for (const entry of entryPoints()) {
      expect(readFileSync(entry.source, "utf8").length).toBeGreaterThan(0)
    }
  })

  it("keeps @reword/core to what an app uses: at most 60 runtime names", async () => {
    const core = (await countAll()).find((entry) => entry.specifier === "@reword/core")
    expect(core?.names).toBeGreaterThan(20)
    expect(core?.names).toBeLessThanOrEqual(60)
  })

  it("keeps each adapter's main entry to at most 40 runtime names", async () => {
    const adapters = entryPoints().filter((entry) => !entry.specifier.slice("@reword/".length).includes("/"))
    let checked = 0
    for (const entry of adapters) {
      if (!(await isAdapter(entry.source))) continue
      const count = (await countAll()).find((counted) => counted.specifier === entry.specifier)
      expect(count?.names, entry.specifier).toBeLessThanOrEqual(40)
      checked++
    }
    expect(checked).toBeGreaterThanOrEqual(2)
  })

  it("grows no entry point past its pinned count, and pins every entry point", async () => {
    for (const { specifier, names } of await countAll()) {
      expect(
        CEILINGS[specifier],
        `${specifier} has no pinned ceiling: add it here and to docs/surface.md`
      ).toBeDefined()
      expect(names, specifier).toBeLessThanOrEqual(CEILINGS[specifier] ?? 0)
    }
  })
})
