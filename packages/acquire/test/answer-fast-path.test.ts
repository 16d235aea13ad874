/**
 * The editor reads the fields of a successful update answer without decoding
 * the whole message (`internal/edited.ts`): it must read exactly what the
 * Schema reads, answer only where the Schema succeeds, and leave every other
 * answer to the Schema path, so that every outcome stays the same.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema, Tracer } from "effect"
import fc from "fast-check"
import { Acquire } from "../src/index.ts"
import { MessageAnswer } from "../src/internal/answers.ts"
import * as Edited from "../src/internal/edited.ts"
import { malformed } from "../src/internal/errors.ts"
import { documentedGetAnswer, documentedUpdateAnswer } from "../src/internal/sandbox/answers.ts"
import { settings } from "./support/acquire.ts"

const decode = Schema.decodeUnknownResult(MessageAnswer)

/** What the editor keeps of an answer, comparable. */
const kept = (fields: Edited.Edited) => ({
  id: fields.id,
  message: fields.message,
  dateUpdated: fields.dateUpdated?.getTime()
})

/** Values near Acquire's answer: each field right, wrong, or of another type. */
const idValue = fc.oneof(
  fc.integer({ min: 1 }),
  fc.integer(),
  fc.constantFrom(0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, 1e16, 1e21),
  fc.stringMatching(/^[0-9]{0,18}$/),
  fc.constantFrom("0", "0042", " 42", "42 ", "+42", "4.2", "1e3", "0x10", "9007199254740993", "٤٢"),
  fc.string(),
  fc.jsonValue({ maxDepth: 2 })
)
const textValue = fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 }))
const dateValue = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom("2021-03-30T16:10:54.000Z", "2021-03-30", "yesterday", "2021-02-30T00:00:00Z", "0", "", " "),
  fc.string(),
  fc.jsonValue({ maxDepth: 1 })
)
const data = fc
  .record(
    { id: idValue, message: textValue, dateUpdated: dateValue, case: fc.jsonValue({ maxDepth: 3 }) },
    { requiredKeys: [] }
  )
  .chain((fields) =>
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((extra) => ({
      ...extra,
      ...fields
    }))
  )
/** A whole answer, round-tripped through JSON as the transport parses it. */
const answer = fc
  .oneof(
    data.map((value) => ({ data: value })),
    fc.jsonValue({ maxDepth: 3 }),
    fc.tuple(data, fc.jsonValue({ maxDepth: 2 })).map(([value, other]) => ({ data: value, meta: other, error: other }))
  )
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown)

describe("the editor's fast read of an update answer", () => {
  it("answers only where the Schema succeeds, with the same id, text and date (property)", () => {
    fc.assert(
      fc.property(answer, (json) => {
        const fast = Edited.read(json)
        if (fast === undefined) return
        const decoded = decode(json)
        assert.isTrue(Result.isSuccess(decoded), `the Schema refuses ${JSON.stringify(json)}`)
        if (Result.isSuccess(decoded)) assert.deepStrictEqual(kept(fast), kept(decoded.success.data))
      }),
      { numRuns: 3_000 }
    )
  })

  it("reads the documented answers, ids in digits and odd field types itself (no Schema needed)", () => {
    const read = (json: unknown) => {
      const fast = Edited.read(JSON.parse(JSON.stringify(json)))
      assert.isDefined(fast, JSON.stringify(json))
      return fast === undefined ? undefined : kept(fast)
    }
    assert.deepStrictEqual(read(documentedUpdateAnswer), {
      id: 8288,
      message: "updating the sent message",
      dateUpdated: Date.parse("2021-03-30T16:10:54.000Z")
    })
    assert.strictEqual(read(documentedGetAnswer)?.id, 8285)
    assert.deepStrictEqual(read({ data: { id: "0042", message: 42, dateUpdated: "yesterday" } }), {
      id: 42,
      message: undefined,
      dateUpdated: undefined
    })
  })

  it("leaves every answer it cannot read to the Schema, which refuses these", () => {
    const bodies = [
      "null",
      "[]",
      '{"data":null}',
      '{"data":[{"id":1}]}',
      '{"data":{"id":0}}',
      '{"data":{"id":"12345678901234567"}}',
      '{"data":{"id":9007199254740992}}',
      '{"data":{"message":"no id"}}',
      // JSON.parse makes `__proto__` an own key, not the prototype: there is no id.
      '{"data":{"__proto__":{"id":5},"message":"x"}}',
      '{"__proto__":{"data":{"id":5}}}'
    ]
    for (const body of bodies) {
      const json: unknown = JSON.parse(body)
      assert.isUndefined(Edited.read(json), body)
      assert.isTrue(Result.isFailure(decode(json)), body)
    }
  })
})

