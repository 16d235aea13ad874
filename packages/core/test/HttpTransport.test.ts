import { assert, describe, it } from "@effect/vitest"
import { HttpTransport } from "@reword/core/adapter"
import { Effect, Redacted } from "effect"
import { freePort, json, loopbackServer } from "./support/loopbackServer.ts"

const secret = Redacted.make("s3cr3t-token-value")

describe("HttpTransport", () => {
  it.live("sends JSON and reads a JSON answer of any status", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer((req, res) =>
        json(res, req.url === "/ok" ? 200 : 404, { echo: JSON.parse(req.body) })
      )
      const transport = HttpTransport.make()
      const ok = yield* transport.send({ method: "POST", url: new URL(`${server.url}/ok`), json: { a: 1 } })
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(ok.json, { echo: { a: 1 } })
      assert.strictEqual(server.requests[0]?.headers["content-type"], "application/json")
      const missing = yield* transport.send({ method: "POST", url: new URL(`${server.url}/nope`), json: { a: 2 } })
      assert.strictEqual(missing.status, 404)
      assert.isTrue(missing.isJson)
    })
  )

  it.live("hands non-JSON and empty bodies to the caller, and requireJson turns them into MalformedResponse", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer((req, res) => {
        res.writeHead(req.url === "/empty" ? 200 : 502, { "content-type": "text/html" })
        res.end(req.url === "/empty" ? "" : "<html><body>Bad gateway</body></html>")
      })
      const transport = HttpTransport.make()
      const html = yield* transport.send({ method: "GET", url: new URL(`${server.url}/html`) })
      assert.isFalse(html.isJson)
      const htmlError = yield* Effect.flip(HttpTransport.requireJson(html))
      assert.strictEqual(htmlError.status, 502)
      assert.strictEqual(htmlError.description, "the answer is not JSON")
      assert.include(htmlError.body ?? "", "Bad gateway")
      const empty = yield* transport.send({ method: "GET", url: new URL(`${server.url}/empty`) })
      const emptyError = yield* Effect.flip(HttpTransport.requireJson(empty))
      assert.strictEqual(emptyError.description, "the answer has an empty body")
    })
  )

  it.live("scrubs the request's secrets from everything it keeps of an answer", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer((_req, res) => json(res, 400, { error: "bad", echo: "s3cr3t-token-value" }))
      const answer = yield* HttpTransport.make().send({
        method: "POST",
        url: new URL(server.url),
        json: { auth: Redacted.value(secret) },
        secrets: [secret]
      })
      assert.notInclude(answer.text, "s3cr3t-token-value")
      assert.include(answer.text, "<redacted>")
    })
  )

  it.live("never follows a redirect, so credentials never travel to another host", () =>
    Effect.gen(function* () {
      const elsewhere = yield* loopbackServer((_req, res) => json(res, 200, { stolen: true }))
      const server = yield* loopbackServer((_req, res) => {
        res.writeHead(307, { location: `${elsewhere.url}/steal` })
        res.end()
      })
      const error = yield* Effect.flip(
        HttpTransport.make().send({ method: "POST", url: new URL(server.url), headers: { authorization: "Bearer x" } })
      )
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error._tag === "Rejected" ? error.status : 0, 307)
      assert.include(error.message, "never follows redirects")
      assert.strictEqual(elsewhere.requests.length, 0)
    })
  )

  it.live("fails with Timeout after the timeout, and aborts the request", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer(() => {
        // never answers
      })
      const error = yield* Effect.flip(
        HttpTransport.make({ timeout: "200 millis" }).send({ method: "GET", url: new URL(server.url) })
      )
      assert.strictEqual(error._tag, "Timeout")
      yield* Effect.sleep("100 millis")
      assert.deepStrictEqual(server.aborted, ["/"])
    })
  )

  it.live("fails with Network when the connection is reset or refused", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer((_req, res) => res.socket?.destroy())
      const reset = yield* Effect.flip(HttpTransport.make().send({ method: "GET", url: new URL(server.url) }))
      assert.strictEqual(reset._tag, "Network")
      const closedPort = yield* Effect.promise(() => freePort())
      const refused = yield* Effect.flip(
        HttpTransport.make().send({ method: "GET", url: new URL(`http://127.0.0.1:${closedPort}/`) })
      )
      assert.strictEqual(refused._tag, "Network")
      assert.include(refused.message, "ECONNREFUSED")
    })
  )

  it.live("refuses a body larger than the cap instead of reading it all", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ data: "x".repeat(200_000) }))
      })
      const error = yield* Effect.flip(
        HttpTransport.make({ maxResponseBytes: 64 * 1024 }).send({ method: "GET", url: new URL(server.url) })
      )
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.message, "larger than 65536 bytes")
    })
  )

  it.live("uses the fetch it is given (proxies, instrumentation)", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const transport = HttpTransport.make({
        fetch: async (input) => {
          seen.push(input instanceof Request ? input.url : String(input))
          return new Response(JSON.stringify({ via: "custom" }), { status: 200 })
        }
      })
      const answer = yield* transport.send({ method: "GET", url: new URL("https://provider.invalid/x") })
      assert.deepStrictEqual(answer.json, { via: "custom" })
      assert.deepStrictEqual(seen, ["https://provider.invalid/x"])
    })
  )
})
