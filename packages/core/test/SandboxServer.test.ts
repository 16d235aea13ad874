import * as http from "node:http"
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { HttpTransport } from "@reword/core/adapter"
import { SandboxServer } from "@reword/core/sandbox"
import { Effect, Result } from "effect"
import fc from "fast-check"

const { Faults } = SandboxServer
const echo: SandboxServer.Handler = (request) => ({
  status: 200,
  body: { path: request.path, json: SandboxServer.jsonOf(request) }
})
// Requests that get an answer have 10 s: a loaded machine can take more than a second to serve one.
const transport = HttpTransport.make({ timeout: "10 seconds" })
// A request the sandbox never answers (its hang fault) times out whatever the load: 300 ms keeps the test short.
const hangTransport = HttpTransport.make({ timeout: "300 millis" })
const get = (server: SandboxServer.SandboxServer, path = "/x", through = transport) =>
  Effect.result(through.send({ method: "POST", url: new URL(`${server.url}${path}`), json: { n: 1 } }))

const outcome = (result: Result.Result<HttpTransport.HttpResponse, HttpTransport.TransportError>) =>
  Result.isSuccess(result) ? `${result.success.status}${result.success.isJson ? " json" : ""}` : result.failure._tag

describe("SandboxServer", () => {
  it.live("answers with the handler on 127.0.0.1 and logs every request", () =>
    Effect.gen(function* () {
      const server = yield* SandboxServer.scoped(echo)
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const answer = yield* transport.send({ method: "POST", url: new URL(`${server.url}/rest/a?b=1`), json: { n: 1 } })
      assert.deepStrictEqual(answer.json, { path: "/rest/a", json: { n: 1 } })
      assert.strictEqual(server.requests.length, 1)
      assert.strictEqual(server.requests[0]?.status, 200)
      assert.strictEqual(server.requests[0]?.query.get("b"), "1")
    })
  )

  it.live("plays each fault for the next N requests, then answers normally again", () =>
    Effect.gen(function* () {
      const server = yield* SandboxServer.scoped(echo)
      const faults = [
        Faults.status(503, { error: "QUERY_LIMIT_EXCEEDED" }),
        Faults.retryAfter(7),
        Faults.html(502),
        Faults.malformedJson(),
        Faults.empty(200),
        Faults.truncated(),
        Faults.reset(),
        Faults.hang()
      ]
      const seen: Array<string> = []
      for (const fault of faults) {
        server.inject({ fault, times: 1 })
        seen.push(outcome(yield* get(server, "/x", fault === faults.at(-1) ? hangTransport : transport)))
      }
      seen.push(outcome(yield* get(server)))
      assert.deepStrictEqual(seen, [
        "503 json",
        "429 json",
        "502",
        "200",
        "200",
        "Network",
        "Network",
        "Timeout",
        "200 json"
      ])
      assert.deepStrictEqual(
        server.requests.map((request) => request.fault ?? "none"),
        ["Status", "Status", "Html", "MalformedJson", "Empty", "Truncated", "Reset", "Hang", "none"]
      )
      const retryAfter = server.requests[1]
      assert.strictEqual(retryAfter?.status, 429)
    })
  )

  it.live("plays a fault for a seeded share of requests: the same requests on every run", () =>
    Effect.gen(function* () {
      const run = Effect.gen(function* () {
        const server = yield* SandboxServer.scoped(echo)
        server.inject({ fault: Faults.status(500), share: 0.2, seed: 42 })
        const statuses: Array<string> = []
        for (let i = 0; i < 100; i++) statuses.push(outcome(yield* get(server)))
        return statuses
      }).pipe(Effect.scoped)
      const first = yield* run
      const second = yield* run
      assert.deepStrictEqual(first, second)
      const failed = first.filter((status) => status === "500").length
      assert.isAtLeast(failed, 10)
      assert.isAtMost(failed, 30)
    })
  )

  it.live("limits a fault to the paths it names, and clears faults on demand", () =>
    Effect.gen(function* () {
      const server = yield* SandboxServer.scoped(echo)
      server.inject({ fault: Faults.status(401), times: 5, path: "/rest/" })
      assert.strictEqual(outcome(yield* get(server, "/oauth/token/")), "200 json")
      assert.strictEqual(outcome(yield* get(server, "/rest/update")), "401")
      server.clearFaults()
      assert.strictEqual(outcome(yield* get(server, "/rest/update")), "200 json")
    })
  )

  describe("request bodies are capped", () => {
    /** POSTs a body of `total` bytes in 64 KiB chunks (chunked, no length, unless `declare`), honouring backpressure. */
    const upload = (server: SandboxServer.SandboxServer, total: number, declare = false) =>
      new Promise<{ readonly status: number | undefined; readonly body: string; readonly written: number }>(
        (resolve) => {
          const chunk = Buffer.alloc(64 * 1024, 0x61)
          let written = 0
          let status: number | undefined
          let body = ""
          let finished = false
          const finish = () => {
            if (finished) return
            finished = true
            clearTimeout(timer)
            resolve({ status, body, written })
          }
          const timer = setTimeout(finish, 10_000)
          const request = http.request(`${server.url}/upload`, {
            method: "POST",
            headers: declare ? { "content-length": String(total) } : {}
          })
          request.on("response", (response) => {
            status = response.statusCode
            response.setEncoding("utf8")
            response.on("data", (text: string) => {
              body += text
            })
            response.on("end", finish)
            response.on("error", finish)
          })
          request.on("error", () => setTimeout(finish, 100))
          request.on("close", () => setTimeout(finish, 100))
          const pump = () => {
            while (written < total && status === undefined && !request.destroyed) {
              const piece = chunk.subarray(0, Math.min(chunk.length, total - written))
              written += piece.length
              if (!request.write(piece)) {
                request.once("drain", pump)
                return
              }
            }
            if (written >= total) request.end()
          }
          pump()
        }
      )

    it("the default cap is 1 MiB", () => {
      assert.strictEqual(SandboxServer.DEFAULT_MAX_BODY_BYTES, 1_048_576)
    })

    it.live("a body at the cap is taken; one byte more is 413, logged without the body", () =>
      Effect.gen(function* () {
        const server = yield* SandboxServer.scoped(echo)
        const at = yield* Effect.promise(() => upload(server, SandboxServer.DEFAULT_MAX_BODY_BYTES, true))
        assert.strictEqual(at.status, 200)
        const over = yield* Effect.promise(() => upload(server, SandboxServer.DEFAULT_MAX_BODY_BYTES + 1, true))
        assert.strictEqual(over.status, 413)
        assert.deepStrictEqual(JSON.parse(over.body).error, "PAYLOAD_TOO_LARGE")
        assert.deepStrictEqual(
          server.requests.map((request) => [request.status, request.text.length]),
          [
            [200, SandboxServer.DEFAULT_MAX_BODY_BYTES],
            [413, 0]
          ]
        )
      })
    )

    it.live("a streamed body past the cap is 413 and the rest is never read: the client cannot push it all", () =>
      Effect.gen(function* () {
        const server = yield* SandboxServer.scoped(echo, { maxBodyBytes: 64 * 1024 })
        const total = 256 * 1024 * 1024
        const result = yield* Effect.promise(() => upload(server, total))
        assert.strictEqual(result.status, 413)
        // Only what socket buffers hold gets through before the answer: far from the whole upload.
        assert.isBelow(result.written, 64 * 1024 * 1024)
        assert.strictEqual(server.requests.at(-1)?.status, 413)
        // The server still answers afterwards.
        assert.strictEqual(outcome(yield* get(server)), "200 json")
      })
    )

    it.live("the cap is an option, and an unusable one is refused", () =>
      Effect.gen(function* () {
        const server = yield* SandboxServer.scoped(echo, { maxBodyBytes: 8 })
        assert.strictEqual(outcome(yield* get(server)), "200 json") // {"n":1} is 7 bytes, {"n":123} 9
        const refused = yield* Effect.result(
          transport.send({ method: "POST", url: new URL(`${server.url}/x`), json: { n: 123 } })
        )
        assert.strictEqual(outcome(refused), "413 json")
        const bad = yield* Effect.promise(() =>
          SandboxServer.start(echo, { maxBodyBytes: Number.NaN }).then(
            () => "started",
            (error: unknown) => String(error)
          )
        )
        assert.match(bad, /maxBodyBytes/)
      })
    )
  })

  describe("the request log holds no credential", () => {
    const send = (server: SandboxServer.SandboxServer, path: string, headers: Record<string, string>, body: string) =>
      fetch(`${server.url}${path}`, { method: "POST", headers, body }).then((response) => response.json())

    const printed = (server: SandboxServer.SandboxServer) =>
      `${inspect(server.requests, { depth: 10 })}\n${JSON.stringify(server.requests)}\n${server.requests
        .map((request) => `${request.path}?${request.query.toString()} ${request.text}`)
        .join("\n")}`

    it.live("headers, query, form and JSON credentials read <redacted>; the handler still sees them", () =>
      Effect.gen(function* () {
        const seen: Array<SandboxServer.SandboxRequest> = []
        const server = yield* SandboxServer.scoped((request) => {
          seen.push(request)
          return { status: 200, body: {} }
        })
        const secrets = [
          "bearer-4f1c9a7e",
          "auth-9e3b2d1c",
          "client-secret-77aa",
          "refresh-5d6e7f80",
          "access-11223344"
        ]
        yield* Effect.promise(() =>
          send(
            server,
            "/rest/imconnector.update.messages?auth=auth-9e3b2d1c&line=1",
            {
              authorization: "Bearer bearer-4f1c9a7e",
              "content-type": "application/json"
            },
            JSON.stringify({ auth: "auth-9e3b2d1c", nested: { access_token: "access-11223344" }, CONNECTOR: "c" })
          )
        )
        yield* Effect.promise(() =>
          send(
            server,
            "/oauth/token/",
            { "content-type": "application/x-www-form-urlencoded" },
            "grant_type=refresh_token&client_id=local.app&client_secret=client-secret-77aa&refresh_token=refresh-5d6e7f80"
          )
        )
        assert.strictEqual(seen[0]?.headers.authorization, "Bearer bearer-4f1c9a7e")
        assert.strictEqual(seen[0]?.query.get("auth"), "auth-9e3b2d1c")
        assert.include(seen[1]?.text, "client_secret=client-secret-77aa")

        const [rest, oauth] = server.requests
        assert.strictEqual(rest?.headers.authorization, "Bearer <redacted>")
        assert.strictEqual(rest?.query.get("auth"), "<redacted>")
        assert.strictEqual(rest?.query.get("line"), "1")
        assert.deepStrictEqual(JSON.parse(rest?.text ?? ""), {
          auth: "<redacted>",
          nested: { access_token: "<redacted>" },
          CONNECTOR: "c"
        })
        const form = new URLSearchParams(oauth?.text)
        assert.strictEqual(form.get("client_secret"), "<redacted>")
        assert.strictEqual(form.get("refresh_token"), "<redacted>")
        assert.strictEqual(form.get("client_id"), "local.app")
        const log = printed(server)
        for (const secret of secrets) assert.notInclude(log, secret)
      })
    )

    it.live("a credential echoed elsewhere in the request, in any common encoding, is scrubbed too", () =>
      Effect.gen(function* () {
        const server = yield* SandboxServer.scoped(echo)
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.stringMatching(/^[A-Za-z0-9/+=_.~-]{12,40}$/),
              fc.constantFrom("raw", "percent", "json-unicode", "php-slashes", "base64"),
              async (secret, encoding) => {
                const echoed =
                  encoding === "raw"
                    ? secret
                    : encoding === "percent"
                      ? encodeURIComponent(secret)
                      : encoding === "json-unicode"
                        ? [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")
                        : encoding === "php-slashes"
                          ? secret.replaceAll("/", "\\/")
                          : Buffer.from(secret).toString("base64")
                const before = server.requests.length
                await send(
                  server,
                  `/echo?note=${encodeURIComponent(echoed)}`,
                  { "x-api-key": secret, "content-type": "application/json" },
                  `{"note":"${echoed}"}`
                )
                const entry = server.requests[before]
                const text = `${inspect(entry, { depth: 10 })} ${entry?.text} ${entry?.query.get("note")}`
                return !text.includes(secret) && !text.includes(echoed)
              }
            ),
            { numRuns: 40 }
          )
        )
      })
    )
  })
})
