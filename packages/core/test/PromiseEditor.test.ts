import { EditError, InMemoryEditor, MessageEditor } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { ConfigurationError, createEditor, isEditError } from "@reword/core/promise"
import { Config, Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const seeded = () => {
  const store = InMemoryEditor.makeStore()
  store.add("m-1", "Meet at 11")
  store.add("m-2", "Thanks!")
  return store
}

/** A provider whose every edit hangs until interrupted, to show that aborting works. */
const hanging = ProviderKit.describe({
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

/** Like Bitrix24's descriptor: an option of its own (a token store). */
const rotating = ProviderKit.describe<object, { readonly tokenStore?: object | undefined }, "rotating">({
  name: "rotating",
  settings: [],
  config: Config.succeed({}),
  options: { tokenStore: "where tokens are kept" },
  make: (_settings, options) => Effect.succeed(InMemoryEditor.make(InMemoryEditor.makeStore(), options))
})

/** The message of what createEditor rejected with, which must be a ConfigurationError. */
const configurationMessage = async (options: unknown): Promise<string> => {
  const error = await createEditor(options as never).then(
    async (editor) => {
      await editor.dispose()
      throw new Error("expected a ConfigurationError")
    },
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ConfigurationError)
  expect((error as Error).name).toBe("ConfigurationError")
  return (error as Error).message
}

describe("createEditor checks where each option is (for untyped code)", () => {
  it("refuses an unknown provider name in providerOptions, listing the known ones", async () => {
    const message = await configurationMessage({
      providers: [rotating, InMemoryEditor.provider],
      settings: { provider: "memory" },
      providerOptions: { rotatng: { tokenStore: {} } }
    })
    expect(message).toBe(
      `Unknown provider "rotatng" in providerOptions (did you mean rotating?); the known providers are rotating, memory`
    )
  })

  it("refuses an unknown option key of a provider, naming it and the known ones", async () => {
    const message = await configurationMessage({
      providers: [rotating, InMemoryEditor.provider],
      settings: { provider: "memory" },
      providerOptions: { rotating: { tokenstore: {} } }
    })
    expect(message).toBe(
      `Unknown option "tokenstore" in providerOptions.rotating (did you mean tokenStore?); the known options there are tokenStore`
    )
    expect(
      await configurationMessage({
        providers: [rotating, InMemoryEditor.provider],
        providerOptions: { memory: { tokenStore: {} } }
      })
    ).toBe(
      `Unknown option "tokenStore" in providerOptions.memory: it belongs in providerOptions: { rotating: { tokenStore } }; the known options there are editWindow, maxEdits, edit`
    )
  })

  it("says where a misplaced option belongs", async () => {
    const flat = await configurationMessage({ providers: InMemoryEditor.provider, settings: {}, timeout: 5000 })
    expect(flat).toContain(`Unknown option "timeout" in the options: it belongs in transport: { timeout }`)
    expect(flat).toContain("retry, concurrency, transport, fallback, providerOptions, providers, settings, env")
    const inRetry = await configurationMessage({ providers: InMemoryEditor.provider, retry: { timeout: 5000 } })
    expect(inRetry).toContain(`Unknown option "timeout" in retry: it belongs in transport: { timeout }`)
    const typo = await configurationMessage({ providers: InMemoryEditor.provider, transport: { timout: 5000 } })
    expect(typo).toContain(
      `Unknown option "timout" in transport (did you mean timeout?); the known options there are timeout, maxResponseBytes`
    )
    const store = await configurationMessage({ providers: [rotating], tokenStore: {} })
    expect(store).toContain(`it belongs in providerOptions: { rotating: { tokenStore } }`)
    expect(await configurationMessage({ providers: [rotating], transport: 5000 })).toContain(
      "transport must be an object"
    )
    expect(await configurationMessage({ providers: [] })).toContain("providers must be")
    expect(await configurationMessage(undefined)).toContain("createEditor takes an options object")
  })

  it("accepts every option in its place", async () => {
    await using editor = await createEditor({
      providers: [rotating, InMemoryEditor.provider],
      settings: { provider: "rotating" },
      retry: { maxAttempts: 2 },
      concurrency: 2,
      transport: { timeout: "5 seconds", maxResponseBytes: 10_000 },
      providerOptions: { rotating: { tokenStore: {} }, memory: {} }
    })
    expect(editor.provider).toBe("memory")
  })
})

/** Values a caller may pass by mistake: getters and Proxies that throw, revoked Proxies, non-objects. */
const boom = () => {
  throw new Error("the ORM lost its session")
}
const throwingProxy = () =>
  new Proxy({}, { get: boom, has: boom, ownKeys: boom, getPrototypeOf: boom, getOwnPropertyDescriptor: boom })
const revokedProxy = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const hostileRequests: ReadonlyArray<readonly [string, () => unknown]> = [
  [
    "a getter on ids",
    () => ({
      get ids() {
        return boom()
      },
      text: "x"
    })
  ],
  [
    "a getter on text",
    () => ({
      ids: { externalMessageId: "m-1" },
      get text() {
        return boom()
      }
    })
  ],
  [
    "a getter inside ids",
    () => ({
      ids: {
        get externalMessageId() {
          return boom()
        }
      },
      text: "x"
    })
  ],
  ["a Proxy that throws", throwingProxy],
  ["a revoked Proxy", revokedProxy],
  [
    "a Proxy over a good request",
    () => new Proxy({ ids: { externalMessageId: "m-1" }, text: "x" }, { getPrototypeOf: boom })
  ]
]

describe("Promise methods never throw synchronously", () => {
  for (const [name, make] of hostileRequests) {
    it(`update() rejects with that request's InvalidRequest for ${name}`, async () => {
      await using editor = await createEditor({ providers: InMemoryEditor.providerFor(seeded()), settings: {} })
      let pending: Promise<unknown> | undefined
      expect(() => {
        pending = editor.update(make() as never)
      }).not.toThrow()
      const error = await pending?.then(
        () => undefined,
        (e: unknown) => e
      )
      expect(isEditError(error)).toBe(true)
      expect((error as EditError.EditError).reason._tag).toBe("InvalidRequest")
    })
  }

  it("updateMany and updateEach give the hostile requests their InvalidRequest while the others proceed", async () => {
    const store = seeded()
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    const requests = () => [
      { ids: { externalMessageId: "m-1" }, text: "first" },
      ...hostileRequests.map(([, make]) => make() as never),
      { ids: { externalMessageId: "m-2" }, text: "last" }
    ]
    const expected = ["fulfilled", ...hostileRequests.map(() => "rejected"), "fulfilled"]
    const settled = await editor.updateMany(requests())
    expect(settled.map((result) => result.status)).toEqual(expected)
    for (const result of settled.slice(1, -1)) {
      expect(result.status === "rejected" ? result.reason.reason._tag : undefined).toBe("InvalidRequest")
    }
    const streamed: Array<string> = []
    for await (const result of editor.updateEach(requests())) {
      streamed.push(result.status === "fulfilled" ? (result.value.text ?? "") : result.reason.reason._tag)
    }
    expect(streamed).toEqual(["first", ...hostileRequests.map(() => "InvalidRequest"), "last"])
    expect(store.messages.get("m-2")?.text).toBe("last")
  })

  it("rejects bad call options with a TypeError, as fetch does, and sends nothing", async () => {
    const store = seeded()
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    const request = { ids: { externalMessageId: "m-1" }, text: "x" }
    for (const options of [
      { signal: {} },
      { signal: "abort" },
      "fast",
      {
        get signal() {
          return boom()
        }
      },
      revokedProxy()
    ]) {
      const rejection = await editor.update(request, options as never).catch((e: unknown) => e)
      expect(rejection).toBeInstanceOf(Error)
      const many = await editor.updateMany([request], options as never).catch((e: unknown) => e)
      expect(many).toBeInstanceOf(Error)
    }
    expect(await editor.updateMany(5 as never).catch((e: unknown) => e)).toBeInstanceOf(TypeError)
    expect(store.messages.get("m-1")?.history.length).toBe(1)
  })

  it("never throws synchronously, whatever the arguments of whichever method (property)", async () => {
    const store = seeded()
    await using editor = await createEditor({ providers: InMemoryEditor.providerFor(store), settings: {} })
    // Factories (fast-check itself must not touch a hostile value): each run builds fresh ones.
    const factories: ReadonlyArray<() => unknown> = [
      ...hostileRequests.map(([, make]) => make),
      throwingProxy,
      revokedProxy,
      () => ({ [Symbol.iterator]: boom }),
      () => ({ [Symbol.asyncIterator]: boom }),
      () => ({
        *[Symbol.iterator]() {
          yield { ids: { externalMessageId: "m-2" }, text: "y" }
          boom()
        }
      }),
      () => [throwingProxy(), { ids: { externalMessageId: "m-2" }, text: "z" }],
      () => ({ signal: {} }),
      () => ({
        get signal() {
          return boom()
        }
      })
    ]
    const hostile = fc.oneof(
      fc
        .anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true })
        .map((value) => () => value),
      fc.constantFrom(...factories)
    )
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (makeFirst, makeSecond) => {
        const first = makeFirst()
        const second = makeSecond()
        const settle = async (call: () => unknown) => {
          let result: unknown
          try {
            result = call()
          } catch (error) {
            throw new Error(`threw synchronously: ${String(error)}`)
          }
          if (result !== null && typeof result === "object" && Symbol.asyncIterator in result) {
            const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]()
            for (let n = 0; n < 20; n++) {
              const next = await iterator.next().catch(() => ({ done: true }))
              if (next.done === true) break
            }
            await iterator.return?.(undefined)
          } else {
            await (result as Promise<unknown>).catch(() => undefined)
          }
        }
        await settle(() => editor.update(first as never, second as never))
        await settle(() => editor.updateMany(first as never, second as never))
        await settle(() => editor.updateEach(first as never, second as never))
        const created = createEditor(first as never)
        const error = await created.then(
          async (other) => other.dispose(),
          (e: unknown) => e
        )
        expect(error).toBeInstanceOf(ConfigurationError)
      }),
      { numRuns: 150 }
    )
  })
})
