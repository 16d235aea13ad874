/**
 * `reword update --from`: many requests from a JSON-lines file (or stdin),
 * one result per request line in input order, a bad line as that line's own
 * InvalidRequest, progress lines on stderr, and the exit code of the worst
 * line (3 provider, else 2 invalid, else 0).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonLines, reword } from "./support/cli.ts"

let sandbox: AcquireSandbox.Sandbox
let directory: string

beforeAll(async () => {
  sandbox = await AcquireSandbox.start()
  directory = mkdtempSync(join(tmpdir(), "reword-cli-"))
})

afterAll(async () => {
  await sandbox.stop()
  rmSync(directory, { recursive: true, force: true })
})

const file = (name: string, lines: ReadonlyArray<string>): string => {
  const path = join(directory, name)
  writeFileSync(path, `${lines.join("\n")}\n`)
  return path
}

const request = (providerMessageId: number | string, text: string) =>
  JSON.stringify({ ids: { providerMessageId }, text })

describe("reword update --from", () => {
  it("runs every line in order; a bad line in the middle is its own InvalidRequest; exit 2", async () => {
    const [a, b, c] = await Promise.all([sandbox.seedMessage("a"), sandbox.seedMessage("b"), sandbox.seedMessage("c")])
    const path = file("mixed.jsonl", [
      request(a.providerMessageId, "A fixed"),
      "",
      "{not json",
      request(b.providerMessageId, "B fixed"),
      JSON.stringify({ ids: {}, text: "no id" }),
      request(c.providerMessageId, "C fixed")
    ])
    const run = await reword(["update", "--from", path, "--json", "--batch-size", "2"], { env: sandbox.env })
    expect(run.code).toBe(2)
    const results = jsonLines(run.stdout)
    expect(results.map((result) => result.line)).toEqual([1, 3, 4, 5, 6])
    expect(results[0]).toMatchObject({ line: 1, provider: "acquire", text: "A fixed" })
    expect(results[1]).toMatchObject({
      line: 3,
      error: {
        provider: "acquire",
        operation: "updateMany",
        reason: "InvalidRequest",
        retryable: false,
        problems: [{ path: "(line)", message: expect.stringContaining("is not valid JSON") }]
      }
    })
    expect(results[2]).toMatchObject({ line: 4, text: "B fixed" })
    expect(results[3]).toMatchObject({
      line: 5,
      error: { reason: "InvalidRequest", problems: [{ path: "ids.providerMessageId" }] }
    })
    expect(results[4]).toMatchObject({ line: 6, text: "C fixed" })
    expect([a, b, c].map((ids) => sandbox.inspect(ids)?.text)).toEqual(["A fixed", "B fixed", "C fixed"])

    // One progress line per batch of two request lines, then the summary.
    const progress = run.stderr.split("\n").filter((line) => /^updated \d+/.test(line))
    expect(progress).toEqual(["updated 1/5, failed 1", "updated 2/5, failed 2", "updated 3/5, failed 2"])
    expect(run.stderr).toContain("done: updated 3 of 5, failed 2 (2 invalid, 0 refused or failed by the provider)")
  })

  it("exit 3 when a line fails at the provider, even with invalid lines too", async () => {
    const ids = await sandbox.seedMessage("x")
    const path = file("provider-failure.jsonl", [
      request(ids.providerMessageId, "fine"),
      request(987_654_321, "no such message"),
      "[]"
    ])
    const run = await reword(["update", "--from", path], { env: sandbox.env })
    expect(run.code).toBe(3)
    expect(run.stdout).toBe(`line 1: Updated acquire message ${ids.providerMessageId}: "fine"\n`)
    expect(run.stderr).toContain("line 2: error: acquire.updateMany: Not found")
    expect(run.stderr).toContain("line 3: error: acquire.updateMany: Invalid request")
    expect(run.stderr).toContain("updated 1/3, failed 2")
    expect(run.stderr).toContain("hint (NotFound): check the message's ids")
    expect(run.stderr).toContain("hint (InvalidRequest): fix the request")
  })

  it("hostile answers (20,000 levels of nesting, terminal control sequences): every line's outcome, escaped, no stack trace", async () => {
    const [a, b, c] = await Promise.all([sandbox.seedMessage("a"), sandbox.seedMessage("b"), sandbox.seedMessage("c")])
    const depth = 20_000
    const nested = `${'{"error":'.repeat(depth)}{"type":"ERROR_SERVER_ERROR"}${"}".repeat(depth)}`
    const json = { "content-type": "application/json" }
    sandbox.server.inject({
      fault: AcquireSandbox.Faults.status(400, nested, json),
      times: 1,
      path: `/message/${b.providerMessageId}`
    })
    const hostile = "\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u009b31m\u202egnp.exe"
    sandbox.server.inject({
      fault: AcquireSandbox.Faults.status(400, { type: "ERROR_DUPLICATE_RECORD_FOUND", message: hostile }),
      times: 1,
      path: `/message/${c.providerMessageId}`
    })
    const path = file(
      "hostile.jsonl",
      [a, b, c].map((ids) => request(ids.providerMessageId, "fixed"))
    )
    for (const flags of [["--json"], []]) {
      if (flags.length === 0) {
        sandbox.server.inject({
          fault: AcquireSandbox.Faults.status(400, nested, json),
          times: 1,
          path: `/message/${b.providerMessageId}`
        })
        sandbox.server.inject({
          fault: AcquireSandbox.Faults.status(400, { type: "ERROR_DUPLICATE_RECORD_FOUND", message: hostile }),
          times: 1,
          path: `/message/${c.providerMessageId}`
        })
      }
      const run = await reword(["update", "--from", path, "--batch-size", "3", ...flags], { env: sandbox.env })
      expect(run.code).toBe(3)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
      const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
      expect(run.stdout).not.toMatch(unsafe)
      expect(run.stderr).not.toMatch(unsafe)
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /)
      if (flags.length > 0) {
        const results = jsonLines(run.stdout)
        expect(results.map((result) => result.line)).toEqual([1, 2, 3])
        expect(results[0]).toMatchObject({ text: "fixed" })
        expect(results[1]).toMatchObject({ error: { provider: "acquire" } })
        expect(results[2]).toMatchObject({
          error: { reason: "Rejected", message: expect.stringContaining(hostile) }
        })
      } else {
        expect(run.stderr).toContain("\\u001b]52;c;")
      }
    }
  })

  it("exit 0 when every line succeeds; progress per batch over many lines", async () => {
    const seeded = await Promise.all(Array.from({ length: 120 }, (_, index) => sandbox.seedMessage(`m${index}`)))
    const path = file(
      "many.jsonl",
      seeded.map((ids, index) => request(ids.providerMessageId, `fixed ${index}`))
    )
    const run = await reword(["update", "--from", path, "--json"], { env: sandbox.env, timeoutMs: 180_000 })
    expect(run.code).toBe(0)
    const results = jsonLines(run.stdout)
    expect(results).toHaveLength(120)
    expect(results.map((result) => result.text)).toEqual(seeded.map((_, index) => `fixed ${index}`))
    expect(results.map((result) => result.line)).toEqual(seeded.map((_, index) => index + 1))
    expect(seeded.every((ids, index) => sandbox.inspect(ids)?.text === `fixed ${index}`)).toBe(true)
    const progress = run.stderr.split("\n").filter((line) => /^updated \d+/.test(line))
    expect(progress).toEqual(["updated 50/120, failed 0", "updated 100/120, failed 0", "updated 120/120, failed 0"])
  })

  it("reads stdin with -, where the total is not known ahead", async () => {
    const ids = await sandbox.seedMessage("stdin")
    const run = await reword(["update", "--from", "-", "--json"], {
      env: sandbox.env,
      stdin: `${request(ids.providerMessageId, "from stdin")}\n`
    })
    expect(run.code).toBe(0)
    expect(jsonLines(run.stdout)).toMatchObject([{ line: 1, text: "from stdin" }])
    expect(run.stderr).toContain("updated 1, failed 0")
    expect(sandbox.inspect(ids)?.text).toBe("from stdin")
  })

  it("accepts every field of the JSON form of EditRequest (dates as ISO strings)", async () => {
    const ids = await sandbox.seedMessage("full")
    const line = JSON.stringify({
      ids: { providerMessageId: String(ids.providerMessageId), externalChatId: "chat-1" },
      text: "Olá",
      language: "pt-BR",
      editedAt: "2025-01-02T03:04:05.000Z",
      author: { firstName: "Ana" },
      unknownField: true
    })
    const run = await reword(["update", "--from", file("full.jsonl", [line]), "--json"], { env: sandbox.env })
    expect(run.code).toBe(0)
    expect(sandbox.inspect(ids)?.text).toBe("Olá")
  })

  it("a file that cannot be read is bad input (exit 2), with nothing sent", async () => {
    const before = sandbox.server.requests.length
    const run = await reword(["update", "--from", join(directory, "missing.jsonl"), "--json"], { env: sandbox.env })
    expect(run.code).toBe(2)
    expect(jsonLines(run.stdout)).toMatchObject([{ error: { reason: "Usage" } }])
    expect(run.stderr).toContain("missing.jsonl")
    expect(sandbox.server.requests.length).toBe(before)
  })

  it("a configuration error stops the run before any line is read (exit 2)", async () => {
    const path = file("config.jsonl", [request(1, "x")])
    const run = await reword(["update", "--from", path, "--json"], { env: { REWORD_PROVIDER: "acquire" } })
    expect(run.code).toBe(2)
    expect(jsonLines(run.stdout)).toMatchObject([{ error: { reason: "Configuration" } }])
  })
})
