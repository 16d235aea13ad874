/**
 * Transport safety, end to end through the adapters and their configuration:
 * HTTPS required, plain HTTP only to a loopback address and only when opted
 * in; no redirect followed, so credentials never reach another server; a
 * response body read up to a cap, so a huge (even endless) body becomes a
 * typed error instead of memory; and a timeout on every request (REST calls,
 * token refreshes, answers whose body never ends).
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import type { EditError, MessageEditor } from "@reword/core"
import { HttpTransport } from "@reword/core/adapter"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { Duration, Effect, Redacted } from "effect"
import { leaksIn, printings, type Secret } from "./support.ts"

const API_KEY = "acq_transport_safety_key_0123456789"

interface Server {
  readonly url: string
  /** Every request received: method and URL. */
  readonly requests: Array<string>
  /** Bytes of body written so far, over every answer. */
  readonly written: () => number
}

/** A plain HTTP server on 127.0.0.1 for the life of the scope. */
const server = (
  handler: (request: http.IncomingMessage, response: http.ServerResponse, count: (n: number) => void) => void
) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<Server & { readonly close: () => Promise<void> }>((resolve) => {
          const requests: Array<string> = []
          let written = 0
          const listener = http.createServer((request, response) => {
            requests.push(`${request.method} ${request.url}`)
            handler(request, response, (n) => {
              written += n
            })
            // A handler that does not read the body still lets it drain.
            if (request.listenerCount("data") === 0) request.resume()
          })
          listener.listen(0, "127.0.0.1", () => {
            const { port } = listener.address() as AddressInfo
            resolve({
              url: `http://127.0.0.1:${port}`,
              requests,
              written: () => written,
              close: () =>
                new Promise<void>((done) => {
                  listener.closeAllConnections()
                  listener.close(() => done())
                })
            })
          })
        })
    ),
    (started) => Effect.promise(() => started.close())
  )

/** An editor of each provider pointed at a base URL (plain HTTP to loopback, opted in). */
const bitrix24At = (
  sandbox: Bitrix24Sandbox.Sandbox,
  urls: { readonly portal?: string; readonly oauth?: string },
  options: Bitrix24.Options = {}
) =>
  Effect.orDie(
    Bitrix24.make(
      {
        ...sandbox.settings,
        ...(urls.portal === undefined ? {} : { portalUrl: new URL(`${urls.portal}/`) }),
        ...(urls.oauth === undefined ? {} : { oauthUrl: new URL(urls.oauth) })
      },
      { retry: { maxAttempts: 1 }, ...options }
    )
  )

const acquireAt = (baseUrl: string, transport: NonNullable<Acquire.Options["transport"]> = {}) =>
  Effect.orDie(
    Acquire.make(
      { accountId: "acme", apiKey: Redacted.make(API_KEY), baseUrl, allowInsecureLoopback: true },
      { retry: { maxAttempts: 1 }, transport }
    )
  )

const bitrixRequest = {
  ids: { externalMessageId: "m-1", externalChatId: "c-1", externalAuthorId: "u-1" },
  text: "edited"
}
const acquireRequest = { ids: { providerMessageId: 8288 }, text: "edited" }

const bitrix24SecretsOf = (sandbox: Bitrix24Sandbox.Sandbox): ReadonlyArray<Secret> => [
  { name: "access token", value: sandbox.accessToken },
  { name: "refresh token", value: sandbox.refreshToken },
  { name: "client secret", value: sandbox.clientSecret }
]

const assertNoSecret = (error: unknown, secrets: ReadonlyArray<Secret>) => {
  assert.deepStrictEqual(leaksIn(printings(error), secrets), [])
}

const rejected = (promise: Promise<unknown>) =>
  Effect.promise(() =>
    promise.then(
      () => undefined,
      (error: unknown) => error
    )
  )

