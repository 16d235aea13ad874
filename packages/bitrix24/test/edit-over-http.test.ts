import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, RateLimiter, TokenStore } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Array as Arr, Effect, Option, Redacted, Result } from "effect"
import nock from "nock"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1")
})
afterAll(() => {
  nock.disableNetConnect()
})

/** An edit of message `m-<n>` in `chat-1`. */
const request = (n: number, text = `text ${n}`) => ({
  ids: { externalMessageId: `m-${n}`, externalChatId: "chat-1", externalAuthorId: "user-1" },
  text
})

/** A memory store that counts its saves. */
const countingStore = () => {
  const inner = TokenStore.makeMemory()
  const saved: Array<TokenStore.Tokens> = []
  const store: TokenStore.Service = {
    load: inner.load,
    save: (tokens) =>
      Effect.andThen(
        Effect.sync(() => saved.push(tokens)),
        inner.save(tokens)
      )
  }
  return { store, saved }
}

describe("over real HTTP against the Bitrix24 sandbox", () => {
  it.live("sends a message, edits it, and the portal holds the new text", () =>
    Effect.gen(function* () {
      const server = yield* Bitrix24Sandbox.scoped()
      const editor = yield* Bitrix24.make(server.settings, { retry: { maxAttempts: 1 } })
      const sent = yield* editor.client.sendMessages({
        messages: [
          { user: { id: "user-1", name: "Ann" }, message: { id: "m-1", text: "Meet at 11" }, chat: { id: "chat-1" } }
        ]
      })
      assert.strictEqual(sent.items[0]?.SUCCESS, true)
      const edited = yield* editor.update(request(1, "Meet at 10, not 11"))
      assert.strictEqual(edited.text, "Meet at 10, not 11")
      const stored = server.message("chat-1", "m-1")
      assert.strictEqual(stored?.text, "Meet at 10, not 11")
      assert.deepStrictEqual(stored?.history, ["Meet at 11", "Meet at 10, not 11"])
      yield* editor.client.deleteMessages({
        messages: [{ user: { id: "user-1" }, message: { id: "m-1" }, chat: { id: "chat-1" } }]
      })
      assert.isTrue(server.message("chat-1", "m-1")?.deleted)
    }).pipe(Effect.scoped)
  )

  it.live("updateMany edits many messages in one call, and a failed item leaves its neighbours edited", () =>
    Effect.gen(function* () {
      const server = yield* Bitrix24Sandbox.scoped()
      const editor = yield* Bitrix24.make(server.settings, { retry: { maxAttempts: 1 } })
      yield* editor.client.sendMessages({
        messages: Arr.map([1, 2, 3] as const, (n) => ({
          user: { id: "user-1" },
          message: { id: `m-${n}`, text: `old ${n}` },
          chat: { id: "chat-1" }
        }))
      })
      const outcomes = yield* editor.updateMany([
        request(1, "new 1"),
        { ...request(2), text: undefined, files: [] },
        request(3, "new 3")
      ])
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["ok", "InvalidRequest", "ok"]
      )
      assert.strictEqual(server.calls("imconnector.update.messages"), 1)
      assert.strictEqual(server.message("chat-1", "m-3")?.text, "new 3")
    }).pipe(Effect.scoped)
  )

  it.live("a failed item inside SUCCESS: true comes back as that message's own error", () =>
    Effect.gen(function* () {
      const server = yield* Bitrix24Sandbox.scoped()
      const editor = yield* Bitrix24.make(server.settings, { retry: { maxAttempts: 1 } })
      const response = yield* editor.client.updateMessages({
        messages: [
          { user: { id: "u" }, message: { id: "a", text: "fine" }, chat: { id: "c" } },
          { user: { id: "u" }, message: { id: "b" }, chat: { id: "c" } }
        ]
      })
      assert.deepStrictEqual(
        response.items.map((item) => item.SUCCESS),
        [true, false]
      )
    }).pipe(Effect.scoped)
  )

  it.live(
    "100 concurrent updates that meet an expired token cause exactly one refresh, all succeed, and the new pair is stored once",
    () =>
      Effect.gen(function* () {
        // A roomy bucket on both sides: this test is about the refresh, not the rate limit.
        const bucket = { drainPerSecond: 1000, capacity: 1000 }
        const server = yield* Bitrix24Sandbox.scoped({ bucket })
        const { store, saved } = countingStore()
        const editor = yield* Bitrix24.make(server.settings, {
          retry: { maxAttempts: 1 },
          // One message per call: concurrent update() calls would otherwise share calls; this test is about 100 calls.
          chunkSize: 1,
          tokenStore: store,
          rateLimit: { bucket }
        })
        const numbers = Arr.range(1, 100)
        yield* editor.client.sendMessages({
          messages: Arr.map(numbers, (n) => ({
            user: { id: "user-1" },
            message: { id: `m-${n}`, text: `old ${n}` },
            chat: { id: "chat-1" }
          }))
        })
        server.expireAccessToken()
        // 100 separate calls, each its own imconnector.update.messages request.
        const edited = yield* Effect.forEach(numbers, (n) => editor.update(request(n, `new ${n}`)), {
          concurrency: "unbounded"
        })
        assert.strictEqual(edited.length, 100)
        assert.deepStrictEqual(
          edited.map((message) => message.text),
          numbers.map((n) => `new ${n}`)
        )
        // Every one of the 100 met the expired token, and was repeated once with the new one.
        assert.strictEqual(server.errorAnswers("expired_token"), 100)
        assert.strictEqual(server.calls("imconnector.update.messages"), 200)
        assert.strictEqual(server.refreshes(), 1)
        for (const n of numbers) {
          assert.strictEqual(server.message("chat-1", `m-${n}`)?.text, `new ${n}`)
        }
        // The new pair, stored exactly once.
        assert.strictEqual(saved.length, 1)
        const [pair] = saved
        const issued = server.tokens()
        assert.strictEqual(pair && Redacted.value(pair.accessToken), issued.accessToken)
        assert.strictEqual(pair && Redacted.value(pair.refreshToken), issued.refreshToken)
        assert.notStrictEqual(issued.refreshToken, server.refreshToken)
        assert.notStrictEqual(issued.accessToken, server.accessToken)
        const stored = yield* store.load
        assert.isTrue(Option.isSome(stored) && Redacted.value(stored.value.refreshToken) === issued.refreshToken)
        // The rotated pair keeps working: a second expiry refreshes with the new refresh token.
        server.expireAccessToken()
        yield* editor.update(request(1, "newer 1"))
        assert.strictEqual(server.refreshes(), 2)
        assert.strictEqual(saved.length, 2)
        assert.strictEqual(server.message("chat-1", "m-1")?.text, "newer 1")
      }).pipe(Effect.scoped)
  )

  it.live("an inactive line is NotFound over real HTTP, for the whole call", () =>
    Effect.gen(function* () {
      const server = yield* Bitrix24Sandbox.scoped()
      const editor = yield* Bitrix24.make(server.settings, { retry: { maxAttempts: 1 } })
      const result = yield* Effect.result(editor.updateFor({ line: 999 }).update(request(1)))
      assert.isTrue(Result.isFailure(result) && result.failure.reason._tag === "NotFound")
    }).pipe(Effect.scoped)
  )

  const bucket = { drainPerSecond: 20, capacity: 5 }
  const burstOf = (server: Bitrix24Sandbox.Sandbox, limiter: RateLimiter.Service) =>
    Effect.gen(function* () {
      const editor = yield* Bitrix24.make(server.settings, {
        retry: { maxAttempts: 1 },
        // One message per call: concurrent update() calls would otherwise share calls; this test is about 20 calls.
        chunkSize: 1,
        rateLimiter: limiter
      })
      return yield* Effect.all(
        Array.from({ length: 20 }, (_, index) => Effect.result(editor.update(request(index + 1)))),
        { concurrency: "unbounded" }
      )
    })

  it.live("the client-side bucket keeps a burst under the portal's limit: no QUERY_LIMIT_EXCEEDED", () =>
    Effect.gen(function* () {
      const server = yield* Bitrix24Sandbox.scoped({ bucket })
      const outcomes = yield* burstOf(server, RateLimiter.make({ bucket }))
      assert.strictEqual(server.limitHits(), 0)
      assert.isTrue(outcomes.every(Result.isSuccess))
      assert.strictEqual(server.calls("imconnector.update.messages"), 20)
    }).pipe(Effect.scoped)
  )

  it.live("without a fitting bucket the same burst meets QUERY_LIMIT_EXCEEDED (the server does limit)", () =>
    Effect.gen(function* () {
      // A portal bucket draining 2/s: 20 calls at once meet its limit even when a loaded machine spreads them over
      // seconds (at 20/s, calls arriving over 0.75 s met no limit).
      const server = yield* Bitrix24Sandbox.scoped({ bucket: { drainPerSecond: 2, capacity: 5 } })
      const outcomes = yield* burstOf(server, RateLimiter.make({ bucket: { drainPerSecond: 1000, capacity: 1000 } }))
      assert.isAbove(server.limitHits(), 0)
      const limited = outcomes.filter(
        (outcome) => Result.isFailure(outcome) && outcome.failure.reason._tag === "RateLimited"
      )
      assert.strictEqual(limited.length, server.limitHits())
    }).pipe(Effect.scoped)
  )
})
