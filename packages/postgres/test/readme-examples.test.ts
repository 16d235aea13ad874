import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { serverUrl } from "./support/databases.ts"

/**
 * The README's TypeScript examples, run as written against the Bitrix24 sandbox
 * and the PostgreSQL server (`REWORD_TEST_POSTGRES_URL`; they need two
 * sessions, which PGlite cannot give). Each one meets an expired token first,
 * so its refresh goes through the store's lock and row.
 */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")

let sandbox: Bitrix24Sandbox.Sandbox
let telegram: TelegramSandbox.Sandbox
const saved = new Map<string, string | undefined>()

beforeAll(async () => {
  if (serverUrl === undefined) return
  sandbox = await Bitrix24Sandbox.start()
  for (const messageId of ["wa-881", "wa-882"]) {
    await sandbox.seedMessage("Meet on Monday.", {
      externalMessageId: messageId,
      externalChatId: "wa-chat-7",
      externalAuthorId: "wa-user-3"
    })
  }
  // The Telegram example edits message 1 of chat 7000001, under the Bot FAQ's limits.
  telegram = await TelegramSandbox.start({ limits: "faq" })
  await telegram.seedMessage("Meet at 11.")
  // REWORD_PROVIDER is set for each example: the provider it edits with.
  const env: Record<string, string> = { ...telegram.env, ...sandbox.env, DATABASE_URL: serverUrl }
  for (const [name, value] of Object.entries(env)) {
    saved.set(name, process.env[name])
    process.env[name] = value
  }
})

afterAll(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(directory, { recursive: true, force: true })
  await sandbox?.stop()
  await telegram?.stop()
})

describe("README examples", () => {
  it("has an Effect and a Promise example", () => {
    expect(examples.length).toBeGreaterThanOrEqual(2)
  })

  it.skipIf(serverUrl === undefined).each(examples.map((code, index) => [index, code] as const))(
    "example %i runs and prints what it promises (Bitrix24: after a token refresh through PostgreSQL)",
    async (index, code) => {
      mkdirSync(directory, { recursive: true })
      const file = join(directory, `example-${index}.ts`)
      writeFileSync(file, code)
      const refreshes = sandbox.refreshes()
      sandbox.expireAccessToken()
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
        printed.push(args.map(String).join(" "))
      })
      const isTelegram = code.includes("@reword/telegram")
      process.env.REWORD_PROVIDER = isTelegram ? "telegram" : "bitrix24"
      try {
        await import(file)
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        expect(promised.length).toBeGreaterThan(0)
        await vi.waitFor(() => expect(printed.join("\n")).toContain(promised.join(" ")), { timeout: 15_000 })
      } finally {
        log.mockRestore()
      }
      if (isTelegram) {
        expect(telegram.refusedByLimits()).toBe(0)
        return
      }
      expect(sandbox.refreshes()).toBe(refreshes + 1)
      expect(sandbox.limitHits()).toBe(0)
    }
  )
})
