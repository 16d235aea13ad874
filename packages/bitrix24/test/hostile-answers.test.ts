/**
 * No answer, whatever its depth, size or shape, gives anything but a typed
 * EditError for the request it answered, and one hostile item of a chunk
 * never costs the other items their outcomes (issue 10, items 1 and 11).
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { Effect, Exit, Result } from "effect"
import fc from "fast-check"
import { okItem, request, success, TOKEN_PATH } from "./support/bitrix24.ts"
import { bodyJson, editorOn, formOf, type Handler, json } from "./support/fakeServer.ts"

/** `{"<key>": {"<key>": ... "leaf" ...}}`, `depth` levels, as JSON text (built without recursion). */
const nested = (depth: number, key = "error", leaf = '"deep"'): string =>
  `${`{"${key}":`.repeat(depth)}${leaf}${"}".repeat(depth)}`

/** An answer that echoes the request's items, with item `hostile` replaced by `item` (JSON text). */
const chunkWith =
  (hostile: number, item: string): Handler =>
  (seen) => {
    const messages = bodyJson(seen).MESSAGES
    const items = messages.map((message, index) => (index === hostile ? item : JSON.stringify(okItem(message))))
    return json(200, `{"result":{"SUCCESS":true,"DATA":{"RESULT":[${items.join(",")}]}},"time":{}}`)
  }

/** Deep enough to overflow any recursive walk, within the 1 MiB body cap. */
const DEEP = 50_000

const isEditError = (error: unknown): boolean => error instanceof EditError.EditError

describe("hostile answers (item 1)", () => {
  it.live(
    "an item whose ERRORS nest 50,000 levels deep is that item's typed error; the others keep their outcomes",
    () =>
      Effect.gen(function* () {
        const item = `{"SUCCESS":false,"ERRORS":[${nested(DEEP)}],"message":{"id":"m-2"}}`
        const editor = yield* editorOn(chunkWith(1, item))
        const outcomes = yield* editor.updateMany([request(1), request(2), request(3)])
        assert.strictEqual(outcomes.length, 3)
        assert.isTrue(Result.isSuccess(outcomes[0] as Result.Result<unknown, unknown>))
        assert.isTrue(Result.isSuccess(outcomes[2] as Result.Result<unknown, unknown>))
        const second = outcomes[1] as Result.Result<unknown, EditError.EditError>
        assert.isTrue(Result.isFailure(second) && isEditError(second.failure))
      })
  )

  it.live("an item's ERRORS with thousands of entries or a megabyte of text stay a bounded description", () =>
    Effect.gen(function* () {
      const many = JSON.stringify({
        SUCCESS: false,
        ERRORS: Array.from({ length: 20_000 }, (_, n) => `error ${n}`),
        message: { id: "m-1" }
      })
      const editor = yield* editorOn(chunkWith(0, many))
      const error = yield* Effect.flip(editor.update(request(1)))
      assert.isAtMost(error.message.length, 3_000)
      const long = JSON.stringify({ SUCCESS: false, ERRORS: ["x".repeat(500_000)], message: { id: "m-1" } })
      const editor2 = yield* editorOn(chunkWith(0, long))
      const error2 = yield* Effect.flip(editor2.update(request(1)))
      assert.isAtMost(error2.message.length, 3_000)
    })
  )

  const deepBodies: ReadonlyArray<readonly [string, number, string]> = [
    ["an error envelope", 400, nested(DEEP)],
    ["an old-form refusal", 200, `{"result":{"SUCCESS":false,"error":${nested(DEEP)}}}`],
    ["an old-form ERRORS list", 200, `{"result":{"SUCCESS":false,"ERRORS":[${nested(DEEP, "errors", "[]")}]}}`],
    ["a result nested as errors", 500, nested(DEEP, "errors", "[]")],
    ["a deep result", 200, `{"result":${nested(DEEP, "DATA")}}`],
    ["a deep time", 200, `{"result":{"SUCCESS":true,"DATA":{"RESULT":[]}},"time":${nested(DEEP, "operating")}}`]
  ]
  it.live.each(deepBodies)("%s nested 50,000 levels deep is a typed EditError", ([, status, body]) =>
    Effect.gen(function* () {
      const editor = yield* editorOn(() => json(status, body))
      const exit = yield* Effect.exit(editor.update(request(1)))
      assert.isTrue(Exit.isFailure(exit))
      const outcomes = yield* editor.updateMany([request(1), request(2)])
      for (const outcome of outcomes) assert.isTrue(Result.isFailure(outcome) && isEditError(outcome.failure))
    })
  )

  it.live("an OAuth answer nested 50,000 levels deep is a typed EditError of the refresh", () =>
    Effect.gen(function* () {
      const editor = yield* editorOn((seen) =>
        seen.url.pathname === TOKEN_PATH
          ? json(400, nested(DEEP))
          : json(401, { error: "expired_token", error_description: "The access token provided has expired" })
      )
      const error = yield* Effect.flip(editor.update(request(1)))
      assert.isTrue(isEditError(error))
    })
  )

  it.live("property: whatever JSON a portal answers, with any status, every request gets its own typed outcome", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue({ maxDepth: 6 }),
            fc.record({ result: fc.jsonValue({ maxDepth: 5 }) }),
            fc.record({ result: fc.record({ SUCCESS: fc.boolean(), DATA: fc.jsonValue({ maxDepth: 4 }) }) }),
            fc.record({
              result: fc.record({
                SUCCESS: fc.constant(true),
                DATA: fc.record({ RESULT: fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }) })
              })
            }),
            fc.record({ error: fc.jsonValue({ maxDepth: 4 }), error_description: fc.jsonValue({ maxDepth: 3 }) })
          ),
          fc.constantFrom(200, 400, 401, 403, 404, 429, 500, 503),
          fc.integer({ min: 0, max: DEEP }),
          async (answer, status, depth) => {
            // Half the time the answer is wrapped in thousands of levels (deep enough to overflow a recursive walk).
            const body = depth > DEEP / 2 ? nested(depth, "error", JSON.stringify(answer)) : JSON.stringify(answer)
            const handler: Handler = (seen) =>
              seen.url.pathname === TOKEN_PATH
                ? formOf(seen).get("grant_type") === "refresh_token"
                  ? json(status, body)
                  : json(400, {})
                : json(status, body)
            const outcomes = await Effect.runPromise(
              Effect.flatMap(editorOn(handler), (editor) => editor.updateMany([request(1), request(2), request(3)]))
            )
            assert.strictEqual(outcomes.length, 3)
            for (const outcome of outcomes) {
              if (Result.isFailure(outcome)) assert.isTrue(isEditError(outcome.failure))
            }
          }
        ),
        { numRuns: 100 }
      )
    )
  )
})