describe("HTTPS is required; plain HTTP only to loopback, only when opted in", () => {
  it.live("Bitrix24: the portal and the OAuth server, from configuration; nothing is sent when refused", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const { BITRIX24_ALLOW_INSECURE_LOOPBACK: _optIn, ...withoutOptIn } = sandbox.env
      const refusals: Array<[Record<string, string>, string]> = [
        [withoutOptIn, "allowInsecureLoopback"],
        [{ ...sandbox.env, BITRIX24_PORTAL_URL: "http://portal.example.com" }, "must use https"],
        [{ ...sandbox.env, BITRIX24_OAUTH_URL: "http://oauth.example.com" }, "must use https"],
        // Hosts that only look like loopback are not.
        [{ ...sandbox.env, BITRIX24_PORTAL_URL: "http://127.0.0.1.nip.io" }, "must use https"],
        [{ ...sandbox.env, BITRIX24_PORTAL_URL: "http://localhost.example.com" }, "must use https"],
        [{ ...sandbox.env, BITRIX24_PORTAL_URL: "ftp://127.0.0.1" }, "must use https"]
      ]
      for (const [env, says] of refusals) {
        const error = yield* rejected(createEditor({ providers: [Bitrix24.provider], env }))
        assert.instanceOf(error, ConfigurationError)
        assert.include((error as Error).message, says)
        assertNoSecret(error, bitrix24SecretsOf(sandbox))
      }
      assert.lengthOf(sandbox.server.requests, 0)

      // HTTPS is taken as it is (nothing is sent before a call).
      const secure = yield* Effect.promise(() =>
        createEditor({
          providers: [Bitrix24.provider],
          env: {
            ...withoutOptIn,
            BITRIX24_PORTAL_URL: "https://acme.bitrix24.com",
            BITRIX24_OAUTH_URL: "https://oauth.bitrix.info"
          }
        })
      )
      yield* Effect.promise(() => secure.dispose())
      // Opted in, to loopback: it works.
      const local = yield* Effect.promise(() => createEditor({ providers: [Bitrix24.provider], env: sandbox.env }))
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      yield* Effect.promise(() => local.update({ ids, text: "after" }))
      yield* Effect.promise(() => local.dispose())
      assert.strictEqual(sandbox.inspect(ids)?.text, "after")
    })
  )

  it.live("Acquire: the base URL, from configuration; nothing is sent when refused", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const { ACQUIRE_ALLOW_INSECURE_LOOPBACK: _optIn, ...withoutOptIn } = sandbox.env
      const refusals: Array<[Record<string, string>, string]> = [
        [withoutOptIn, "allowInsecureLoopback"],
        [{ ...sandbox.env, ACQUIRE_BASE_URL: "http://acme.acquire.io/api/v1" }, "must use https"],
        [{ ...sandbox.env, ACQUIRE_BASE_URL: "http://127.0.0.1.nip.io/api/v1" }, "must use https"],
        [{ ...sandbox.env, ACQUIRE_ALLOW_INSECURE_LOOPBACK: "false" }, "allowInsecureLoopback"]
      ]
      for (const [env, says] of refusals) {
        const error = yield* rejected(createEditor({ providers: [Acquire.provider], env }))
        assert.instanceOf(error, ConfigurationError)
        assert.include((error as Error).message, says)
        assertNoSecret(error, [{ name: "API key", value: sandbox.apiKey }])
      }
      assert.lengthOf(sandbox.server.requests, 0)
      const local = yield* Effect.promise(() => createEditor({ providers: [Acquire.provider], env: sandbox.env }))
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      yield* Effect.promise(() => local.update({ ids, text: "after" }))
      yield* Effect.promise(() => local.dispose())
      assert.strictEqual(sandbox.inspect(ids)?.text, "after")
    })
  )

  it.live("Bitrix24: a token answer that names a plain-HTTP OAuth server elsewhere is not followed", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      // An OAuth server in front of the sandbox's, whose answers name another server over plain HTTP.
      const oauth = yield* server((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", async () => {
          const answer = await fetch(`${sandbox.url}/oauth/token/`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: Buffer.concat(chunks).toString("utf8")
          })
          const json = (await answer.json()) as Record<string, unknown>
          response.writeHead(answer.status, { "content-type": "application/json" })
          response.end(JSON.stringify({ ...json, server_endpoint: "http://oauth.attacker.example/rest/" }))
        })
      })
      const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      const editor = yield* bitrix24At(sandbox, { oauth: oauth.url })
      sandbox.expireAccessToken()
      yield* editor.update({ ids, text: "v1" })
      sandbox.expireAccessToken()
      yield* editor.update({ ids, text: "v2" })
      // Both refreshes went to the configured server.
      assert.deepStrictEqual(oauth.requests, ["POST /oauth/token/", "POST /oauth/token/"])
      assert.strictEqual(sandbox.refreshes(), 2)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["v0", "v1", "v2"])
    })
  )
})

