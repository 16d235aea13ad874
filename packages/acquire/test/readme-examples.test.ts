import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import * as AcquireSandbox from "./fixtures/AcquireSandbox.ts"

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
  const kase = sandbox.openCase()
  const sent = await fetch(`${sandbox.baseUrl}/crm/messenger/chat/add-message?x-user-type=user`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ channel: "chat", message: { type: "message", message: "Meet at 11." }, caseId: kase.id })
  })
  expect(sent.status).toBe(200)
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
  await sandbox.close()
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
      const requestsBefore = sandbox.requests.length
      try {
        await import(file)
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        if (promised.length > 0) await vi.waitFor(() => expect(printed.join("\n")).toContain(promised.join(" ")))
        else expect(sandbox.requests.length).toBe(requestsBefore)
      } finally {
        log.mockRestore()
      }
    }
  )
})