describe("answers matched to requests by the echoed message id (item 11)", () => {
  it.live("an item that echoes another message id is MalformedResponse for that item, never a success", () =>
    Effect.gen(function* () {
      const editor = yield* editorOn((seen) => {
        const messages = bodyJson(seen).MESSAGES
        // Items 0 and 1 come back swapped; item 2 is right.
        const order = [messages[1], messages[0], messages[2]]
        return json(200, success(order.map((message) => okItem(message as (typeof messages)[number]))))
      })
      const outcomes = yield* editor.updateMany([request(1), request(2), request(3)])
      for (const index of [0, 1]) {
        const outcome = outcomes[index] as Result.Result<unknown, EditError.EditError>
        assert.isTrue(Result.isFailure(outcome))
        if (Result.isFailure(outcome)) {
          assert.strictEqual(outcome.failure.reason._tag, "MalformedResponse")
          assert.include(outcome.failure.message, `result item ${index}`)
        }
      }
      assert.isTrue(Result.isSuccess(outcomes[2] as Result.Result<unknown, unknown>))
    })
  )

  it.live("an id echoed as a number (as PHP may) or not echoed at all still matches", () =>
    Effect.gen(function* () {
      const editor = yield* editorOn((seen) => {
        const messages = bodyJson(seen).MESSAGES
        return json(
          200,
          success([
            { ...okItem(messages[0] as (typeof messages)[number]), message: { id: 42, date: {} } },
            { SUCCESS: true }
          ])
        )
      })
      const outcomes = yield* editor.updateMany([
        request(1, { ids: { externalMessageId: "42", externalChatId: "chat-1", externalAuthorId: "user-1" } }),
        request(2)
      ])
      for (const outcome of outcomes) assert.isTrue(Result.isSuccess(outcome))
    })
  )
})