describe("no redirect is followed, so credentials never reach another server", () => {
  const statuses = [301, 302, 303, 307, 308]

  it.live("Bitrix24 REST calls and token refreshes; Acquire calls", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const secrets = [...bitrix24SecretsOf(sandbox), { name: "API key", value: API_KEY }]
      const target = yield* server((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
      for (const status of statuses) {
        // The location even echoes the credentials the request carried: they are scrubbed from the error.
        const redirecting = yield* server((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8")
            const form = new URLSearchParams(body)
            const json = (() => {
              try {
                return JSON.parse(body) as { auth?: string }
              } catch {
                return {}
              }
            })()
            const echoed = new URLSearchParams({
              auth: json.auth ?? "",
              refresh: form.get("refresh_token") ?? "",
              secret: form.get("client_secret") ?? "",
              key: (request.headers.authorization ?? "").replace(/^Bearer /, "")
            })
            response.writeHead(status, { location: `${target.url}/steal${request.url}?${echoed}` })
            response.end()
          })
        })
        const checkRejected = (error: EditError.EditError) => {
          assert.strictEqual(error.reason._tag, "Rejected")
          assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "REDIRECT")
          assert.strictEqual("status" in error.reason ? error.reason.status : undefined, status)
          assert.include(error.message, "never follows redirects")
          assert.include(error.message, "<redacted>", "the echoed credentials were there, and scrubbed")
          assertNoSecret(error, secrets)
        }

        const portal = yield* bitrix24At(sandbox, { portal: redirecting.url })
        checkRejected(yield* Effect.flip(portal.update(bitrixRequest)))

        sandbox.expireAccessToken()
        const refresh = yield* bitrix24At(sandbox, { oauth: redirecting.url })
        checkRejected(yield* Effect.flip(refresh.update(bitrixRequest)))

        const acquire = yield* acquireAt(`${redirecting.url}/api/v1`)
        checkRejected(yield* Effect.flip(acquire.update(acquireRequest)))

        assert.lengthOf(redirecting.requests, 3)
      }
      assert.deepStrictEqual(target.requests, [], "the redirect's target never heard from reword")
      assert.strictEqual(sandbox.refreshes(), 0)
    })
  )
})

/** A server whose answer never ends: 64 KiB of JSON-looking text for as long as the client reads. */
const endless = () =>
  server((_request, response, count) => {
    response.writeHead(200, { "content-type": "application/json" })
    response.write('{"data":"')
    const chunk = "x".repeat(64 * 1024)
    const pump = () => {
      while (!response.destroyed && response.writable) {
        count(chunk.length)
        if (!response.write(chunk)) {
          response.once("drain", pump)
          return
        }
      }
    }
    response.on("close", () => response.removeAllListeners("drain"))
    pump()
  })