describe("the editor over an answer of any shape", () => {
  /** An editor whose fetch answers `body` with `status`, in the same process. */
  const editorAnswering = (status: number, body: string) =>
    Effect.orDie(
      Acquire.make(settings, {
        retry: { maxAttempts: 1 },
        transport: {
          fetch: async () => new Response(body, { status, headers: { "content-type": "application/json" } })
        }
      })
    )

  it.live(
    "succeeds where the Schema decodes the answer, with its fields, and fails as before elsewhere (property)",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(answer, fc.constantFrom(200, 201), async (json, status) => {
            const body = JSON.stringify(json) ?? "null"
            const outcome = await Effect.runPromise(
              Effect.result(
                Effect.flatMap(editorAnswering(status, body), (editor) =>
                  editor.update({ ids: { providerMessageId: 8288 }, text: "sent text" })
                )
              )
            )
            const decoded = decode(JSON.parse(body))
            if (Result.isSuccess(decoded) && decoded.success.data.id !== 8288) {
              // An answer about another message is never a success for this one.
              assert.isTrue(Result.isFailure(outcome), body)
              if (Result.isFailure(outcome)) assert.strictEqual(outcome.failure.reason._tag, "MalformedResponse", body)
            } else if (Result.isSuccess(decoded)) {
              assert.isTrue(Result.isSuccess(outcome), body)
              if (Result.isSuccess(outcome)) {
                const message = decoded.success.data
                assert.strictEqual(outcome.success.ids.providerMessageId, message.id)
                assert.strictEqual(outcome.success.text, message.message ?? "sent text")
                assert.strictEqual(outcome.success.updatedAt?.getTime(), message.dateUpdated?.getTime())
              }
            } else {
              // The reason the Schema path has always given.
              const expected = malformed(
                {
                  status,
                  headers: new Headers(),
                  text: body,
                  json: JSON.parse(body),
                  isJson: body.trim().startsWith("{") || body.trim().startsWith("[")
                },
                decoded.failure,
                Date.now()
              )
              assert.isTrue(Result.isFailure(outcome), body)
              if (Result.isFailure(outcome)) assert.strictEqual(outcome.failure.reason._tag, expected._tag, body)
            }
          }),
          { numRuns: 300 }
        )
      )
  )
})

describe("the edited message's ids", () => {
  const editor = Effect.orDie(
    Acquire.make(settings, { transport: { fetch: async () => Response.json(documentedUpdateAnswer) } })
  )
  const ids = { externalMessageId: "wa-881", externalChatId: "chat-7", externalAuthorId: "u-3" }

  it.effect("are the request's own, with the answered id as Acquire's number", () =>
    Effect.gen(function* () {
      const asNumber = yield* (yield* editor).update({ ids: { ...ids, providerMessageId: 8288 }, text: "hi" })
      const asDigits = yield* (yield* editor).update({ ids: { ...ids, providerMessageId: "8288" }, text: "hi" })
      for (const edited of [asNumber, asDigits]) {
        assert.deepStrictEqual({ ...edited.ids }, { ...ids, providerMessageId: 8288 })
      }
    })
  )
})

describe("the client's span", () => {
  it.live("is made inside the editor's span when the app installed a tracer", () =>
    Effect.gen(function* () {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span: (options) => {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const editor = yield* Effect.orDie(
        Acquire.make(settings, {
          transport: { fetch: async () => Response.json(documentedUpdateAnswer) }
        })
      )
      yield* editor.update({ ids: { providerMessageId: 8288 }, text: "hello" }).pipe(Effect.withTracer(tracer))
      const client = spans.find((span) => span.name === "AcquireClient.update")
      assert.isDefined(client)
      assert.strictEqual(client?.attributes.get("reword.provider"), "acquire")
      assert.isTrue(client?.status._tag === "Ended")
    })
  )
})
