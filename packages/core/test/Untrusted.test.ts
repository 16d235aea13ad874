import { assert, describe, it } from "@effect/vitest"
import { Untrusted } from "@reword/core/adapter"
import * as fc from "fast-check"

const nested = (depth: number, open: string, close: string, inner = "1"): unknown =>
  JSON.parse(`${open.repeat(depth)}${inner}${close.repeat(depth)}`)

describe("Untrusted.safeStringify", () => {
  it("never throws and stays within its length, whatever the value (property)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }), (value) => {
        const text = Untrusted.safeStringify(value, { maxLength: 300 })
        assert.isAtMost(text.length, 301)
      }),
      { numRuns: 300 }
    )
  })

  it("writes cycles, deep nesting, BigInt, throwing getters and Proxies without throwing", () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    const getter = {
      get boom() {
        throw new Error("boom")
      },
      ok: "yes"
    }
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("trap")
        }
      }
    )
    assert.strictEqual(Untrusted.safeStringify(cyclic), '{"a":1,"self":"…"}')
    assert.strictEqual(Untrusted.safeStringify(getter), '{"ok":"yes"}')
    assert.strictEqual(Untrusted.safeStringify({ n: 10n }), '{"n":"10"}')
    assert.strictEqual(Untrusted.safeStringify(trap), "{}")
    const deep = nested(100_000, '{"error":', "}")
    assert.throws(() => JSON.stringify(deep), RangeError)
    assert.isTrue(Untrusted.safeStringify(deep, { maxDepth: 3 }).startsWith('{"error":{"error":{"error":"…"'))
  })
})

describe("Untrusted.findFirst", () => {
  it("walks any depth without recursion, within its limits, in document order", () => {
    const deep = nested(100_000, "[", "]", '"ERROR_DEEP"')
    const isCode = (value: unknown) => (typeof value === "string" && value.startsWith("ERROR_") ? value : undefined)
    assert.isUndefined(Untrusted.findFirst(deep, isCode))
    assert.strictEqual(Untrusted.findFirst(deep, isCode, { maxDepth: 200_000, maxNodes: 200_000 }), "ERROR_DEEP")
    assert.strictEqual(Untrusted.findFirst({ a: { b: "ERROR_FIRST" }, c: "ERROR_SECOND" }, isCode), "ERROR_FIRST")
    assert.strictEqual(Untrusted.findFirst({ errors: [{ title: "ERROR_IN_ARRAY" }] }, isCode), "ERROR_IN_ARRAY")
    const wide = Array.from({ length: 5_000 }, (_, i) => (i === 4_999 ? "ERROR_LAST" : i))
    assert.isUndefined(Untrusted.findFirst(wide, isCode))
  })
})

describe("Untrusted.firstString and clip", () => {
  it("reads the first non-blank string or finite number, and never throws", () => {
    assert.strictEqual(Untrusted.firstString({ a: " ", b: "x" }, ["a", "b"]), "x")
    assert.strictEqual(Untrusted.firstString({ a: 404 }, ["a"]), "404")
    assert.isUndefined(Untrusted.firstString({ a: Number.NaN, b: {} }, ["a", "b"]))
    assert.isUndefined(Untrusted.firstString("text", ["length"]))
    const trap = new Proxy(
      {},
      {
        get: () => {
          throw new Error("trap")
        }
      }
    )
    assert.isUndefined(Untrusted.firstString(trap, ["a"]))
    assert.isTrue(Untrusted.isRecord({}))
    assert.isFalse(Untrusted.isRecord([]))
    assert.isFalse(Untrusted.isRecord(null))
    assert.strictEqual(Untrusted.clip("abcdef", 3), "abc…")
    assert.strictEqual(Untrusted.clip("ab😀", 3), "ab…")
  })
})
