/**
 * `pnpm demo relay`, run as a process: the two-way relay on the sandboxes, every step shown, the spoofed event
 * refused, and a journal in which every event was relayed or recorded as an echo.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))

describe("pnpm demo relay", () => {
  it("relays both ways on the sandboxes and prints the journal of both directions", async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--conditions=@reword/source", "scripts/demo.ts", "relay"],
        { cwd: root, env: { PATH: process.env.PATH ?? "" }, timeout: 150_000 },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== "number") reject(error)
          else resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr })
        }
      )
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Bitrix24 shows "Hello, is the shop open today?"')
    expect(run.stdout).toContain('Telegram shows "Anna Smith:\\nYes, until 9 pm."')
    expect(run.stdout).toMatch(/a spoofed Bitrix24 event +-> HTTP 403/)
    expect(run.stdout).toContain("the Telegram message is gone")
    const rows = run.stdout.split("\n").filter((line) => /^ {2}#\d+ /.test(line))
    expect(rows).toHaveLength(6)
    expect(rows.filter((line) => / echo /.test(line))).toHaveLength(1)
    expect(rows.filter((line) => !/ (relayed|echo) /.test(line))).toEqual([])
  })
})
