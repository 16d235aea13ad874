import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import type { EditError } from "@reword/core"
import { Duration, Effect, Result } from "effect"
import nock from "nock"
import { codes } from "../src/internal/errors.ts"
import {
  ACCESS,
  bodyOf,
  fastRetry,
  NEW_ACCESS,
  NEW_REFRESH,
  OAUTH,
  okItem,
  PORTAL,
  REFRESH,
  request,
  SECRET,
  settings,
  success,
  TOKEN_PATH,
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

const once = { retry: { maxAttempts: 1 } } as const

const failureOf = (options: Bitrix24.Options = once) =>
  Effect.gen(function* () {
    const editor = yield* Bitrix24.make(settings(), options)
    const result = yield* Effect.result(editor.update(request(1)))
    if (Result.isSuccess(result)) throw new Error("expected a failure")
    return result.failure
  })

const echo = () =>
  nock(PORTAL)
    .post(UPDATE_PATH)
    .reply(200, async (req: Request) => success((await bodyOf(req)).MESSAGES.map((item) => okItem(item))))

const tokens = { access_token: NEW_ACCESS, refresh_token: NEW_REFRESH, expires_in: 3600 }

describe("the error table", () => {
  const portalRows = Object.entries(codes).filter(([code, row]) => row.source === "portal" && code !== "expired_token")

  for (const [code, row] of portalRows) {
    it.live(`${code} (HTTP ${row.status}) becomes ${row.reason}`, () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(row.status, { error: code, error_description: `portal text for ${code}` })
        const error = yield* failureOf()
        assert.strictEqual(error.reason._tag, row.reason)
        assert.include(error.message, `portal text for ${code}`)
        if ("code" in error.reason) assert.strictEqual(error.reason.code, code)
      })
    )
  }

  const oauthRows = Object.entries(codes).filter(([, row]) => row.source === "oauth")
  for (const [code, row] of oauthRows) {
    it.live(`${code} from the OAuth server (HTTP ${row.status}) during a refresh becomes ${row.reason}`, () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(401, { error: "expired_token", error_description: "The access token provided has expired" })
        nock(OAUTH)
          .post(TOKEN_PATH)
          .reply(row.status, { error: code, error_description: `oauth text for ${code}` })
        const error = yield* failureOf()
        assert.strictEqual(error.reason._tag, row.reason)
        assert.include(error.message, "refreshing the access token failed")
        assert.include(error.message, `oauth text for ${code}`)
      })
    )
  }

  it.live("expired_token refreshes once and repeats the call once; a second expired_token is Unauthorized", () =>
    Effect.gen(function* () {
      const portal = nock(PORTAL)
        .post(UPDATE_PATH)
        .times(2)
        .reply(401, { error: "expired_token", error_description: "The access token provided has expired" })
      const oauth = nock(OAUTH).post(TOKEN_PATH).reply(200, tokens)
      const error = yield* failureOf({ retry: fastRetry })
      assert.strictEqual(error.reason._tag, "Unauthorized")
      assert.isTrue(error.reason._tag === "Unauthorized" && error.reason.code === "expired_token")
      assert.isTrue(portal.isDone())
      assert.isTrue(oauth.isDone())
    })
  )

  it.live(
    "a minted pair that outlived its expires_in before the portal saw it is refreshed again, and the edit lands",
    () =>
      Effect.gen(function* () {
        // A slow machine or a long retry: the pair the OAuth server gave is past its lifetime (1 s here) by the time
        // the portal reads it. Its expired_token is then true, not a sign that refreshing cannot help.
        const expired = { error: "expired_token", error_description: "The access token provided has expired" }
        nock(PORTAL).post(UPDATE_PATH).reply(401, expired)
        nock(PORTAL).post(UPDATE_PATH).delay(1_500).reply(401, expired)
        const calls = echo()
        const oauth = nock(OAUTH)
          .post(TOKEN_PATH)
          .reply(200, { ...tokens, expires_in: 1 })
          .post(TOKEN_PATH)
          .reply(200, { ...tokens, access_token: "access-token-0003-ffff", refresh_token: "refresh-token-0003-gggg" })
        const editor = yield* Bitrix24.make(settings(), once)
        yield* editor.update(request(1))
        assert.isTrue(oauth.isDone(), "refreshed twice")
        assert.isTrue(calls.isDone())
      })
  )

  it.live("WRONG_AUTH_TYPE explains that imconnector needs an application's OAuth token, not an incoming webhook", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(403, {
        error: "WRONG_AUTH_TYPE",
        error_description: "Current authorization type is denied for this method Application context required"
      })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Forbidden")
      assert.include(error.message, "application context")
      assert.include(error.message, "OAuth access token")
      assert.include(error.message, "incoming-webhook")
    })
  )

  it.live(
    "QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT are retryable: the call backs off and succeeds within the policy",
    () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(
            503,
            { error: "OVERLOAD_LIMIT", error_description: "REST API is blocked due to overload" },
            { "retry-after": "0" }
          )
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" }, { "retry-after": "0" })
        echo()
        const editor = yield* Bitrix24.make(settings(), { retry: fastRetry })
        const edited = yield* editor.update(request(1))
        assert.strictEqual(edited.ids.externalMessageId, "m-1")
      })
  )

  it.live("QUERY_LIMIT_EXCEEDED without Retry-After asks to wait at least the bucket's refill interval", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" })
      const error = yield* failureOf()
      assert.isTrue(error.isRetryable)
      assert.isTrue(error.retryAfter !== undefined && Duration.toMillis(error.retryAfter) >= 1500)
    })
  )

  it.effect("OPERATION_TIME_LIMIT is RateLimited with retryAfter running to operating_reset_at", () =>
    Effect.gen(function* () {
      // TestClock: now is 0; the last successful answer said the oldest minute drops out at 30 s.
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success(
            (await bodyOf(req)).MESSAGES.map((item) => okItem(item)),
            { operating: 12, finish: 1000, operating_reset_at: 1030 }
          )
        )
      nock(PORTAL).post(UPDATE_PATH).reply(429, {
        error: "OPERATION_TIME_LIMIT",
        error_description: "Method is blocked due to operation time limit."
      })
      const editor = yield* Bitrix24.make(settings(), { ...once, onOperatingLimit: "fail" })
      yield* editor.update(request(1))
      const result = yield* Effect.result(editor.update(request(2)))
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) {
        assert.strictEqual(result.failure.reason._tag, "RateLimited")
        assert.deepStrictEqual(result.failure.retryAfter, Duration.seconds(30))
      }
      // Blocked client-side now: the next call fails at once without reaching the portal.
      const blocked = yield* Effect.result(editor.update(request(3)))
      assert.isTrue(Result.isFailure(blocked) && blocked.failure.reason._tag === "RateLimited")
    })
  )

  it.live("an unknown code falls back to what its HTTP status means", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(418, { error: "SOMETHING_NEW", error_description: "a code from the future" })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.include(error.message, "SOMETHING_NEW")
    })
  )

  it.live("ERROR_ARGUMENT with an older server's extra argument key is InvalidRequest naming the argument", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(400, {
        error: "ERROR_ARGUMENT",
        error_description: "Argument 'LINE' is null or empty",
        argument: "LINE"
      })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "InvalidRequest")
      assert.include(error.message, "Argument 'LINE' is null or empty")
    })
  )
})

