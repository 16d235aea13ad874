/**
 * `reword update` as a process against a real Bitrix24 sandbox: a successful
 * edit (read back from the sandbox), `--json`, `--from` in one batch call,
 * bad input (exit 2, nothing sent) and a refused token (exit 3).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { jsonLines, jsonOf, reword } from "./support/cli.ts"

const { Faults } = Bitrix24Sandbox

let sandbox: Bitrix24Sandbox.Sandbox
let directory: string

beforeAll(async () => {
  sandbox = await Bitrix24Sandbox.start()
  directory = mkdtempSync(join(tmpdir(), "reword-cli-b24-"))
})

afterAll(async () => {
  await sandbox.stop()
  rmSync(directory, { recursive: true, force: true })
})

afterEach(() => {
  sandbox.server.clearFaults()
})

const idFlags = (ids: { externalMessageId: string; externalChatId: string; externalAuthorId: string }) => [
  "--external-message-id",
  ids.externalMessageId,
  "--external-chat-id",
  ids.externalChatId,
  "--external-author-id",
  ids.externalAuthorId
]

const secretsOf = () =>
  Object.entries(sandbox.env)
    .filter(([name]) => /TOKEN|SECRET/.test(name))
    .map(([, value]) => value)

describe("reword update on Bitrix24", () => {
  it("edits the message: the sandbox stores the new text", async () => {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const run = await reword(["update", ...idFlags(ids), "--text", "Meet at 10."], { env: sandbox.env })
    // A portal answers success for an id it never saw: the one line on stderr says so.
    expect(run.stderr.trim()).toBe(
      "note: a Bitrix24 portal answers success even for a message id it never saw (or deleted), and then changes nothing: if the chat did not change, check the external message and chat ids"
    )
    expect(run.code).toBe(0)
    expect(run.stdout.trim()).toBe(
      `Updated bitrix24 message ${ids.externalMessageId} in chat ${ids.externalChatId}: "Meet at 10."`
    )
    expect(sandbox.inspect(ids)?.text).toBe("Meet at 10.")
    for (const secret of secretsOf()) expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it("--json prints the edited message, files included", async () => {
    const ids = await sandbox.seedMessage("With a file")
    const run = await reword(
      [
        "update",
        "--json",
        ...idFlags(ids),
        "--text",
        "Menu attached",
        "--file",
        "https://cdn.example.com/f/81#menu%20v2.pdf"
      ],
      { env: sandbox.env }
    )
    expect(run.code).toBe(0)
    expect(jsonOf(run.stdout)).toMatchObject({
      provider: "bitrix24",
      ids: {
        externalMessageId: ids.externalMessageId,
        externalChatId: ids.externalChatId,
        externalAuthorId: ids.externalAuthorId
      },
      text: "Menu attached",
      files: [{ url: "https://cdn.example.com/f/81", name: "menu v2.pdf" }]
    })
    expect(sandbox.inspect(ids)?.text).toBe("Menu attached")
  })

  it("bad input: the external ids Bitrix24 needs are missing (exit 2, nothing sent)", async () => {
    const before = sandbox.server.requests.length
    const run = await reword(["update", "--json", "--provider-message-id", "5", "--text", "x"], { env: sandbox.env })
    expect(run.code).toBe(2)
    expect(jsonOf(run.stdout)).toMatchObject({
      error: {
        provider: "bitrix24",
        reason: "InvalidRequest",
        problems: expect.arrayContaining([{ path: "ids.externalMessageId", message: "is required by this provider" }])
      }
    })
    expect(sandbox.server.requests.length).toBe(before)
  })

  it("a refused token is a provider failure (exit 3) with the re-authentication hint", async () => {
    const ids = await sandbox.seedMessage("Unchanged")
    sandbox.server.inject({ fault: Faults.status(401, { error: "invalid_token" }), times: 10 })
    const run = await reword(["update", ...idFlags(ids), "--text", "x"], { env: sandbox.env })
    expect(run.code).toBe(3)
    expect(run.stderr).toContain("hint: re-authenticate")
    expect(sandbox.inspect(ids)?.text).toBe("Unchanged")
    for (const secret of secretsOf()) expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it("an id the portal never saw: success, as a portal answers, and the note that says what it means", async () => {
    const ids = { externalMessageId: "wa-never-sent", externalChatId: "wa-chat-never", externalAuthorId: "wa-user-1" }
    const run = await reword(["update", ...idFlags(ids), "--text", "?"], { env: sandbox.env })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("Updated bitrix24 message wa-never-sent")
    expect(run.stderr).toContain("note: a Bitrix24 portal answers success even for a message id it never saw")
    expect(sandbox.inspect(ids)).toBeUndefined()
    const many = await reword(["update", "--from", "-"], {
      env: sandbox.env,
      stdin: `${JSON.stringify({ ids, text: "?" })}\n${JSON.stringify({ ids, text: "??" })}\n`
    })
    expect(many.code).toBe(0)
    expect(many.stderr.match(/note: a Bitrix24 portal answers success/g)).toHaveLength(1)
  })

  it("--from: results in order, a bad line in the middle, exit 2", async () => {
    const seeded = await Promise.all([sandbox.seedMessage("one"), sandbox.seedMessage("two")])
    const path = join(directory, "b24.jsonl")
    writeFileSync(
      path,
      [JSON.stringify({ ids: seeded[0], text: "ONE" }), "{", JSON.stringify({ ids: seeded[1], text: "TWO" })].join("\n")
    )
    const run = await reword(["update", "--from", path, "--json"], { env: sandbox.env })
    expect(run.code).toBe(2)
    expect(jsonLines(run.stdout)).toMatchObject([
      { line: 1, text: "ONE" },
      { line: 2, error: { reason: "InvalidRequest" } },
      { line: 3, text: "TWO" }
    ])
    expect(run.stderr).toContain("updated 2/3, failed 1")
    expect(seeded.map((ids) => sandbox.inspect(ids)?.text)).toEqual(["ONE", "TWO"])
  })

  it("--bitrix24-token-file keeps a pair refreshed during the run, and the next run uses it", async () => {
    const ids = await sandbox.seedMessage("Token test")
    const tokenFile = join(directory, "tokens.json")
    sandbox.expireAccessToken()
    const refreshes = sandbox.refreshes()
    const first = await reword(
      ["update", ...idFlags(ids), "--text", "after refresh", "--bitrix24-token-file", tokenFile],
      {
        env: sandbox.env
      }
    )
    expect(first.stderr).not.toContain("error")
    expect(first.code).toBe(0)
    expect(sandbox.refreshes()).toBe(refreshes + 1)
    const stored = JSON.parse(readFileSync(tokenFile, "utf8")) as { accessToken: string; refreshToken: string }
    expect(stored).toMatchObject(sandbox.tokens())
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(first.stdout + first.stderr).not.toContain(stored.accessToken)
    expect(first.stdout + first.stderr).not.toContain(stored.refreshToken)

    // The configured pair is stale now (refresh tokens rotate): the file's pair wins, from the variable too.
    const second = await reword(["update", ...idFlags(ids), "--text", "with the stored pair"], {
      env: { ...sandbox.env, BITRIX24_TOKEN_FILE: tokenFile }
    })
    expect(second.code).toBe(0)
    expect(sandbox.refreshes()).toBe(refreshes + 1)
    expect(sandbox.inspect(ids)?.text).toBe("with the stored pair")
  })
})
