/**
 * Whatever the Bot API (or anything in front of it) answers, of any status,
 * size, depth, encoding or shape, an edit ends as the message or as a typed
 * `EditError` for its own request: never a defect, never a hang, and never the
 * token in what it keeps.
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import { answering, type Canned, ids, makeEditor, TOKEN, tokenForms } from "./support/telegram.ts"

const REASONS = new Set([
  "InvalidRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "RateLimited",
  "Unavailable",
  "Network",
  "Timeout",
  "Rejected",
  "Unsupported",
  "MalformedResponse"
])

const deep = (depth: number): string => `${'{"ok":true,"result":'.repeat(depth)}"bottom"${"}".repeat(depth)}`

const body = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.constantFrom(
    "<html><title>502</title>",
    "{",
    "\u0000\uffff",
    JSON.stringify({ ok: true, result: { message_id: 7, chat: { id: 42 }, text: 5 } }),
    JSON.stringify({ ok: false, error_code: "400", description: ["x"] }),
    JSON.stringify({ ok: false, error_code: 429, description: "x", parameters: { retry_after: -5 } }),
    JSON.stringify({ ok: false, error_code: 429, description: "x", parameters: { retry_after: 1e308 } }),
    JSON.stringify({ ok: false, error_code: 400, description: "x", parameters: { migrate_to_chat_id: "nope" } }),
    deep(5_000),
    `{"ok":false,"error_code":401,"description":"bad token ${TOKEN}"}`
  ),
  fc.record({
    ok: fc.boolean(),
    error_code: fc.oneof(fc.integer(), fc.string()),
    description: fc.oneof(fc.string(), fc.constant(`message to edit not found ${TOKEN}`)),
    parameters: fc.anything(),
    result: fc.anything()
  })
)

const canned = fc.record({
  status: fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503),
  body
}) as fc.Arbitrary<Canned>

describe("hostile answers", () => {
  it.effect("every answer ends as the message or as a typed EditError, the token scrubbed", () =>
    Effect.gen(function* () {
      const samples = fc.sample(canned, { numRuns: 300, seed: 21 })
      for (const answer of samples) {
        const { fetch } = answering(typeof answer.body === "string" ? answer : { ...answer, body: answer.body ?? null })
        const editor = yield* makeEditor(fetch)
        const exit = yield* Effect.exit(editor.update({ ids, text: "new text" }))
        if (Exit.isSuccess(exit)) {
          assert.strictEqual(exit.value.provider, "telegram")
          continue
        }
        const error = exit.cause.reasons[0]
        assert.isTrue(error?._tag === "Fail", `a defect for ${JSON.stringify(answer).slice(0, 200)}`)
        const failure = error?._tag === "Fail" ? error.error : undefined
        assert.isTrue(EditError.isEditError(failure))
        if (!EditError.isEditError(failure)) continue
        assert.isTrue(REASONS.has(failure.reason._tag))
        const printed = `${failure.message} ${JSON.stringify(failure)}`
        for (const form of tokenForms()) assert.notInclude(printed, form)
      }
    })
  )
})
