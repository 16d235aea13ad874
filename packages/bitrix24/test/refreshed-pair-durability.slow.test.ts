/**
 * A refreshed pair is the only valid one (refresh tokens rotate): it must reach the token store even
 * when the store fails for a while, when the process stops, and when the OAuth server answers after
 * the caller stopped waiting; and "authorize again" is said only when that is true.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, type TokenStore } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Exit, Logger, Scope } from "effect"
import nock from "nock"
import { NEW_ACCESS, NEW_REFRESH, okItem, request, settings, success, TOKEN_PATH } from "./support/bitrix24.ts"
import { bodyJson, editorOn, type Handler, json } from "./support/fakeServer.ts"

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

/** A portal taking only NEW_ACCESS, and an OAuth server that rotates to NEW_ACCESS/NEW_REFRESH. */
const rotatingPortal: Handler = (seen) => {
  if (seen.url.pathname === TOKEN_PATH) {
    return json(200, { access_token: NEW_ACCESS, refresh_token: NEW_REFRESH, expires_in: 3600 })
  }
  const body = bodyJson(seen)
  return body.auth === NEW_ACCESS
    ? json(200, success(body.MESSAGES.map((item) => okItem(item))))
    : json(401, { error: "expired_token", error_description: "expired" })
}

/** A store in memory whose saves (and loads, once started) fail while `down` says so. */
const flakyStore = () => {
  const state = { saved: undefined as TokenStore.PlainTokens | undefined, saveDown: true, loadDown: false, saves: 0 }
  const store: TokenStore.PromiseStore = {
    load: async () => {
      if (state.loadDown) throw new Error("connection refused")
      return state.saved
    },
    save: async (tokens) => {
      state.saves += 1
      if (state.saveDown) throw new Error("connection refused")
      state.saved = tokens
    }
  }
  return { state, store }
}

const waitUntil = (check: () => boolean, seconds: number) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < seconds * 20 && !check(); waited++) yield* Effect.sleep("50 millis")
    return check()
  })

/** Lines logged at warning or above, and every line, while `effect` runs. */
const capturing = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ message }) => {
    lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("a refreshed pair the token store could not take", () => {
  it.live("is stored in the background once the store is back, with no further call", () =>
    Effect.gen(function* () {
      const { state, store } = flakyStore()
      const editor = yield* editorOn(rotatingPortal, { tokenStore: store })
      const error = yield* Effect.flip(editor.update(request(1)))
      assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "TOKEN_STORE")
      assert.include(error.message, "in the background")
      state.saveDown = false
      // No call is made: the background tries (250 ms, doubling) store it.
      assert.isTrue(yield* waitUntil(() => state.saved !== undefined, 10))
      assert.strictEqual(state.saved?.refreshToken, NEW_REFRESH)
      assert.strictEqual(state.saved?.accessToken, NEW_ACCESS)
    })
  )

  it.live("keeps trying with a growing pause, not in a tight loop", () =>
    Effect.gen(function* () {
      const { state, store } = flakyStore()
      const editor = yield* editorOn(rotatingPortal, { tokenStore: store })
      yield* Effect.flip(editor.update(request(1)))
      const before = state.saves
      yield* Effect.sleep("2 seconds")
      // 250 + 500 + 1000 ms: three tries at most in two seconds (plus the one the call made).
      assert.isAtLeast(state.saves - before, 1)
      assert.isAtMost(state.saves - before, 3)
    })
  )

  it.live("is stored when the editor's scope closes (dispose), within the store's deadline", () =>
    Effect.gen(function* () {
      const { state, store } = flakyStore()
      const scope = yield* Scope.make()
      const editor = yield* Scope.provide(editorOn(rotatingPortal, { tokenStore: store }), scope)
      yield* Effect.flip(editor.update(request(1)))
      // Two failed background tries (250 ms, 500 ms); the next one is 1 s away.
      yield* Effect.sleep("900 millis")
      assert.strictEqual(state.saved, undefined)
      state.saveDown = false
      yield* Scope.close(scope, Exit.void)
      // Stored by the time the scope is closed, not later.
      assert.strictEqual(state.saved?.refreshToken, NEW_REFRESH)
    })
  )

  it.live("that cannot be stored even at dispose is logged as lost: only then is 'authorize again' said", () =>
    Effect.gen(function* () {
      const { store } = flakyStore()
      const log = capturing()
      const scope = yield* Scope.make()
      const editor = yield* Scope.provide(
        editorOn(rotatingPortal, { tokenStore: store, tokenStoreTimeout: 200 }),
        scope
      )
      yield* Effect.flip(editor.update(request(1)))
      yield* Effect.provide(Scope.close(scope, Exit.void), log.layer)
      const lost = log.lines.filter((line) => line.includes("could not be stored before this process stopped"))
      assert.strictEqual(lost.length, 1, log.lines.join("\n"))
      assert.include(lost[0], "authorized again")
    })
  )
})

