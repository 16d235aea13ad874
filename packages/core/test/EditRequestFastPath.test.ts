import { assert, describe, it } from "@effect/vitest"
import { EditRequest } from "@reword/core"
import { Result, SchemaParser } from "effect"
import * as fc from "fast-check"

/** What Schema alone makes of an input: the reference the Schema-free path must match. */
const bySchema = SchemaParser.decodeUnknownResult(EditRequest.EditRequest, {
  errors: "all",
  onExcessProperty: "ignore"
})

/** Strings near every check of an id and a text: blank, long, control and bidi characters, lone surrogates. */
const tricky = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "",
    " ",
    "\t",
    "a\u0000b",
    "a\u007fb",
    "a\u0085b",
    "a\u202eb",
    "a\u2066b",
    "\ud800",
    "a\udc00b",
    "😀",
    "m-1"
  ),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.integer({ min: 250, max: 260 }).map((n) => "x".repeat(n))
)
const idValue = fc.oneof(
  tricky,
  fc.double(),
  fc.integer(),
  fc.constantFrom(undefined, null, Number.NaN, Number.POSITIVE_INFINITY, {}, [])
)
const ids = fc.oneof(
  fc.record(
    {
      externalMessageId: idValue,
      externalChatId: idValue,
      externalAuthorId: idValue,
      providerMessageId: idValue,
      other: fc.string()
    },
    { requiredKeys: [] }
  ),
  fc.constantFrom(null, "m-1", [], undefined)
)
/** The common shape, every id valid or nearly: the Schema-free path's ground. */
const nearlyValid = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("m-1", "chat 7", "42", "ü-ñ", "😀") },
  { weight: 1, arbitrary: tricky }
)
const common = fc.record({
  ids: fc.record(
    {
      externalMessageId: nearlyValid,
      externalChatId: nearlyValid,
      externalAuthorId: nearlyValid,
      providerMessageId: fc.oneof(nearlyValid, fc.integer(), fc.double())
    },
    { requiredKeys: [] }
  ),
  text: fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1 }) }, { weight: 1, arbitrary: tricky })
})
const input = fc.oneof(
  common,
  fc.record(
    {
      ids,
      text: fc.oneof(tricky, fc.constantFrom(undefined, null, 7, "x".repeat(100_001))),
      files: fc.constantFrom([], [{ url: "https://example.com/a.png" }], "no"),
      language: fc.constantFrom("en", "not a code")
    },
    { requiredKeys: [] }
  ),
  fc.constantFrom(null, undefined, "text", 42, [])
)

describe("EditRequest.decodeResult", () => {
  it("answers what Schema answers, for any input (the common { ids, text } read without Schema)", () => {
    fc.assert(
      fc.property(input, (value) => {
        const fast = EditRequest.decodeResult(value)
        const slow = bySchema(value)
        assert.strictEqual(Result.isSuccess(fast), Result.isSuccess(slow))
        if (Result.isSuccess(fast) && Result.isSuccess(slow)) {
          assert.instanceOf(fast.success, EditRequest.EditRequest)
          assert.instanceOf(fast.success.ids, EditRequest.MessageIds)
          assert.deepStrictEqual(Object.keys(fast.success), Object.keys(slow.success))
          assert.deepStrictEqual(Object.keys(fast.success.ids), Object.keys(slow.success.ids))
          assert.deepStrictEqual(JSON.stringify(fast.success), JSON.stringify(slow.success))
        }
        if (Result.isFailure(fast) && Result.isFailure(slow)) {
          assert.deepStrictEqual(fast.failure.problems, EditRequest.problemsOf(slow.failure))
        }
      }),
      { numRuns: 3_000 }
    )
  })

  it("reads the common request without Schema and keeps its values", () => {
    const decoded = EditRequest.decodeResult({
      ids: { externalMessageId: "m-1", externalChatId: "c-1", externalAuthorId: "u-1", providerMessageId: 42 },
      text: "Meet at 10."
    })
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) {
      assert.strictEqual(decoded.success.text, "Meet at 10.")
      assert.strictEqual(decoded.success.ids.providerMessageId, 42)
      assert.strictEqual(decoded.success.ids.externalAuthorId, "u-1")
    }
  })
})
