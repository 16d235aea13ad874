import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import nock from "nock"
import { documentedDeleteAnswer, documentedGetAnswer, documentedSendAnswer } from "../src/internal/sandbox/answers.ts"
import { API_KEY, makeClient, messagePath, ORIGIN, useNock } from "./support/acquire.ts"

useNock()

const SEND_PATH = "/api/v1/crm/messenger/chat/add-message"

describe("send", () => {
  it.live("posts the documented body as an agent, and answers the id to keep for editing", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN, { reqheaders: { authorization: `Bearer ${API_KEY}` } })
        .post(SEND_PATH, {
          channel: "chat",
          message: { type: "message", message: "Hey added from the api", translateLangKey: "en" },
          caseId: 2069
        })
        .query({ "x-user-type": "user" })
        .reply(200, documentedSendAnswer)
      const client = yield* makeClient()
      const sent = yield* client.send({ caseId: 2069, text: "Hey added from the api", language: "en" })
      assert.isTrue(scope.isDone())
      assert.strictEqual(sent.id, 8289)
      assert.strictEqual(sent.caseId, 2069)
      assert.strictEqual(sent.threadId, 1875)
      assert.strictEqual(sent.contactId, 597759)
      assert.isUndefined(sent.dateUpdated)
      assert.strictEqual(sent.message, "Hey added from the api")
    })
  )

  it.live("can send as the contact, naming it", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN)
        .post(SEND_PATH)
        .query({ "x-user-type": "contact", contactId: "597759" })
        .reply(200, documentedSendAnswer)
      const client = yield* makeClient()
      yield* client.send({ caseId: "2069", senderType: "contact", contactId: 597759, text: "Hi" })
      assert.isTrue(scope.isDone())
    })
  )

  it.live("fails as send when the case is not found", () =>
    Effect.gen(function* () {
      nock(ORIGIN).post(SEND_PATH).query(true).reply(400, { type: "ERROR_RECORD_NOT_FOUND", message: "Case not found" })
      const client = yield* makeClient()
      const error = yield* Effect.flip(client.send({ caseId: 1, text: "Hi" }))
      assert.strictEqual(error.operation, "send")
      assert.strictEqual(error.reason._tag, "NotFound")
    })
  )
})

describe("get", () => {
  it.live("reads the documented answer, which has no case and no thread id", () =>
    Effect.gen(function* () {
      nock(ORIGIN).get(messagePath(8285)).reply(200, documentedGetAnswer)
      const client = yield* makeClient()
      const message = yield* client.get(8285)
      assert.strictEqual(message.id, 8285)
      assert.strictEqual(message.message, "hijk")
      assert.strictEqual(message.caseId, 2068)
      assert.isUndefined(message.threadId)
      assert.isUndefined(message.case)
      assert.strictEqual(message.sender?.email, "user@example.com")
      assert.strictEqual(message.dateUpdated?.toISOString(), "2021-03-30T15:16:02.000Z")
    })
  )

  it.live("fails as get", () =>
    Effect.gen(function* () {
      nock(ORIGIN).get(messagePath(8285)).reply(401, "")
      const client = yield* makeClient()
      const error = yield* Effect.flip(client.get(8285))
      assert.strictEqual(error.operation, "get")
      assert.strictEqual(error.reason._tag, "Unauthorized")
    })
  )
})

describe("delete", () => {
  it.live("deletes with the documented call and answer", () =>
    Effect.gen(function* () {
      const scope = nock(ORIGIN).delete(messagePath(8288)).reply(200, documentedDeleteAnswer)
      const client = yield* makeClient()
      const deleted = yield* client.delete(8288)
      assert.strictEqual(deleted.deleted, 1)
      assert.isTrue(scope.isDone())
    })
  )

  it.live("reads deleted: true as one message", () =>
    Effect.gen(function* () {
      nock(ORIGIN)
        .delete(messagePath(8288))
        .reply(200, { data: { deleted: true } })
      const client = yield* makeClient()
      assert.strictEqual((yield* client.delete(8288)).deleted, 1)
    })
  )

  it.live("deleting nothing is NotFound, as delete", () =>
    Effect.gen(function* () {
      nock(ORIGIN)
        .delete(messagePath(8288))
        .reply(200, { data: { deleted: 0 } })
      const client = yield* makeClient()
      const error = yield* Effect.flip(client.delete(8288))
      assert.strictEqual(error.operation, "delete")
      assert.strictEqual(error.reason._tag, "NotFound")
    })
  )
})
