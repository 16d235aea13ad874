/**
 * Starts `reword dashboard` as a real process on a database, and answers its
 * URL once it prints it (the process is the caller's to stop).
 */
import type { ChildProcess } from "node:child_process"
import { spawnReword } from "./support/cli.ts"

export interface Running {
  readonly url: string
  readonly child: ChildProcess
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

export const startDashboard = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawnReword(["dashboard", "--port", "0", ...args], { env })
    let stdout = ""
    let stderr = ""
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
        child.once("close", () => {
          clearTimeout(timer)
          done()
        })
        child.kill("SIGTERM")
      })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the dashboard printed no URL within 60 s\n${stderr}`))
    }, 60_000)
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("http://"))
      if (line !== undefined) {
        clearTimeout(timer)
        resolve({ url: line.trim(), child, stderr: () => stderr, stop })
      }
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      reject(new Error(`the dashboard ended (code ${code}) before printing its URL\n${stderr}`))
    })
  })
