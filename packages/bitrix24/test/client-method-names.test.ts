import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Effect } from "effect"
import nock from "nock"
import { PORTAL, settings } from "./support/bitrix24.ts"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.disableNetConnect()
})
afterEach(() => {
  nock.cleanAll()
})

describe("Bitrix24Client.call", () => {
  it.live("refuses a method name that is not a REST method (., .., slashes, ...) without sending anything", () =>
    Effect.gen(function* () {
      const scope = nock(PORTAL).post(/.*/).reply(200, { result: true }).persist()
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      for (const method of [".", "..", "...", "", "imconnector/../x", "a b", "%2e%2e"]) {
        const error = yield* Effect.flip(editor.client.call(method, {}))
        assert.strictEqual(error.reason._tag, "InvalidRequest", method)
        assert.include(error.message, "method", method)
      }
      assert.isFalse(scope.isDone())
    })
  )

  it.live("takes ordinary method names", () =>
    Effect.gen(function* () {
      const scope = nock(PORTAL).post("/rest/imopenlines.config.list_get").reply(200, { result: [] })
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      const answer = yield* editor.client.call("imopenlines.config.list_get", {})
      assert.deepStrictEqual(answer.result, [])
      assert.isTrue(scope.isDone())
    })
  )
})
