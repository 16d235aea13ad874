import { assert, describe, it } from "@effect/vitest"
import { HttpFailure, type HttpTransport } from "@reword/core/adapter"
import { Duration } from "effect"
import * as fc from "fast-check"

const NOW = Date.parse("2026-11-21T12:00:00Z")

const answer = (status: number, body: string, headers: Record<string, string> = {}): HttpTransport.HttpResponse => {
  let json: unknown
  let isJson = false
  try {
    json = JSON.parse(body)
    isJson = true
  } catch {
    json = undefined
  }
  return { status, headers: new Headers(headers), text: body, json, isJson }
}

describe("HttpFailure.parseRetryAfter", () => {
  it("reads seconds, fractions of seconds and HTTP dates; ignores nonsense", () => {
    assert.deepStrictEqual(HttpFailure.parseRetryAfter("120", NOW), Duration.seconds(120))
    assert.deepStrictEqual(HttpFailure.parseRetryAfter("1.5", NOW), Duration.millis(1500))
    assert.deepStrictEqual(HttpFailure.parseRetryAfter("Sat, 21 Nov 2026 12:00:30 GMT", NOW), Duration.seconds(30))
    assert.deepStrictEqual(HttpFailure.parseRetryAfter("Sat, 21 Nov 2026 11:00:00 GMT", NOW), Duration.zero)
    assert.isUndefined(HttpFailure.parseRetryAfter("soon", NOW))
    assert.isUndefined(HttpFailure.parseRetryAfter("-5", NOW))
    assert.isUndefined(HttpFailure.parseRetryAfter(null, NOW))
  })
})

describe("HttpFailure.errorFields", () => {
  it("finds a code and a description in the usual shapes", () => {
    const cases: ReadonlyArray<readonly [string, HttpFailure.ErrorFields]> = [
      [
        `{"error":"expired_token","error_description":"The access token provided has expired."}`,
        { code: "expired_token", description: "The access token provided has expired." }
      ],
      [
        `{"code":"ERROR_RECORD_NOT_FOUND","message":"Record not found"}`,
        { code: "ERROR_RECORD_NOT_FOUND", description: "Record not found" }
      ],
      [
        `{"error":{"type":"ERROR_INVALID_INPUT","message":"message is required"}}`,
        { code: "ERROR_INVALID_INPUT", description: "message is required" }
      ],
      [`{"errors":[{"message":"a"},"b",{"code":"C"}]}`, { code: "C", description: "a; b; C" }],
      [`{"message":"Too Many Requests"}`, { description: "Too Many Requests" }],
      [`{"status":404}`, {}],
      [`[1,2]`, {}],
      [`Service Unavailable`, { description: "Service Unavailable" }],
      [`<html><body>502 Bad Gateway</body></html>`, {}],
      [``, {}]
    ]
    for (const [body, expected] of cases)
      assert.deepStrictEqual(HttpFailure.errorFields(answer(400, body)), expected, body)
  })
})

