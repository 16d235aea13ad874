import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import type { EditError } from "@reword/core"
import { Effect } from "effect"
import nock from "nock"
import { API_KEY, makeClient, makeEditor, ORIGIN, settings, updatePath, useNock } from "./support/acquire.ts"

useNock()

const request = { ids: { providerMessageId: 8288 }, text: "x" }

/** Every way an app may print or log an error. */
const printed = (error: EditError.EditError): ReadonlyArray<string> => [
  error.message,
  String(error),
  JSON.stringify(error),
  inspect(error, { depth: 10 }),
  error.reason.message,
  JSON.stringify(error.reason)
]

const assertNoKey = (error: EditError.EditError): void => {
  for (const text of printed(error)) assert.notInclude(text, API_KEY)
}

describe("the API key", () => {
  it.live("is sent only as the Bearer header", () =>
    Effect.gen(function* () {
      const seen: { authorization?: string; url?: string; body?: string } = {}
      nock(ORIGIN, {
        reqheaders: {
          authorization: (value: string | null) => {
            seen.authorization = value ?? ""
            return true
          }
        }
      })
        .post(updatePath(8288), (body) => {
          seen.body = JSON.stringify(body)
          return true
        })
        .query((query) => {
          seen.url = JSON.stringify(query)
          return true
        })
        .reply(200, { data: { id: 8288 } })
      const editor = yield* makeEditor()
      yield* editor.update(request)
      assert.strictEqual(seen.authorization, `Bearer ${API_KEY}`)
      assert.notInclude(seen.url ?? "", API_KEY)
      assert.notInclude(seen.body ?? "", API_KEY)
    })
  )

  it.live("is scrubbed from error bodies that echo it, as JSON or as text", () =>
    Effect.gen(function* () {
      let authorization = ""
      nock(ORIGIN, {
        reqheaders: {
          authorization: (value: string | null) => {
            authorization = value ?? ""
            return true
          }
        }
      })
        .post(updatePath(8288))
        .reply(() => [401, { type: "ERROR_UNAUTHORIZED", message: `Invalid key ${authorization}`, key: API_KEY }])
        .post(updatePath(8288))
        .reply(500, `upstream failed for Authorization: Bearer ${API_KEY}`)
      const editor = yield* makeEditor()
      const unauthorized = yield* Effect.flip(editor.update(request))
      const unavailable = yield* Effect.flip(editor.update(request))
      assert.strictEqual(unauthorized.reason._tag, "Unauthorized")
      assert.strictEqual(unavailable.reason._tag, "Unavailable")
      for (const error of [unauthorized, unavailable]) {
        assertNoKey(error)
        assert.include((error.reason as { body?: string }).body, "<redacted>")
      }
      assert.include(unauthorized.message, "Invalid key Bearer <redacted>")
    })
  )

  it.live("is scrubbed from network failures that mention it", () =>
    Effect.gen(function* () {
      nock(ORIGIN)
        .get("/api/v1/crm/objects/case-message/8288")
        .replyWithError(new Error(`proxy refused the request with Authorization: Bearer ${API_KEY}`))
      const client = yield* makeClient()
      const error = yield* Effect.flip(client.get(8288))
      assert.strictEqual(error.reason._tag, "Network")
      assert.include(error.message, "<redacted>")
      assertNoKey(error)
    })
  )

  it("prints as <redacted> in the settings an app holds", () => {
    assert.notInclude(String(settings.apiKey), API_KEY)
    assert.notInclude(JSON.stringify(settings), API_KEY)
    assert.notInclude(inspect(settings, { depth: 10 }), API_KEY)
  })

  it.live("is not visible on the client or the editor", () =>
    Effect.gen(function* () {
      const client = yield* makeClient()
      const editor = yield* makeEditor()
      assert.notInclude(inspect(client, { depth: 10 }), API_KEY)
      assert.notInclude(inspect(editor, { depth: 10 }), API_KEY)
    })
  )
})
