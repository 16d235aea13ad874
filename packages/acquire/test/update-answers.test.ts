import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import nock from "nock"
import { documentedUpdateAnswer } from "../src/internal/sandbox/answers.ts"
import { makeClient, makeEditor, messagePath, ORIGIN, updatePath, useNock } from "./support/acquire.ts"

useNock()

const request = { ids: { providerMessageId: 8288, externalMessageId: "wa-881" }, text: "updating the sent message" }

const answeredWith = (status: number, body: string | object, headers: Record<string, string> = {}) =>
  nock(ORIGIN).post(updatePath(8288)).reply(status, body, headers)

describe("the update request", () => {
  it.live("is the documented call: POST to the message's path, Bearer key, the documented body", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN, {
        reqheaders: {
          authorization: "Bearer acq_live_9F8e7D6c5B4a3210zz",
          "content-type": /application\/json/
        }
      })
        .post(updatePath(8288), {
          message: { type: "message", message: "updating the sent message", translateLangKey: "pt-BR" }
        })
        .reply(200, documentedUpdateAnswer)
      const editor = yield* makeEditor()
      yield* editor.update({ ...request, language: "pt-BR" })
      assert.isTrue(scope.isDone())
    })
  )

  it.live("leaves translateLangKey out without a language, and accepts the id as a string of digits", () =>
    Effect.gen(function* () {
      let body: unknown
      nock(ORIGIN)
        .post(updatePath(8288), (sent) => {
          body = sent
          return true
        })
        .reply(200, documentedUpdateAnswer)
      const editor = yield* makeEditor()
      yield* editor.update({ ids: { providerMessageId: "8288" }, text: "updating the sent message" })
      assert.deepStrictEqual(body, { message: { type: "message", message: "updating the sent message" } })
    })
  )

  it.live("goes to the base URL that overrides the default, keeping its path", () =>
    Effect.gen(function* () {
      const scope = nock("https://proxy.example.com")
        .post("/acquire/api/v1/crm/messenger/chat/message/8288")
        .reply(200, documentedUpdateAnswer)
      const editor = yield* makeEditor({}, { baseUrl: "https://proxy.example.com/acquire/api/v1" })
      yield* editor.update(request)
      assert.isTrue(scope.isDone())
    })
  )
})

describe("the documented 200 answer", () => {
  it.live("becomes the neutral result: the answered id, the text, dateUpdated as updatedAt, no files", () =>
    Effect.gen(function* () {
      answeredWith(200, documentedUpdateAnswer)
      const editor = yield* makeEditor()
      const edited = yield* editor.update(request)
      assert.strictEqual(edited.provider, "acquire")
      assert.strictEqual(edited.ids.providerMessageId, 8288)
      assert.strictEqual(edited.ids.externalMessageId, "wa-881")
      assert.strictEqual(edited.text, "updating the sent message")
      assert.deepStrictEqual(edited.files, [])
      assert.strictEqual(edited.updatedAt?.toISOString(), "2021-03-30T16:10:54.000Z")
    })
  )

  it.live("is typed in full by the client, case and thread ids included", () =>
    Effect.gen(function* () {
      answeredWith(200, documentedUpdateAnswer)
      const client = yield* makeClient()
      const message = yield* client.update(8288, { text: "updating the sent message" })
      assert.strictEqual(message.id, 8288)
      assert.strictEqual(message.caseId, 2069)
      assert.strictEqual(message.threadId, 1875)
      assert.strictEqual(message.senderType, "user")
      assert.strictEqual(message.seen, "no")
      assert.strictEqual(message.dateCreated?.toISOString(), "2021-03-30T16:04:11.000Z")
      assert.strictEqual(message.case?.id, 2069)
      assert.strictEqual(message.case?.status, "active")
      assert.strictEqual(message.case?.contactId, 597759)
      assert.strictEqual(message.sender?.name, "David Guetta")
      assert.deepStrictEqual(message.meta, {})
    })
  )
})

