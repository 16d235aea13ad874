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

  it.effect("refuses ids holding NUL, control characters (C0, DEL, C1), bidi controls or lone surrogates", () =>
    Effect.gen(function* () {
      const bad = [
        "m\u0000",
        "m\u0007",
        "m\u007f",
        "m\u0085",
        "m\u009b",
        "m\u061c",
        "m\u200e",
        "m\u200f",
        "m\u202a",
        "m\u202e",
        "m\u2066",
        "m\u2069",
        "m\ud800",
        "\udfffm"
      ]
      for (const id of bad) {
        const result = yield* Effect.result(EditRequest.decode({ ids: { externalMessageId: id }, text: "x" }))
        assert.isTrue(Result.isFailure(result), `accepted ${JSON.stringify(id)}`)
        if (Result.isFailure(result)) {
          assert.deepStrictEqual(
            result.failure.problems.map((problem) => problem.path),
            ["ids.externalMessageId"],
            JSON.stringify(id)
          )
        }
      }
      const surrogate = yield* Effect.flip(EditRequest.decode({ ids: { externalChatId: "c\ud83d" }, text: "x" }))
      assert.include(surrogate.message, "ids.externalChatId: must be well-formed Unicode")
      const bidi = yield* Effect.flip(EditRequest.decode({ ids: { providerMessageId: "17\u202e" }, text: "x" }))
      assert.include(bidi.message, "ids.providerMessageId: must not contain bidirectional control characters")
      // Paired surrogates (an emoji) are text like any other.
      const emoji = yield* EditRequest.decode({ ids: { externalMessageId: "m-😀" }, text: "x" })
      assert.strictEqual(emoji.ids.externalMessageId, "m-😀")
    })
  )

  it.effect("refuses text that is not well-formed Unicode, and keeps any other text as it is", () =>
    Effect.gen(function* () {
      for (const text of ["half \ud83d of an emoji", "\ude00", "end \ud800"]) {
        const error = yield* Effect.flip(EditRequest.decode({ ids: { externalMessageId: "m" }, text }))
        assert.deepStrictEqual(
          error.problems.map((problem) => problem.path),
          ["text"]
        )
        assert.include(error.message, "text: must be well-formed Unicode")
      }
      // Right-to-left marks, line breaks, tabs and emoji are the user's text.
      const text = "שלום \u200f(עברית)\u200e\n\tok 😀 \u202bمرحبا\u202c"
      const request = yield* EditRequest.decode({ ids: { externalMessageId: "m" }, text })
      assert.strictEqual(request.text, text)
    })
  )

  it.effect(
    "refuses control characters, bidi controls and lone surrogates in file names, URLs, author and chat fields",
    () =>
      Effect.gen(function* () {
        const paths = yield* problemsOf({
          ids: { externalMessageId: "m" },
          text: "x",
          files: [
            { url: "https://cdn.example.com/a.png", name: "invoice\u202efdp.exe" },
            { url: "https://cdn.example.com/b\u0000.png", name: "b.png" },
            { url: "https://cdn.example.com/c.png", name: "c\ud800.png" },
            { url: "https://cdn.example.com/\u2066d.png" }
          ],
          author: {
            firstName: "Ann\u0000",
            lastName: "Lee\u202e",
            email: "ann\u0085@example.com",
            avatarUrl: "https://cdn.example.com/\ud800",
            profileUrl: "https://exa\nmple.com/ann"
          },
          chat: { name: "support\u001b[31m", url: "https://chat.example.com/\u200f" }
        })
        assert.deepStrictEqual(paths.sort(), [
          "author.avatarUrl",
          "author.email",
          "author.firstName",
          "author.lastName",
          "author.profileUrl",
          "chat.name",
          "chat.url",
          "files.0.name",
          "files.1.url",
          "files.2.name",
          "files.3.url"
        ])
        // Names in any script pass.
        const fine = yield* EditRequest.decode({
          ids: { externalMessageId: "m" },
          text: "x",
          files: [{ url: "https://cdn.example.com/%D1%84.png", name: "фото 😀.png" }],
          author: { firstName: "Zoë", lastName: "محمد" },
          chat: { name: "Поддержка" }
        })
        assert.strictEqual(fine.author?.lastName, "محمد")
      })
  )

  it.effect("keeps ids with slashes, dots and unicode as they are: adapters encode them", () =>
    Effect.gen(function* () {
      const request = yield* EditRequest.decode({ ids: { externalMessageId: "../a/b?c#d%2F é" }, text: "x" })
      assert.strictEqual(request.ids.externalMessageId, "../a/b?c#d%2F é")
    })
  )
})