describe("old and new forms of line and provider errors", () => {
  it.live("the new form (HTTP 400) of NOT_ACTIVE_LINE is NotFound", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(400, {
        error: "NOT_ACTIVE_LINE",
        error_description: "The line with this ID is inactive or does not exist"
      })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "NotFound")
    })
  )

  const oldForms: ReadonlyArray<readonly [string, unknown]> = [
    [
      "ERRORS: [{code, message}]",
      { SUCCESS: false, ERRORS: [{ code: "NOT_ACTIVE_LINE", message: "The line is inactive" }] }
    ],
    ["ERROR: {CODE, MESSAGE}", { SUCCESS: false, ERROR: { CODE: "NOT_ACTIVE_LINE", MESSAGE: "The line is inactive" } }],
    [
      "ERROR_CODE/ERROR_MESSAGE",
      { SUCCESS: false, ERROR_CODE: "NOT_ACTIVE_LINE", ERROR_MESSAGE: "The line is inactive" }
    ],
    ["ERRORS keyed by code", { SUCCESS: false, ERRORS: { NOT_ACTIVE_LINE: "The line is inactive" } }]
  ]
  for (const [shape, result] of oldForms) {
    it.live(`the old form (HTTP 200, SUCCESS: false, ${shape}) of NOT_ACTIVE_LINE is NotFound for the whole call`, () =>
      Effect.gen(function* () {
        nock(PORTAL).post(UPDATE_PATH).reply(200, { result, time: {} })
        const editor = yield* Bitrix24.make(settings(), once)
        const outcomes = yield* editor.updateMany([request(1), request(2)])
        for (const outcome of outcomes) {
          assert.isTrue(Result.isFailure(outcome))
          if (Result.isFailure(outcome)) {
            assert.strictEqual(outcome.failure.reason._tag, "NotFound")
            assert.include(outcome.failure.message, "The line is inactive")
          }
        }
      })
    )
  }

  it.live("the old form of a provider error is NotFound with the portal's code", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, {
          result: { SUCCESS: false, ERRORS: [{ code: "IMCONNECTOR_NO_CORRECT_PROVIDER", message: "No provider" }] }
        })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.isTrue(error.reason._tag === "NotFound" && error.reason.code === "IMCONNECTOR_NO_CORRECT_PROVIDER")
    })
  )

  it.live("an old-form refusal without a code is Rejected with the portal's text", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, { result: { SUCCESS: false, ERRORS: ["Something went wrong"] } })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.include(error.message, "Something went wrong")
    })
  )
})

