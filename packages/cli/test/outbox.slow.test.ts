/**
 * `reword history` and `reword outbox` as real processes, on an outbox
 * database an app wrote (@reword/outbox on SQLite): a message's versions and
 * attempts, the pending edits and dead letters by provider, a re-drive; the
 * provider's text escaped and every secret scrubbed; bad database settings.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Capabilities, EditError, EditedMessage, MessageEditor } from "@reword/core"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"

const SECRET = "acq-key-4f9a1c77e0"
const HOSTILE = "Meet at 10\u001b]0;pwned\u0007 \u202eevil"
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

let directory: string
let database: string

/** An editor that lands every edit but those of `wa-404`, refused with a reason that quotes a secret. */
const editor = MessageEditor.make(
  {
    provider: "acquire",
    capabilities: new Capabilities.Capabilities({
      requiredIds: ["externalMessageId"],
      files: false,
      authorDetails: false,
      chatDetails: false,
      language: false,
      maxMessagesPerCall: 1
    }),
    update: (request) =>
      request.ids.externalMessageId === "wa-404"
        ? Effect.fail(new EditError.NotFound({ description: `no message (key ${SECRET})` }))
        : Effect.succeed(
            new EditedMessage.EditedMessage({
              provider: "acquire",
              ids: request.ids,
              text: request.text,
              files: [],
              updatedAt: new Date()
            })
          )
  },
  { retry: { maxAttempts: 1 } }
)

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-cli-outbox-"))
  database = join(directory, "outbox.db")
  const phase = (options: Outbox.Options, run: (outbox: Outbox.Service) => Effect.Effect<unknown, unknown>) =>
    Effect.runPromise(
      Effect.flatMap(Outbox.makeWith([{ editor, account: "acct-1" }], options), run).pipe(
        Effect.scoped,
        Effect.provide(sqliteClient({ filename: database }).pipe(Layer.orDie))
      )
    )
  // Two versions of wa-1 and a dead letter to be, stored before any worker runs ...
  await phase({ worker: false }, (outbox) =>
    Effect.gen(function* () {
      for (const id of ["wa-1", "wa-2", "wa-404"]) yield* outbox.record({ ids: { externalMessageId: id } })
      yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "Meet at 9", source: "agent" })
      yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: HOSTILE, source: "customer" })
      yield* outbox.submit({ ids: { externalMessageId: "wa-404" }, text: "never there", source: "cli" })
    })
  )
  // ... delivered by a worker ...
  await phase({ pollInterval: "10 millis" }, (outbox) => outbox.drain({ timeout: "10 seconds" }))
  // ... and one edit left pending.
  await phase({ worker: false }, (outbox) =>
    outbox.submit({ ids: { externalMessageId: "wa-2" }, text: "waiting", source: "agent" })
  )
}, 300_000)

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

const env = () => ({ REWORD_OUTBOX_DATABASE: database, ACQUIRE_API_KEY: SECRET })

describe("reword history", () => {
  it("prints every version with its attempts, the provider's text escaped and secrets scrubbed", async () => {
    const run = await reword(["history", "wa-1"], { env: env() })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('acquire acct-1 message "wa-1"')
    expect(run.stdout).toContain("confirmed version 2 of 2")
    expect(run.stdout).toMatch(/v1 superseded: asked \S+ by agent: "Meet at 9"/)
    expect(run.stdout).toMatch(
      /v2 confirmed: asked \S+ by customer, confirmed \S+: "Meet at 10\\u001b\]0;pwned\\u0007 \\u202eevil"/
    )
    expect(run.stdout).toMatch(/attempt by worker-\w+ at \S+: confirmed/)
    expect(run.stdout).not.toMatch(UNSAFE)

    const failed = await reword(["history", "wa-404", "--json"], { env: env() })
    expect(failed.code).toBe(0)
    expect(failed.stdout).not.toContain(SECRET)
    const [message] = jsonOf(failed.stdout).messages as Array<Record<string, unknown>>
    expect(message?.state).toBe("failed")
    expect(message?.lastReason).toMatch(/^NotFound: .*<redacted>/)
    const [version] = (message?.versions ?? []) as Array<{ text: string; status: string; attempts: Array<unknown> }>
    expect(version).toMatchObject({ text: "never there", status: "failed", attempts: [{ outcome: "permanent" }] })

    const hostile = await reword(["history", "wa-1", "--json"], { env: env() })
    expect(hostile.stdout).not.toMatch(UNSAFE)
    const versions = (jsonOf(hostile.stdout).messages as Array<{ versions: Array<{ text: string }> }>)[0]?.versions
    expect(versions?.map((v) => v.text)).toEqual(["Meet at 9", HOSTILE])

    const missing = await reword(["history", "wa-none", "--json"], { env: env() })
    expect(missing.code).toBe(3)
    expect(jsonOf(missing.stdout).error).toMatchObject({ reason: "NotFound" })
  }, 300_000)
})

