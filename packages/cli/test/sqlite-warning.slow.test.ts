/**
 * The CLI loads `@reword/outbox` without Node 22's "SQLite is an experimental
 * feature" warning, and leaves every other warning as Node prints it; on a
 * Node older than 22.16 it says the version it needs (a real Node 20 run:
 * node-20.slow.test.ts).
 */
import { describe, expect, it } from "vitest"
import * as OutboxModule from "../src/internal/outboxModule.ts"

const warningsDuring = async (during: () => void): Promise<Array<string>> => {
  const seen: Array<string> = []
  const listener = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`)
  process.on("warning", listener)
  try {
    during()
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    process.off("warning", listener)
  }
  return seen
}

describe("the CLI and node:sqlite", () => {
  it("names the Node version an outbox database needs", () => {
    expect(OutboxModule.unsupported("22.16.0")).toBeUndefined()
    expect(OutboxModule.unsupported("24.0.1")).toBeUndefined()
    expect(OutboxModule.unsupported("20.20.2")).toContain("needs Node 22.16.0 or later")
    expect(OutboxModule.unsupported("22.12.0")).toContain("this is Node 22.12.0")
  })

  it("loading the outbox leaves out SQLite's ExperimentalWarning, and only it", async () => {
    const { Outbox } = await OutboxModule.load()
    expect(Outbox).toBeDefined()
    const seen = await warningsDuring(() => {
      process.emitWarning("SQLite is an experimental feature and might change at any time", "ExperimentalWarning")
      process.emitWarning("Another feature is experimental", { type: "ExperimentalWarning" })
    })
    expect(seen).toEqual(["ExperimentalWarning: Another feature is experimental"])
  })
})
