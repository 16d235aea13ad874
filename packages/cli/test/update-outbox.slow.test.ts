/**
 * `reword update` where the app's outbox database is configured: the edit is
 * submitted through the outbox (source `cli`) and delivered by the command
 * itself, bounded by `--wait`, so that the outbox's settle re-send of an
 * older edit sends the operator's text, not the older one; when the bound
 * passes, the edit stays queued for the app's workers (exit 4). Against a
 * real Acquire sandbox and a real SQLite outbox, the command a real process.
 */

import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Outbox, sqliteClient } from "@reword/outbox"
import { pgClient } from "@reword/outbox/pg"
import { type Duration, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword, spawnReword } from "./support/cli.ts"

let sandbox: AcquireSandbox.Sandbox
let directory: string

beforeAll(async () => {
  sandbox = await AcquireSandbox.start()
  directory = mkdtempSync(join(tmpdir(), "reword-cli-update-outbox-"))
})

afterAll(async () => {
  await sandbox.stop()
  rmSync(directory, { recursive: true, force: true })
})

type Ids = AcquireSandbox.SeededIds

/**
 * A fetch that holds the first request past the editor's timeout (an attempt
 * whose outcome is unknown, as on a slow network path), and passes the others.
 */
const holdingFirst = (): typeof globalThis.fetch => {
  let held = false
  return async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init)
    if (held) return fetch(request)
    held = true
    const signal = init?.signal ?? request.signal
    return new Promise<Response>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
  }
}

/** Runs the app's outbox (its worker running unless `worker: false`) on the database, around `body`. */
const app = <A>(
  database: string,
  options: Outbox.Options & { readonly fetch?: typeof globalThis.fetch; readonly timeoutMs?: number },
  body: (outbox: Outbox.Service) => Effect.Effect<A, unknown>
): Promise<A> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const editor = yield* Acquire.make(sandbox.settings, {
        retry: { maxAttempts: 1 },
        transport: {
          timeout: options.timeoutMs ?? 300,
          ...(options.fetch === undefined ? {} : { fetch: options.fetch })
        }
      })
      const { fetch: _fetch, timeoutMs: _timeout, ...outboxOptions } = options
      const outbox = yield* Outbox.makeWith([{ editor, account: "acct-1" }], {
        pollInterval: "50 millis",
        retry: { initialDelay: 10, maxDelay: 50 },
        workerId: "app-worker",
        ...outboxOptions
      })
      return yield* body(outbox)
    }).pipe(Effect.scoped, Effect.provide(sqliteClient({ filename: database }).pipe(Layer.orDie)))
  )

/**
 * A message whose older edit (`older`) is in its settle window: its first
 * attempt timed out (it may still land), the retry landed, and the outbox
 * will send the newest text again once the window has passed. No app worker
 * runs when this returns.
 */
const inSettleWindow = async (database: string, older: string, settleWindow: Duration.Input): Promise<Ids> => {
  const ids = await sandbox.seedMessage("as first sent")
  await app(database, { settleWindow, fetch: holdingFirst() }, (outbox) =>
    Effect.gen(function* () {
      yield* outbox.record({ ids })
      yield* outbox.submit({ ids: { externalMessageId: ids.externalMessageId }, text: older, source: "agent" })
      let history = yield* outbox.history(ids.externalMessageId)
      for (let n = 0; n < 1_000 && history?.confirmedVersion !== 1; n++) {
        yield* Effect.sleep("10 millis")
        history = yield* outbox.history(ids.externalMessageId)
      }
      // The retry landed; the outbox sends the newest text again after the window.
      expect(history).toMatchObject({ state: "pending", confirmedVersion: 1 })
    })
  )
  expect(sandbox.inspect(ids)?.text).toBe(older)
  return ids
}

/** The app's workers, started again: they deliver what is due (the settle re-send) until nothing is pending. */
const appWorkersDrain = (database: string, settleWindow: Duration.Input, externalMessageId: string) =>
  app(database, { settleWindow }, (outbox) =>
    Effect.gen(function* () {
      const left = yield* outbox.drain({ timeout: "60 seconds" })
      return { left, history: yield* outbox.history(externalMessageId) }
    })
  )

