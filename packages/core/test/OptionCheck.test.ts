/**
 * Every option is checked before anything is built: a value that would
 * misbehave silently (a timeout Node fires after 1 ms, a body cap that `NaN`
 * turns off, zero attempts) is a configuration error naming the field, on the
 * Effect side (`Provider.layer`, an adapter's `make`) and the Promise side
 * (`createEditor` rejects with `ConfigurationError`). Direct constructors
 * (`HttpTransport.make`, `RetryPolicy.make`) throw a `RangeError` naming it.
 */
import { assert, describe, it } from "@effect/vitest"
import { InMemoryEditor, MessageEditor, Provider } from "@reword/core"
import { HttpTransport, OptionCheck, RetryPolicy } from "@reword/core/adapter"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { Effect, Layer } from "effect"

const paths = (problems: ReadonlyArray<{ readonly path: string }>) => problems.map((problem) => problem.path)

/** Values no duration option may take: each a problem naming the field. */
const badDurations: ReadonlyArray<unknown> = [
  2 ** 31, // past Node's longest timer: fired after 1 ms
  Number.POSITIVE_INFINITY,
  "Infinity",
  Number.NaN,
  -1,
  "-3 seconds",
  "soon",
  [1, Number.NaN],
  { seconds: Number.NaN },
  null,
  "30 days"
]

describe("transport options", () => {
  it("refuses a timeout Node cannot keep, NaN, Infinity, zero, negative or unparsable, naming transport.timeout", () => {
    for (const timeout of [...badDurations, 0, "0 millis"]) {
      assert.deepStrictEqual(
        paths(HttpTransport.validate({ timeout } as never)),
        ["transport.timeout"],
        `accepted timeout ${String(timeout)}`
      )
    }
    const [problem] = HttpTransport.validate({ timeout: 2 ** 31 })
    assert.include(problem?.message, "at most 2147483647 ms")
    assert.include(problem?.message, "got 2147483648")
  })

  it("accepts any timeout from a fraction of a millisecond (rounded up) to 2^31-1 ms", () => {
    for (const timeout of [0.5, 1, "1.5 seconds", 2 ** 31 - 1, "24 days", { minutes: 2 }, [30, 0]]) {
      assert.deepStrictEqual(HttpTransport.validate({ timeout } as never), [], `refused ${String(timeout)}`)
      HttpTransport.make({ timeout } as never)
    }
  })

  it("refuses a body cap and a connection cap that are not integers of at least 1", () => {
    for (const value of [Number.NaN, -1, 0, 1.5, Number.POSITIVE_INFINITY, "1024", null]) {
      assert.deepStrictEqual(
        paths(HttpTransport.validate({ maxResponseBytes: value, maxConnectionsPerHost: value } as never)),
        ["transport.maxResponseBytes", "transport.maxConnectionsPerHost"],
        `accepted ${String(value)}`
      )
    }
    assert.deepStrictEqual(HttpTransport.validate({ maxResponseBytes: 1, maxConnectionsPerHost: 1 }), [])
  })

  it("refuses headers fetch would throw on at every request, without repeating their values", () => {
    const problems = HttpTransport.validate({
      headers: { "x-ok": "fine", "bad name": "x", "x-split": "a\r\nInjected: yes", "x-number": 5 as never }
    })
    assert.deepStrictEqual(paths(problems), [
      "transport.headers.bad name",
      "transport.headers.x-split",
      "transport.headers.x-number"
    ])
    assert.notInclude(JSON.stringify(problems), "Injected")
    assert.deepStrictEqual(paths(HttpTransport.validate({ fetch: "fetch" } as never)), ["transport.fetch"])
  })

  it("HttpTransport.make throws a RangeError naming every wrong field", () => {
    const error = (() => {
      try {
        HttpTransport.make({ timeout: Number.NaN, maxResponseBytes: Number.NaN })
      } catch (thrown) {
        return thrown
      }
    })()
    assert.instanceOf(error, RangeError)
    assert.instanceOf(error, OptionCheck.InvalidOptions)
    assert.include((error as Error).message, "timeout must be a duration")
    assert.include((error as Error).message, "maxResponseBytes must be an integer at least 1 (got NaN)")
  })
})

describe("retry options", () => {
  it("refuses maxAttempts that is not an integer of at least 1", () => {
    for (const maxAttempts of [0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY, "3"]) {
      assert.deepStrictEqual(
        paths(RetryPolicy.validate({ maxAttempts } as never)),
        ["retry.maxAttempts"],
        String(maxAttempts)
      )
    }
  })

  it("refuses delays and budgets that are negative, NaN, infinite or past Node's longest timer", () => {
    for (const value of badDurations) {
      assert.deepStrictEqual(
        paths(RetryPolicy.validate({ initialDelay: value, maxDelay: value, maxElapsed: value } as never)),
        ["retry.initialDelay", "retry.maxDelay", "retry.maxElapsed"],
        String(value)
      )
    }
    assert.deepStrictEqual(paths(RetryPolicy.validate({ jitter: "yes" } as never)), ["retry.jitter"])
    // Zero is a usable delay and budget: retry at once, or never wait.
    assert.deepStrictEqual(RetryPolicy.validate({ initialDelay: 0, maxDelay: 0, maxElapsed: 0 }), [])
  })

  it("RetryPolicy.make throws a RangeError naming the field instead of a raw schema error", () => {
    assert.throws(() => RetryPolicy.make({ maxAttempts: 0 }), RangeError, "maxAttempts must be an integer at least 1")
    assert.throws(() => RetryPolicy.make({ maxElapsed: Number.NaN }), RangeError, "maxElapsed must be a duration")
  })
})

