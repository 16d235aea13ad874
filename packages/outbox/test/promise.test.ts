/**
 * The Promise API mirrors the Effect one: createOutbox, record, recordSent,
 * submit, drain, history, pending, failed, redrive, counts, close.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createOutbox, NotFound, StorageError } from "../src/promise.ts"

let sandbox: AcquireSandbox.Sandbox
let directory: string

beforeEach(async () => {
  sandbox = await AcquireSandbox.start()
  directory = mkdtempSync(join(tmpdir(), "reword-outbox-promise-"))
})
afterEach(async () => {
  await sandbox.stop()
  rmSync(directory, { recursive: true, force: true })
})

describe("createOutbox", () => {
  it("records, submits, drains and tells the history; pending edits survive close and reopen", async () => {
    const database = join(directory, "outbox.db")
    const ids = await sandbox.seedMessage("Meet at 11.")
    const first = await createOutbox({ providers: Acquire.provider, env: sandbox.env, database, worker: false })
    await first.record({ ids })
    await expect(first.submit({ ids: { externalMessageId: "unknown" }, text: "x" })).rejects.toBeInstanceOf(NotFound)
    const receipt = await first.submit({ ids: { externalMessageId: ids.externalMessageId }, text: "Meet at 10." })
    expect(receipt.version).toBe(1)
    expect(await first.counts()).toEqual({ pending: 1, failed: 0 })
    await first.close()
    expect(sandbox.inspect(ids)?.text).toBe("Meet at 11.")

    await using second = await createOutbox({
      providers: Acquire.provider,
      env: sandbox.env,
      database,
      pollInterval: "20 millis"
    })
    expect(await second.drain({ timeoutMs: 10_000 })).toEqual({ pending: 0, failed: 0 })
    expect(sandbox.inspect(ids)?.text).toBe("Meet at 10.")
    const history = await second.history(ids.externalMessageId)
    expect(history?.versions.map((v) => [v.text, v.status])).toEqual([["Meet at 10.", "confirmed"]])
    expect(history?.ids.providerMessageId).toBe(String(ids.providerMessageId))
  })

  it("lists dead letters and re-drives them; recordSent records the id a send answered", async () => {
    await using outbox = await createOutbox({
      providers: Acquire.provider,
      env: sandbox.env,
      database: ":memory:",
      pollInterval: "20 millis"
    })
    const sent = await outbox.recordSent({ ids: { externalMessageId: "wa-1" } }, async () => ({ id: 999_999 }))
    expect(sent.id).toBe(999_999)
    await outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "never there" })
    expect(await outbox.drain({ timeoutMs: 10_000 })).toEqual({ pending: 0, failed: 1 })
    const failed = await outbox.failed()
    expect(failed.map((entry) => [entry.ids.externalMessageId, entry.ids.providerMessageId])).toEqual([
      ["wa-1", "999999"]
    ])
    expect(failed[0]?.lastReason).toMatch(/^NotFound/)
    expect(await outbox.redrive()).toBe(1)
    expect(await outbox.drain({ timeoutMs: 10_000 })).toEqual({ pending: 0, failed: 1 })
  })

  it("a file that is not a database rejects with a StorageError", async () => {
    const { writeFileSync } = await import("node:fs")
    const database = join(directory, "junk.db")
    writeFileSync(database, "not a database\n".repeat(100))
    await expect(createOutbox({ providers: Acquire.provider, env: sandbox.env, database })).rejects.toBeInstanceOf(
      StorageError
    )
  })
})
