/**
 * `pnpm demo`, run as a process the way the README's Quick start runs it.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const root = fileURLToPath(new URL("..", import.meta.url))
const demo = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  run(process.execPath, ["--conditions=@reword/source", "scripts/demo.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env }
  })

describe("pnpm demo", () => {
  it("without a provider configured, edits a message on each sandbox and shows typed errors", async () => {
    const { stdout } = await demo({})
    expect(stdout).toContain("[bitrix24] sandbox at http://127.0.0.1:")
    expect(stdout).toContain("[acquire] sandbox at http://127.0.0.1:")
    expect(stdout.match(/after: {2}"See you on Tuesday at 10:00\."/g)?.length).toBe(2)
    expect(stdout).toContain(`before: "See you on Monday at 10:00."`)
    expect(stdout).toContain(`after:  "See you on Tuesday at 10:00."`)
    expect(stdout).toContain("attach a file: Unsupported -> do without files")
    expect(stdout).toContain("edit a message it never relayed: NotFound")
    expect(stdout).toContain("send an empty edit: InvalidRequest")
  }, 60_000)

  describe("with REWORD_PROVIDER and its settings", () => {
    let sandbox: AcquireSandbox.Sandbox
    beforeAll(async () => {
      sandbox = await AcquireSandbox.start()
    })
    afterAll(() => sandbox.stop())

    it("edits the message named on the command line", async () => {
      const relayed = await sandbox.seedMessage("Helo")
      const { stdout } = await demo(sandbox.env, [
        "--provider-message-id",
        String(relayed.providerMessageId),
        "--text",
        "Hello"
      ])
      expect(stdout).toContain("editing a real message on acquire")
      expect(stdout).toContain(`Updated: "Hello"`)
      expect(sandbox.inspect(relayed)?.history).toEqual(["Helo", "Hello"])
    }, 60_000)
  })
})
