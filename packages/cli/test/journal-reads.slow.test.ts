/**
 * What `reword outbox` and `reword history` read beyond one page: the totals
 * count every message the filters choose (not the page shown), and a
 * message a worker is delivering shows who holds its claim and until when.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Capabilities, EditedMessage, MessageEditor } from "@reword/core"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"

let directory: string

/** An editor that lands every edit, except that it never answers for `held-1` (a delivery in flight). */
const editor = (provider: string) =>
  MessageEditor.make(
    {
      provider,
      capabilities: new Capabilities.Capabilities({
        requiredIds: ["externalMessageId"],
        files: false,
        authorDetails: false,
        chatDetails: false,
        language: false,
        maxMessagesPerCall: 1
      }),
      update: (request) =>
        request.ids.externalMessageId === "held-1"
          ? Effect.never
          : Effect.succeed(
              new EditedMessage.EditedMessage({
                provider,
                ids: request.ids,
                text: request.text,
                files: [],
                updatedAt: new Date()
              })
            )
    },
    { retry: { maxAttempts: 1 } }
  )

const routes = [
  { editor: editor("acquire"), account: "acct-1" },
  { editor: editor("acquire"), account: "acct-2" },
  { editor: editor("bitrix24"), account: "portal-1" }
]

/** Records and submits these messages with no worker running: they stay pending. */
const pendingIn = (database: string, messages: ReadonlyArray<readonly [string, string, string]>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const outbox = yield* Outbox.makeWith(routes, { worker: false })
      for (const [provider, account, id] of messages) {
        yield* outbox.record({ provider, account, ids: { externalMessageId: id } })
        yield* outbox.submit({ provider, account, ids: { externalMessageId: id }, text: `text of ${id}` })
      }
    }).pipe(Effect.scoped, Effect.provide(sqliteClient({ filename: database }).pipe(Layer.orDie)))
  )

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "reword-cli-journal-reads-"))
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe("reword outbox totals", () => {
  it("count every pending message the filters choose, not the page shown", async () => {
    const database = join(directory, "totals.db")
    await pendingIn(database, [
      ...Array.from({ length: 7 }, (_, n) => ["acquire", "acct-1", `a1-${n}`] as const),
      ...Array.from({ length: 3 }, (_, n) => ["acquire", "acct-2", `a2-${n}`] as const),
      ...Array.from({ length: 4 }, (_, n) => ["bitrix24", "portal-1", `b-${n}`] as const)
    ])
    const env = { REWORD_OUTBOX_DATABASE: database }

    const [page, plain, oneAccount, older] = await Promise.all([
      reword(["outbox", "--limit", "2", "--json"], { env, timeoutMs: 60_000 }),
      reword(["outbox", "--limit", "2"], { env, timeoutMs: 60_000 }),
      reword(["outbox", "--account", "acct-2", "--limit", "1", "--json"], { env, timeoutMs: 60_000 }),
      reword(["outbox", "--older-than", "1 hour", "--json"], { env, timeoutMs: 60_000 })
    ])
    expect(page.code).toBe(0)
    const json = jsonOf(page.stdout) as {
      counts: unknown
      byProvider: Array<unknown>
      byAccount: Array<unknown>
      pending: Array<unknown>
    }
    expect(json.pending).toHaveLength(2)
    expect(json.counts).toEqual({ pending: 14, failed: 0 })
    expect(json.byProvider).toMatchObject([
      { provider: "acquire", pending: 10, failed: 0 },
      { provider: "bitrix24", pending: 4, failed: 0 }
    ])
    expect(json.byAccount).toMatchObject([
      { provider: "acquire", account: "acct-1", pending: 7 },
      { provider: "acquire", account: "acct-2", pending: 3 },
      { provider: "bitrix24", account: "portal-1", pending: 4 }
    ])

    expect(plain.stdout).toContain("14 pending, 0 failed")
    expect(plain.stdout).toContain("acquire: 10 pending, 0 failed")
    expect(plain.stdout).toContain("bitrix24: 4 pending, 0 failed")
    expect(plain.stdout).toContain("PENDING (the first 2: --limit shows more)")

    expect(jsonOf(oneAccount.stdout)).toMatchObject({
      counts: { pending: 3, failed: 0 },
      byProvider: [{ provider: "acquire", pending: 3 }]
    })
    expect(jsonOf(older.stdout)).toMatchObject({ counts: { pending: 0, failed: 0 }, byProvider: [] })
  }, 180_000)
})

describe("a directory named as the database", () => {
  it("is bad input (exit 2) that says so, not an outage to try again", async () => {
    const run = await reword(["outbox", "--json", "--database", directory], { timeoutMs: 60_000 })
    expect(run.code).toBe(2)
    expect(jsonOf(run.stdout).error).toMatchObject({
      reason: "Usage",
      message: `${directory} is a directory, not an outbox database`
    })
    expect(run.stderr).not.toContain("try again")
  }, 180_000)
})

describe("reword history and a claim", () => {
  it("shows the worker that holds a message it is delivering, and until when", async () => {
    const database = join(directory, "claimed.db")
    await pendingIn(database, [["acquire", "acct-1", "held-1"]])
    const scope = Effect.runSync(Scope.make())
    try {
      const context = await Effect.runPromise(
        Layer.buildWithScope(sqliteClient({ filename: database }).pipe(Layer.orDie), scope)
      )
      const outbox = await Effect.runPromise(
        Outbox.makeWith(routes, { workerId: "app-worker-7", lease: "10 minutes", pollInterval: "20 millis" }).pipe(
          Effect.provide(context),
          Effect.provideService(Scope.Scope, scope)
        )
      )
      // The worker claims the message and starts its delivery, which never ends.
      for (let n = 0; n < 500; n++) {
        const history = await Effect.runPromise(outbox.history("held-1", { provider: "acquire", account: "acct-1" }))
        if (history?.claim !== undefined) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const env = { REWORD_OUTBOX_DATABASE: database }
      const [run, plain, listed] = await Promise.all([
        reword(["history", "held-1", "--json"], { env, timeoutMs: 60_000 }),
        reword(["history", "held-1"], { env, timeoutMs: 60_000 }),
        reword(["outbox"], { env, timeoutMs: 60_000 })
      ])
      expect(run.code).toBe(0)
      const json = jsonOf(run.stdout) as { messages: Array<{ claim?: { worker: string; until: string } }> }
      const claim = json.messages[0]?.claim
      expect(claim?.worker).toBe("app-worker-7")
      const until = new Date(String(claim?.until)).getTime()
      expect(until).toBeGreaterThan(Date.now() + 8 * 60_000)

      expect(plain.stdout).toMatch(
        /claimed by app-worker-7 until \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ min: it is delivering the message\)/
      )
      expect(plain.stdout).toMatch(/attempt by app-worker-7 at \S+: in flight/)
      expect(listed.stdout).toMatch(/"held-1" v1 .*claimed by app-worker-7 until/)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 180_000)
})
