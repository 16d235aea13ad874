import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, Bitrix24MessageEditor } from "@reword/bitrix24"
import type { EditError, EditRequest } from "@reword/core"
import { Effect, Result } from "effect"
import nock from "nock"
import {
  bodyOf,
  failedItem,
  fastRetry,
  okItem,
  PORTAL,
  type RequestBody,
  request,
  type SentItem,
  settings,
  success,
  UPDATE_PATH
} from "./support/bitrix24.ts"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.disableNetConnect()
})
afterEach(() => {
  nock.cleanAll()
})

const editor = (options: Bitrix24.Options = {}) => Bitrix24.make(settings(), { retry: fastRetry, ...options })

/** A portal that answers each call by echoing its messages, recording every body. */
const echoPortal = (
  bodies: Array<RequestBody>,
  times = 1,
  answer = (item: SentItem, _index: number): unknown => okItem(item)
) =>
  nock(PORTAL)
    .post(UPDATE_PATH)
    .times(times)
    .reply(200, async (req: Request) => {
      const parsed = await bodyOf(req)
      bodies.push(parsed)
      return success(parsed.MESSAGES.map(answer))
    })

const reasonOf = <A>(result: Result.Result<A, EditError.EditError>): EditError.EditErrorReason => {
  if (Result.isSuccess(result)) throw new Error("expected a failure")
  return result.failure.reason
}

describe("Bitrix24MessageEditor.update", () => {
  it.live(
    "posts JSON to <portal>/rest/imconnector.update.messages with auth, CONNECTOR, LINE and lower-case MESSAGES keys",
    () =>
      Effect.gen(function* () {
        const seen: Array<{ body: RequestBody; contentType: string | undefined }> = []
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(async (req: Request) => {
            const body = await bodyOf(req)
            seen.push({ body, contentType: req.headers.get("content-type") ?? undefined })
            return [200, success(body.MESSAGES.map((item) => okItem(item)))]
          })
        const b24 = yield* editor()
        const edited = yield* b24.update({
          ids: { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" },
          text: "Sorry, I meant [b]Tuesday[/b].",
          files: [{ url: "https://cdn.example.com/a.png", name: "a.png" }],
          author: {
            firstName: "Anna-Marie",
            lastName: "O'Neil",
            avatarUrl: "https://cdn.example.com/u.png",
            profileUrl: "https://wa.example.com/u/3",
            gender: "female",
            email: "anna@example.com",
            phone: "+15550001"
          },
          chat: { name: "Support", url: "https://wa.example.com/c/7" },
          editedAt: new Date("2026-03-12T10:00:00Z")
        })
        assert.strictEqual(seen.length, 1)
        const body = seen[0]?.body
        assert.match(seen[0]?.contentType ?? "", /^application\/json/)
        assert.strictEqual(body?.auth, "access-token-0001-aaaa")
        assert.strictEqual(body?.CONNECTOR, "reword_test")
        assert.strictEqual(body?.LINE, 7)
        assert.deepStrictEqual(body?.MESSAGES, [
          {
            user: {
              id: "wa-user-3",
              name: "Anna-Marie",
              last_name: "O'Neil",
              picture: { url: "https://cdn.example.com/u.png" },
              url: "https://wa.example.com/u/3",
              gender: "female",
              email: "anna@example.com",
              phone: "+15550001"
            },
            message: {
              id: "wa-881",
              date: 1773309600,
              text: "Sorry, I meant [b]Tuesday[/b].",
              files: [{ url: "https://cdn.example.com/a.png", name: "a.png" }]
            },
            chat: { id: "wa-chat-7", name: "Support", url: "https://wa.example.com/c/7" }
          }
        ])
        assert.strictEqual(edited.provider, "bitrix24")
        assert.strictEqual(edited.text, "Sorry, I meant [b]Tuesday[/b].")
        assert.strictEqual(edited.ids.externalMessageId, "wa-881")
        assert.strictEqual(edited.files[0]?.url, "https://cdn.example.com/a.png")
        assert.isUndefined(edited.updatedAt)
      })
  )

  it.live("reads the portal's oddities: user as a number, date as {}, description for url, unknown extra fields", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, {
          result: {
            SUCCESS: true,
            DATA: {
              RESULT: [
                {
                  user: 1042,
                  message: { id: "m-1", date: {}, text: "text 1", files: [], surprise: true },
                  chat: { id: "chat-1", name: "", description: "Link to the original post: https://x.example" },
                  extra: { skip_phone_validate: "Y", disable_tracker: "Y" },
                  SUCCESS: true,
                  brand_new_field: { nested: [1, 2] }
                }
              ]
            },
            ANOTHER: "field"
          },
          time: { start: 1, finish: 2, duration: 1, processing: 0, date_start: "x", date_finish: "y", new_key: 1 },
          server_note: "ignored"
        })
      const edited = yield* (yield* editor()).update(request(1))
      assert.strictEqual(edited.text, "text 1")
    })
  )

  it.live("dates an edit without editedAt with the current time in Unix seconds", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies)
      const before = Math.floor(Date.now() / 1000)
      yield* (yield* editor()).update(request(1))
      const date = bodies[0]?.MESSAGES[0]?.message.date
      assert.isTrue(Number.isInteger(date))
      assert.isAtLeast(date as number, before)
    })
  )

  it.live("turns a failed item inside SUCCESS: true into that message's own error, with the portal's text", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success(
            (await bodyOf(req)).MESSAGES.map((item) => failedItem(item, ["Not all required data was transmitted"]))
          )
        )
      const result = yield* Effect.result((yield* editor()).update(request(1)))
      const reason = reasonOf(result)
      assert.strictEqual(reason._tag, "InvalidRequest")
      assert.include(reason.message, "Not all required data was transmitted")
      assert.isTrue(Result.isFailure(result) && result.failure.operation === "update")
    })
  )

  it.live("chooses an item's reason by its text: not found, invalid, or rejected", () =>
    Effect.gen(function* () {
      const texts = ["Message not found", "Chat with this ID does not exist", "The connector refused the message"]
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success((await bodyOf(req)).MESSAGES.map((item, index) => failedItem(item, [texts[index] ?? ""])))
        )
      const outcomes = yield* (yield* editor()).updateMany([request(1), request(2), request(3)])
      const tags = outcomes.map((outcome) => (Result.isFailure(outcome) ? outcome.failure.reason._tag : "Success"))
      assert.deepStrictEqual(tags, ["NotFound", "NotFound", "Rejected"])
      const last = outcomes[2]
      assert.isTrue(
        last !== undefined && Result.isFailure(last) && last.failure.message.includes("refused the message")
      )
    })
  )
  it.live("an item's refusal carries HTTP 200: the portal received the message (it was not 'nothing sent')", () =>
    Effect.gen(function* () {
      const texts = ["Message not found", "Not all required data was transmitted", "The connector refused the message"]
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success((await bodyOf(req)).MESSAGES.map((item, index) => failedItem(item, [texts[index] ?? ""])))
        )
      const outcomes = yield* (yield* editor()).updateMany([request(1), request(2), request(3)])
      const statuses = outcomes.map((outcome) =>
        Result.isFailure(outcome) && "status" in outcome.failure.reason ? outcome.failure.reason.status : "none"
      )
      assert.deepStrictEqual(statuses, [200, 200, 200])
      for (const outcome of outcomes) {
        assert.isTrue(Result.isFailure(outcome) && outcome.failure.message.includes("HTTP 200"))
      }
    })
  )
})