const envOf = (database: string) => ({
  ...sandbox.env,
  REWORD_OUTBOX_DATABASE: database,
  REWORD_OUTBOX_SETTLE_WINDOW: "8 seconds"
})

describe("reword update through the app's outbox", () => {
  it("an older edit in its settle window: the operator's text is delivered, stays, and is in the journal as cli", async () => {
    const database = join(directory, "settle.db")
    const message = await inSettleWindow(database, "Meet at 11.", "8 seconds")

    const run = await reword(
      [
        "update",
        "--external-message-id",
        message.externalMessageId,
        "--provider-message-id",
        String(message.providerMessageId),
        "--text",
        "Meet at 10, not 11."
      ],
      { env: envOf(database), timeoutMs: 60_000 }
    )
    expect(run.code).toBe(0)

    // The app's workers run again: whatever the outbox still had to send after the window, the operator's text stays.
    const { left, history } = await appWorkersDrain(database, "8 seconds", message.externalMessageId)
    expect(left).toEqual({ pending: 0, failed: 0 })
    expect(sandbox.inspect(message)?.text).toBe("Meet at 10, not 11.")
    const newest = history?.versions.at(-1)
    expect(newest).toMatchObject({ version: 2, source: "cli", status: "confirmed", text: "Meet at 10, not 11." })
    // The command delivered it itself (no app worker ran meanwhile).
    expect(newest?.attempts.map((attempt) => [attempt.worker.split("@")[0], attempt.outcome])).toEqual([
      ["reword-cli", "confirmed"]
    ])
    expect(run.stdout.trim()).toBe(
      `Updated acquire message ${message.providerMessageId} in chat ${message.externalChatId}: "Meet at 10, not 11." (acct-1, v2) through the outbox`
    )
    expect(run.stderr).toContain("outbox: queued as v2 of acquire acct-1")
  }, 240_000)

  it("when --wait passes first, the edit stays queued for the app's workers: exit 4, then the workers deliver it", async () => {
    const database = join(directory, "queued.db")
    const message = await sandbox.seedMessage("Closed on Monday")
    // The app's worker is delivering an older edit (its call held until the test lets it go): the message
    // is the app worker's until then, so the command cannot deliver within --wait.
    let letGo: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      letGo = resolve
    })
    const gated: typeof globalThis.fetch = async (input, init) => {
      await gate
      return fetch(input, init)
    }
    const env = envOf(database)
    const { run, json, left, history } = await app(
      database,
      { fetch: gated, timeoutMs: 600_000, lease: "10 minutes" },
      (outbox) =>
        Effect.gen(function* () {
          yield* outbox.record({ ids: message })
          yield* outbox.submit({ ids: { externalMessageId: message.externalMessageId }, text: "Closed on Monday." })
          let held = yield* outbox.history(message.externalMessageId)
          for (let n = 0; n < 1_000 && held?.claim === undefined; n++) {
            yield* Effect.sleep("10 millis")
            held = yield* outbox.history(message.externalMessageId)
          }
          expect(held?.claim?.worker).toBe("app-worker")
          const run = yield* Effect.promise(() =>
            reword(
              [
                "update",
                "--external-message-id",
                message.externalMessageId,
                "--text",
                "Open on Monday.",
                "--wait",
                "1s"
              ],
              { env, timeoutMs: 60_000 }
            )
          )
          const json = yield* Effect.promise(() =>
            reword(
              [
                "update",
                "--json",
                "--external-message-id",
                message.externalMessageId,
                "--text",
                "Open on Monday!",
                "--wait",
                "0 seconds"
              ],
              { env, timeoutMs: 60_000 }
            )
          )
          expect(sandbox.inspect(message)?.text).toBe("Closed on Monday")
          letGo()
          const left = yield* outbox.drain({ timeout: "60 seconds" })
          return { run, json, left, history: yield* outbox.history(message.externalMessageId) }
        })
    )
    expect(run.code).toBe(4)
    expect(run.stdout.trim()).toBe(
      `Queued acquire message ${message.providerMessageId} in chat ${message.externalChatId} (acct-1, v2) in the outbox`
    )
    expect(run.stderr).toMatch(
      /outbox: v2 was not delivered within --wait: it stays queued in the outbox, for the app's workers \(.*claimed by app-worker until \S+/
    )
    expect(json.code).toBe(4)
    expect(jsonOf(json.stdout)).toMatchObject({
      provider: "acquire",
      ids: { externalMessageId: message.externalMessageId },
      text: "Open on Monday!",
      outbox: { account: "acct-1", version: 3, status: "pending", state: "pending", claim: { worker: "app-worker" } }
    })

    // The app's worker answers, then delivers the newest version: the operator's.
    expect(left).toEqual({ pending: 0, failed: 0 })
    expect(sandbox.inspect(message)?.text).toBe("Open on Monday!")
    expect(history?.versions.map((v) => [v.version, v.source, v.status])).toEqual([
      [1, undefined, "confirmed"],
      [2, "cli", "superseded"],
      [3, "cli", "confirmed"]
    ])
  }, 240_000)

  it("refuses what the outbox cannot take (no external id, an id it does not hold, --from, a bad --wait); a provider's refusal is a dead letter (exit 3); --direct bypasses the outbox", async () => {
    const database = join(directory, "refusals.db")
    const message = await sandbox.seedMessage("Hello")
    const gone = { externalMessageId: "wa-gone", providerMessageId: 990_001 }
    await app(database, { worker: false }, (outbox) =>
      Effect.andThen(outbox.record({ ids: message }), outbox.record({ ids: gone }))
    )
    const env = envOf(database)
    const timeoutMs = 60_000
    const [noId, unknown, from, direct, badWait, refused] = await Promise.all([
      reword(["update", "--json", "--provider-message-id", String(message.providerMessageId), "--text", "x"], {
        env,
        timeoutMs
      }),
      reword(["update", "--json", "--external-message-id", "wa-nowhere", "--text", "x"], { env, timeoutMs }),
      reword(["update", "--json", "--from", "-"], { env, stdin: "", timeoutMs }),
      reword(
        ["update", "--direct", "--provider-message-id", String(message.providerMessageId), "--text", "Hello, directly"],
        { env, timeoutMs }
      ),
      reword(
        ["update", "--json", "--external-message-id", message.externalMessageId, "--text", "x", "--wait", "soon"],
        {
          env,
          timeoutMs
        }
      ),
      reword(["update", "--json", "--external-message-id", "wa-gone", "--text", "Never there"], { env, timeoutMs })
    ])
    expect(noId.code).toBe(2)
    expect(jsonOf(noId.stdout).error).toMatchObject({ reason: "Usage" })
    expect(noId.stderr).toContain("name the message by --external-message-id")
    expect(unknown.code).toBe(3)
    expect(jsonOf(unknown.stdout).error).toMatchObject({ reason: "NotFound" })
    expect(unknown.stderr).toContain('the outbox has no message "wa-nowhere"')
    expect(from.code).toBe(2)
    expect(from.stderr).toContain("--from does not go through the outbox")
    expect(direct.code).toBe(0)
    expect(sandbox.inspect(message)?.text).toBe("Hello, directly")
    expect(badWait.code).toBe(2)
    expect(jsonOf(badWait.stdout).error).toMatchObject({ reason: "Usage", message: expect.stringContaining("--wait") })
    expect(refused.code).toBe(3)
    expect(jsonOf(refused.stdout).error).toMatchObject({
      provider: "acquire",
      reason: "NotFound",
      outbox: { version: 1, status: "failed", state: "failed" }
    })
    expect(refused.stderr).toContain(
      "hint: v1 is a dead letter in the outbox: fix the cause, then reword outbox redrive wa-gone"
    )
  }, 240_000)

  it("stopped (SIGINT) while its call is in flight: it waits for the answer, records it, and leaves no claim", async () => {
    const database = join(directory, "stopped.db")
    const message = await sandbox.seedMessage("Before the stop")
    await app(database, { worker: false }, (outbox) => outbox.record({ ids: message }))
    sandbox.holdRequests({ untilInFlight: 1_000, timeoutMs: 120_000 })
    let exited: Promise<number | null> = Promise.resolve(null)
    try {
      const child = spawnReword(
        ["update", "--external-message-id", message.externalMessageId, "--text", "Sent before the stop"],
        { env: envOf(database) }
      )
      child.stdin?.end()
      child.stdout?.resume()
      child.stderr?.resume()
      exited = new Promise((resolve) => child.on("close", (code) => resolve(code)))
      for (let n = 0; n < 3_000 && sandbox.maxInFlight() < 1; n++) await new Promise((r) => setTimeout(r, 20))
      expect(sandbox.maxInFlight()).toBe(1)
      child.kill("SIGINT")
      await new Promise((r) => setTimeout(r, 1_000))
      // Still waiting for the provider's answer to the call it made.
      expect(child.exitCode).toBe(null)
    } finally {
      sandbox.holdRequests(undefined)
    }
    expect(await exited).toBe(130)
    expect(sandbox.inspect(message)?.text).toBe("Sent before the stop")
    const history = await app(database, { worker: false }, (outbox) => outbox.history(message.externalMessageId))
    expect(history).toMatchObject({ state: "idle", confirmedVersion: 1, claim: undefined })
    expect(history?.versions[0]?.attempts.map((attempt) => attempt.outcome)).toEqual(["confirmed"])
  }, 240_000)

  const postgres = process.env.REWORD_TEST_POSTGRES_URL
  it.skipIf(postgres === undefined || postgres === "")(
    "on a PostgreSQL server too (REWORD_TEST_POSTGRES_URL): submitted as cli, delivered by the command",
    async () => {
      const url = postgres ?? ""
      const tablePrefix = `cli_${randomBytes(4).toString("hex")}_`
      const message = await sandbox.seedMessage("Before")
      const layer = pgClient({ url: Redacted.make(url), maxConnections: 2 }).pipe(Layer.orDie)
      const outboxOf = Effect.gen(function* () {
        const editor = yield* Acquire.make(sandbox.settings, { retry: { maxAttempts: 1 } })
        return yield* Outbox.makeWith([{ editor, account: "acct-pg" }], { worker: false, tablePrefix })
      })
      await Effect.runPromise(
        Effect.flatMap(outboxOf, (outbox) => outbox.record({ ids: message })).pipe(Effect.scoped, Effect.provide(layer))
      )
      const run = await reword(
        [
          "update",
          "--external-message-id",
          message.externalMessageId,
          "--text",
          "After",
          "--table-prefix",
          tablePrefix
        ],
        { env: { ...sandbox.env, REWORD_OUTBOX_DATABASE: url }, timeoutMs: 60_000 }
      )
      expect(run.stderr).not.toContain(url)
      expect(run.code).toBe(0)
      expect(sandbox.inspect(message)?.text).toBe("After")
      const history = await Effect.runPromise(
        Effect.flatMap(outboxOf, (outbox) => outbox.history(message.externalMessageId)).pipe(
          Effect.scoped,
          Effect.provide(layer)
        )
      )
      expect(history?.versions.map((v) => [v.source, v.status, v.attempts[0]?.worker.split("@")[0]])).toEqual([
        ["cli", "confirmed", "reword-cli"]
      ])
      await Effect.runPromise(
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          for (const table of ["attempts", "edits", "messages", "migrations"]) {
            yield* sql.unsafe(`DROP TABLE IF EXISTS ${tablePrefix}${table}`)
          }
        }).pipe(Effect.provide(layer))
      )
    },
    240_000
  )
})