describe("partial and extended answers", () => {
  it.live("a meta nested thousands of levels deep is left out: the message is typed and can be printed", () =>
    Effect.gen(function* () {
      const depth = 20_000
      answeredWith(200, `{"data":{"id":8288,"message":"hi","meta":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}}`, {
        "Content-Type": "application/json"
      })
      const client = yield* makeClient()
      const message = yield* client.update(8288, { text: "hi" })
      assert.strictEqual(message.id, 8288)
      assert.isUndefined(message.meta)
      assert.isString(JSON.stringify(message))
    })
  )

  it.live("an answer with the id only: the text sent stands, the update time is unknown", () =>
    Effect.gen(function* () {
      answeredWith(200, { data: { id: 8288 } })
      const editor = yield* makeEditor()
      const edited = yield* editor.update(request)
      assert.strictEqual(edited.ids.providerMessageId, 8288)
      assert.strictEqual(edited.text, "updating the sent message")
      assert.isUndefined(edited.updatedAt)
    })
  )

  it.live("null where objects and dates were, and fields nobody documented", () =>
    Effect.gen(function* () {
      const { case: kase, sender, ...data } = documentedUpdateAnswer.data
      answeredWith(200, {
        meta: { requestId: "abc" },
        data: {
          ...data,
          dateUpdated: null,
          meta: null,
          case: { ...kase, title: null, status: null, contact: { id: 1, tags: ["vip"] }, sla: { due: null } },
          sender: null,
          reactions: [{ emoji: "👍", by: 3 }],
          translations: { en: "updating the sent message" }
        }
      })
      const client = yield* makeClient()
      const message = yield* client.update(8288, { text: "updating the sent message" })
      assert.strictEqual(message.id, 8288)
      assert.isUndefined(message.dateUpdated)
      assert.isUndefined(message.sender)
      assert.isUndefined(message.meta)
      assert.strictEqual(message.case?.id, 2069)
      assert.isUndefined(message.case?.status)
      assert.isUndefined(message.case?.title)
    })
  )

  it.live("fields of unexpected types are left out instead of failing the answer", () =>
    Effect.gen(function* () {
      answeredWith(200, {
        data: {
          id: 8288,
          message: 42,
          dateUpdated: "yesterday",
          caseId: "not a number",
          case: "2069",
          sender: [1, 2],
          senderId: -5
        }
      })
      const editor = yield* makeEditor()
      const edited = yield* editor.update(request)
      assert.strictEqual(edited.ids.providerMessageId, 8288)
      assert.strictEqual(edited.text, "updating the sent message")
      assert.isUndefined(edited.updatedAt)
    })
  )

  it.live("ids answered as strings of digits, and case ids found only inside case", () =>
    Effect.gen(function* () {
      const { caseId: _caseId, threadId: _threadId, ...data } = documentedUpdateAnswer.data
      answeredWith(200, { data: { ...data, id: "8288" } })
      const client = yield* makeClient()
      const message = yield* client.update(8288, { text: "updating the sent message" })
      assert.strictEqual(message.id, 8288)
      assert.strictEqual(message.caseId, 2069)
      assert.strictEqual(message.threadId, 1875)
    })
  )
})

describe("success answers that are not the documented shape", () => {
  const malformed = Effect.fnUntraced(function* (body: string | object, headers: Record<string, string> = {}) {
    answeredWith(200, body, headers)
    const editor = yield* makeEditor()
    return yield* Effect.flip(editor.update(request))
  })

  it.live("no data: MalformedResponse, retryable, with the body kept", () =>
    Effect.gen(function* () {
      const error = yield* malformed({ ok: true })
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      assert.isTrue(error.isRetryable)
      assert.strictEqual((error.reason as { body?: string }).body, '{"ok":true}')
      assert.include(error.message, 'not the documented { "data": ... } shape')
    })
  )

  it.live("data without an id", () =>
    Effect.gen(function* () {
      const error = yield* malformed({ data: { message: "updating the sent message" } })
      assert.strictEqual(error.reason._tag, "MalformedResponse")
    })
  )

  it.live("an empty body, and an HTML page", () =>
    Effect.gen(function* () {
      const empty = yield* malformed("")
      const html = yield* malformed("<html><body>Login</body></html>", { "Content-Type": "text/html" })
      assert.deepStrictEqual([empty.reason._tag, html.reason._tag], ["MalformedResponse", "MalformedResponse"])
      assert.include(empty.message, "empty body")
      assert.include(html.message, "not JSON")
    })
  )

  it.live("an answer about another message is MalformedResponse naming both ids, never a success", () =>
    Effect.gen(function* () {
      for (const id of [8289, "8289", 1]) {
        const error = yield* malformed({ data: { ...documentedUpdateAnswer.data, id } })
        assert.strictEqual(error.reason._tag, "MalformedResponse")
        assert.include(error.message, "names message")
        assert.include(error.message, "8288")
        assert.include(error.message, String(id))
      }
    })
  )

  it.live("the client's update and get refuse an answer about another message too", () =>
    Effect.gen(function* () {
      const other = { data: { ...documentedUpdateAnswer.data, id: 8289 } }
      nock(ORIGIN).post(updatePath(8288)).reply(200, other)
      nock(ORIGIN).get(messagePath(8288)).reply(200, other)
      const client = yield* makeClient()
      const updated = yield* Effect.flip(client.update(8288, { text: "updating the sent message" }))
      const got = yield* Effect.flip(client.get(8288))
      assert.deepStrictEqual([updated.reason._tag, got.reason._tag], ["MalformedResponse", "MalformedResponse"])
    })
  )

  it.live("a 200 that carries a documented error code is that error", () =>
    Effect.gen(function* () {
      const error = yield* malformed({ error: "ERROR_RECORD_NOT_FOUND", message: "Message not found" })
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.strictEqual((error.reason as { status?: number }).status, 200)
    })
  )
})