describe("answers that are not what the portal documents", () => {
  it.live("an HTML page from an overloaded proxy (503) is Unavailable and retryable", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(503, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", {
          "content-type": "text/html"
        })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Unavailable")
      assert.isTrue(error.isRetryable)
    })
  )

  it.live("plain text with HTTP 200 is MalformedResponse", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(200, "OK", { "content-type": "text/plain" })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "MalformedResponse")
    })
  )

  it.live("a truncated JSON body is MalformedResponse", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, '{"result":{"SUCCESS":true,"DATA":{"RES', { "content-type": "application/json" })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "MalformedResponse")
    })
  )

  it.live("a result with fewer items than messages is MalformedResponse for every message of the call", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) =>
          success([
            okItem((await bodyOf(req)).MESSAGES[0] ?? { user: { id: "" }, message: { id: "" }, chat: { id: "" } })
          ])
        )
      const editor = yield* Bitrix24.make(settings(), once)
      const outcomes = yield* editor.updateMany([request(1), request(2)])
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isFailure(outcome) ? outcome.failure.reason._tag : "ok")),
        ["MalformedResponse", "MalformedResponse"]
      )
    })
  )

  it.live("a result without DATA.RESULT is MalformedResponse", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, { result: { SUCCESS: true }, time: {} })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "MalformedResponse")
    })
  )
})

describe("secrets", () => {
  const leaks = (error: EditError.EditError): ReadonlyArray<string> => {
    const texts = [error.message, String(error), JSON.stringify(error), JSON.stringify(error.reason)]
    return [ACCESS, REFRESH, SECRET, NEW_ACCESS, NEW_REFRESH].filter((secret) =>
      texts.some((text) => text.includes(secret))
    )
  }

  it.live("no token or client secret appears in an error, even when the portal echoes them", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(500, { error: "INTERNAL_SERVER_ERROR", error_description: `failed for auth=${ACCESS}` })
      const error = yield* failureOf()
      assert.deepStrictEqual(leaks(error), [])
      assert.include(error.message, "<redacted>")
    })
  )

  it.live("no token or client secret appears in an error when the OAuth server echoes the refresh request", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(401, { error: "expired_token", error_description: "expired" })
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(400, async (req: Request) => ({
          error: "invalid_grant",
          error_description: `bad grant: ${await req.text()}`
        }))
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Unauthorized")
      assert.deepStrictEqual(leaks(error), [])
    })
  )

  it.live("a token answer the adapter cannot read never keeps its body (it holds the new tokens)", () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(401, { error: "expired_token", error_description: "expired" })
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(200, { access_token: NEW_ACCESS, note: `refresh is ${NEW_REFRESH}` })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      assert.deepStrictEqual(leaks(error), [])
    })
  )
})

