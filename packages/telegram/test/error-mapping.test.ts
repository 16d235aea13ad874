/**
 * Every answer the Bot API documents for an edit, hand-made, and the reason
 * (or the success) it becomes; then answers of any other shape.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { answering, type Canned, editedAnswer, errorAnswer, ids, makeEditor } from "./support/telegram.ts"

const failWith = (...answers: ReadonlyArray<Canned>) =>
  Effect.gen(function* () {
    const { fetch } = answering(...answers)
    const editor = yield* makeEditor(fetch)
    return yield* Effect.flip(editor.update({ ids, text: "new text" }))
  })

describe("the Bot API's answers to an edit", () => {
  it.effect("a success answers the message's text and its edit_date", () =>
    Effect.gen(function* () {
      const { fetch, seen } = answering(editedAnswer(42, 7, "new text"))
      const editor = yield* makeEditor(fetch)
      const edited = yield* editor.update({ ids, text: "new text" })
      assert.strictEqual(edited.text, "new text")
      assert.deepStrictEqual(edited.updatedAt, new Date(1_760_000_100 * 1000))
      assert.match(seen[0]?.url ?? "", /^https:\/\/api\.telegram\.org\/bot[0-9]+:[^/]+\/editMessageText$/)
      assert.deepStrictEqual(seen[0]?.body, { chat_id: 42, message_id: 7, text: "new text" })
    })
  )

  it.effect("a success that names another message is a MalformedResponse, never a success", () =>
    Effect.gen(function* () {
      const error = yield* failWith(editedAnswer(42, 8, "new text"))
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      assert.include(error.message, "message 8")
    })
  )

  it.effect("'message is not modified' is a success: the message already shows the text", () =>
    Effect.gen(function* () {
      const { fetch } = answering(
        errorAnswer(
          400,
          "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
        )
      )
      const editor = yield* makeEditor(fetch)
      const edited = yield* editor.update({ ids, text: "new text" })
      assert.strictEqual(edited.text, "new text")
      assert.isUndefined(edited.updatedAt)
    })
  )

  it.effect("'message to edit not found' is NotFound", () =>
    Effect.gen(function* () {
      const error = yield* failWith(errorAnswer(400, "Bad Request: message to edit not found"))
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.strictEqual(error.reason._tag === "NotFound" ? error.reason.code : undefined, "MESSAGE_NOT_FOUND")
      assert.isFalse(error.isRetryable)
    })
  )

  it.effect("'message can't be edited' is a refusal that says why", () =>
    Effect.gen(function* () {
      const error = yield* failWith(errorAnswer(400, "Bad Request: message can't be edited"))
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.strictEqual(error.reason._tag === "Rejected" ? error.reason.code : undefined, "MESSAGE_NOT_EDITABLE")
      assert.include(error.message, "a bot edits only messages it sent itself")
      assert.isFalse(error.isRetryable)
    })
  )

  it.effect("429 with parameters.retry_after is RateLimited after that many seconds", () =>
    Effect.gen(function* () {
      const error = yield* failWith(errorAnswer(429, "Too Many Requests: retry after 7", { retry_after: 7 }))
      assert.strictEqual(error.reason._tag, "RateLimited")
      assert.deepStrictEqual(error.retryAfter, Duration.seconds(7))
      assert.isTrue(error.isRetryable)
    })
  )

  it.live("429 is retried after retry_after (1 s, real time), then the edit goes through", () =>
    Effect.gen(function* () {
      const { fetch, seen } = answering(
        errorAnswer(429, "Too Many Requests: retry after 1", { retry_after: 1 }),
        editedAnswer(42, 7, "new text")
      )
      const editor = yield* makeEditor(fetch, { retry: { maxAttempts: 2 } })
      const edited = yield* editor.update({ ids, text: "new text" })
      assert.strictEqual(edited.text, "new text")
      assert.strictEqual(seen.length, 2)
    })
  )

  it.effect("migrate_to_chat_id is a permanent refusal carrying the new chat id; the edit is not repeated", () =>
    Effect.gen(function* () {
      const { fetch, seen } = answering(
        errorAnswer(400, "Bad Request: group chat was upgraded to a supergroup chat", {
          migrate_to_chat_id: -1001234567890
        })
      )
      const editor = yield* makeEditor(fetch, { retry: { maxAttempts: 3 } })
      const error = yield* Effect.flip(editor.update({ ids, text: "new text" }))
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.strictEqual(error.reason._tag === "Rejected" ? error.reason.newChatId : undefined, "-1001234567890")
      assert.strictEqual(error.reason._tag === "Rejected" ? error.reason.code : undefined, "CHAT_MIGRATED")
      assert.include(error.message, "the chat moved to -1001234567890")
      assert.isFalse(error.isRetryable)
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(
        (error.toJSON() as unknown as { reason: { newChatId: string } }).reason.newChatId,
        "-1001234567890"
      )
    })
  )

  it.effect("401 Unauthorized, and a 404 (a malformed token), are Unauthorized", () =>
    Effect.gen(function* () {
      const unauthorized = yield* failWith(errorAnswer(401, "Unauthorized"))
      const notFound = yield* failWith(errorAnswer(404, "Not Found"))
      assert.strictEqual(unauthorized.reason._tag, "Unauthorized")
      assert.strictEqual(notFound.reason._tag, "Unauthorized")
      assert.include(notFound.message, "did not recognise the bot token")
    })
  )

  it.effect("403 (the user blocked the bot) is Forbidden", () =>
    Effect.gen(function* () {
      const error = yield* failWith(errorAnswer(403, "Forbidden: bot was blocked by the user"))
      assert.strictEqual(error.reason._tag, "Forbidden")
      assert.include(error.message, "bot was blocked by the user")
    })
  )

  it.effect("'chat not found' is NotFound; text problems are InvalidRequest naming the field", () =>
    Effect.gen(function* () {
      const chat = yield* failWith(errorAnswer(400, "Bad Request: chat not found"))
      assert.strictEqual(chat.reason._tag, "NotFound")
      for (const description of [
        "Bad Request: MESSAGE_TOO_LONG",
        "Bad Request: message text is empty",
        "Bad Request: can't parse entities: Unsupported start tag"
      ]) {
        const error = yield* failWith(errorAnswer(400, description))
        assert.strictEqual(error.reason._tag, "InvalidRequest", description)
        assert.strictEqual(error.reason._tag === "InvalidRequest" ? error.reason.problems[0]?.path : "", "text")
      }
      const other = yield* failWith(errorAnswer(400, "Bad Request: something new"))
      assert.strictEqual(other.reason._tag, "Rejected")
      assert.include(other.message, "something new")
    })
  )

  it.effect("5xx, as JSON or as an nginx HTML page, is Unavailable and retryable", () =>
    Effect.gen(function* () {
      const json = yield* failWith(errorAnswer(502, "Bad Gateway"))
      const html = yield* failWith({
        status: 502,
        body: "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
      })
      const restart = yield* failWith(errorAnswer(500, "Internal Server Error: restart"))
      for (const error of [json, html, restart]) {
        assert.strictEqual(error.reason._tag, "Unavailable")
        assert.isTrue(error.isRetryable)
      }
      assert.include(html.message, "502 Bad Gateway")
    })
  )

  it.effect("a 200 that is not the Bot API's envelope is a MalformedResponse; ok:false under 200 is its error", () =>
    Effect.gen(function* () {
      const answers = [
        { status: 200, body: "<html>hello</html>" },
        { status: 200, body: { ok: true } },
        { status: 200, body: { ok: true, result: { message_id: "7", chat: { id: 42 } } } },
        { status: 200, body: [] },
        { status: 200, body: "" }
      ]
      for (const answer of answers) {
        const error = yield* failWith(answer)
        assert.strictEqual(error.reason._tag, "MalformedResponse", JSON.stringify(answer.body))
      }
      const disguised = yield* failWith({
        status: 200,
        body: { ok: false, error_code: 400, description: "Bad Request: message to edit not found" }
      })
      assert.strictEqual(disguised.reason._tag, "NotFound")
    })
  )

  it.effect("other statuses: 409 and 418 are Rejected, with Telegram's description", () =>
    Effect.gen(function* () {
      const conflict = yield* failWith(errorAnswer(409, "Conflict: terminated by other getUpdates request"))
      assert.strictEqual(conflict.reason._tag, "Rejected")
      const teapot = yield* failWith({ status: 418, body: "I'm a teapot" })
      assert.strictEqual(teapot.reason._tag, "Rejected")
    })
  )
})