describe("Bitrix24MessageEditor validation", () => {
  const problemPaths = (input: unknown) =>
    Effect.gen(function* () {
      const b24 = yield* editor()
      const result = yield* Effect.result(b24.update(input as Parameters<typeof b24.update>[0]))
      const reason = reasonOf(result)
      assert.strictEqual(reason._tag, "InvalidRequest")
      return reason._tag === "InvalidRequest" ? reason.problems.map((problem) => problem.path).sort() : []
    })

  it.live("refuses, before any request leaves, edits without the external message, chat and author ids", () =>
    Effect.gen(function* () {
      const scope = nock(PORTAL).post(UPDATE_PATH).reply(500)
      const paths = yield* problemPaths({ ids: {}, text: "x" })
      assert.deepStrictEqual(paths, ["ids.externalAuthorId", "ids.externalChatId", "ids.externalMessageId"])
      assert.isFalse(scope.isDone())
    })
  )

  it.live("refuses an edit with neither text nor files", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* problemPaths({ ...request(1), text: "" }), ["text"])
    })
  )

  it.live("applies Bitrix24's name rules: letters, spaces, hyphens, apostrophes, at most 25 characters", () =>
    Effect.gen(function* () {
      const paths = yield* problemPaths({
        ...request(1),
        author: { firstName: "R2-D2", lastName: "Abcdefghijklmnopqrstuvwxyz" }
      })
      assert.deepStrictEqual(paths, ["author.firstName", "author.lastName"])
      const bodies: Array<RequestBody> = []
      echoPortal(bodies)
      yield* (yield* editor()).update({ ...request(1), author: { firstName: "Jean Luc", lastName: "Ødegård-D'Arcy" } })
      assert.strictEqual(bodies[0]?.MESSAGES[0]?.user.last_name, "Ødegård-D'Arcy")
    })
  )

  it("checks only Bitrix24's own rules: what core's schema enforces (gender, http(s) URLs) is core's alone", () => {
    const request = {
      ids: { externalMessageId: "m-1", externalChatId: "chat-1", externalAuthorId: "user-1" },
      text: "x",
      author: { gender: "other" },
      files: [{ url: "ftp://files.example.com/a.pdf" }]
    } as unknown as EditRequest.EditRequest
    assert.deepStrictEqual(Bitrix24MessageEditor.validate(request), [])
  })

  it.live("refuses an unknown gender and relative or non-http file URLs", () =>
    Effect.gen(function* () {
      const paths = yield* problemPaths({
        ...request(1),
        author: { gender: "other" },
        files: [{ url: "ftp://files.example.com/a" }, { url: "/relative.png" }]
      })
      assert.deepStrictEqual(paths, ["author.gender", "files.0.url", "files.1.url"])
    })
  )

  it.live("refuses a date that is not representable as Unix seconds", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* problemPaths({ ...request(1), editedAt: new Date("1969-12-31T00:00:00Z") }), [
        "editedAt"
      ])
    })
  )
})

