/**
 * A token store that hangs never hangs the editor (issue 10, item 4), and a
 * Promise-shaped store works from both APIs under the same deadline (issue
 * 12, item 2).
 */
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, TokenStore } from "@reword/bitrix24"
import { createEditor, isEditError } from "@reword/core/promise"
import { Effect, Option, Redacted } from "effect"
import { expectTypeOf } from "vitest"
import { withDeadline } from "../src/internal/storeDeadline.ts"
import { ACCESS, NEW_ACCESS, NEW_REFRESH, okItem, request, success, TOKEN_PATH } from "./support/bitrix24.ts"
import { bodyJson, editorOn, fakeFetch, type Handler, json } from "./support/fakeServer.ts"

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

const never = <A>(): Promise<A> => new Promise<A>(() => {})

describe("a token store under a deadline (item 4)", () => {
  it.live(
    "a save that never resolves fails the call at the deadline (typed, retryable, naming the token store); later calls go on",
    () =>
      Effect.gen(function* () {
        let hang = true
        let saved: TokenStore.PlainTokens | undefined
        const store: TokenStore.PromiseStore = {
          load: async () => saved,
          save: (tokens) => {
            if (hang) return never()
            saved = tokens
            return Promise.resolve()
          }
        }
        const editor = yield* editorOn(rotatingPortal, { tokenStore: store, tokenStoreTimeout: 100 })
        const started = Date.now()
        const error = yield* Effect.flip(editor.update(request(1)))
        const elapsed = Date.now() - started
        assert.isBelow(elapsed, 2_000)
        assert.strictEqual(error.reason._tag, "Unavailable")
        assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "TOKEN_STORE")
        assert.isTrue(error.isRetryable)
        assert.include(error.message, "token store")
        assert.notInclude(error.message, NEW_ACCESS)
        // Still hanging: the next call fails the same way in bounded time (the lock was released).
        const again = yield* Effect.flip(editor.update(request(2)))
        assert.strictEqual("code" in again.reason ? again.reason.code : undefined, "TOKEN_STORE")
        // The store is back: the pair kept in memory is stored, then used.
        hang = false
        const edited = yield* editor.update(request(3))
        assert.strictEqual(edited.ids.externalMessageId, "m-3")
        assert.strictEqual(saved?.refreshToken, NEW_REFRESH)
      })
  )

  it.live("an Effect store whose save never ends, even uninterruptibly, is cut at the deadline too", () =>
    Effect.gen(function* () {
      const memory = TokenStore.makeMemory()
      const store: TokenStore.Service = { load: memory.load, save: () => Effect.uninterruptible(Effect.never) }
      const editor = yield* editorOn(rotatingPortal, { tokenStore: store, tokenStoreTimeout: 100 })
      const error = yield* Effect.flip(editor.update(request(1))).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "TOKEN_STORE")
      assert.isTrue(error.isRetryable)
    })
  )

  it.live("a load that never resolves at start fails the editor's construction at the deadline", () =>
    Effect.gen(function* () {
      const store: TokenStore.PromiseStore = { load: () => never(), save: async () => {} }
      const { Bitrix24 } = yield* Effect.promise(() => import("@reword/bitrix24"))
      const { settings } = yield* Effect.promise(() => import("./support/bitrix24.ts"))
      const error = yield* Effect.flip(
        Bitrix24.make(settings(), {
          tokenStore: store,
          tokenStoreTimeout: "100 millis",
          transport: { fetch: fakeFetch(rotatingPortal) }
        })
      ).pipe(Effect.timeout("5 seconds"))
      assert.include(String(error), "token store")
    })
  )

  it.live.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])(
    "tokenStoreTimeout %s is a configuration error naming the field",
    (timeout) =>
      Effect.gen(function* () {
        const { Bitrix24 } = yield* Effect.promise(() => import("@reword/bitrix24"))
        const { settings } = yield* Effect.promise(() => import("./support/bitrix24.ts"))
        const error = yield* Effect.flip(Bitrix24.make(settings(), { tokenStoreTimeout: timeout }))
        assert.include(String(error), "tokenStoreTimeout")
      })
  )

  it.live("a store call that ends in time is unaffected: withDeadline passes its result through", () =>
    Effect.gen(function* () {
      const store = withDeadline(TokenStore.makeMemory(), 1_000)
      yield* store.save({ accessToken: Redacted.make(ACCESS), refreshToken: Redacted.make("refresh-x") })
      const loaded = yield* store.load
      assert.strictEqual(Option.isSome(loaded) && Redacted.value(loaded.value.accessToken), ACCESS)
    })
  )
})

