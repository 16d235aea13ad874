/**
 * An `EditError` from the Promise API shows where the app called reword: the
 * stack Effect gives holds its own frames only, so the call's frames are
 * appended, and `console.error(error)` (Node's inspect) prints them.
 */
import { inspect } from "node:util"
import { InMemoryEditor } from "@reword/core"
import { createEditor, isEditError, type Settled } from "@reword/core/promise"
import { describe, expect, it } from "vitest"

const THIS_FILE = "PromiseCallSite.test.ts"

const editorOf = () => {
  const store = InMemoryEditor.makeStore()
  store.add("m-1", "Meet at 11")
  return createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
}

/** A named function of the app's, to find in the stack. */
async function appUpdatesAMissingMessage(editor: Awaited<ReturnType<typeof editorOf>>): Promise<unknown> {
  return editor.update({ ids: { externalMessageId: "m-404" }, text: "x" }).then(
    () => expect.fail("the update was expected to reject"),
    (error: unknown) => error
  )
}

describe("the call site of a Promise API call", () => {
  it("a rejected update's stack names the app's function and file, and console.error prints it", async () => {
    await using editor = await editorOf()
    const error = await appUpdatesAMissingMessage(editor)
    expect(isEditError(error)).toBe(true)
    const stack = (error as Error).stack ?? ""
    expect(stack).toContain("appUpdatesAMissingMessage")
    expect(stack).toContain(THIS_FILE)
    expect(stack.startsWith(`EditError: ${(error as Error).message}`)).toBe(true)
    const printed = inspect(error)
    expect(printed).toContain("appUpdatesAMissingMessage")
    expect(printed).toContain(THIS_FILE)
    // The serialised error stays without a stack.
    expect(JSON.stringify(error)).not.toContain(THIS_FILE)
  })

  it("each rejected result of updateMany carries the call's frames", async () => {
    await using editor = await editorOf()
    const settled: Array<Settled> = await editor.updateMany([
      { ids: { externalMessageId: "m-1" }, text: "Meet at 10" },
      { ids: { externalMessageId: "m-404" }, text: "x" }
    ])
    expect(settled[0]?.status).toBe("fulfilled")
    const failed = settled[1]
    if (failed?.status !== "rejected") return expect.fail("the second request was expected to fail")
    expect(failed.reason.stack).toContain(THIS_FILE)
  })

  it("each rejected result of updateEach carries the call's frames", async () => {
    await using editor = await editorOf()
    const settled: Array<Settled> = []
    for await (const outcome of editor.updateEach([
      { ids: { externalMessageId: "m-1" }, text: "Meet at 10" },
      { ids: { externalMessageId: "m-404" }, text: "x" }
    ])) {
      settled.push(outcome)
    }
    expect(settled[0]?.status).toBe("fulfilled")
    const failed = settled[1]
    if (failed?.status !== "rejected") return expect.fail("the second request was expected to fail")
    expect(failed.reason.stack).toContain("reword, called from")
    expect(failed.reason.stack).toContain(THIS_FILE)
  })

  it("two failures of two calls each show their own call site, once", async () => {
    await using editor = await editorOf()
    const first = (await appUpdatesAMissingMessage(editor)) as Error
    const second = (await appUpdatesAMissingMessage(editor)) as Error
    expect(first).not.toBe(second)
    expect(second.stack?.split("reword, called from").length).toBe(2)
  })
})
