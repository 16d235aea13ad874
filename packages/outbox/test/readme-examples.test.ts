import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

/** The README's TypeScript examples, run as written against the Acquire sandbox: documentation that cannot rot. */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")
const VARIABLES = [
  "ACQUIRE_ACCOUNT_ID",
  "ACQUIRE_API_KEY",
  "ACQUIRE_BASE_URL",
  "ACQUIRE_ALLOW_INSECURE_LOOPBACK",
  "DATABASE_URL",
  "BITRIX24_PORTAL_URL",
  "BITRIX24_ACCESS_TOKEN",
  "BITRIX24_REFRESH_TOKEN",
  "BITRIX24_CLIENT_ID",
  "BITRIX24_CLIENT_SECRET",
  "BITRIX24_OAUTH_URL",
  "BITRIX24_CONNECTOR",
  "BITRIX24_LINE",
  "BITRIX24_ALLOW_INSECURE_LOOPBACK"
]
// Blank in `pnpm test` (vitest.config.ts: the server's variants run in `pnpm test:slow`).
const postgres = process.env.REWORD_TEST_POSTGRES_URL || undefined

let sandbox: AcquireSandbox.Sandbox
let portal: Bitrix24Sandbox.Sandbox
const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]))

beforeAll(async () => {
  sandbox = await AcquireSandbox.start({ apiKey: "acq-outbox-readme-key" })
  // The examples edit message 8288: the sandbox's first message. 404404 does not exist.
  const seeded = await sandbox.seedMessage("Meet at 11.")
  expect(seeded.providerMessageId).toBe(8288)
  // The Bitrix24 example edits wa-881 in chat wa-chat-7 (REWORD_PROVIDER is left out: the Acquire examples use it).
  portal = await Bitrix24Sandbox.start()
  await portal.seedMessage("Meet at 11.", {
    externalMessageId: "wa-881",
    externalChatId: "wa-chat-7",
    externalAuthorId: "wa-user-3"
  })
  const { REWORD_PROVIDER: _provider, ...bitrix24 } = portal.env
  Object.assign(process.env, {
    ...bitrix24,
    ACQUIRE_ACCOUNT_ID: "acme",
    ACQUIRE_API_KEY: "acq-outbox-readme-key",
    ACQUIRE_BASE_URL: sandbox.baseUrl,
    ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true",
    ...(postgres === undefined ? {} : { DATABASE_URL: postgres })
  })
})

afterAll(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(directory, { recursive: true, force: true })
  await sandbox.stop()
  await portal.stop()
})

describe("README examples", () => {
  it("has examples to run", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4)
  })

  it.each(examples.map((code, index) => [index, code] as const))(
    "example %i runs and prints what it promises",
    async (index, code) => {
      // The PostgreSQL example needs a server: it runs where REWORD_TEST_POSTGRES_URL names one (CI).
      if ((code.includes("layerPg") || code.includes("postgres")) && postgres === undefined) return
      mkdirSync(directory, { recursive: true })
      const file = join(directory, `example-${index}.ts`)
      writeFileSync(file, code)
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
        printed.push(args.map(String).join(" "))
      })
      try {
        await import(file)
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        expect(promised.length).toBeGreaterThan(0)
        await vi.waitFor(() => expect(printed.join("\n")).toContain(promised.join(" ")), { timeout: 15_000 })
      } finally {
        log.mockRestore()
      }
    }
  )
})