describe("Bitrix24MessageEditor.updateMany", () => {
  it.live("packs messages into calls of chunkSize and gives one outcome per request, in order", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies, 3)
      const b24 = yield* editor({ chunkSize: 2, concurrency: 1 })
      const outcomes = yield* b24.updateMany([1, 2, 3, 4, 5].map((n) => request(n)))
      assert.deepStrictEqual(
        bodies.map((body) => body.MESSAGES.map((item) => item.message.id)),
        [["m-1", "m-2"], ["m-3", "m-4"], ["m-5"]]
      )
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? outcome.success.ids.externalMessageId : "failed")),
        ["m-1", "m-2", "m-3", "m-4", "m-5"]
      )
    })
  )

  it.live("never marks a failed item's neighbours failed", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies, 1, (item, index) => (index === 1 ? failedItem(item, ["Message not found"]) : okItem(item)))
      const outcomes = yield* (yield* editor()).updateMany([request(1), request(2), request(3)])
      assert.strictEqual(bodies.length, 1)
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["ok", "NotFound", "ok"]
      )
    })
  )

  it.live("gives each item of a failed call that call's error, and leaves other calls alone", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) => success((await bodyOf(req)).MESSAGES.map((item) => okItem(item))))
      nock(PORTAL).post(UPDATE_PATH).reply(400, {
        error: "NOT_ACTIVE_LINE",
        error_description: "The line with this ID is inactive or does not exist"
      })
      const outcomes = yield* (yield* editor({ chunkSize: 2, concurrency: 1 })).updateMany(
        [1, 2, 3, 4].map((n) => request(n))
      )
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["ok", "ok", "NotFound", "NotFound"]
      )
      const third = outcomes[2]
      assert.isTrue(third !== undefined && Result.isFailure(third) && third.failure.message.includes("inactive"))
    })
  )

  it.live("keeps an invalid request out of the call and reports it in its place", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies)
      const outcomes = yield* (yield* editor()).updateMany([request(1), { ...request(2), text: "" }, request(3)])
      assert.deepStrictEqual(
        bodies[0]?.MESSAGES.map((item) => item.message.id),
        ["m-1", "m-3"]
      )
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["ok", "InvalidRequest", "ok"]
      )
    })
  )

  it.live("refuses a chunk size outside 1..50 at construction", () =>
    Effect.gen(function* () {
      const result = yield* Effect.result(editor({ chunkSize: 51 }))
      assert.isTrue(Result.isFailure(result) && result.failure.message.includes("chunkSize"))
    })
  )
})

describe("Bitrix24MessageEditor per-call connector and line", () => {
  it.live("updateFor sends to another connector or line with the same tokens", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies, 2)
      const b24 = yield* editor()
      yield* b24.updateFor({ line: 12 }).update(request(1))
      yield* b24.updateFor({ connector: "other_connector" }).update(request(2))
      assert.deepStrictEqual(
        bodies.map((body) => [body.CONNECTOR, body.LINE, body.auth]),
        [
          ["reword_test", 12, "access-token-0001-aaaa"],
          ["other_connector", 7, "access-token-0001-aaaa"]
        ]
      )
    })
  )

  it.live("the low-level client takes CONNECTOR and LINE per call", () =>
    Effect.gen(function* () {
      const bodies: Array<RequestBody> = []
      echoPortal(bodies)
      const b24 = yield* editor()
      const response = yield* b24.client.updateMessages({
        connector: "c2",
        line: 99,
        messages: [{ user: { id: "u" }, message: { id: "m", text: "t" }, chat: { id: "c" } }]
      })
      assert.deepStrictEqual([bodies[0]?.CONNECTOR, bodies[0]?.LINE], ["c2", 99])
      assert.strictEqual(response.items[0]?.SUCCESS, true)
    })
  )
})
