/**
 * Hostile answer shapes, through both adapters' editors over real HTTP: no
 * answer, whatever its size (up to the 1 MiB cap), depth (100,000 levels of
 * `{"error":` or `[`), shape or encoding, gives anything but a typed
 * `EditError` (or a success) for the request it answered; `updateMany` always
 * answers one outcome per request, and never fails as a whole.
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError, type MessageEditor } from "@reword/core"
import { Effect, Exit, Result } from "effect"
import * as fc from "fast-check"
import {
  type Answer,
  acquireEditor,
  acquireRequest,
  bitrix24Editor,
  bitrix24Request,
  hostileServer
} from "./hostileAnswers.ts"

const MIB = 1024 * 1024

/** `levels` levels of `open`, then `inner`, then the closing text: at most `max` bytes. */
const nest = (open: string, close: string, levels: number, inner = "1", max = MIB - 256): string => {
  const fits = Math.min(levels, Math.floor((max - inner.length) / (open.length + close.length)))
  return `${open.repeat(fits)}${inner}${close.repeat(fits)}`
}

/** Deep nesting in every place an adapter reads: error fields, `errors`, Bitrix24's `result`, Acquire's `data`. */
const deepBodies = (levels: number): ReadonlyArray<string> => [
  nest('{"error":', "}", levels),
  nest("[", "]", levels),
  nest('{"error":{"errors":[', "]}}", levels),
  `{"errors":[${nest('{"errors":[', "]}", levels)}]}`,
  `{"error":"x","error_description":${nest("[", "]", levels)}}`,
  `{"result":${nest('{"result":', "}", levels)}}`,
  `{"result":{"SUCCESS":true,"DATA":{"RESULT":[${nest('{"ERRORS":[', "]}", levels)}]}}}`,
  `{"result":{"SUCCESS":true,"DATA":{"RESULT":[{"SUCCESS":false,"ERRORS":[${nest('{"message":', "}", levels)}]}]}}}`,
  `{"data":${nest('{"data":', "}", levels)}}`,
  `{"type":"ERROR_INVALID_INPUT","errors":[${nest("[", "]", levels)}]}`
]

const STATUSES = [200, 400, 401, 403, 404, 409, 422, 429, 500, 503] as const

/** Bodies of every kind: deep, wide, huge, random JSON, not JSON, bytes that are not UTF-8. */
const bodyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }).chain((levels) => fc.constantFrom(...deepBodies(levels))),
  fc.jsonValue({ maxDepth: 8 }).map((value) => JSON.stringify(value)),
  fc
    .jsonValue({ maxDepth: 4 })
    .map((value) => JSON.stringify({ error: value, error_description: value, errors: [value], result: value })),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `{"errors":[${Array.from({ length: n }, () => '{"code":"E"}')}]}`),
  fc.integer({ min: 1, max: MIB - 64 }).map((n) => `{"error":"${"x".repeat(n)}"}`),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.constant("<html><title>502</title></html>"),
  fc.constant("")
)

const answerArb: fc.Arbitrary<Answer> = fc.record({ status: fc.constantFrom(...STATUSES), body: bodyArb })

/** Every outcome is a success or a typed EditError, one per request. */
const assertTyped = (outcomes: ReadonlyArray<MessageEditor.Outcome>, count: number) => {
  assert.strictEqual(outcomes.length, count, "one outcome per request")
  for (const outcome of outcomes) {
    if (Result.isFailure(outcome)) assert.isTrue(EditError.isEditError(outcome.failure), String(outcome.failure))
  }
}

const runCase = (editor: MessageEditor.Service, requests: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const one = yield* Effect.exit(editor.update(requests[0] as never))
    if (Exit.isFailure(one)) {
      const error = one.cause.reasons.length === 1 ? one.cause.reasons[0] : undefined
      assert.isTrue(error?._tag === "Fail" && EditError.isEditError(error.error), `update: ${String(one.cause)}`)
    }
    const many = yield* Effect.exit(editor.updateMany(requests as never))
    assert.isTrue(Exit.isSuccess(many), "updateMany never fails as a whole")
    if (Exit.isSuccess(many)) assertTyped(many.value, requests.length)
  })

const providers = [
  {
    name: "bitrix24",
    editor: bitrix24Editor,
    requests: ["m-1", "m-2", "m-3"].map(bitrix24Request)
  },
  {
    name: "acquire",
    editor: acquireEditor,
    requests: [8288, 8289, 8290].map(acquireRequest)
  }
] as const

describe("hostile answers end in a typed EditError for the request they answered", () => {
  for (const provider of providers) {
    it.live(`${provider.name}: 100,000 levels of nesting, in every place the adapter reads`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* hostileServer
          const editor = yield* provider.editor(server)
          for (const [index, body] of deepBodies(100_000).entries()) {
            assert.isAtMost(Buffer.byteLength(body), MIB, "within the body cap")
            server.answer({ status: [200, 400, 500][index % 3] as number, body })
            yield* runCase(editor, provider.requests)
          }
        })
      )
    )

    it.live(`${provider.name}: any status, size, depth, shape or encoding (property)`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* hostileServer
          const editor = yield* provider.editor(server)
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(answerArb, async (answer) => {
                server.answer(answer)
                await Effect.runPromise(runCase(editor, provider.requests))
              }),
              { numRuns: 40 }
            )
          )
        })
      )
    )
  }
})
