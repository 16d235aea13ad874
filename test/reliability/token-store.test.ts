/**
 * Rotated refresh tokens are never lost, also when the token store fails:
 * the call that meets the failure fails clearly, the new pair stays in memory
 * (no second refresh burns the rotated refresh token), later calls store it
 * first and then use it, and the store ends up holding the pair the OAuth
 * server issued last, across a restart too.
 */

import { mkdtemp } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24, TokenStore } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Fiber, Result } from "effect"
import { LARGE_BUCKET } from "./faultMatrix.ts"
import { failingFirst, storedPair } from "./nothingLost.ts"

describe("rotated refresh tokens are never lost, also when the token store fails", () => {
  it.live(
    "step by step: the call fails clearly, the pair stays in memory, later calls use it, the store catches up",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
        const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
        const tokens = failingFirst(2)
        const editor = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 }, tokenStore: tokens.store })
        )
        sandbox.expireAccessToken()

        // The refresh works, storing the new pair fails: the call fails, and says why and what happens next.
        const first = yield* Effect.flip(editor.update({ ids, text: "v1" }))
        assert.strictEqual(first.reason._tag, "Unavailable")
        assert.strictEqual("code" in first.reason ? first.reason.code : undefined, "TOKEN_STORE")
        assert.include(first.message, "could not be stored")
        assert.include(first.message, "kept in memory")
        assert.isTrue(first.isRetryable)
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.isUndefined(yield* storedPair(tokens.store))
        assert.strictEqual(sandbox.inspect(ids)?.text, "v0", "nothing sent with an unstored pair")

        // Storing fails again: the same pair is kept; no second refresh (it would burn the rotated refresh token).
        const second = yield* Effect.flip(editor.update({ ids, text: "v1" }))
        assert.strictEqual("code" in second.reason ? second.reason.code : undefined, "TOKEN_STORE")
        assert.strictEqual(sandbox.refreshes(), 1)

        // The store is back: the pair is stored first, then used.
        yield* editor.update({ ids, text: "v1" })
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.deepStrictEqual(yield* storedPair(tokens.store), sandbox.tokens())
        assert.strictEqual(sandbox.inspect(ids)?.text, "v1")

        // The rotated refresh token works: the next expiry refreshes with it, and the store follows.
        sandbox.expireAccessToken()
        yield* editor.update({ ids, text: "v2" })
        assert.strictEqual(sandbox.refreshes(), 2)
        assert.deepStrictEqual(yield* storedPair(tokens.store), sandbox.tokens())

        // An app restarted with its original (now used-up) settings takes the store's pair, which wins.
        const restarted = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 }, tokenStore: tokens.store })
        )
        yield* restarted.update({ ids, text: "v3" })
        sandbox.expireAccessToken()
        yield* restarted.update({ ids, text: "v4" })
        assert.strictEqual(sandbox.refreshes(), 3)
        assert.deepStrictEqual(yield* storedPair(tokens.store), sandbox.tokens())
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["v0", "v1", "v2", "v3", "v4"])
        assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
      })
  )

  it.live(
    "100 concurrent updates on an expired token, the store failing twice: one refresh, every edit lands with retries on",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
        const seeded = yield* Effect.forEach(
          Array.from({ length: 100 }, (_, n) => n),
          (n) => Effect.promise(() => sandbox.seedMessage(`message ${n}`))
        )
        const tokens = failingFirst(2)
        const editor = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, {
            retry: { initialDelay: 5, maxDelay: 20, maxAttempts: 4 },
            tokenStore: tokens.store,
            rateLimit: { bucket: LARGE_BUCKET }
          })
        )
        sandbox.expireAccessToken()
        const outcomes = yield* Effect.forEach(
          seeded,
          (ids, n) => Effect.result(editor.update({ ids, text: `edited ${n}` })),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          outcomes.filter(Result.isFailure).map((outcome) => outcome.failure.message),
          []
        )
        assert.strictEqual(sandbox.refreshes(), 1, "single flight, also when storing fails")
        assert.strictEqual(tokens.saves(), 3)
        assert.deepStrictEqual(yield* storedPair(tokens.store), sandbox.tokens())
        seeded.forEach((ids, n) => {
          assert.strictEqual(sandbox.inspect(ids)?.text, `edited ${n}`)
        })
      })
  )
})

describe("processes sharing one token file (issue 10, item 7)", () => {
  const tokenFile = Effect.promise(async () => join(await mkdtemp(join(tmpdir(), "reword-shared-")), "tokens.json"))

  it.live(
    "the second editor reads the store before refreshing: it adopts the first one's rotated pair, no invalid_grant",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
        const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
        const path = yield* tokenFile
        const make = () =>
          Effect.orDie(
            Bitrix24.make(sandbox.settings, {
              retry: { maxAttempts: 1 },
              tokenStore: TokenStore.makeFile(path)
            })
          )
        const first = yield* make()
        const second = yield* make()
        sandbox.expireAccessToken()
        yield* first.update({ ids, text: "v1" })
        yield* second.update({ ids, text: "v2" })
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["v0", "v1", "v2"])
      })
  )

  it.live(
    "invalid_grant right after the other one's rotation, before it stored its pair, is not final: the newer pair is adopted",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
        const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
        const path = yield* tokenFile
        const file = TokenStore.makeFile(path)
        // The first editor's disk is slow: its rotated pair lands 400 ms after the OAuth server answered.
        const slow: TokenStore.Service = {
          load: file.load,
          save: (tokens) => Effect.andThen(Effect.sleep("400 millis"), file.save(tokens))
        }
        const first = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 }, tokenStore: slow })
        )
        const second = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 }, tokenStore: file })
        )
        sandbox.expireAccessToken()
        const running = yield* Effect.forkChild(first.update({ ids, text: "v1" }))
        // Once the first one's refresh went through (its pair not stored yet), the second one refreshes too.
        for (let n = 0; n < 200 && sandbox.refreshes() === 0; n++) yield* Effect.sleep("5 millis")
        assert.strictEqual(sandbox.refreshes(), 1)
        const edited = yield* Effect.result(second.update({ ids, text: "v2" }))
        assert.isTrue(Result.isSuccess(edited), Result.isFailure(edited) ? edited.failure.message : "")
        yield* Fiber.join(running)
        assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 1)
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.sameMembers([...(sandbox.inspect(ids)?.history ?? [])], ["v0", "v1", "v2"])
      })
  )

  it.live("an invalid_grant that no newer stored pair explains says so", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const ids = yield* Effect.promise(() => sandbox.seedMessage("v0"))
      // Another app used the configured refresh token and kept the pair to itself (no shared store).
      const other = yield* Effect.orDie(Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
      sandbox.expireAccessToken()
      yield* other.update({ ids, text: "v1" })
      const path = yield* tokenFile
      const editor = yield* Effect.orDie(
        Bitrix24.make(sandbox.settings, {
          retry: { maxAttempts: 1 },
          tokenStore: TokenStore.makeFile(path)
        })
      )
      const error = yield* Effect.flip(editor.update({ ids, text: "v2" }))
      assert.strictEqual(error.reason._tag, "Unauthorized")
      assert.include(error.message, "invalid_grant")
      assert.include(error.message, "no newer pair appeared in the token store")
    })
  )
})
