import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { KeyRing } from "@reword/tenants"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

/** The README's TypeScript examples, run as written: each prints what its comments promise. */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const directory = join(import.meta.dirname, ".readme-examples")
const saved = new Map(["REWORD_TENANT_KEY", "DATABASE_URL"].map((name) => [name, process.env[name]]))

beforeAll(() => {
  process.env.REWORD_TENANT_KEY = `k1:${KeyRing.generateKey()}`
  process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
})
afterAll(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(directory, { recursive: true, force: true })
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
      try {
        const module = (await import(file)) as Record<string, unknown>
        const promised = [...code.matchAll(/\/\/ (".*")$/gm)].map((match) => (match[1] as string).replaceAll('"', ""))
        if (promised.length > 0) expect(printed.join("\n")).toContain(promised.join("\n"))
        else expect(Object.keys(module).length).toBeGreaterThan(0)
      } finally {
        log.mockRestore()
      }
    }
  )
})
