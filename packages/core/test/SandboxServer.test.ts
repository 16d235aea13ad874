import { assert, describe, it } from "@effect/vitest"
import { HttpTransport } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { Effect, Result } from "effect"

const { Faults } = SandboxServer
const echo: SandboxServer.Handler = (request) => ({
  status: 200,
  body: { path: request.path, json: SandboxServer.jsonOf(request) }
})
const transport = HttpTransport.make({ timeout: "300 millis" })
const get = (server: SandboxServer.SandboxServer, path = "/x") =>
  Effect.result(transport.send({ method: "POST", url: new URL(`${server.url}${path}`), json: { n: 1 } }))

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
        seen.push(outcome(yield* get(server)))
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
})