describe("invalid_grant while the token store cannot be read", () => {
  it.live("is a retryable Unavailable naming the store, not Unauthorized 'authorize again'", () =>
    Effect.gen(function* () {
      const { state, store } = flakyStore()
      state.saveDown = false
      const refusing: Handler = (seen) =>
        seen.url.pathname === TOKEN_PATH
          ? json(400, { error: "invalid_grant", error_description: "Invalid grant" })
          : json(401, { error: "expired_token", error_description: "expired" })
      const editor = yield* editorOn(refusing, { tokenStore: store })
      state.loadDown = true
      const error = yield* Effect.flip(editor.update(request(1)))
      assert.strictEqual(error.reason._tag, "Unavailable")
      assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "TOKEN_STORE")
      assert.isTrue(error.isRetryable)
      assert.include(error.message, "could not be read")
      assert.notInclude(error.message, "authorize the application again")
      // The store answers again, and holds nothing newer: now "authorize again" is true.
      state.loadDown = false
      const again = yield* Effect.flip(editor.update(request(2)))
      assert.strictEqual(again.reason._tag, "Unauthorized")
      assert.include(again.message, "authorize the application again")
    })
  )
})

describe("an OAuth answer that comes after the caller stopped waiting", () => {
  /** A fetch that holds the token answer `millis` after the OAuth server gave it (the server rotated already). */
  const slowTokenAnswers =
    (millis: number): typeof globalThis.fetch =>
    async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init)
      const response = await fetch(request)
      if (!request.url.includes("/oauth/token/")) return response
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, millis)
        request.signal.addEventListener("abort", () => {
          clearTimeout(timer)
          reject(request.signal.reason)
        })
      })
      return response
    }

  it.live("is read, used and stored: the next call works without another refresh", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      let saved: TokenStore.PlainTokens | undefined
      const store: TokenStore.PromiseStore = {
        load: async () => saved,
        save: async (tokens) => {
          saved = tokens
        }
      }
      const editor = yield* Bitrix24.make(sandbox.settings, {
        tokenStore: store,
        retry: { maxAttempts: 1 },
        transport: { timeout: "1500 millis", fetch: slowTokenAnswers(4_000) }
      })
      sandbox.expireAccessToken()
      const started = Date.now()
      const error = yield* Effect.flip(editor.update({ ids, text: "first" }))
      // The caller stopped waiting at its timeout, told that the answer is still awaited.
      assert.isBelow(Date.now() - started, 3_900)
      assert.strictEqual(error.reason._tag, "Timeout")
      assert.isTrue(error.isRetryable)
      // The answer comes later: its pair, the only valid one, is stored.
      assert.isTrue(yield* waitUntil(() => saved?.refreshToken === sandbox.tokens().refreshToken, 10))
      const edited = yield* editor.update({ ids, text: "second" })
      assert.strictEqual(edited.text, "second")
      assert.strictEqual(sandbox.refreshes(), 1)
      assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
    }).pipe(Effect.scoped)
  )

  it.live("that never comes is abandoned when the editor's scope closes: nothing outlives dispose", () =>
    Effect.gen(function* () {
      let aborted = false
      const hangingOAuth: typeof globalThis.fetch = async (input, init) => {
        const request = input instanceof Request ? input : new Request(input, init)
        if (!request.url.includes("/oauth/token/")) {
          return json(401, { error: "expired_token", error_description: "expired" })
        }
        return new Promise<Response>((_, reject) => {
          request.signal.addEventListener("abort", () => {
            aborted = true
            reject(request.signal.reason)
          })
        })
      }
      const scope = yield* Scope.make()
      const editor = yield* Scope.provide(
        Effect.orDie(
          Bitrix24.make(settings(), {
            retry: { maxAttempts: 1 },
            transport: { timeout: "300 millis", fetch: hangingOAuth }
          })
        ),
        scope
      )
      const error = yield* Effect.flip(editor.update(request(1)))
      assert.strictEqual(error.reason._tag, "Timeout")
      assert.isFalse(aborted)
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      // The close grace (5 s), then the request is aborted.
      assert.isBelow(Date.now() - started, 9_000)
      // The abort reaches the request's own signal through an event: give it a moment on a loaded machine.
      for (let n = 0; n < 1_000 && !aborted; n++) yield* Effect.sleep("10 millis")
      assert.isTrue(aborted)
    })
  )
})