describe("HttpFailure.errorFields on hostile and unusual shapes", () => {
  it("reads JSON:API errors and codes in errors[] (code, title, type)", () => {
    const cases: ReadonlyArray<readonly [string, HttpFailure.ErrorFields]> = [
      [
        `{"errors":[{"status":"404","title":"ERROR_RECORD_NOT_FOUND","detail":"No message 8288"}]}`,
        { code: "ERROR_RECORD_NOT_FOUND", description: "No message 8288" }
      ],
      [
        `{"errors":[{"status":"422","title":"Invalid attribute","detail":"text is empty"}]}`,
        { description: "text is empty" }
      ],
      [`{"errors":[{"title":"Invalid attribute"}]}`, { description: "Invalid attribute" }],
      [
        `{"errors":[{"type":"ERROR_INVALID_INPUT","message":"bad"}]}`,
        { code: "ERROR_INVALID_INPUT", description: "bad" }
      ],
      [`{"error":{"errors":[{"code":"E1","message":"m"}]}}`, { code: "E1", description: "m" }],
      [`{"code":404}`, { code: "404" }]
    ]
    for (const [body, expected] of cases)
      assert.deepStrictEqual(HttpFailure.errorFields(answer(404, body)), expected, body)
  })

  it("answers for 100,000 levels of nesting of every kind, and for 1 MiB answers", () => {
    const depth = 100_000
    const bodies = [
      `${'{"error":'.repeat(depth)}"deep"${"}".repeat(depth)}`,
      `${"[".repeat(depth)}1${"]".repeat(depth)}`,
      `{"errors":${"[".repeat(depth)}1${"]".repeat(depth)}}`,
      `{"errors":[${'{"errors":['.repeat(depth / 2)}1${"]}".repeat(depth / 2)}]}`,
      `{"error":{"errors":[${'{"error":'.repeat(depth)}1${"}".repeat(depth)}]}}`,
      `{"errors":[${Array.from({ length: 50_000 }, (_, i) => `{"code":"C${i}"}`).join(",")}]}`,
      `{"message":"${"x".repeat(1024 * 1024)}"}`
    ]
    for (const body of bodies) {
      const fields = HttpFailure.errorFields(answer(400, body))
      assert.isAtMost((fields.description ?? "").length, 1_001, body.slice(0, 40))
      assert.isAtMost((fields.code ?? "").length, 1_001)
    }
  })

  it("never throws on any JSON, and each text it keeps is bounded (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 60 }), (value, wrap) => {
        let body: unknown = value
        for (let i = 0; i < wrap; i++) body = i % 3 === 0 ? { error: body } : i % 3 === 1 ? { errors: [body] } : [body]
        const fields = HttpFailure.errorFields(answer(400, JSON.stringify(body)))
        assert.isAtMost((fields.description ?? "").length, 1_001)
        assert.isAtMost((fields.code ?? "").length, 1_001)
        const reason = HttpFailure.reasonFromStatus(answer(400, JSON.stringify(body)), fields, NOW)
        assert.strictEqual(reason._tag, "Rejected")
      }),
      { numRuns: 300 }
    )
  })
})

describe("HttpFailure.reasonFromStatus", () => {
  it("maps statuses to the neutral reason, keeping the provider's words and a capped body", () => {
    const tags = [401, 403, 404, 410, 408, 429, 500, 502, 503, 504, 400, 409, 422, 200].map(
      (status) => HttpFailure.reasonFromStatus(answer(status, "{}"), {}, NOW)._tag
    )
    assert.deepStrictEqual(tags, [
      "Unauthorized",
      "Forbidden",
      "NotFound",
      "NotFound",
      "Unavailable",
      "RateLimited",
      "Unavailable",
      "Unavailable",
      "Unavailable",
      "Unavailable",
      "Rejected",
      "Rejected",
      "Rejected",
      "MalformedResponse"
    ])
  })

  it("honours Retry-After on 429 and 503", () => {
    const limited = HttpFailure.reasonFromStatus(answer(429, "", { "retry-after": "7" }), {}, NOW)
    assert.deepStrictEqual(limited._tag === "RateLimited" ? limited.retryAfter : undefined, Duration.seconds(7))
    const down = HttpFailure.reasonFromStatus(
      answer(503, "", { "retry-after": "Sat, 21 Nov 2026 12:01:00 GMT" }),
      {},
      NOW
    )
    assert.deepStrictEqual(down._tag === "Unavailable" ? down.retryAfter : undefined, Duration.minutes(1))
  })

  it("keeps at most 2 KiB of the raw body", () => {
    const reason = HttpFailure.reasonFromStatus(answer(500, "x".repeat(10_000)), {}, NOW)
    const body = reason._tag === "Unavailable" ? (reason.body ?? "") : ""
    assert.isAtMost(body.length, 2_049)
    assert.isAtLeast(body.length, 2_048)
  })
})
