/**
 * The transport caps the requests in flight to one host, so the sockets it
 * opens: thousands of concurrent calls share a bounded pool of connections
 * instead of opening one socket each. The cap is per host, the wait for a
 * connection counts in the request's timeout, and a request that leaves the
 * queue (timed out, interrupted) gives its place back.
 */
import { assert, describe, it } from "@effect/vitest"
import { HttpTransport } from "@reword/core/adapter"
import { Effect, Fiber } from "effect"
import { countingServer } from "./support/countingServer.ts"

const get = (transport: HttpTransport.HttpTransport, url: string) =>
  transport.send({ method: "GET", url: new URL(url) })

const all = (count: number, transport: HttpTransport.HttpTransport, url: string) =>
  Effect.forEach(
    Array.from({ length: count }, (_, n) => n),
    (n) => Effect.map(get(transport, `${url}/m/${n}`), (answer) => answer.status),
    { concurrency: "unbounded" }
  )

describe("HttpTransport: connections per host", () => {
  it.live(
    "300 concurrent requests with maxConnectionsPerHost 8 never hold more than 8 sockets, and all are answered",
    () =>
      Effect.gen(function* () {
        const server = yield* countingServer({ delayMillis: 10 })
        const transport = HttpTransport.make({ maxConnectionsPerHost: 8 })
        const statuses = yield* all(300, transport, server.url)
        assert.strictEqual(statuses.length, 300)
        assert.isTrue(
          statuses.every((status) => status === 200),
          "every request answered"
        )
        assert.strictEqual(server.answered(), 300)
        assert.isAtMost(server.peak(), 8, `peak ${server.peak()} sockets`)
        // Connections are reused: far fewer sockets than requests.
        assert.isAtMost(server.sockets(), 8 * 4, `${server.sockets()} sockets opened in all`)
      })
  )

  it.live("caps at 50 sockets per host by default (400 concurrent requests)", () =>
    Effect.gen(function* () {
      assert.strictEqual(HttpTransport.DEFAULT_MAX_CONNECTIONS_PER_HOST, 50)
      const server = yield* countingServer({ delayMillis: 20 })
      const statuses = yield* all(400, HttpTransport.make(), server.url)
      assert.strictEqual(statuses.filter((status) => status === 200).length, 400)
      assert.isAtMost(server.peak(), 50, `peak ${server.peak()} sockets`)
      assert.isAbove(server.peak(), 8, "the cap is not lower than configured")
    })
  )

  it.live("the cap is per host: a slow host does not hold up another", () =>
    Effect.gen(function* () {
      // The slow host answers after 5 s: the fast one's answer is due long before, however loaded the machine.
      const slow = yield* countingServer({ delayMillis: 5_000 })
      const fast = yield* countingServer({})
      const transport = HttpTransport.make({ maxConnectionsPerHost: 1 })
      const held = yield* Effect.forkChild(get(transport, `${slow.url}/slow`))
      yield* Effect.sleep("50 millis")
      const started = Date.now()
      const answer = yield* get(transport, `${fast.url}/fast`)
      assert.strictEqual(answer.status, 200)
      assert.isBelow(Date.now() - started, 4_000, "answered while the slow host held its only connection")
      yield* Fiber.interrupt(held)
    })
  )

  it.live(
    "the wait for a connection counts in the timeout; a request that times out waiting gives its place back",
    () =>
      Effect.gen(function* () {
        // Timeouts of 1 s: timed out waiting, the request ends at about 1 s; had its wait not counted, at about 2 s
        // (the connection free only when the blocking request timed out, then a whole timeout of its own).
        const server = yield* countingServer({ delayMillis: (url) => (url === "/blocking" ? 2_000 : 400) })
        const quick = HttpTransport.make({ maxConnectionsPerHost: 1, timeout: "1 second" })
        const blocking = yield* Effect.forkChild(Effect.result(get(quick, `${server.url}/blocking`)))
        yield* Effect.sleep("20 millis")
        const started = Date.now()
        const waited = yield* Effect.flip(get(quick, `${server.url}/waiting`))
        const elapsed = Date.now() - started
        assert.strictEqual(waited._tag, "Timeout")
        assert.isBelow(elapsed, 1_900, `timed out after ${elapsed} ms, within its 1 s timeout (plus scheduling)`)
        // It never reached the server.
        assert.strictEqual(server.answered(), 0)
        yield* Fiber.join(blocking)
        // Its place was given back: the next request to the same host gets the connection.
        const fast = HttpTransport.make({ maxConnectionsPerHost: 1, timeout: "5 seconds" })
        const answers = yield* Effect.forEach(["/a", "/b", "/c"], (path) => get(fast, `${server.url}${path}`), {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(
          answers.map((answer) => answer.status),
          [200, 200, 200]
        )
      })
  )

  it.live("interrupting a request that waits for a connection frees its place; the others go on", () =>
    Effect.gen(function* () {
      const server = yield* countingServer({ delayMillis: 300 })
      const transport = HttpTransport.make({ maxConnectionsPerHost: 1 })
      const first = yield* Effect.forkChild(get(transport, `${server.url}/first`))
      yield* Effect.sleep("20 millis")
      const abandoned = yield* Effect.forkChild(get(transport, `${server.url}/abandoned`))
      const third = yield* Effect.forkChild(get(transport, `${server.url}/third`))
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(abandoned)
      assert.strictEqual((yield* Fiber.join(first)).status, 200)
      assert.strictEqual((yield* Fiber.join(third)).status, 200)
      // The abandoned request never reached the server.
      assert.strictEqual(server.answered(), 2)
      assert.isAtMost(server.peak(), 1)
    })
  )

  it.live("leaves requests to an app's own global dispatcher (a proxy, a mock)", () =>
    Effect.gen(function* () {
      const undici = yield* Effect.promise(() => import("undici"))
      const previous = undici.getGlobalDispatcher()
      const mock = new undici.MockAgent()
      mock.disableNetConnect()
      mock.get("https://provider.invalid").intercept({ path: "/x" }).reply(200, { via: "the app's dispatcher" })
      const answer = yield* Effect.suspend(() => {
        undici.setGlobalDispatcher(mock)
        return get(HttpTransport.make(), "https://provider.invalid/x")
      }).pipe(Effect.ensuring(Effect.sync(() => undici.setGlobalDispatcher(previous))))
      assert.deepStrictEqual(answer.json, { via: "the app's dispatcher" })
      yield* Effect.promise(() => mock.close())
    })
  )
})
