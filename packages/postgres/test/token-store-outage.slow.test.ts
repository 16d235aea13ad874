/**
 * A refreshed pair whose save failed because PostgreSQL went away (right after the OAuth server answered,
 * so the old refresh token is dead) is stored once the database is back, by the background tries, with
 * no further call: another process sharing the table then edits without refreshing, instead of being
 * told to authorize the application again. On the PostgreSQL server only: the refresh lock needs
 * sessions of its own (PGlite is one session).
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect, Layer, Option, Redacted } from "effect"
import nock from "nock"
import { afterAll, beforeAll } from "vitest"
import * as PgTokenStore from "../src/PgTokenStore.ts"
import { cuttable } from "./support/cuttable.ts"
import * as Databases from "./support/databases.ts"

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

const serverUrl = Databases.serverUrl

describe.skipIf(serverUrl === undefined)("a refreshed pair when PostgreSQL goes away during the refresh", () => {
  it.live("is stored in the background once the database is back; another process then needs no refresh", () =>
    Effect.gen(function* () {
      const url = serverUrl as string
      const table = `${Databases.prefixOfTables()}tokens`
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => cuttable(url)),
        (proxy) => Effect.promise(() => proxy.close())
      )
      const where = { portal: sandbox.settings.portalUrl, app: sandbox.clientId, table }
      const storeVia = (through: string) =>
        Effect.flatMap(Layer.build(PgClient.layer({ url: Redacted.make(through), maxConnections: 4 })), (context) =>
          Effect.provide(PgTokenStore.make(where), context)
        )
      // The OAuth server answers (it rotated the pair), then the database goes away before the save.
      const cutAfterTokenAnswer: typeof globalThis.fetch = async (input, init) => {
        const request = input instanceof Request ? input : new Request(input, init)
        const response = await fetch(request)
        if (request.url.includes("/oauth/token/")) await proxy.cut()
        return response
      }
      const first = yield* Bitrix24.make(sandbox.settings, {
        tokenStore: yield* storeVia(proxy.url),
        tokenStoreTimeout: "2 seconds",
        retry: { maxAttempts: 1 },
        transport: { fetch: cutAfterTokenAnswer, timeout: "10 seconds" }
      })
      sandbox.expireAccessToken()
      const error = yield* Effect.flip(first.update({ ids, text: "during" }))
      assert.strictEqual(error.reason._tag, "Unavailable")
      assert.strictEqual(sandbox.refreshes(), 1)
      yield* Effect.promise(() => proxy.restore())
      // No call: the background tries store the pair (the pause doubles from 250 ms).
      const direct = yield* storeVia(url)
      let stored: string | undefined
      for (let n = 0; n < 100 && stored !== sandbox.tokens().refreshToken; n++) {
        yield* Effect.sleep("200 millis")
        const loaded = yield* Effect.orElseSucceed(direct.load, () => Option.none())
        stored = Option.isSome(loaded) ? Redacted.value(loaded.value.refreshToken) : undefined
      }
      assert.strictEqual(stored, sandbox.tokens().refreshToken)
      // Another process on the same table edits with the stored pair: no refresh, no invalid_grant.
      const second = yield* Bitrix24.make(sandbox.settings, { tokenStore: direct, retry: { maxAttempts: 1 } })
      const edited = yield* second.update({ ids, text: "after" })
      assert.strictEqual(edited.text, "after")
      assert.strictEqual(sandbox.refreshes(), 1)
      assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
    }).pipe(Effect.scoped)
  )
})
