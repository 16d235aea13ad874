import { assert, describe, it } from "@effect/vitest"
import { AcquireMessageEditor } from "@reword/acquire"
import { Effect, Result } from "effect"
import nock from "nock"
import { documentedUpdateAnswer } from "../src/internal/sandbox/answers.ts"
import { countRequests, makeClient, makeEditor, ORIGIN, updatePath, useNock } from "./support/acquire.ts"

useNock()

const NOT_MESSAGE_IDS: ReadonlyArray<string | number> = [
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  "0",
  "-1",
  "+1",
  " 1",
  "1 ",
  "1.0",
  "1e3",
  "0x10",
  "12345678901234567",
  "../1",
  "..",
  "1/2",
  "1%2F2",
  "%31",
  "1?x=1",
  "1#top",
  "@evil.example.com",
  "１２",
  "١٢",
  "abc"
]

describe("Acquire's message id", () => {
  it.live("is required, as ids.providerMessageId, before any request leaves", () =>
    Effect.gen(function* () {
      const requests = countRequests()
      const editor = yield* makeEditor()
      const error = yield* Effect.flip(editor.update({ ids: { externalMessageId: "wa-881" }, text: "x" }))
      assert.strictEqual(error.reason._tag, "InvalidRequest")
      assert.deepStrictEqual(
        error.reason._tag === "InvalidRequest" ? error.reason.problems.map((problem) => problem.path) : [],
        ["ids.providerMessageId"]
      )
      assert.strictEqual(requests.count(), 0)
    })
  )

  it.live("must be a positive integer: anything else is InvalidRequest and sends nothing", () =>
    Effect.gen(function* () {
      const requests = countRequests()
      const editor = yield* makeEditor()
      for (const id of NOT_MESSAGE_IDS) {
        const error = yield* Effect.flip(editor.update({ ids: { providerMessageId: id }, text: "x" }))
        assert.strictEqual(error.reason._tag, "InvalidRequest", `accepted ${JSON.stringify(id)}`)
        if (error.reason._tag === "InvalidRequest") {
          assert.deepStrictEqual(
            error.reason.problems.map((problem) => problem.path),
            ["ids.providerMessageId"],
            `for ${JSON.stringify(id)}`
          )
        }
      }
      assert.strictEqual(requests.count(), 0)
    })
  )

  it.live("is accepted as a number or a string of digits, up to the largest safe integer", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN)
        .post(updatePath(8288))
        .reply(200, documentedUpdateAnswer)
        .post(updatePath(8288))
        .reply(200, documentedUpdateAnswer)
        .post(updatePath(Number.MAX_SAFE_INTEGER))
        .reply(200, { data: { id: Number.MAX_SAFE_INTEGER } })
      const editor = yield* makeEditor()
      yield* editor.update({ ids: { providerMessageId: 8288 }, text: "x" })
      yield* editor.update({ ids: { providerMessageId: "8288" }, text: "x" })
      const largest = yield* editor.update({ ids: { providerMessageId: String(Number.MAX_SAFE_INTEGER) }, text: "x" })
      assert.strictEqual(largest.ids.providerMessageId, Number.MAX_SAFE_INTEGER)
      assert.isTrue(scope.isDone())
    })
  )

  it.live("is checked by the low-level client too, for every operation", () =>
    Effect.gen(function* () {
      const requests = countRequests()
      const client = yield* makeClient()
      const failures = [
        yield* Effect.flip(client.update("../8288", { text: "x" })),
        yield* Effect.flip(client.get("8288/../../account")),
        yield* Effect.flip(client.delete(0))
      ]
      assert.deepStrictEqual(
        failures.map((error) => [error.operation, error.reason._tag]),
        [
          ["update", "InvalidRequest"],
          ["get", "InvalidRequest"],
          ["delete", "InvalidRequest"]
        ]
      )
      assert.strictEqual(requests.count(), 0)
    })
  )
})

describe("the content of an update", () => {
  it.live("files are Unsupported, with or without text, and nothing is sent", () =>
    Effect.gen(function* () {
      const requests = countRequests()
      const editor = yield* makeEditor()
      const files = [{ url: "https://cdn.example.com/a.png", name: "a.png" }]
      for (const request of [
        { ids: { providerMessageId: 8288 }, text: "see attached", files },
        { ids: { providerMessageId: 8288 }, files }
      ]) {
        const error = yield* Effect.flip(editor.update(request))
        assert.strictEqual(error.reason._tag, "Unsupported")
        assert.strictEqual(error.reason._tag === "Unsupported" ? error.reason.capability : undefined, "files")
        assert.isFalse(error.isRetryable)
      }
      assert.strictEqual(requests.count(), 0)
    })
  )

  it.live("an empty list of files is no file at all", () =>
    Effect.gen(function* () {
      nock(ORIGIN).post(updatePath(8288)).reply(200, documentedUpdateAnswer)
      const editor = yield* makeEditor()
      const edited = yield* editor.update({ ids: { providerMessageId: 8288 }, text: "x", files: [] })
      assert.deepStrictEqual(edited.files, [])
    })
  )

  it.live("the low-level client refuses empty text, and ids that are not ids on send", () =>
    Effect.gen(function* () {
      const requests = countRequests()
      const client = yield* makeClient()
      const failures = [
        yield* Effect.flip(client.update(8288, { text: "   " })),
        yield* Effect.flip(client.send({ caseId: "2069; DROP", text: "x" })),
        yield* Effect.flip(client.send({ caseId: 2069, contactId: "5&x-user-type=contact", text: "x" }))
      ]
      assert.deepStrictEqual(
        failures.map((error) => (error.reason._tag === "InvalidRequest" ? error.reason.problems[0]?.path : "")),
        ["text", "caseId", "contactId"]
      )
      assert.strictEqual(requests.count(), 0)
    })
  )

  it.live("updateMany validates each request on its own, and sends only the valid ones", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN).post(updatePath(8288)).reply(200, documentedUpdateAnswer)
      const editor = yield* makeEditor()
      const outcomes = yield* editor.updateMany([
        { ids: { providerMessageId: "x/y" }, text: "x" },
        { ids: { providerMessageId: 8288 }, text: "updating the sent message" },
        { ids: { providerMessageId: 8288 }, text: "x", files: [{ url: "https://cdn.example.com/a.png" }] }
      ])
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "edited" : outcome.failure.reason._tag)),
        ["InvalidRequest", "edited", "Unsupported"]
      )
      assert.isTrue(scope.isDone())
    })
  )
})

describe("capabilities", () => {
  it("say what Acquire can do: text and a language, one message per call, by its own id, at any time", () => {
    assert.deepStrictEqual(
      { ...AcquireMessageEditor.capabilities },
      {
        requiredIds: ["providerMessageId"],
        files: false,
        authorDetails: false,
        chatDetails: false,
        language: true,
        maxMessagesPerCall: 1,
        edit: "messages",
        kinds: ["text"],
        editWindows: [],
        applied: "immediately",
        fallbacks: ["fail"]
      }
    )
  })

  it.live("are the editor's", () =>
    Effect.gen(function* () {
      const editor = yield* makeEditor()
      assert.strictEqual(editor.provider, "acquire")
      assert.strictEqual(editor.capabilities, AcquireMessageEditor.capabilities)
    })
  )
})
