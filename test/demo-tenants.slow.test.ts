/**
 * `pnpm demo tenants`, run as a process: two sandbox portals install the application (their connector registered,
 * activated and its events bound), an edit lands on each, one uninstalls and its edit is then refused with the
 * reason while the other portal's lands; the registry shows one tenant uninstalled with its credentials destroyed.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))

describe("pnpm demo tenants", () => {
  it("installs two portals, edits on each, uninstalls one: its edits refused, the other's land", async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--conditions=@reword/source", "scripts/demo.ts", "tenants"],
        { cwd: root, env: { PATH: process.env.PATH ?? "" }, timeout: 150_000 },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== "number") reject(error)
          else resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr })
        }
      )
    })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    for (const name of ["acme", "globex"]) {
      expect(run.stdout).toContain(`[${name}] ONAPPINSTALL -> HTTP 200 {"result":"installed"}`)
      expect(run.stdout).toContain(`[${name}]   connector reword_demo registered, active on line 1, 3 events bound`)
      expect(run.stdout).toContain(`[${name}] edit: done; the portal shows "Meet at 10 (${name})."`)
    }
    expect(run.stdout).toContain('[acme] ONAPPUNINSTALL -> HTTP 200 {"result":"uninstalled"}')
    expect(run.stdout).toMatch(/\[acme\] edit after uninstall: refused: .*NotActive: .*uninstalled/)
    expect(run.stdout).toContain('[globex] edit after acme left: done; the portal shows "Meet at 9 (globex)."')
    expect(run.stdout).toMatch(/ {2}acme +[0-9a-f]{32} uninstalled +credentials: destroyed/)
    expect(run.stdout).toMatch(/ {2}globex +[0-9a-f]{32} active +credentials: sealed/)
  })
})
