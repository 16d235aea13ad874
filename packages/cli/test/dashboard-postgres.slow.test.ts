/**
 * `reword dashboard` on a PostgreSQL server's outbox (the same database flags
 * as `reword history` and `reword outbox`: the URL, a secret, and a table
 * prefix): its pages read the backlog and dead letters, a re-drive writes,
 * and neither the URL nor its password appears on a page or in the output.
 * Runs when REWORD_TEST_POSTGRES_URL names a server (CI starts one), on
 * tables of its own prefix, dropped afterwards.
 */
import { randomBytes } from "node:crypto"
import { pgClient } from "@reword/outbox/pg"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SECRET, writeOutboxTo } from "./dashboard-fixture.ts"
import { type Running, startDashboard } from "./dashboard-start.ts"

const url = process.env.REWORD_TEST_POSTGRES_URL ?? ""
const prefix = `dash_${randomBytes(4).toString("hex")}_`
let dashboard: Running | undefined

const client = () => pgClient({ url: Redacted.make(url), maxConnections: 2 })

const dropTables = () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const tables = yield* sql<{ readonly name: string }>`
        SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE ${`${prefix}%`}`
      for (const table of tables) yield* sql.unsafe(`DROP TABLE IF EXISTS "${table.name}" CASCADE`)
    }).pipe(Effect.provide(client().pipe(Layer.orDie)))
  )

describe.skipIf(url === "")("reword dashboard on PostgreSQL", () => {
  beforeAll(async () => {
    await writeOutboxTo({ client: client(), tablePrefix: prefix })
    dashboard = await startDashboard(["--table-prefix", prefix], {
      REWORD_OUTBOX_DATABASE: url,
      ACQUIRE_API_KEY: SECRET
    })
  }, 120_000)

  afterAll(async () => {
    await dashboard?.stop()
    await dropTables()
  }, 60_000)

  it("reads the backlog and the dead letters, and re-drives one", async () => {
    const running = dashboard as Running
    const page = await fetch(running.url, { signal: AbortSignal.timeout(10_000) }).then((answer) => answer.text())
    expect(page).toContain('<b id="pending-count">8</b> pending')
    expect(page).toContain('<b id="failed-count">4</b> dead letters')
    const dead = await fetch(`${running.url}dead`, { signal: AbortSignal.timeout(10_000) }).then((answer) =>
      answer.text()
    )
    const token = /name="token" value="([^"]+)"/.exec(dead)?.[1] ?? ""
    const answer = await fetch(`${running.url}redrive`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: running.url.slice(0, -1), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, provider: "acquire", account: "acct-1", id: "dead-1" }),
      signal: AbortSignal.timeout(10_000)
    })
    expect(answer.status).toBe(303)
    expect(answer.headers.get("location")).toBe("/dead?redriven=1")
    const password = new URL(url).password
    for (const text of [page, dead, running.stderr(), running.url]) {
      expect(text).not.toContain(url)
      if (password.length > 0) expect(text).not.toContain(password)
      expect(text).not.toContain(SECRET)
    }
  }, 60_000)
})
