/**
 * `reword dashboard` in a real headless Chromium (Debian's, driven by
 * playwright-core: never a browser the test tool downloads): each view
 * rendered, text from the database inert (no element made from it, no script
 * run), a re-drive through the page's own button, a cross-origin form refused,
 * a DNS-rebinding host name refused. Each view's screenshot is written to
 * packages/cli/docs/dashboard/ (linked from the CLI README). Without Chromium:
 * skipped with a note, but a failure under CI=true (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { HOSTILE, HOSTILE_ID, SECRET, writeOutbox } from "./dashboard-fixture.ts"
import { type Running, startDashboard } from "./dashboard-start.ts"
import { writeTenants } from "./tenants-fixture.ts"

const CHROMIUM = "/usr/bin/chromium"
const SHOTS = fileURLToPath(new URL("../docs/dashboard/", import.meta.url))
const available = existsSync(CHROMIUM)

if (!available && process.env.CI !== "true") {
  console.warn(`dashboard.slow.test.ts: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
}

let directory: string
let dashboard: Running
let context: BrowserContext
let page: Page
let attacker: Server
const dialogs: Array<string> = []

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)))

describe.skipIf(!available && process.env.CI !== "true")("reword dashboard in a real browser", () => {
  beforeAll(async () => {
    if (!available) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs it`)
    directory = mkdtempSync(join(tmpdir(), "reword-dashboard-browser-"))
    const database = await writeOutbox(directory)
    dashboard = await startDashboard(["--database", database], { ACQUIRE_API_KEY: SECRET })
    context = await chromium.launchPersistentContext(join(directory, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 800 },
      timeout: 30_000,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        // A host name an attacker's DNS points at 127.0.0.1 (DNS rebinding), without any DNS.
        "--host-resolver-rules=MAP rebind.test 127.0.0.1"
      ]
    })
    context.setDefaultTimeout(15_000)
    page = context.pages()[0] ?? (await context.newPage())
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    mkdirSync(SHOTS, { recursive: true })
  }, 120_000)

  afterAll(async () => {
    await context?.close()
    await dashboard?.stop()
    await new Promise<void>((resolve) => (attacker === undefined ? resolve() : attacker.close(() => resolve())))
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
  })

  it("shows the backlog: counts, the chart of pending and dead letters, the table by provider, account and age", async () => {
    await page.goto(dashboard.url)
    expect(await page.locator("#pending-count").textContent()).toBe("8")
    expect(await page.locator("#failed-count").textContent()).toBe("4")
    expect(await page.locator("svg.chart polyline").count()).toBe(2)
    const rows = await page.locator("#backlog tbody tr").allTextContents()
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatch(/^defaultacquireacct-153/)
    expect(rows[1]).toMatch(/^defaultbitrix24portal-731/)
    // The stylesheet loaded (the page's policy allows it): the header is dark.
    expect(await page.locator("header").evaluate((node) => getComputedStyle(node).backgroundColor)).toBe(
      "rgb(36, 41, 47)"
    )
    await page.screenshot({ path: join(SHOTS, "backlog.png"), fullPage: true })
  })

  it("lists the dead letters with their reasons, text from the database inert", async () => {
    await page.goto(`${dashboard.url}dead`)
    const rows = page.locator("#dead tbody tr")
    expect(await rows.count()).toBe(4)
    const hostileRow = rows.filter({ hasText: "wa-evil" })
    expect(await hostileRow.locator("td").nth(3).textContent()).toBe(HOSTILE_ID)
    expect(await hostileRow.locator("td.reason").textContent()).toContain(HOSTILE)
    expect(await page.locator("main img, main b:has-text('wa-evil')").count()).toBe(0)
    expect(await page.title()).toBe("Dead letters · reword outbox")
    expect(await page.content()).not.toContain(SECRET)
    await page.screenshot({ path: join(SHOTS, "dead-letters.png"), fullPage: true })
  })

  it("shows a message's history as a timeline: versions, attempts, who held the claim", async () => {
    await page.goto(`${dashboard.url}dead`)
    await page.getByRole("link", { name: "dead-2" }).click()
    await page.waitForURL(/\/message\?id=dead-2&provider=acquire&account=acct-1$/)
    expect(await page.locator("ol.timeline li").count()).toBe(2)
    await page.goto(`${dashboard.url}message?id=wa-1`)
    const events = await page.locator("ol.timeline li").allTextContents()
    expect(events).toHaveLength(6)
    expect(events[0]).toContain("v1 asked by agent: Meet at 9")
    expect(events[1]).toContain("claim held by worker-20h")
    expect(events[3]).toContain(`v2 asked by customer: ${HOSTILE}`)
    expect(events[5]).toContain("v2 confirmed by the provider")
    expect(await page.locator("main img").count()).toBe(0)
    await page.screenshot({ path: join(SHOTS, "message.png"), fullPage: true })
    expect(await page.title()).toBe("Message wa-1 · reword outbox")
  })

  it("re-drives a dead letter with its button: back in the outbox", async () => {
    await page.goto(`${dashboard.url}dead`)
    await page.locator("#dead tbody tr", { hasText: "dead-2" }).getByRole("button", { name: "Re-drive" }).click()
    await page.waitForURL(/\/dead\?redriven=1$/)
    expect(await page.getByRole("status").textContent()).toContain("1 dead letter back in the outbox")
    expect(await page.locator("#dead tbody tr").count()).toBe(3)
    await page.goto(`${dashboard.url}message?id=dead-2`)
    expect(await page.locator(".state").first().textContent()).toBe("pending")
  })

  it("refuses a cross-origin form, even one that carries this run's token", async () => {
    await page.goto(`${dashboard.url}dead`)
    const token = await page.locator('input[name="token"]').first().getAttribute("value")
    attacker = createServer((_, response) => {
      response.writeHead(200, { "content-type": "text/html" })
      response.end(
        `<form id="f" method="post" action="${dashboard.url}redrive"><input name="token" value="${token}"><input name="all" value="1"></form><script>document.getElementById("f").submit()</script>`
      )
    })
    const port = await listen(attacker)
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.waitForURL(`${dashboard.url}redrive`)
    expect(await page.locator("main").textContent()).toContain("a re-drive must come from this page")
    await page.goto(dashboard.url)
    expect(await page.locator("#failed-count").textContent()).toBe("3")
  })

  it("refuses a host name that points at 127.0.0.1 (DNS rebinding)", async () => {
    const port = new URL(dashboard.url).port
    const answer = await page.goto(`http://rebind.test:${port}/dead`)
    expect(answer?.status()).toBe(421)
    expect(await page.content()).not.toContain("dead-1")
    expect(dialogs).toEqual([])
  })

  it("groups the backlog by tenant, filters on one tenant, and re-drives only that tenant's dead letters", async () => {
    const tenantsDirectory = join(directory, "tenants")
    mkdirSync(tenantsDirectory)
    const tenants = await startDashboard(["--database", await writeTenants(tenantsDirectory)])
    try {
      await page.goto(tenants.url)
      const cells = await page
        .locator("#tenants tbody tr")
        .evaluateAll((rows) =>
          rows.map((row) => [...row.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent))
        )
      // Tenant, pending, dead.
      expect(cells).toEqual([
        ["default", "1", "0"],
        ["portal-a", "3", "0"],
        ["portal-b", "1", "2"]
      ])
      expect(await page.locator("#backlog tbody tr").count()).toBe(3)
      await page.locator("#tenant-filter").fill("portal-b")
      await page.getByRole("button", { name: "Filter" }).click()
      await page.waitForURL(/tenant=portal-b/)
      expect(await page.title()).toBe("Backlog of tenant portal-b · reword outbox")
      expect(await page.locator("#pending-count").textContent()).toBe("1")
      expect(await page.locator("#failed-count").textContent()).toBe("2")
      expect(await page.locator("#tenants tbody tr").count()).toBe(1)
      await page.screenshot({ path: join(SHOTS, "tenants.png"), fullPage: true })
      await page.goto(`${tenants.url}dead?tenant=portal-a`)
      expect(await page.locator("#dead tbody tr").count()).toBe(0)
      await page.goto(`${tenants.url}dead?tenant=portal-b`)
      expect(await page.locator("#dead tbody tr").count()).toBe(2)
      await page.getByRole("button", { name: "Re-drive all of this tenant" }).click()
      await page.waitForURL(/\/dead\?redriven=2&tenant=portal-b$/)
      expect(await page.locator("#dead tbody tr").count()).toBe(0)
      const refused = await page.goto(`${tenants.url}?tenant=${encodeURIComponent("<b>x</b>")}`)
      expect(refused?.status()).toBe(400)
      expect(dialogs).toEqual([])
    } finally {
      await tenants.stop()
    }
  })
})
