import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

/** The README's TypeScript examples, run as written against the local sandbox: documentation that cannot rot. */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")
const API_KEY = "acq-readme-key-5e6f7a"
const VARIABLES = ["ACQUIRE_ACCOUNT_ID", "ACQUIRE_API_KEY", "ACQUIRE_BASE_URL", "ACQUIRE_ALLOW_INSECURE_LOOPBACK"]

let sandbox: AcquireSandbox.Sandbox
const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]))

beforeAll(async () => {
  sandbox = await AcquireSandbox.start({ apiKey: API_KEY })
  // The examples edit message 8288 in case 2069: the sandbox's first case and message.
  const seeded = await sandbox.seedMessage("Meet at 11.")
  expect(seeded.providerMessageId).toBe(8288)
  expect(sandbox.message(8288)?.caseId).toBe(2069)
  Object.assign(process.env, {
    ACQUIRE_ACCOUNT_ID: "acme",
    ACQUIRE_API_KEY: API_KEY,
    ACQUIRE_BASE_URL: sandbox.baseUrl,
    ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
  })
})

afterAll(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(directory, { recursive: true, force: true })
  await sandbox.stop()
})

describe("README examples", () => {
  it("has examples to run", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4)
  })

  it.each(examples.map((code, index) => [index, code] as const))(
    "example %i runs and prints what it promises",
    async (index, code) => {
      mkdirSync(directory, { recursive: true })
      const file = join(directory, `example-${index}.ts`)
      writeFileSync(file, code)
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
        printed.push(args.map(String).join(" "))
      })
      const requestsBefore = sandbox.server.requests.length
      try {
        await import(file)
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        if (promised.length > 0)
          await vi.waitFor(() => expect(printed.join("\n")).toContain(promised.join(" ")), { timeout: 15_000 })
        else expect(sandbox.server.requests.length).toBe(requestsBefore)
      } finally {
        log.mockRestore()
      }
    }
  )
})