describe("reword outbox", () => {
  it("lists pending and failed by provider; redrive puts the dead letter back", async () => {
    const listed = await reword(["outbox", "--json"], { env: env() })
    expect(listed.code).toBe(0)
    expect(listed.stdout).not.toContain(SECRET)
    const json = jsonOf(listed.stdout) as {
      counts: unknown
      byProvider: Array<unknown>
      pending: Array<{ ids: { externalMessageId: string } }>
      failed: Array<{ ids: { externalMessageId: string }; lastReason: string }>
    }
    expect(json.counts).toEqual({ pending: 1, failed: 1 })
    expect(json.byProvider).toMatchObject([{ provider: "acquire", pending: 1, failed: 1 }])
    expect(json.pending.map((e) => e.ids.externalMessageId)).toEqual(["wa-2"])
    expect(json.failed.map((e) => e.ids.externalMessageId)).toEqual(["wa-404"])
    expect(json.failed[0]?.lastReason).toContain("<redacted>")

    const older = await reword(["outbox", "--older-than", "1 hour", "--json"], { env: env() })
    expect(jsonOf(older.stdout)).toMatchObject({ pending: [], failed: [] })

    const plain = await reword(["outbox"], { env: env() })
    expect(plain.stdout).toContain("1 pending, 1 failed")
    expect(plain.stdout).toMatch(/acquire acct-1 "wa-404" v1 .*failed for .*NotFound/)
    expect(plain.stdout).not.toContain(SECRET)

    const redriven = await reword(["outbox", "redrive", "wa-404", "--json"], { env: env() })
    expect(redriven.code).toBe(0)
    expect(jsonOf(redriven.stdout)).toMatchObject({ redriven: 1, messages: [{ externalMessageId: "wa-404" }] })
    const after = await reword(["outbox", "--json"], { env: env() })
    expect(jsonOf(after.stdout).counts).toEqual({ pending: 2, failed: 0 })
    const again = await reword(["outbox", "redrive", "wa-404"], { env: env() })
    expect(again.code).toBe(3)
    expect(again.stderr).toContain('no dead letter "wa-404"')
  }, 300_000)

  it("bad database settings: none named, no such file, not a database, an unreachable PostgreSQL", async () => {
    const none = await reword(["outbox", "--json"], { env: {} })
    expect(none.code).toBe(2)
    expect(jsonOf(none.stdout).error).toMatchObject({ reason: "Usage" })
    const absent = await reword(["history", "x", "--database", join(directory, "absent.db")])
    expect(absent.code).toBe(2)
    expect(absent.stderr).toContain("no outbox database at")
    const junk = join(directory, "junk.db")
    writeFileSync(junk, "not a database\n".repeat(100))
    const corrupt = await reword(["outbox", "--database", junk, "--json"])
    expect(corrupt.code).toBe(2)
    expect(jsonOf(corrupt.stdout).error).toMatchObject({ reason: "Storage", problem: "Corrupt" })
    const password = "pg-pass-8d2e"
    const url = `postgres://reword:${password}@127.0.0.1:1/app`
    const unreachable = await reword(["outbox", "--json"], { env: { REWORD_OUTBOX_DATABASE: url } })
    expect(unreachable.code).toBe(3)
    expect(jsonOf(unreachable.stdout).error).toMatchObject({ reason: "Storage", problem: "Unavailable" })
    expect(`${unreachable.stdout}${unreachable.stderr}`).not.toContain(password)
  }, 300_000)

  it("bad flags: --older-than not a duration, --limit out of range, redrive with neither an id nor --all (or both)", async () => {
    const runs = await Promise.all([
      reword(["outbox", "--database", database, "--older-than", "soon", "--json"]),
      reword(["outbox", "--database", database, "--limit", "0", "--json"]),
      reword(["outbox", "redrive", "--database", database, "--json"]),
      reword(["outbox", "redrive", "wa-404", "--all", "--database", database, "--json"])
    ])
    const messages = [
      '--older-than must be a duration, such as "10 minutes" or "2 hours"',
      "--limit must be from 1 to 10000",
      "name one dead letter (its external message id), or --all",
      "name one dead letter (its external message id), or --all"
    ]
    runs.forEach((run, n) => {
      expect(run.code).toBe(2)
      expect(jsonOf(run.stdout).error).toMatchObject({ reason: "Usage", message: messages[n], retryable: false })
      expect(run.stderr).toContain(`error: ${messages[n]}`)
    })
  }, 300_000)
})

describe("the README", () => {
  it("documents every flag of history, outbox and outbox redrive", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const runs = await Promise.all([
      reword(["history", "--help"]),
      reword(["outbox", "--help"]),
      reword(["outbox", "redrive", "--help"])
    ])
    const flags = new Set(
      runs.flatMap((run) =>
        run.stdout
          .split("\n")
          .map((line) => /^\s+(--[a-z0-9-]+)/.exec(line)?.[1])
          .filter((flag): flag is string => flag !== undefined)
      )
    )
    expect(flags.size).toBeGreaterThanOrEqual(9)
    for (const flag of flags) expect(readme, flag).toContain(`\`${flag}`)
    for (const variable of ["REWORD_OUTBOX_DATABASE", "REWORD_OUTBOX_TABLE_PREFIX"]) expect(readme).toContain(variable)
  }, 300_000)
})
