/**
 * `reword history` and `reword outbox` only read: on another application's
 * SQLite file, or with a mistyped `--table-prefix`, they refuse (exit 2, a
 * `Foreign` storage error naming the prefixes the file holds) and change no
 * byte of the file; on the outbox's own file they read without writing.
 */
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Capabilities, EditedMessage, MessageEditor } from "@reword/core"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"

let directory: string
let outboxFile: string
let foreignFile: string

const digest = (filename: string): string => createHash("sha256").update(readFileSync(filename)).digest("hex")

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
      Effect.succeed(
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
  directory = mkdtempSync(join(tmpdir(), "reword-cli-read-only-"))
  outboxFile = join(directory, "outbox.db")
  await Effect.runPromise(
    Effect.flatMap(Outbox.makeWith([{ editor }], { worker: false }), (outbox) =>
      Effect.andThen(
        outbox.record({ ids: { externalMessageId: "wa-1" } }),
        outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "waiting" })
      )
    ).pipe(Effect.scoped, Effect.provide(sqliteClient({ filename: outboxFile }).pipe(Layer.orDie)))
  )
  foreignFile = join(directory, "app.db")
  const db = new DatabaseSync(foreignFile)
  db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
  db.close()
}, 30_000)

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe("read-only tools", () => {
  it("another application's file: history, outbox and redrive refuse it, and leave it as it was", async () => {
    const before = digest(foreignFile)
    const runs = [
      await reword(["history", "wa-1", "--database", foreignFile, "--json"]),
      await reword(["outbox", "--database", foreignFile, "--json"]),
      // A re-drive writes, but only to an outbox: the file is checked read-only first.
      await reword(["outbox", "redrive", "--all", "--database", foreignFile, "--json"])
    ]
    for (const run of runs) {
      expect(run.code).toBe(2)
      expect(jsonOf(run.stdout).error).toMatchObject({ reason: "Storage", problem: "Foreign" })
      expect(run.stderr).toContain("holds no outbox at all")
    }
    expect(digest(foreignFile)).toBe(before)
    const db = new DatabaseSync(foreignFile, { readOnly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    const mode = db.prepare("PRAGMA journal_mode").get()
    db.close()
    expect(tables.map((row) => row.name)).toEqual(["notes"])
    expect(mode?.journal_mode).toBe("delete")
  }, 90_000)

  it('a mistyped --table-prefix: refused, naming the prefix that exists, not "0 pending"', async () => {
    const before = digest(outboxFile)
    const run = await reword(["outbox", "--database", outboxFile, "--table-prefix", "reword_outbx_", "--json"])
    expect(run.code).toBe(2)
    expect(jsonOf(run.stdout).error).toMatchObject({ reason: "Storage", problem: "Foreign" })
    expect(run.stderr).toContain('holds outbox tables with the prefix "reword_outbox_"')
    expect(digest(outboxFile)).toBe(before)
  }, 30_000)

  it("the outbox's own file: listed and read without a byte written", async () => {
    const before = digest(outboxFile)
    const listed = await reword(["outbox", "--database", outboxFile, "--json"])
    expect(listed.code).toBe(0)
    expect(JSON.stringify(jsonOf(listed.stdout))).toContain("wa-1")
    const history = await reword(["history", "wa-1", "--database", outboxFile, "--json"])
    expect(history.code).toBe(0)
    expect(digest(outboxFile)).toBe(before)
  }, 60_000)
})