describe("a Promise-shaped token store (issue 12, item 2)", () => {
  it.live("fromPromise: what save gets (plain strings) is what load gives back, as Redacted", () =>
    Effect.gen(function* () {
      let row: TokenStore.PlainTokens | undefined
      const store = TokenStore.fromPromise({
        load: async () => row,
        save: async (tokens) => {
          row = tokens
        }
      })
      assert.isTrue(Option.isNone(yield* store.load))
      yield* store.save({
        accessToken: Redacted.make("a-token-1"),
        refreshToken: Redacted.make("r-token-1"),
        expiresAt: 1_800_000_000
      })
      assert.deepStrictEqual(row, { accessToken: "a-token-1", refreshToken: "r-token-1", expiresAt: 1_800_000_000 })
      const loaded = yield* store.load
      assert.isTrue(Option.isSome(loaded))
      if (Option.isSome(loaded)) {
        assert.strictEqual(Redacted.value(loaded.value.refreshToken), "r-token-1")
        assert.strictEqual(loaded.value.expiresAt, 1_800_000_000)
      }
    })
  )

  it.live("fromPromise: a rejected or malformed load is a TokenStoreError that never repeats the store's text", () =>
    Effect.gen(function* () {
      const failing = TokenStore.fromPromise({
        load: () => Promise.reject(new Error("db down, token=r-secret-1")),
        save: () => Promise.reject(new Error("db down, token=r-secret-1"))
      })
      const loadError = yield* Effect.flip(failing.load)
      assert.notInclude(loadError.message, "r-secret-1")
      const saveError = yield* Effect.flip(
        failing.save({ accessToken: Redacted.make("a-secret-1"), refreshToken: Redacted.make("r-secret-1") })
      )
      assert.notInclude(saveError.message, "r-secret-1")
      const odd = TokenStore.fromPromise({
        load: async () => ({ accessToken: 42, refreshToken: "" }) as unknown as TokenStore.PlainTokens,
        save: async () => {}
      })
      const oddError = yield* Effect.flip(odd.load)
      assert.include(oddError.message, "not a token pair")
      const throwing = TokenStore.fromPromise({
        load: () => {
          throw new Error("sync throw")
        },
        save: async () => {}
      })
      assert.strictEqual((yield* Effect.flip(throwing.load))._tag, "TokenStoreError")
    })
  )

  it.live(
    "createEditor takes a Promise-shaped store under providerOptions.bitrix24.tokenStore, and keeps rotated tokens in it",
    () =>
      Effect.promise(async () => {
        let row: TokenStore.PlainTokens | undefined
        const editor = await createEditor({
          providers: Bitrix24.provider,
          settings: {
            bitrix24: {
              portalUrl: "https://acme.bitrix24.test",
              accessToken: ACCESS,
              refreshToken: "refresh-token-0001-bbbb",
              clientId: "local.app.0001",
              clientSecret: "client-secret-0001-cccc",
              oauthUrl: "https://oauth.bitrix.test",
              connector: "reword_test",
              line: 7
            }
          },
          retry: { maxAttempts: 1 },
          providerOptions: {
            bitrix24: {
              tokenStore: {
                load: async () => row,
                save: async (tokens: TokenStore.PlainTokens) => {
                  row = tokens
                }
              },
              tokenStoreTimeout: 1_000
            }
          },
          transport: { fetch: fakeFetch(rotatingPortal) }
        })
        try {
          const edited = await editor.update(request(1))
          assert.strictEqual(edited.ids.externalMessageId, "m-1")
          assert.deepStrictEqual(row, { accessToken: NEW_ACCESS, refreshToken: NEW_REFRESH, expiresAt: row?.expiresAt })
          assert.isNumber(row?.expiresAt)
        } catch (error) {
          if (isEditError(error)) throw new Error(error.message)
          throw error
        } finally {
          await editor.dispose()
        }
      })
  )
})

describe("the descriptor's option type (issue 12, item 2)", () => {
  it("providerOptions.bitrix24.tokenStore takes either a TokenStore service or a Promise-shaped store", () => {
    expectTypeOf<Bitrix24.ProviderOptions["tokenStore"]>().toEqualTypeOf<
      TokenStore.Service | TokenStore.PromiseStore | undefined
    >()
    expectTypeOf<TokenStore.PromiseStore["load"]>().returns.toEqualTypeOf<Promise<TokenStore.PlainTokens | undefined>>()
  })
})
