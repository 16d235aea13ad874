import { assert, describe, it } from "@effect/vitest"
import { EditError } from "@reword/core"
import { Duration, Effect, Schema } from "effect"

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
})