describe("response bodies are read up to a cap: a huge body is a typed error, not memory", () => {
  it.live(
    "an endless body: MalformedResponse at the cap (1 MiB by default, or as configured), for both providers",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const huge = yield* endless()
        const before = process.memoryUsage().rss
        const cases: ReadonlyArray<readonly [string, MessageEditor.Service, unknown, number]> = [
          ["bitrix24", yield* bitrix24At(sandbox, { portal: huge.url }), bitrixRequest, 1024 * 1024],
          ["acquire", yield* acquireAt(`${huge.url}/api/v1`), acquireRequest, 1024 * 1024],
          [
            "bitrix24",
            yield* bitrix24At(sandbox, { portal: huge.url }, { transport: { maxResponseBytes: 64 * 1024 } }),
            bitrixRequest,
            64 * 1024
          ],
          [
            "acquire",
            yield* acquireAt(`${huge.url}/api/v1`, { maxResponseBytes: 64 * 1024 }),
            acquireRequest,
            64 * 1024
          ]
        ]
        for (const [provider, editor, request, cap] of cases) {
          const error = yield* Effect.flip(editor.update(request as MessageEditor.RequestInput))
          assert.strictEqual(error.provider, provider)
          assert.strictEqual(error.reason._tag, "MalformedResponse")
          assert.include(error.message, `larger than ${cap} bytes`)
        }
        if (process.env.RELIABILITY_SUMMARY === "1")
          console.info({ written: huge.written(), rss: process.memoryUsage().rss - before })
        // The reads stopped at the cap: the server could write only as much as the sockets buffered beyond it.
        assert.isBelow(huge.written(), 4 * (1024 * 1024 + 16 * 1024 * 1024))
        // Room for what a loaded machine's late garbage collection leaves; an uncapped read of an endless body grows without end.
        assert.isBelow(process.memoryUsage().rss - before, 128 * 1024 * 1024)
      })
  )
})

describe("every request has a timeout", () => {
  it("the transport's default is finite (30 s), for adapters given none", () => {
    assert.strictEqual(Duration.toMillis(HttpTransport.make().timeout), 30_000)
  })

  it.live("a hang: Timeout after the configured time, for REST calls, token refreshes and Acquire", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const acquire = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => acquire.seedMessage("before"))
      const timeout = { transport: { timeout: 250 } }
      const checkTimeout = (error: EditError.EditError, started: number) => {
        assert.strictEqual(error.reason._tag, "Timeout")
        assert.strictEqual(error.reason._tag === "Timeout" ? Duration.toMillis(error.reason.after) : 0, 250)
        assert.isAtLeast(Date.now() - started, 245)
        assert.isBelow(Date.now() - started, 5_000)
      }

      sandbox.server.inject({ fault: Bitrix24Sandbox.Faults.hang(), times: 1, path: "/rest/" })
      let started = Date.now()
      checkTimeout(yield* Effect.flip((yield* bitrix24At(sandbox, {}, timeout)).update(bitrixRequest)), started)

      sandbox.expireAccessToken()
      sandbox.server.inject({ fault: Bitrix24Sandbox.Faults.hang(), times: 1, path: "/oauth/token/" })
      started = Date.now()
      checkTimeout(yield* Effect.flip((yield* bitrix24At(sandbox, {}, timeout)).update(bitrixRequest)), started)
      assert.strictEqual(sandbox.refreshes(), 0)

      acquire.server.inject({ fault: AcquireSandbox.Faults.hang(), times: 1 })
      started = Date.now()
      checkTimeout(
        yield* Effect.flip((yield* acquireAt(acquire.baseUrl, { timeout: 250 })).update({ ids, text: "after" })),
        started
      )
      assert.strictEqual(acquire.inspect(ids)?.text, "before")
    })
  )

  it.live("an answer whose body never ends: Timeout too (the time covers the body, not only the headers)", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const trickle = yield* server((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("{")
        const timer = setInterval(() => response.write(" "), 20)
        response.on("close", () => clearInterval(timer))
      })
      const bitrix = yield* bitrix24At(sandbox, { portal: trickle.url }, { transport: { timeout: 250 } })
      const fromBitrix = yield* Effect.flip(bitrix.update(bitrixRequest))
      assert.strictEqual(fromBitrix.reason._tag, "Timeout")
      const acquire = yield* acquireAt(`${trickle.url}/api/v1`, { timeout: 250 })
      const fromAcquire = yield* Effect.flip(acquire.update(acquireRequest))
      assert.strictEqual(fromAcquire.reason._tag, "Timeout")
    })
  )
})
