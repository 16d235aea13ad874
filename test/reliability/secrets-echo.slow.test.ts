/**
 * Secrets echoed by a hostile server in every common encoding, across both
 * providers (Bitrix24 access token, refresh token and client secret, and a
 * token pair issued by a refresh; Acquire API key): nothing reword produces
 * (`message`, `String(error)`, `JSON.stringify`, `stack`, `util.inspect`,
 * `Cause.pretty`, debug logs and spans) holds any of them, in any of those
 * encodings.
 */
import { assert, describe, it } from "@effect/vitest"
import { EditError, type MessageEditor } from "@reword/core"
import { Cause, Effect, Exit, Result } from "effect"
import * as fc from "fast-check"
import {
  type Answer,
  acquireEditor,
  acquireRequest,
  bitrix24Editor,
  bitrix24Request,
  CREDENTIALS,
  type HostileServer,
  hostileServer
} from "./hostileAnswers.ts"
import { ENCODINGS, encodedLeaks as leaks, type Secret } from "./secretsEncodings.ts"
import { capturing, makeCapture, printings, texts } from "./support.ts"

/** Where the echo is placed in the answer. */
const PLACES: ReadonlyArray<{ readonly name: string; readonly answer: (echo: string, status: number) => Answer }> = [
  {
    name: "error_description",
    answer: (echo, status) => ({
      status,
      body: `{"error":"invalid_request","error_description":"you sent ${echo}"}`
    })
  },
  {
    name: "Acquire-shaped message",
    answer: (echo, status) => ({
      status,
      body: `{"status":${status},"type":"ERROR_INVALID_INPUT","message":"${echo}"}`
    })
  },
  {
    name: "JSON:API detail",
    answer: (echo, status) => ({
      status,
      body: `{"errors":[{"status":"${status}","title":"ERROR_RECORD_NOT_FOUND","detail":"${echo}"}]}`
    })
  },
  { name: "plain text", answer: (echo, status) => ({ status, headers: { "content-type": "text/plain" }, body: echo }) },
  {
    name: "Location",
    answer: (echo) => ({ status: 302, headers: { location: `https://elsewhere.example/cb?${echo}` }, body: "" })
  },
  { name: "code", answer: (echo, status) => ({ status, body: `{"error":"${echo}"}` }) }
]

const STATUSES = [200, 400, 401, 403, 404, 500] as const

/** Not a secret: written beside each echo, and expected in what reword reports. */
const CANARY = "canary-7f3e"

const bitrix24Secrets: ReadonlyArray<Secret> = [
  { name: "access token", value: CREDENTIALS.accessToken },
  { name: "refresh token", value: CREDENTIALS.refreshToken },
  { name: "client secret", value: CREDENTIALS.clientSecret }
]
const acquireSecrets: ReadonlyArray<Secret> = [{ name: "API key", value: CREDENTIALS.apiKey }]

/** Runs `update` and `updateMany`, capturing every log line, span and error printing. */
const runAll = (editor: MessageEditor.Service, requests: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const capture = makeCapture()
    const one = yield* Effect.exit(capturing(capture)(editor.update(requests[0] as never)))
    const many = yield* capturing(capture)(editor.updateMany(requests as never))
    const errors: Array<unknown> = []
    if (Exit.isFailure(one)) {
      capture.printed.push(Cause.pretty(one.cause))
      for (const reason of one.cause.reasons) if (reason._tag === "Fail") errors.push(reason.error)
    }
    for (const outcome of many) if (Result.isFailure(outcome)) errors.push(outcome.failure)
    for (const error of errors) {
      assert.isTrue(EditError.isEditError(error))
      capture.printed.push(...printings(error), Cause.pretty(Cause.fail(error)))
    }
    return { texts: texts(capture), failures: errors.length }
  })

