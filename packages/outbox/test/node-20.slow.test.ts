/**
 * On Node 20 (no `node:sqlite`), `@reword/outbox/promise` imports (a
 * PostgreSQL outbox never loads SQLite), and asking for SQLite is one
 * ConfigurationError naming the Node version needed. Run on the built package
 * (Node 20 cannot strip types) with the Node at /usr/bin/node: skipped, with a
 * note, where there is none, or where it is not older than 22.16.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as NodeSqlite from "../src/internal/nodeSqlite.ts"

const OLD_NODE = "/usr/bin/node"
const root = join(import.meta.dirname, "..", "..", "..")
const version = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ["--version"], { encoding: "utf8" }).trim() : undefined
const old = version !== undefined && !NodeSqlite.supported(version)
if (!old) console.warn(`node-20.slow.test: skipped: ${OLD_NODE} is ${version ?? "absent"}, not a Node older than 22.16`)

const PROBE = `
const { createOutbox, ConfigurationError } = await import("@reword/outbox/promise")
const { InMemoryEditor } = await import("@reword/core")
const editor = InMemoryEditor.make(InMemoryEditor.makeStore())
try {
  const outbox = await createOutbox({ editors: [{ editor }], database: ":memory:" })
  await outbox.close()
  console.log(JSON.stringify({ opened: true }))
} catch (error) {
  console.log(JSON.stringify({ configuration: error instanceof ConfigurationError, error }))
}
`

/** The Effect API: `@reword/outbox` imports; opening a SQLite client fails with a StorageError naming the version. */
const EFFECT_PROBE = `
const { sqliteClient } = await import("@reword/outbox")
await import("@reword/outbox/pg")
const { Effect, Exit, Layer, Cause } = await import("effect")
const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(sqliteClient({ filename: ":memory:" }))))
const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
console.log(JSON.stringify({ opened: Exit.isSuccess(exit), name: error?.name, message: error?.message }))
`

/** Runs `code` as a module inside the built package (so that "@reword/outbox..." resolves to its built files). */
const runOnOldNode = (code: string) => {
  const directory = mkdtempSync(join(root, "packages", "outbox", ".node-20-"))
  try {
    writeFileSync(join(directory, "probe.mjs"), code)
    return spawnSync(OLD_NODE, [join(directory, "probe.mjs")], { encoding: "utf8", timeout: 60_000 })
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

describe.skipIf(!old)("the outbox on Node 20", () => {
  it("imports @reword/outbox/promise, and SQLite is one ConfigurationError naming Node 22.16", () => {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b", "packages/outbox"], {
      cwd: root,
      stdio: "inherit",
      timeout: 300_000
    })
    {
      const run = runOnOldNode(PROBE)
      expect(run.stderr).not.toContain("No such built-in module")
      expect(run.status).toBe(0)
      const answer = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
        configuration?: boolean
        error?: { name?: string; message?: string }
      }
      expect(answer.configuration).toBe(true)
      expect(answer.error?.name).toBe("ConfigurationError")
      expect(answer.error?.message).toContain("database is SQLite, which needs Node 22.16.0 or later")
      expect(answer.error?.message).toContain(`this is Node ${version?.replace(/^v/, "")}`)
    }
  }, 360_000)

  it("imports @reword/outbox (the Effect API) too, and a SQLite client fails naming Node 22.16", () => {
    // Built by the test above (files of one describe run in order).
    const run = runOnOldNode(EFFECT_PROBE)
    expect(run.stderr).not.toContain("No such built-in module")
    expect(run.status).toBe(0)
    const answer = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
      opened?: boolean
      name?: string
      message?: string
    }
    expect(answer.opened).toBe(false)
    expect(answer.name).toBe("StorageError")
    expect(answer.message).toContain("Node 22.16.0 or later")
  }, 120_000)
})