describe("the README", () => {
  it.effect("says where users look that the portal cannot tell an unknown message id", () =>
    Effect.gen(function* () {
      const { readFile } = yield* Effect.promise(() => import("node:fs/promises"))
      const read = (path: string) => Effect.promise(() => readFile(new URL(path, import.meta.url), "utf8"))
      const readme = yield* read("../README.md")
      const section = (heading: string) => {
        const start = readme.indexOf(`\n${heading}\n`)
        const next = readme.indexOf("\n## ", start + heading.length + 2)
        return start < 0 ? "" : readme.slice(start, next < 0 ? undefined : next)
      }
      const warning = /cannot tell reword that a message id is unknown/
      assert.match(section("## Updating a message"), warning)
      assert.match(section("## Errors"), warning)
      assert.match(section("## Errors"), /keep the ids you sent with/)
      const editor = yield* read("../src/Bitrix24MessageEditor.ts")
      assert.match(editor, /cannot tell reword that a message id is unknown/)
      const client = yield* read("../src/Bitrix24Client.ts")
      assert.match(client, /cannot tell reword that a message id is unknown/)
    })
  )

  it.effect("lists every row of the error table, with the same reason", () =>
    Effect.gen(function* () {
      const { readFile } = yield* Effect.promise(() => import("node:fs/promises"))
      const readme = yield* Effect.promise(() => readFile(new URL("../README.md", import.meta.url), "utf8"))
      // Cells compared trimmed: a formatter may pad the table.
      const rows = readme
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .map((line) =>
          line
            .split("|")
            .slice(1, -1)
            .map((cell) => cell.trim())
        )
      for (const [code, row] of Object.entries(codes)) {
        const cells = rows.find((cells) => cells[0] === `\`${code}\``)
        assert.deepStrictEqual(cells, [`\`${code}\``, row.source, String(row.status), row.reason, row.note])
      }
    })
  )
})

describe("codes named like members of Object.prototype", () => {
  // The code table is indexed with the answer's code: only its own rows may match.
  const names = ["valueOf", "toString", "constructor", "hasOwnProperty", "__proto__", "isPrototypeOf"]
  for (const name of names) {
    it.live(`a 400 with error "${name}" is the portal's refusal (Rejected, its code kept), as any unknown code`, () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(400, `{"error":"${name}","error_description":"odd"}`, { "Content-Type": "application/json" })
        const error = yield* failureOf()
        assert.strictEqual(error.reason._tag, "Rejected")
        assert.strictEqual((error.reason as { code?: string }).code, name)
        assert.strictEqual((error.reason as { status?: number }).status, 400)
      })
    )

    it.live(`an old-form refusal with code "${name}" is Rejected with that code`, () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(200, { result: { SUCCESS: false, ERRORS: [{ code: name, message: "odd" }] } })
        const error = yield* failureOf()
        assert.strictEqual(error.reason._tag, "Rejected")
        assert.strictEqual((error.reason as { code?: string }).code, name)
      })
    )
  }

  it.live(`an OAuth answer {"error":"constructor"} to a refresh is the OAuth server's refusal, not Unauthorized`, () =>
    Effect.gen(function* () {
      nock(PORTAL).post(UPDATE_PATH).reply(401, { error: "expired_token", error_description: "expired" })
      nock(OAUTH).post(TOKEN_PATH).reply(400, `{"error":"constructor"}`, { "Content-Type": "application/json" })
      const error = yield* failureOf()
      assert.strictEqual(error.reason._tag, "Rejected")
      assert.strictEqual((error.reason as { code?: string }).code, "constructor")
    })
  )

  it.live("a success whose envelope holds a __proto__ key is read from its own keys: the edit succeeds", () =>
    Effect.gen(function* () {
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(
          200,
          async (req: Request) => {
            const body = await bodyOf(req)
            const answer = JSON.stringify(success(body.MESSAGES.map((item) => okItem(item))))
            return `{"__proto__":{"error":"QUERY_LIMIT_EXCEEDED"},${answer.slice(1)}`
          },
          { "Content-Type": "application/json" }
        )
      const editor = yield* Bitrix24.make(settings(), once)
      const edited = yield* editor.update(request(1))
      assert.strictEqual(edited.text, "text 1")
    })
  )
})