const propertyFor = (
  server: HostileServer,
  editor: MessageEditor.Service,
  requests: ReadonlyArray<unknown>,
  secrets: ReadonlyArray<Secret>
) =>
  fc.asyncProperty(
    fc.constantFrom(...secrets),
    fc.constantFrom(...ENCODINGS),
    fc.constantFrom(...PLACES),
    fc.constantFrom(...STATUSES),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
    async (secret, encoding, place, status, mask, flag) => {
      const echo = `${CANARY} ${encoding.encode(secret.value, mask, flag)}`
      server.answer(place.answer(echo, status))
      const { texts: written, failures } = await Effect.runPromise(runAll(editor, requests))
      assert.isAbove(failures, 0, "the hostile answer failed the edits")
      // What surrounds the echo does come out: had the secret not been scrubbed, it would have too.
      assert.isTrue(
        written.some((text) => text.includes(CANARY)),
        `the echo's neighbourhood is reported (${place.name}, ${status})`
      )
      assert.deepStrictEqual(leaks(written, secrets), [], `${encoding.name} in ${place.name} (${status})`)
    }
  )

describe("secrets echoed in every encoding never come out of reword", () => {
  it.live("bitrix24: access token, refresh token, client secret (property)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* hostileServer
        const editor = yield* bitrix24Editor(server)
        const requests = ["m-1", "m-2"].map(bitrix24Request)
        yield* Effect.promise(() => fc.assert(propertyFor(server, editor, requests, bitrix24Secrets), { numRuns: 60 }))
      })
    )
  )

  it.live("acquire: API key (property)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* hostileServer
        const editor = yield* acquireEditor(server)
        const requests = [8288, 8289].map(acquireRequest)
        yield* Effect.promise(() => fc.assert(propertyFor(server, editor, requests, acquireSecrets), { numRuns: 60 }))
      })
    )
  )

  it.live("bitrix24: a pair issued by a refresh is scrubbed from every later answer, in every encoding", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* hostileServer
        const editor = yield* bitrix24Editor(server)
        const rotated: ReadonlyArray<Secret> = [
          { name: "access token", value: "rotated-access/TOKEN+0001==" },
          { name: "refresh token", value: "rotated-refresh/TOKEN+0002==" }
        ]
        let refreshed = false
        let encoding = 0
        server.answer((request) => {
          if (request.path.startsWith("/oauth/")) {
            refreshed = true
            return {
              status: 200,
              body: JSON.stringify({
                access_token: rotated[0]?.value,
                refresh_token: rotated[1]?.value,
                expires_in: 3600,
                client_endpoint: `${server.url}/rest/`
              })
            }
          }
          if (!refreshed) {
            return {
              status: 401,
              body: '{"error":"expired_token","error_description":"The access token provided has expired."}'
            }
          }
          const { encode } = ENCODINGS[encoding % ENCODINGS.length] as (typeof ENCODINGS)[number]
          encoding += 1
          const echo = [
            CANARY,
            ...rotated.map((secret) => encode(secret.value, [true, false], encoding % 2 === 0))
          ].join(" ")
          return { status: 400, body: `{"error":"ERROR_ARGUMENT","error_description":"you sent ${echo}"}` }
        })
        const requests = ["m-1", "m-2"].map(bitrix24Request)
        const written: Array<string> = []
        for (let round = 0; round < ENCODINGS.length; round++) {
          const result = yield* runAll(editor, requests)
          written.push(...result.texts)
        }
        assert.isTrue(refreshed, "the adapter refreshed")
        assert.isTrue(
          written.some((text) => text.includes(CANARY)),
          "the echoes were reported"
        )
        assert.isTrue(
          server.received.some(
            (request) =>
              request.body.includes(encodeURIComponent(rotated[0]?.value ?? "")) ||
              request.body.includes(rotated[0]?.value ?? "")
          ),
          "the rotated access token was used"
        )
        assert.deepStrictEqual(leaks(written, [...rotated, ...bitrix24Secrets]), [])
      })
    )
  )
})
