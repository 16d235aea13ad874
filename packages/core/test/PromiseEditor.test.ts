import { EditError, InMemoryEditor, MessageEditor, Provider } from "@reword/core"
import { ConfigurationError, createEditor, isEditError } from "@reword/core/promise"
import { Config, Effect } from "effect"
import { describe, expect, it } from "vitest"

const seeded = () => {
  const store = InMemoryEditor.makeStore()
  store.add("m-1", "Meet at 11")
  store.add("m-2", "Thanks!")
  return store
}

/** A provider whose every edit hangs until interrupted, to show that aborting works. */
const hanging = Provider.describe({
  name: "hanging",
  settings: [],
  config: Config.succeed({}),
  make: (_settings, options) =>
    Effect.succeed(
      MessageEditor.make(
        { provider: "hanging", capabilities: InMemoryEditor.capabilities, update: () => Effect.never },
        options
      )
    )
})

describe("createEditor (Promise API)", () => {
  it("updates a message and resolves with it as the provider stored it", async () => {
    const store = seeded()
    const editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    try {
      const edited = await editor.update({ ids: { externalMessageId: "m-1" }, text: "Meet at 10" })
      expect(edited.text).toBe("Meet at 10")
      expect(editor.provider).toBe("memory")
      expect(editor.capabilities.maxMessagesPerCall).toBe(1)
      expect(store.messages.get("m-1")?.history.map((version) => version.text)).toEqual(["Meet at 11", "Meet at 10"])
    } finally {
      await editor.dispose()
    }
  })

  it("rejects with the same EditError, an Error with its reason", async () => {
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(seeded()), settings: {} })
    const rejection = await editor.update({ ids: { externalMessageId: "m-404" }, text: "x" }).catch((e: unknown) => e)
    expect(rejection).toBeInstanceOf(Error)
    expect(rejection).toBeInstanceOf(EditError.EditError)
    expect(isEditError(rejection)).toBe(true)
    const error = rejection as EditError.EditError
    expect(error.reason._tag).toBe("NotFound")
    expect(error.isRetryable).toBe(false)
    expect(error.message).toBe(
      `memory.update: Not found: the provider has no such message (NO_SUCH_MESSAGE: no message with external id "m-404")`
    )
    const invalid = (await editor
      .update({ ids: {}, text: "" } as never)
      .catch((e: unknown) => e)) as EditError.EditError
    expect(invalid.reason._tag).toBe("InvalidRequest")
  })

  it("updateMany settles like Promise.allSettled: one result per request, in order", async () => {
    await using editor = await createEditor({
      providers: [InMemoryEditor.providerFor(seeded())],
      settings: { provider: "memory" }
    })
    const settled = await editor.updateMany([
      { ids: { externalMessageId: "m-1" }, text: "a" },
      { ids: { externalMessageId: "missing" }, text: "b" },
      { ids: { externalMessageId: "m-2" }, text: "c" }
    ])
    expect(settled.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"])
    const [first, second] = settled
    expect(first?.status === "fulfilled" ? first.value.text : undefined).toBe("a")
    expect(second?.status === "rejected" ? second.reason.reason._tag : undefined).toBe("NotFound")
  })

  it("picks the provider from the environment it is given", async () => {
    await using editor = await createEditor({
      providers: [InMemoryEditor.provider, hanging],
      env: { REWORD_PROVIDER: "hanging" }
    })
    expect(editor.provider).toBe("hanging")
  })

  it("rejects at creation with a ConfigurationError when the configuration is wrong", async () => {
    const unknown = await createEditor({
      providers: [InMemoryEditor.provider, hanging],
      env: { REWORD_PROVIDER: "zendesk" }
    }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(ConfigurationError)
    expect((unknown as Error).name).toBe("ConfigurationError")
    expect((unknown as Error).message).toBe(
      `Unknown provider "zendesk" in REWORD_PROVIDER: the known providers are memory, hanging`
    )
  })

  it("aborts a call when its signal aborts", async () => {
    await using editor = await createEditor({ providers: hanging, settings: {} })
    const controller = new AbortController()
    const pending = editor.update({ ids: { externalMessageId: "m-1" }, text: "x" }, { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toThrow("aborted")
  })

  it("rejects with the signal's reason, as fetch does, and sends nothing when the signal had already aborted", async () => {
    const store = seeded()
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    const reason = new Error("the user went away")
    const rejection = await editor
      .update({ ids: { externalMessageId: "m-1" }, text: "x" }, { signal: AbortSignal.abort(reason) })
      .catch((e: unknown) => e)
    expect(rejection).toBe(reason)
    const timedOut = await editor
      .update({ ids: { externalMessageId: "m-1" }, text: "x" }, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e)
    expect((timedOut as DOMException).name).toBe("AbortError")
    expect(store.messages.get("m-1")?.history.length).toBe(1)
  })

  it("refuses calls after dispose with an Error that says so, updateEach included", async () => {
    const editor = await createEditor({ providers: InMemoryEditor.providerFor(seeded()), settings: {} })
    await editor.dispose()
    await expect(editor.update({ ids: { externalMessageId: "m-1" }, text: "x" })).rejects.toThrow("disposed")
    await expect(editor.updateMany([{ ids: { externalMessageId: "m-1" }, text: "x" }])).rejects.toThrow("disposed")
    await expect(
      (async () => {
        for await (const _ of editor.updateEach([{ ids: { externalMessageId: "m-1" }, text: "x" }])) {
          // nothing should come
        }
      })()
    ).rejects.toThrow("disposed")
  })
})
