import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import nock from "nock"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

/**
 * The README's TypeScript examples, run against the local sandbox: documentation that cannot rot. The
 * examples written for a live portal run as written, with only their settings rewritten: the
 * `BITRIX24_*` variables point at the sandbox, and the token file path at a temporary directory.
 */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")
const TOKEN_FILE = "/var/lib/my-app/bitrix24-tokens.json"
const ids = (n: number) => ({
  externalChatId: "wa-chat-7",
  externalMessageId: `wa-${n}`,
  externalAuthorId: "wa-user-3"
})

let sandbox: Bitrix24Sandbox.Sandbox
const saved = new Map<string, string | undefined>()

beforeAll(async () => {
  nock.enableNetConnect("127.0.0.1")
  // The connector and line of the README's set-up.
  sandbox = await Bitrix24Sandbox.start({ connector: "my_connector", line: 7 })
  for (const n of [881, 882, 883]) await sandbox.seedMessage(`message ${n}`, ids(n))
  for (const [name, value] of Object.entries(sandbox.env)) {
    if (name === "REWORD_PROVIDER") continue
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
  await sandbox.stop()
  nock.disableNetConnect()
})

/** What an example that edits without printing must have done to the sandbox. */
const effects: ReadonlyArray<{ readonly marker: string; readonly check: () => void }> = [
  {
    marker: "Bitrix24.layerConfig()",
    check: () => {
      expect(sandbox.inspect(ids(881))?.text).toBe("Sorry, I meant [b]Tuesday[/b].")
      expect(sandbox.inspect(ids(882))?.text).toBe("Fixed")
      expect(sandbox.inspect(ids(883))?.text).toBe("Too")
    }
  },
  {
    marker: "providerOptions: { bitrix24: { tokenStore",
    check: () => expect(sandbox.inspect(ids(881))?.text).toBe("Sorry, I meant Tuesday.")
  }
]

describe("README examples", () => {
  it("has examples to run", () => {
    expect(examples.length).toBeGreaterThanOrEqual(8)
    // A Promise-shaped token store keeping the pair in a database row.
    expect(examples.some((code) => code.includes('new DatabaseSync(":memory:")'))).toBe(true)
    expect(readme).toContain(TOKEN_FILE)
  })

  it("never retries a send, and says why: a send is not idempotent", () => {
    const sends = examples.filter((code) => code.includes("sendMessages"))
    expect(sends.length).toBeGreaterThan(0)
    for (const code of sends) expect(code).not.toMatch(/RetryPolicy\.retry|Effect\.retry/)
    expect(readme).toMatch(/a send is not idempotent/)
    const client = readFileSync(new URL("../src/Bitrix24Client.ts", import.meta.url), "utf8")
    expect(client).toMatch(/a send is not idempotent/)
  })

  it.each(examples.map((code, index) => [index, code] as const))(
    "example %i runs and does what it promises",
    async (index, code) => {
      mkdirSync(directory, { recursive: true })
      const file = join(directory, `example-${index}.ts`)
      writeFileSync(file, code.replaceAll(TOKEN_FILE, join(directory, "tokens.json")))
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
        printed.push(args.map(String).join(" "))
      })
      const requestsBefore = sandbox.server.requests.length
      // The token-store example shows the rotated pair kept: its access token expires first.
      if (code.includes("DatabaseSync")) sandbox.expireAccessToken()
      try {
        await import(file)
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        const effect = effects.find(({ marker }) => code.includes(marker))
        if (promised.length > 0)
          await vi.waitFor(() => expect(printed.join("\n")).toContain(promised.join(" ")), { timeout: 15_000 })
        else if (effect !== undefined) await vi.waitFor(effect.check, { timeout: 15_000 })
        // An example that only defines an effect sends nothing.
        else expect(sandbox.server.requests.length).toBe(requestsBefore)
      } finally {
        log.mockRestore()
      }
    }
  )
})
