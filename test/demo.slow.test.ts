/**
 * `pnpm demo`, run as a process the way the README's Quick start runs it: the
 * sandbox tour unless a real edit is asked for with `--real`, whatever the
 * environment holds, and a failed real edit exits non-zero.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Node's compile cache for the demo's processes (test/setup/compile-cache.ts): code, not configuration. */
const compileCache =
  process.env.NODE_COMPILE_CACHE === undefined ? {} : { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE }

/** Runs the demo with only the environment given (plus PATH); resolves with its exit code, whatever it is. */
const demo = (env: Record<string, string>, args: ReadonlyArray<string> = []): Promise<Run> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--conditions=@reword/source", "scripts/demo.ts", ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? "", ...compileCache, ...env }, timeout: 150_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error)
        else resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr })
      }
    )
  })

const expectTour = (run: Run) => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  expect(run.stdout).toContain("[bitrix24] sandbox at http://127.0.0.1:")
  expect(run.stdout).toContain("[acquire] sandbox at http://127.0.0.1:")
  expect(run.stdout.match(/after: {2}"See you on Tuesday at 10:00\."/g)?.length).toBe(2)
  expect(run.stdout).toContain(`before: "See you on Monday at 10:00."`)
  expect(run.stdout).toContain(`after:  "See you on Tuesday at 10:00."`)
  expect(run.stdout).toContain("attach a file: Unsupported -> do without files")
  expect(run.stdout).toContain("edit a message it never relayed: NotFound")
  expect(run.stdout).toContain("send an empty edit: InvalidRequest")
  expect(run.stdout).not.toContain("editing a real message")
  // The outbox: a worker stopped mid-delivery, a new one landing every newest text, a history.
  expect(run.stdout).toMatch(/36 edits submitted .* stored durably before any call/)
  expect(run.stdout).toMatch(/worker-1 stopped mid-delivery: ([1-9]|1[01]) of 12 messages show their newest text/)
  expect(run.stdout).toContain("12 of 12 messages show their newest text on the provider (pending 0, failed 0)")
  expect(run.stdout).toContain('v1 "wa-12 v1" by agent: superseded')
  expect(run.stdout).toContain('v3 "wa-12 v3" by agent: confirmed (attempts: worker-1 unknown, worker-2 confirmed')
}

describe("pnpm demo", () => {
  it("without a provider configured, edits a message on each sandbox and shows typed errors", async () => {
    expectTour(await demo({}))
  }, 180_000)

  describe("with REWORD_PROVIDER and its settings in the environment", () => {
    let sandbox: AcquireSandbox.Sandbox
    beforeAll(async () => {
      sandbox = await AcquireSandbox.start()
    })
    afterAll(() => sandbox.stop())

    it("still gives the sandbox tour without --real, says it ignores REWORD_PROVIDER, and sends nothing to the configured provider", async () => {
      const before = sandbox.server.requests.length
      const run = await demo(sandbox.env)
      expectTour(run)
      expect(run.stdout).toContain("REWORD_PROVIDER=acquire is ignored here")
      expect(sandbox.server.requests.length).toBe(before)
    }, 180_000)

    it("with --real, edits the message named on the command line", async () => {
      const relayed = await sandbox.seedMessage("Helo")
      const run = await demo(sandbox.env, [
        "--real",
        "--provider-message-id",
        String(relayed.providerMessageId),
        "--text",
        "Hello"
      ])
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("editing a real message on acquire")
      expect(run.stdout).toContain(`Updated: "Hello"`)
      expect(sandbox.inspect(relayed)?.history).toEqual(["Helo", "Hello"])
    }, 180_000)

    it("with --real, a failed edit exits non-zero and says why on stderr", async () => {
      const run = await demo(sandbox.env, ["--real", "--provider-message-id", "999999", "--text", "Hello"])
      expect(run.code).toBe(1)
      expect(run.stdout).not.toContain("Updated")
      expect(run.stderr).toContain("ERROR_RECORD_NOT_FOUND")
      expect(run.stderr).toContain("-> NotFound: drop it: the provider has no such message")
    }, 180_000)

    it("an edit's flags without --real are bad input (exit 2): nothing is sent", async () => {
      const relayed = await sandbox.seedMessage("Helo")
      const before = sandbox.server.requests.length
      const run = await demo(sandbox.env, ["--provider-message-id", String(relayed.providerMessageId), "--text", "Hi"])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("--provider-message-id, --text need --real")
      expect(run.stdout).toBe("")
      expect(sandbox.server.requests.length).toBe(before)
      expect(sandbox.inspect(relayed)?.history).toEqual(["Helo"])
    }, 180_000)
  })

  it("with --real and no provider configured, exits non-zero naming the missing setting", async () => {
    const run = await demo({}, ["--real", "--provider-message-id", "1", "--text", "Hello"])
    expect(run.code).toBe(1)
    expect(run.stdout).not.toContain("sandbox at")
    expect(run.stderr).toContain("REWORD_PROVIDER")
  }, 180_000)
})
