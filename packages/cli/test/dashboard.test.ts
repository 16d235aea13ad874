/**
 * `reword dashboard` over HTTP, as a real process on an outbox database an
 * app wrote: its pages (backlog, dead letters, a message's timeline), text
 * from the database escaped and secrets scrubbed, and who may use it: a
 * rebinding Host refused, a re-drive only from the page itself (Origin and
 * the per-run token), and the access token when bound elsewhere than
 * 127.0.0.1. The same pages in a real browser: dashboard.slow.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { HOSTILE, HOSTILE_ID, SECRET, writeOutbox } from "./dashboard-fixture.ts"
import { type Running, startDashboard } from "./dashboard-start.ts"
import { reword } from "./support/cli.ts"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

/** One HTTP request to the dashboard, with the headers given (the Host too: node sends what it is told). */
const fetchRaw = (
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const target = new URL(url)
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? "GET",
        headers: options.headers,
        timeout: 10_000
      },
      (response) => {
        let body = ""
        response.setEncoding("utf8").on("data", (chunk: string) => {
          body += chunk
        })
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      }
    )
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")))
    req.on("error", reject)
    req.end(options.body)
  })

let directory: string
let database: string
let dashboard: Running

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-dashboard-"))
  database = await writeOutbox(directory)
  dashboard = await startDashboard(["--database", database], { ACQUIRE_API_KEY: SECRET })
}, 120_000)

afterAll(async () => {
  await dashboard?.stop()
  rmSync(directory, { recursive: true, force: true })
})

const tokenOf = (body: string): string => {
  const match = /name="token" value="([^"]+)"/.exec(body)
  if (match?.[1] === undefined) throw new Error("the page carries no re-drive token")
  return match[1]
}

const pages = () => ["/", "/dead", `/message?id=wa-1`, `/message?id=${encodeURIComponent(HOSTILE_ID)}`]

describe("reword dashboard: the pages", () => {
  it("prints its loopback URL and shows the backlog by provider, account and age", async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetchRaw(dashboard.url)
    expect(page.status).toBe(200)
    expect(page.body).toContain('<b id="pending-count">8</b> pending')
    expect(page.body).toContain('<b id="failed-count">4</b> dead letters')
    expect(page.body).toMatch(
      /<tr><td>default<\/td><td>acquire<\/td><td>acct-1<\/td><td class="n">5<\/td><td class="n">3<\/td>/
    )
    expect(page.body).toMatch(
      /<tr><td>default<\/td><td>bitrix24<\/td><td>portal-7<\/td><td class="n">3<\/td><td class="n">1<\/td>/
    )
    // The chart's two series end at today's counts.
    expect(page.body).toContain("pending (8 now)")
    expect(page.body).toContain("dead letters (4 now)")
  })

  it("lists the dead letters with their reasons and a re-drive button each", async () => {
    const page = await fetchRaw(`${dashboard.url}dead`)
    expect(page.status).toBe(200)
    for (const id of ["dead-1", "dead-2", "b-dead-1"]) expect(page.body).toContain(`name="id" value="${id}"`)
    expect(page.body).toContain("NotFound: Not found: the provider has no such message")
    expect(page.body.match(/<button>Re-drive<\/button>/g)).toHaveLength(4)
    expect(page.body).toContain("<button>Re-drive all</button>")
  })

  it("shows a message's history as a timeline: versions, attempts, outcomes and who held the claim", async () => {
    const page = await fetchRaw(`${dashboard.url}message?id=wa-1&provider=acquire&account=acct-1`)
    expect(page.status).toBe(200)
    const events = [...page.body.matchAll(/<li class="event ([a-z ]+)">/g)].map((match) => match[1])
    expect(events).toEqual(["asked", "attempt confirmed", "confirmed", "asked", "attempt confirmed", "confirmed"])
    expect(page.body).toContain("claim held by <code>worker-20h</code>")
    expect(page.body).toContain("claim held by <code>worker-5h</code>")
    expect(page.body).toContain("<q>Meet at 9</q>")
    const missing = await fetchRaw(`${dashboard.url}message?id=nope`)
    expect(missing.status).toBe(404)
    expect(missing.body).toContain("The outbox has no message with this id")
  })

  it("shows every text from the database inert, and no secret, on every page", async () => {
    for (const path of pages()) {
      const page = await fetchRaw(new URL(path, dashboard.url).href)
      expect(page.status, path).toBe(200)
      expect(page.body, path).not.toContain("<img")
      expect(page.body, path).not.toContain("<b>wa-evil")
      expect(page.body, path).not.toContain(SECRET)
      expect(page.headers["content-security-policy"], path).toContain("default-src 'none'")
    }
    const hostile = await fetchRaw(`${dashboard.url}message?id=${encodeURIComponent(HOSTILE_ID)}`)
    expect(hostile.body).toContain("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;")
    expect(hostile.body).toContain("&lt;b&gt;wa-evil&lt;/b&gt;&quot;&#39;")
    expect(hostile.body).toContain("key &lt;redacted&gt;")
    expect(HOSTILE).toContain("<img")
  })
})

