import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { HttpFailure, HttpTransport } from "@reword/core/adapter"
import { Duration, Effect, Redacted, Schema } from "effect"
import { loopbackServer } from "./support/loopbackServer.ts"

const reasons: ReadonlyArray<readonly [EditError.EditErrorReason, boolean]> = [
  [new EditError.InvalidRequest({ problems: [{ path: "ids.externalMessageId", message: "is required" }] }), false],
  [
    new EditError.Unauthorized({
      status: 401,
      code: "invalid_token",
      description: "The access token provided is invalid"
    }),
    false
  ],
  [
    new EditError.Forbidden({ status: 403, code: "WRONG_AUTH_TYPE", description: "Application context required" }),
    false
  ],
  [new EditError.NotFound({ status: 400, code: "ERROR_RECORD_NOT_FOUND" }), false],
  [new EditError.RateLimited({ status: 429, retryAfter: Duration.seconds(7) }), true],
  [new EditError.Unavailable({ status: 503, description: "maintenance" }), true],
  [new EditError.Network({ description: "the connection was reset (ECONNRESET)" }), true],
  [new EditError.Timeout({ after: Duration.seconds(30) }), true],
  [new EditError.Rejected({ status: 400, code: "SOMETHING_NEW", description: "A code nobody mapped" }), false],
  [new EditError.Unsupported({ capability: "files", description: "text only" }), false],
  [new EditError.MalformedResponse({ status: 200, description: "the answer is not JSON", body: "<html>" }), true]
]

