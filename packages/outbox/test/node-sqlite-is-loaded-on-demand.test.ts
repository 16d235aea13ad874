/**
 * `node:sqlite` is loaded only when SQLite is used, on a Node that has it (one
 * clear error naming Node 22.16 otherwise), and Node 22's "SQLite is an
 * experimental feature" warning is left out, and only that warning. (The same
 * on a real Node 20, spawned on the built package: node-20.slow.test.ts.)
 */
import { InMemoryEditor } from "@reword/core"
import { describe, expect, it } from "vitest"
import * as NodeSqlite from "../src/internal/nodeSqlite.ts"
import { ConfigurationError, createOutbox } from "../src/promise.ts"

/** The warnings Node emitted while `during` ran (they are delivered on a later tick). */
const warningsDuring = async (during: () => Promise<unknown>): Promise<Array<string>> => {
  const seen: Array<string> = []
  const listener = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`)
  process.on("warning", listener)
  try {
    await during()
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    process.off("warning", listener)
  }
  return seen
}

const SQLITE_WARNING = "SQLite is an experimental feature and might change at any time"

describe("node:sqlite, on demand", () => {
  it("tells which Node versions have the node:sqlite the outbox needs", () => {
    expect(NodeSqlite.supported("20.20.2")).toBe(false)
    expect(NodeSqlite.supported("22.12.0")).toBe(false)
    expect(NodeSqlite.supported("22.16.0")).toBe(true)
    expect(NodeSqlite.supported("v24.1.0")).toBe(true)
  })

  it("on an older Node, loading SQLite is one clear error naming the version needed", async () => {
    let loaded = false
    const error = await NodeSqlite.load(async () => {
      loaded = true
    }, "20.20.2").then(
      () => expect.fail("the load was expected to fail"),
      (error: unknown) => error as Error
    )
    expect(loaded).toBe(false)
    expect(error.message).toContain("Node 22.16.0 or later")
    expect(error.message).toContain("this is Node 20.20.2")
  })

  it("leaves out SQLite's ExperimentalWarning while loading, and only it", async () => {
    const seen = await warningsDuring(() =>
      NodeSqlite.load(async () => {
        process.emitWarning(SQLITE_WARNING, "ExperimentalWarning")
        process.emitWarning("Another feature is experimental", "ExperimentalWarning")
        process.emitWarning(new Error("a warning of the app's"))
      })
    )
    expect(seen).toEqual(["ExperimentalWarning: Another feature is experimental", "Error: a warning of the app's"])
    // After the load, process.emitWarning is Node's own again.
    const after = await warningsDuring(async () => process.emitWarning(SQLITE_WARNING, "ExperimentalWarning"))
    expect(after).toEqual([`ExperimentalWarning: ${SQLITE_WARNING}`])
  })

  it("two loads at once leave process.emitWarning as it was", async () => {
    const before = process.emitWarning
    let release: () => void = () => undefined
    const first = NodeSqlite.load(() => new Promise<void>((resolve) => (release = resolve)))
    const second = NodeSqlite.load(async () => undefined)
    await second
    expect(process.emitWarning).not.toBe(before)
    release()
    await first
    expect(process.emitWarning).toBe(before)
  })

  it("a SQLite outbox opens as before (node:sqlite loaded on demand)", async () => {
    const editor = InMemoryEditor.make(InMemoryEditor.makeStore())
    const outbox = await createOutbox({ editors: [{ editor }], database: ":memory:" })
    expect(await outbox.counts()).toMatchObject({ pending: 0, failed: 0 })
    await outbox.close()
  })

  it("ConfigurationError is what createOutbox rejects with for options, SQLite or not", async () => {
    const error = await createOutbox({ editors: [], database: { sqlite: 42 } } as never).then(
      () => expect.fail("createOutbox was expected to reject"),
      (error: unknown) => error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
  })
})
