import { assert, describe, it } from "@effect/vitest"
import { EditRequest } from "@reword/core"
import { Effect, Result } from "effect"

const problemsOf = (input: unknown) =>
  Effect.map(Effect.result(EditRequest.decode(input)), (result) =>
    Result.isFailure(result) ? result.failure.problems.map((problem) => problem.path) : []
  )

describe("EditRequest.decode", () => {
  it.effect("accepts a request with ids and text, and defaults nothing it was not given", () =>
    Effect.gen(function* () {
      const request = yield* EditRequest.decode({
        ids: { externalMessageId: "m-1", externalChatId: "c-1", externalAuthorId: "u-1" },
        text: "Sorry, I meant Tuesday 🙂"
      })
      assert.instanceOf(request, EditRequest.EditRequest)
      assert.strictEqual(request.text, "Sorry, I meant Tuesday 🙂")
      assert.strictEqual(request.ids.externalMessageId, "m-1")
      assert.isUndefined(request.files)
      assert.isUndefined(request.editedAt)
    })
  )

  it.effect("accepts files without text, and a numeric provider id", () =>
    Effect.gen(function* () {
      const request = yield* EditRequest.decode({
        ids: { providerMessageId: 1842 },
        files: [{ url: "https://cdn.example.com/a.png", name: "a.png" }]
      })
      assert.strictEqual(request.ids.providerMessageId, 1842)
      assert.strictEqual(request.files?.[0]?.url, "https://cdn.example.com/a.png")
    })
  )

  it.effect("refuses a request that says nothing about the new content", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* problemsOf({ ids: { externalMessageId: "m" } }), ["text"])
      assert.deepStrictEqual(yield* problemsOf({ ids: { externalMessageId: "m" }, text: "", files: [] }), ["text"])
    })
  )

  it.effect("names every wrong field at once, by its dotted path", () =>
    Effect.gen(function* () {
      const paths = yield* problemsOf({
        ids: { externalMessageId: "  ", externalChatId: "chat\u0000", providerMessageId: "x".repeat(300) },
        text: "fine",
        files: [{ url: "ftp://files.example.com/a" }, { url: "/relative" }],
        author: { email: "not-an-email", gender: "other", avatarUrl: "javascript:alert(1)" },
        chat: { url: "nope" },
        language: "english!",
        editedAt: new Date("invalid")
      })
      assert.deepStrictEqual(paths.sort(), [
        "author.avatarUrl",
        "author.email",
        "author.gender",
        "chat.url",
        "editedAt",
        "files.0.url",
        "files.1.url",
        "ids.externalChatId",
        "ids.externalMessageId",
        "ids.providerMessageId",
        "language"
      ])
    })
  )

  it.effect("refuses what is not a request at all, without throwing", () =>
    Effect.gen(function* () {
      for (const input of [null, undefined, 42, "text", [], { ids: "m-1", text: "x" }, { text: 5, ids: {} }]) {
        const result = yield* Effect.result(EditRequest.decode(input))
        assert.isTrue(Result.isFailure(result), `accepted ${JSON.stringify(input)}`)
        if (Result.isFailure(result)) assert.strictEqual(result.failure._tag, "InvalidRequest")
      }
    })
  )

  it.effect("keeps ids with slashes, dots and unicode as they are: adapters encode them", () =>
    Effect.gen(function* () {
      const request = yield* EditRequest.decode({ ids: { externalMessageId: "../a/b?c#d%2F é" }, text: "x" })
      assert.strictEqual(request.ids.externalMessageId, "../a/b?c#d%2F é")
    })
  )
})
