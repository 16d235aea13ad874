/**
 * `reword tenants` and `--tenant` as real processes, on a database a
 * multi-tenant app wrote (the registry and the outbox in one SQLite file):
 * every tenant with its state, setup and backlog; nothing secret printed
 * (no credential, no ciphertext, no master key, even one in the
 * environment); the file not changed by a byte; `--tenant` choosing one
 * tenant's messages in `outbox`, `history` and `outbox redrive`.
 */
import { createHash } from "node:crypto"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"
import { HOSTILE_SETUP, MASTER_KEY, TOKEN, writeTenants } from "./tenants-fixture.ts"

let directory: string
let database: string
let registryOnly: string
let sealed: ReadonlyArray<string>

const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex")

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-tenants-"))
  database = await writeTenants(directory)
  mkdirSync(join(directory, "registry"))
  registryOnly = await writeTenants(join(directory, "registry"), { outbox: false })
  const db = new DatabaseSync(database, { readOnly: true })
  const rows = db.prepare("SELECT data_key, credentials FROM reword_tenants").all() as Array<
    Record<string, string | null>
  >
  db.close()
  sealed = rows.flatMap((row) => [row.data_key, row.credentials]).filter((value): value is string => value !== null)
  expect(sealed.length).toBe(4)
}, 120_000)

afterAll(() => {
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
})

const expectNoSecret = (text: string) => {
  for (const secret of [TOKEN, MASTER_KEY, ...sealed.map((value) => value.slice(-24))]) {
    expect(text).not.toContain(secret)
  }
}

describe("reword tenants", () => {
  it("lists each tenant's provider, state, setup and backlog, and nothing secret; the file is unchanged", async () => {
    const before = digest(database)
    const env = { REWORD_TENANT_KEY: `k1:${MASTER_KEY}` }
    const run = await reword(["tenants", "--database", database], { env })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const lines = run.stdout.split("\n")
    expect(lines[0]).toBe("3 tenants (2 active, 1 uninstalled); outbox: 4 pending, 2 dead letters")
    expect(lines.find((line) => line.startsWith("portal-a "))).toMatch(
      /^portal-a\s+bitrix24\s+active\s+done\s+3\s+0\s+\d+ s$/
    )
    expect(lines.find((line) => line.startsWith("portal-b "))).toMatch(
      /^portal-b\s+bitrix24\s+active\s+failed \(bind\)\s+1\s+2\s+\d+ s$/
    )
    expect(lines.find((line) => line.startsWith("acct-9 "))).toMatch(/^acct-9\s+acquire\s+uninstalled\s+-\s+0\s+0\s+-$/)
    expect(run.stdout).toContain(`  setup error: ${HOSTILE_SETUP}`)
    expect(run.stdout).toContain("not in the registry: tenant default: 1 pending, 0 dead letters")
    expectNoSecret(run.stdout)
    const json = await reword(["tenants", "--database", database, "--json"], { env })
    expect(json.code).toBe(0)
    const listing = jsonOf(json.stdout) as {
      tenants: Array<Record<string, unknown> & { backlog: Record<string, unknown> }>
      outbox: boolean
      unregistered: Array<Record<string, unknown>>
    }
    expect(listing.outbox).toBe(true)
    expect(listing.tenants.map((tenant) => tenant.tenant)).toEqual(["acct-9", "portal-a", "portal-b"])
    const b = listing.tenants[2]
    expect(b).toMatchObject({ provider: "bitrix24", state: "active", setup: "failed", setupStep: "bind" })
    expect(b?.setupError).toBe(HOSTILE_SETUP)
    expect(b?.backlog).toMatchObject({ pending: 1, failed: 2 })
    expect(b?.backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(0)
    expect(listing.tenants[0]).toMatchObject({ hasCredentials: false, backlog: { pending: 0, failed: 0 } })
    expect(listing.unregistered).toEqual([expect.objectContaining({ tenant: "default", pending: 1, failed: 0 })])
    expectNoSecret(json.stdout)
    expect(digest(database)).toBe(before)
  })

  it("filters by state and provider; a registry without the outbox's tables has no backlog", async () => {
    const run = await reword(["tenants", "--database", registryOnly, "--state", "active", "--json"])
    expect(run.code).toBe(0)
    const listing = jsonOf(run.stdout) as { tenants: Array<Record<string, unknown>>; outbox: boolean }
    expect(listing.outbox).toBe(false)
    expect(listing.tenants.map((tenant) => [tenant.tenant, tenant.backlog])).toEqual([
      ["portal-a", null],
      ["portal-b", null]
    ])
    const acquire = await reword(["tenants", "--database", database, "--provider", "acquire"])
    expect(acquire.stdout.split("\n")[0]).toBe("1 tenant (1 uninstalled); outbox: 0 pending, 0 dead letters")
  })

  it("refuses a database without a registry (exit 2), and a bad --limit", async () => {
    const other = new DatabaseSync(join(directory, "empty.db"))
    other.exec("CREATE TABLE t (x)")
    other.close()
    const run = await reword(["tenants", "--database", join(directory, "empty.db"), "--json"])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("this database holds no tenant registry (no table reword_tenants)")
    expect(jsonOf(run.stdout)).toMatchObject({ error: { operation: "tenants", reason: "Usage" } })
    const limit = await reword(["tenants", "--database", database, "--limit", "0"])
    expect(limit.code).toBe(2)
    expect(limit.stderr).toContain("--limit must be from 1 to 100000")
  })
})

describe("--tenant", () => {
  it("chooses one tenant's messages in outbox, history and redrive", async () => {
    const outbox = await reword(["outbox", "--database", database, "--tenant", "portal-b", "--json"])
    expect(outbox.code).toBe(0)
    const listed = jsonOf(outbox.stdout) as Record<string, unknown>
    expect(listed.counts).toEqual({ pending: 1, failed: 2 })
    expect(listed.byTenant).toEqual([expect.objectContaining({ tenant: "portal-b", pending: 1, failed: 2 })])
    const all = await reword(["outbox", "--database", database])
    expect(all.stdout).toContain("  tenant portal-a: 3 pending, 0 failed")
    expect(all.stdout).toContain('  tenant portal-b bitrix24 line-1 "b-1" v1')
    const elsewhere = await reword(["history", "b-1", "--database", database, "--tenant", "portal-a"])
    expect(elsewhere.code).toBe(3)
    const history = await reword(["history", "b-1", "--database", database, "--tenant", "portal-b"])
    expect(history.code).toBe(0)
    expect(history.stdout.split("\n")[0]).toBe('tenant portal-b bitrix24 line-1 message "b-1"')
    const copy = join(directory, "copy.db")
    copyFileSync(database, copy)
    const none = await reword(["outbox", "redrive", "--all", "--tenant", "portal-a", "--database", copy])
    expect(none.stdout).toContain("no dead letters to re-drive")
    const redrive = await reword(["outbox", "redrive", "--all", "--tenant", "portal-b", "--database", copy, "--json"])
    expect(redrive.code).toBe(0)
    expect(jsonOf(redrive.stdout)).toMatchObject({
      redriven: 2,
      messages: [{ tenant: "portal-b" }, { tenant: "portal-b" }]
    })
  })

  it("reword update --tenant needs the outbox's database", async () => {
    const run = await reword([
      "update",
      "--tenant",
      "portal-a",
      "--external-message-id",
      "a-1",
      "--text",
      "x",
      "--provider",
      "acquire"
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--tenant names a message in the app's outbox")
  })
})
