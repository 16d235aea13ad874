import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

/** The README's TypeScript examples, run as written against the local sandbox: documentation that cannot rot. */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")
const TOKEN = "5550001:AAreadmeExampleTokenForTheSandbox"
const VARIABLES = ["REWORD_PROVIDER", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_ALLOW_INSECURE_LOOPBACK"]

let sandbox: TelegramSandbox.Sandbox
const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]))

beforeAll(async () => {
  sandbox = await TelegramSandbox.start({ botToken: TOKEN })
  // The examples edit message 1 of chat 7000001: the sandbox's first chat and message.
  const seeded = await sandbox.seedMessage("Meet at 11.")
  expect([seeded.providerChatId, seeded.providerMessageId]).toEqual([7000001, 1])
  Object.assign(process.env, { ...sandbox.env })
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
    expect(examples.length).toBeGreaterThanOrEqual(5)
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
