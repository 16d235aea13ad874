/**
 * On Node 20 (no `node:sqlite`), `reword history` on a SQLite file says which
 * Node it needs (not "PostgreSQL needs @effect/sql-pg"). Run on the built
 * package (Node 20 cannot strip types) with the Node at /usr/bin/node: skipped,
 * with a note, where there is none, or where it is not older than 22.16.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as OutboxModule from "../src/internal/outboxModule.ts"

const OLD_NODE = "/usr/bin/node"
const root = join(import.meta.dirname, "..", "..", "..")
const version = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ["--version"], { encoding: "utf8" }).trim() : undefined
const old = version !== undefined && OutboxModule.unsupported(version) !== undefined
if (!old) console.warn(`node-20.slow.test: skipped: ${OLD_NODE} is ${version ?? "absent"}, not a Node older than 22.16`)

describe.skipIf(!old)("reword on Node 20", () => {
  it("reword history on a SQLite file names the Node version it needs", () => {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b", "packages/cli"], {
      cwd: root,
      stdio: "inherit",
      timeout: 300_000
    })
    const directory = mkdtempSync(join(tmpdir(), "reword-node-20-"))
    try {
      const database = join(directory, "relay.db")
      writeFileSync(database, "")
      const run = spawnSync(
        OLD_NODE,
        [join(root, "packages", "cli", "dist", "bin.js"), "history", "wa-1", "--database", database],
        { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "" } }
      )
      expect(run.stderr).toContain(`needs Node ${OutboxModule.MINIMUM_NODE} or later`)
      expect(run.stderr).toContain(`this is Node ${version}`.replace("Node v", "Node "))
      expect(run.stderr).not.toContain("@effect/sql-pg")
      expect(run.status).toBe(2)
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  }, 360_000)
})