describe("EditError", () => {
  it("knows, for every reason, whether trying again can help", () => {
    const tags = reasons.map(([reason]) => reason._tag)
    assert.deepStrictEqual(new Set(tags).size, 11)
    for (const [reason, retryable] of reasons) {
      const error = EditError.make({ provider: "acquire", operation: "update", reason })
      assert.strictEqual(reason.isRetryable, retryable, reason._tag)
      assert.strictEqual(error.isRetryable, retryable, reason._tag)
    }
  })

  it("never calls a send retryable when it may have reached the provider", () => {
    const send = (reason: EditError.EditErrorReason) =>
      EditError.make({ provider: "acquire", operation: "send", reason }).isRetryable
    assert.isTrue(send(new EditError.RateLimited({ status: 429 })))
    assert.isTrue(send(new EditError.Network({ description: "the connection was refused (ECONNREFUSED)" })))
    assert.isFalse(send(new EditError.Network({ description: "the connection was reset (ECONNRESET)" })))
    assert.isFalse(send(new EditError.Timeout({ after: Duration.seconds(30) })))
    assert.isFalse(send(new EditError.Unavailable({ status: 502 })))
    assert.isFalse(send(new EditError.MalformedResponse({ status: 200 })))
    assert.isTrue(
      EditError.make({
        provider: "acquire",
        operation: "update",
        reason: new EditError.Timeout({ after: Duration.seconds(1) })
      }).isRetryable
    )
  })

  it("reads well: provider, operation, reason, and the provider's own code and description", () => {
    const error = EditError.make({
      provider: "bitrix24",
      operation: "update",
      reason: reasons[2]?.[0] as EditError.EditErrorReason
    })
    assert.strictEqual(
      error.message,
      "bitrix24.update: Forbidden: the credentials are not allowed to edit this message (HTTP 403 WRONG_AUTH_TYPE: Application context required)"
    )
    const invalid = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: reasons[0]?.[0] as EditError.EditErrorReason
    })
    assert.strictEqual(invalid.message, "acquire.update: Invalid request: ids.externalMessageId: is required")
    const limited = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: reasons[4]?.[0] as EditError.EditErrorReason
    })
    assert.include(limited.message, "retry after 7s")
    assert.deepStrictEqual(limited.retryAfter, Duration.seconds(7))
  })

  it("is an Error that apps can recognise, also across package copies", () => {
    const error = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: new EditError.Timeout({ after: Duration.seconds(1) })
    })
    assert.instanceOf(error, Error)
    assert.isTrue(EditError.isEditError(error))
    assert.isFalse(EditError.isEditError(new Error("x")))
    assert.isFalse(EditError.isEditError({ _tag: "EditError" }))
  })

  it("serialises to JSON and back, without losing the reason", () => {
    const error = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: reasons[4]?.[0] as EditError.EditErrorReason
    })
    const codec = Schema.toCodecJson(EditError.EditError)
    const encoded = Schema.encodeSync(codec)(error)
    const decoded = Schema.decodeUnknownSync(codec)(JSON.parse(JSON.stringify(encoded)))
    assert.strictEqual(decoded.reason._tag, "RateLimited")
    assert.deepStrictEqual(decoded.retryAfter, Duration.seconds(7))
    assert.notInclude(JSON.stringify(error), "Symbol")
  })

  it.effect("lets an app match on every reason", () =>
    Effect.gen(function* () {
      const handled = yield* Effect.forEach(reasons, ([reason]) =>
        Effect.fail(EditError.make({ provider: "acquire", operation: "update", reason })).pipe(
          Effect.catchReasons("EditError", {
            InvalidRequest: () => Effect.succeed("fix the request"),
            Unauthorized: () => Effect.succeed("re-authenticate"),
            Forbidden: () => Effect.succeed("ask for permission"),
            NotFound: () => Effect.succeed("forget the message"),
            RateLimited: (r) => Effect.succeed(`wait ${Duration.format(r.retryAfter ?? Duration.zero)}`),
            Unavailable: () => Effect.succeed("retry later"),
            Network: () => Effect.succeed("retry later"),
            Timeout: () => Effect.succeed("retry later"),
            Rejected: (r) => Effect.succeed(`report ${r.code}`),
            Unsupported: (r) => Effect.succeed(`avoid ${r.capability}`),
            MalformedResponse: () => Effect.succeed("retry later")
          })
        )
      )
      assert.deepStrictEqual(handled, [
        "fix the request",
        "re-authenticate",
        "ask for permission",
        "forget the message",
        "wait 7s",
        "retry later",
        "retry later",
        "retry later",
        "report SOMETHING_NEW",
        "avoid files",
        "retry later"
      ])
    })
  )

  it("prints as any Error does: name, message and stack, then its fields (reasons too)", () => {
    const error = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: new EditError.RateLimited({ status: 429, code: "TOO_MANY", retryAfter: Duration.seconds(7) })
    })
    assert.strictEqual(error.name, "EditError")
    assert.instanceOf(error, Error)
    const printed = inspect(error)
    assert.isTrue(printed.startsWith(`EditError: ${error.message}\n    at `), printed)
    for (const field of ["provider: 'acquire'", "operation: 'update'", "_tag: 'RateLimited'", "retryAfterMs: 7000"]) {
      assert.include(printed, field)
    }
    assert.include(inspect({ nested: error }), "EditError: acquire.update: Rate limited")
    assert.strictEqual(String(error), `EditError: ${error.message}`)
    for (const [reason] of reasons) {
      assert.strictEqual(reason.name, reason._tag)
      assert.instanceOf(reason, Error)
      const shown = inspect(reason)
      assert.isTrue(shown.startsWith(`${reason._tag}: ${reason.message}\n    at `), shown)
      assert.include(shown, `_tag: '${reason._tag}'`)
    }
  })

  it("gives retryAfterMs, a plain number of milliseconds, beside retryAfter", () => {
    const of = (reason: EditError.EditErrorReason) =>
      EditError.make({ provider: "acquire", operation: "update", reason })
    assert.strictEqual(of(new EditError.RateLimited({ retryAfter: Duration.seconds(7) })).retryAfterMs, 7000)
    assert.strictEqual(of(new EditError.Unavailable({ retryAfter: Duration.millis(1500) })).retryAfterMs, 1500)
    assert.strictEqual(new EditError.RateLimited({ retryAfter: Duration.minutes(1) }).retryAfterMs, 60_000)
    assert.isUndefined(of(new EditError.RateLimited({ status: 429 })).retryAfterMs)
    assert.isUndefined(of(new EditError.NotFound({})).retryAfterMs)
  })

  it("writes a documented JSON: name, message, provider, operation, isRetryable, retryAfterMs and the reason", () => {
    const error = EditError.make({
      provider: "acquire",
      operation: "update",
      reason: new EditError.RateLimited({ status: 429, code: "TOO_MANY", retryAfter: Duration.seconds(7) })
    })
    assert.deepStrictEqual(JSON.parse(JSON.stringify(error)), {
      _tag: "EditError",
      name: "EditError",
      message: "acquire.update: Rate limited, retry after 7s (HTTP 429 TOO_MANY)",
      provider: "acquire",
      operation: "update",
      isRetryable: true,
      retryAfterMs: 7000,
      reason: {
        _tag: "RateLimited",
        name: "RateLimited",
        message: "Rate limited, retry after 7s (HTTP 429 TOO_MANY)",
        isRetryable: true,
        retryAfterMs: 7000,
        status: 429,
        code: "TOO_MANY"
      }
    })
    assert.notProperty(error.toJSON(), "stack")
  })

  it.live("never holds a secret that an answer echoed, in JSON, message, String, stack or inspect", () =>
    Effect.gen(function* () {
      const raw = "tok/en+s3cret=value"
      const secret = Redacted.make(raw)
      // The server echoes the secret verbatim, \u-escaped, with PHP's escaped slashes, and URL-encoded.
      const escaped = [...raw].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")
      const server = yield* loopbackServer((req, res) => {
        const status = Number(req.url.slice(1))
        res.writeHead(status, { "content-type": "application/json", "retry-after": "3" })
        res.end(
          req.url === "/400"
            ? `{"error":"invalid_token","error_description":"token ${escaped} is bad","echo":"${raw.replaceAll("/", "\\/")}"}`
            : JSON.stringify({ code: "E", message: `bad token ${raw} (${encodeURIComponent(raw)})`, raw })
        )
      })
      const transport = HttpTransport.make()
      for (const status of [400, 401, 429, 503]) {
        const response = yield* transport.send({
          method: "POST",
          url: new URL(`${server.url}/${status}`),
          json: { token: raw },
          secrets: [secret]
        })
        const reason = HttpFailure.reasonFromStatus(response, HttpFailure.errorFields(response), Date.now())
        const error = EditError.make({ provider: "acquire", operation: "update", reason })
        const outputs = [JSON.stringify(error), JSON.stringify(reason), error.message, String(error), error.stack ?? ""]
        outputs.push(inspect(error, { depth: 10 }), inspect(reason, { depth: 10 }))
        for (const output of outputs) {
          for (const form of [raw, encodeURIComponent(raw), raw.replaceAll("/", "\\/"), "s3cret"]) {
            assert.notInclude(output, form, `HTTP ${status}`)
          }
        }
      }
    })
  )
})