describe("editor options", () => {
  it("checks retry, concurrency and transport together, each by its path", () => {
    assert.deepStrictEqual(
      paths(
        OptionCheck.editorOptions({
          retry: { maxAttempts: 0 },
          concurrency: Number.NaN,
          transport: { timeout: Number.POSITIVE_INFINITY }
        })
      ),
      ["retry.maxAttempts", "concurrency", "transport.timeout"]
    )
    for (const concurrency of [0, -2, 2.5, Number.POSITIVE_INFINITY, "4"]) {
      assert.deepStrictEqual(paths(OptionCheck.editorOptions({ concurrency } as never)), ["concurrency"])
    }
    assert.deepStrictEqual(paths(OptionCheck.editorOptions({ retry: "fast" } as never)), ["retry"])
    assert.deepStrictEqual(paths(OptionCheck.editorOptions({ transport: null } as never)), ["transport"])
    // Top-level transport options (Acquire's) are named without a prefix.
    assert.deepStrictEqual(paths(OptionCheck.editorOptions({ timeout: -1 } as never, { transport: "" })), ["timeout"])
    assert.deepStrictEqual(OptionCheck.editorOptions({ retry: { maxAttempts: 1 }, concurrency: 16 }), [])
  })

  it.effect("Provider.layer fails with a ConfigError naming every wrong field", () =>
    Effect.gen(function* () {
      const layer = Provider.layer([InMemoryEditor.provider], {
        source: Provider.fromObject({ provider: "memory" }),
        retry: { maxAttempts: 0 },
        concurrency: 0,
        transport: { timeout: 2 ** 31, maxResponseBytes: Number.NaN }
      })
      const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
      assert.strictEqual(error._tag, "ConfigError")
      for (const field of ["retry.maxAttempts", "concurrency", "transport.timeout", "transport.maxResponseBytes"]) {
        assert.include(error.message, field)
      }
      // Good options build.
      const provider = yield* Effect.map(Effect.service(MessageEditor.MessageEditor), (editor) => editor.provider).pipe(
        Effect.provide(
          Provider.layer([InMemoryEditor.provider], {
            source: Provider.fromObject({ provider: "memory" }),
            retry: { maxAttempts: 2 },
            transport: { timeout: "2 seconds", maxConnectionsPerHost: 8 }
          })
        )
      )
      assert.strictEqual(provider, "memory")
    })
  )

  it("createEditor rejects with a ConfigurationError naming the field", async () => {
    for (const [options, field] of [
      [{ transport: { timeout: Number.NaN } }, "transport.timeout"],
      [{ transport: { timeout: Number.POSITIVE_INFINITY } }, "transport.timeout"],
      [{ transport: { maxResponseBytes: Number.NaN } }, "transport.maxResponseBytes"],
      [{ transport: { maxConnectionsPerHost: 0 } }, "transport.maxConnectionsPerHost"],
      [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
      [{ retry: { initialDelay: -5 } }, "retry.initialDelay"],
      [{ concurrency: Number.NaN }, "concurrency"]
    ] as const) {
      const rejection = await createEditor({ providers: InMemoryEditor.provider, settings: {}, ...options }).then(
        () => undefined,
        (error: unknown) => error
      )
      assert.instanceOf(rejection, ConfigurationError, JSON.stringify(options))
      assert.include((rejection as Error).message, field)
    }
  })
})

/** An options object that counts how often each of its fields is read. */
const counted = <const T extends object>(target: T, reads: Record<string, number>): T =>
  new Proxy(target, {
    get: (object, key, receiver) => {
      if (typeof key === "string") reads[key] = (reads[key] ?? 0) + 1
      return Reflect.get(object, key, receiver)
    }
  })

describe("options are decoded once, at the edge", () => {
  it("createEditor reads each retry and transport option once, and builds from what it decoded", async () => {
    const reads: Record<string, number> = {}
    const editor = await createEditor({
      providers: InMemoryEditor.provider,
      settings: {},
      retry: counted({ maxAttempts: 2, initialDelay: "10 millis" }, reads),
      transport: counted({ timeout: "2 seconds", maxResponseBytes: 4096 }, reads),
      concurrency: 4
    })
    await editor.dispose()
    assert.deepStrictEqual(reads, { maxAttempts: 1, initialDelay: 1, timeout: 1, maxResponseBytes: 1 })
  })

  it.effect("Provider.layer reads each option once too", () =>
    Effect.gen(function* () {
      const reads: Record<string, number> = {}
      yield* Effect.scoped(
        Layer.build(
          Provider.layer([InMemoryEditor.provider], {
            source: Provider.fromObject({ provider: "memory" }),
            retry: counted({ maxAttempts: 3, jitter: false }, reads),
            transport: counted({ maxConnectionsPerHost: 8 }, reads)
          })
        )
      )
      assert.deepStrictEqual(reads, { maxAttempts: 1, jitter: 1, maxConnectionsPerHost: 1 })
    })
  )

  it("what the edge decoded is built from as it is: a RetryPolicy, transport options with their defaults", () => {
    const policy = RetryPolicy.make({ maxAttempts: 2 })
    assert.strictEqual(RetryPolicy.make(policy), policy)
    const decoded = HttpTransport.decode({ timeout: "3 seconds" })
    assert.isTrue(decoded._tag === "Success")
    if (decoded._tag === "Success") {
      assert.strictEqual(decoded.success.maxResponseBytes, 1024 * 1024)
      assert.strictEqual(HttpTransport.make(decoded.success).timeout, decoded.success.timeout)
    }
  })
})
