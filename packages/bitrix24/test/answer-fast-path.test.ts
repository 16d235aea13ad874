import { assert, describe, it } from "@effect/vitest"
import { Option, Result, Schema, SchemaParser } from "effect"
import * as fc from "fast-check"
import { readSuccess, readTime } from "../src/internal/answers.ts"
import * as Bitrix24Schemas from "../src/internal/schemas.ts"

/** The references: what Schema alone makes of a `time` and of a `result`. */
const timeBySchema = Schema.decodeUnknownOption(Bitrix24Schemas.Time)
const successBySchema = SchemaParser.decodeUnknownResult(Bitrix24Schemas.MessagesSuccess, {
  onExcessProperty: "ignore"
})

/** JSON values near each field's type: what a portal (or a hostile server) may send. */
const anyJson = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.constant([1, "a"])
)
const idValue = fc.oneof({ weight: 4, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()) }, anyJson)
const textValue = fc.oneof({ weight: 4, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)) }, anyJson)
const item = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        user: idValue,
        message: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record(
              { id: idValue, date: anyJson, text: textValue, files: anyJson, x: anyJson },
              { requiredKeys: [] }
            )
          },
          anyJson
        ),
        chat: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record(
              { id: idValue, name: textValue, description: textValue, url: anyJson },
              { requiredKeys: [] }
            )
          },
          anyJson
        ),
        extra: anyJson,
        session: anyJson,
        SUCCESS: fc.oneof({ weight: 6, arbitrary: fc.boolean() }, anyJson),
        ERRORS: anyJson,
        unknown: anyJson
      },
      { requiredKeys: [] }
    )
  },
  anyJson
)
const result = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        SUCCESS: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, anyJson),
        DATA: fc.oneof(
          {
            weight: 6,
            arbitrary: fc.record(
              { RESULT: fc.array(item, { maxLength: 3 }), MORE: anyJson },
              { requiredKeys: ["RESULT"] }
            )
          },
          anyJson
        ),
        success: fc.constantFrom(false, true),
        Other: anyJson
      },
      { requiredKeys: [] }
    )
  },
  anyJson
)
const time = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        start: fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, anyJson),
        duration: fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, anyJson),
        operating: fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, anyJson),
        operating_reset_at: fc.oneof({ weight: 4, arbitrary: fc.integer() }, anyJson),
        date_start: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 6 }) }, anyJson),
        other: anyJson
      },
      { requiredKeys: [] }
    )
  },
  anyJson
)

describe("the message methods' answers read without Schema", () => {
  it("time: the same fields Time decodes, or none when Time refuses it", () => {
    fc.assert(
      fc.property(time, (value) => {
        assert.deepStrictEqual(readTime(value), Option.getOrUndefined(timeBySchema(value)))
      }),
      { numRuns: 3_000 }
    )
  })

  it("result: the same items MessagesSuccess decodes, or Schema's turn (never a different answer)", () => {
    fc.assert(
      fc.property(result, fc.integer({ min: 0, max: 3 }), (value, expected) => {
        const fast = readSuccess(value, expected)
        if (fast === undefined) return
        // Read without Schema: Schema accepts it too, with the same items, and they are as many as sent.
        const slow = successBySchema(value)
        assert.isTrue(Result.isSuccess(slow))
        if (Result.isSuccess(slow)) assert.deepStrictEqual(fast, slow.success.DATA.RESULT)
        assert.strictEqual(fast.length, expected)
      }),
      { numRuns: 3_000 }
    )
  })

  it("reads the usual answer (the fast path is taken)", () => {
    const items = readSuccess(
      {
        SUCCESS: true,
        DATA: {
          RESULT: [{ user: "5", message: { id: "m-1", date: {}, text: "hi" }, chat: { id: "c-1" }, SUCCESS: true }]
        }
      },
      1
    )
    assert.deepStrictEqual(items, [
      { user: "5", message: { id: "m-1", date: {}, text: "hi" }, chat: { id: "c-1" }, SUCCESS: true }
    ])
    assert.isUndefined(readSuccess({ SUCCESS: true, success: false, DATA: { RESULT: [] } }, 0))
  })
})