describe("reword dashboard: who may use it", () => {
  it("refuses a request naming another Host (DNS rebinding), reads and writes alike", async () => {
    const port = new URL(dashboard.url).port
    const get = await fetchRaw(dashboard.url, { headers: { host: `rebind.example:${port}` } })
    expect(get.status).toBe(421)
    expect(get.body).not.toContain("dead-1")
    const page = await fetchRaw(`${dashboard.url}dead`)
    const post = await fetchRaw(`${dashboard.url}redrive`, {
      method: "POST",
      headers: {
        host: `rebind.example:${port}`,
        origin: `http://rebind.example:${port}`,
        "content-type": "application/x-www-form-urlencoded"
      },
      body: new URLSearchParams({ token: tokenOf(page.body), all: "1" }).toString()
    })
    expect(post.status).toBe(421)
    expect((await fetchRaw(`http://localhost:${port}/`)).status).toBe(200)
  })

  it("refuses a re-drive from another origin, without an Origin, from another site, or without this run's token", async () => {
    const origin = dashboard.url.slice(0, -1)
    const token = tokenOf((await fetchRaw(`${dashboard.url}dead`)).body)
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
    const redrive = (headers: Record<string, string>, body: string) =>
      fetchRaw(`${dashboard.url}redrive`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body
      })
    const refused = [
      await redrive({ origin: "http://evil.example" }, form({ token, all: "1" })),
      await redrive({}, form({ token, all: "1" })),
      await redrive({ origin, "sec-fetch-site": "cross-site" }, form({ token, all: "1" })),
      await redrive({ origin }, form({ token: "guessed", all: "1" })),
      await redrive({ origin }, form({ all: "1" }))
    ]
    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403])
    expect(refused[0]?.body).toContain("a re-drive must come from this page")
    expect(refused[3]?.body).toContain("a re-drive needs this run&#39;s token")
    expect((await fetchRaw(dashboard.url, { method: "DELETE" })).status).toBe(405)
    // Nothing was re-driven.
    expect((await fetchRaw(dashboard.url)).body).toContain('<b id="failed-count">4</b> dead letters')
  })

  it("re-drives one dead letter from the page's own form: back in the outbox, pending", async () => {
    const origin = dashboard.url.slice(0, -1)
    const token = tokenOf((await fetchRaw(`${dashboard.url}dead`)).body)
    const answer = await fetchRaw(`${dashboard.url}redrive`, {
      method: "POST",
      headers: { origin, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ token, provider: "acquire", account: "acct-1", id: "dead-1" }).toString()
    })
    expect(answer.status).toBe(303)
    expect(answer.headers.location).toBe("/dead?redriven=1")
    const after = await fetchRaw(`${dashboard.url}dead?redriven=1`)
    expect(after.body).toContain("1 dead letter back in the outbox")
    expect(after.body).not.toContain('name="id" value="dead-1"')
    const history = await fetchRaw(`${dashboard.url}message?id=dead-1`)
    expect(history.body).toContain('<span class="state pending">pending</span>')
    expect(dashboard.stderr()).toContain('re-driven from the dashboard: "dead-1" (1 back in the outbox)')
  })

  it("bound elsewhere than 127.0.0.1, needs the printed link's token on every request", async () => {
    const other = await startDashboard(["--database", database, "--host", "127.0.0.2"])
    try {
      const link = new URL(other.url)
      const token = link.searchParams.get("token")
      expect(token).toMatch(/^[\w-]{43}$/)
      const bare = `${link.origin}/`
      expect((await fetchRaw(bare)).status).toBe(401)
      expect((await fetchRaw(`${bare}dead`, { headers: { cookie: "reword_dashboard=wrong" } })).status).toBe(401)
      const entry = await fetchRaw(other.url)
      expect(entry.status).toBe(303)
      expect(entry.headers.location).toBe("/")
      const cookie = String(entry.headers["set-cookie"]).split(";")[0] ?? ""
      expect(String(entry.headers["set-cookie"])).toContain("HttpOnly; SameSite=Strict")
      const page = await fetchRaw(bare, { headers: { cookie } })
      expect(page.status).toBe(200)
      expect(page.body).toContain("pending")
    } finally {
      await other.stop()
    }
  }, 90_000)

  it("needs a database, and says so", async () => {
    const run = await reword(["dashboard"], { timeoutMs: 60_000 })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("name the outbox's database")
  }, 90_000)
})

describe("the README", () => {
  it("documents every flag of dashboard, and links a screenshot of each view that exists", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const help = await reword(["dashboard", "--help"], { timeoutMs: 60_000 })
    const flags = help.stdout
      .split("\n")
      .map((line) => /^\s+(--[a-z0-9-]+)/.exec(line)?.[1])
      .filter((flag): flag is string => flag !== undefined)
    expect(flags).toEqual(expect.arrayContaining(["--database", "--host", "--port", "--allow-host"]))
    for (const flag of flags) expect(readme, flag).toContain(`\`${flag}`)
    const shots = [...readme.matchAll(/\((docs\/dashboard\/[a-z-]+\.png)\)/g)].map((match) => match[1] ?? "")
    expect(new Set(shots)).toEqual(
      new Set([
        "docs/dashboard/backlog.png",
        "docs/dashboard/dead-letters.png",
        "docs/dashboard/message.png",
        "docs/dashboard/tenants.png"
      ])
    )
    for (const shot of shots) expect(existsSync(new URL(`../${shot}`, import.meta.url)), shot).toBe(true)
  }, 90_000)
})
