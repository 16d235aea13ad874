/**
 * The sandbox reads a call's form data with PHP's nested keys: a key that names a member of
 * `Object.prototype` (`__proto__`, `constructor`) is a parameter like any other, and never reaches
 * the objects of the process the sandbox runs in.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { RateLimiter } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
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

describe("form data with keys named like Object.prototype's members", () => {
  it("pollutes nothing, and the call is answered as a portal answers it", async () => {
    const sandbox = await Bitrix24Sandbox.start({ bucket: false })
    try {
      await sandbox.seedMessage("before", { externalMessageId: "f-1", externalChatId: "c-1", externalAuthorId: "u-1" })
      const form = new URLSearchParams({
        CONNECTOR: sandbox.connector,
        LINE: String(sandbox.line),
        "__proto__[rewordPolluted]": "yes",
        "MESSAGES[0][__proto__][rewordPolluted]": "yes",
        "MESSAGES[0][constructor][prototype][rewordPolluted]": "yes",
        "MESSAGES[0][user][id]": "u-1",
        "MESSAGES[0][message][id]": "f-1",
        "MESSAGES[0][message][text]": "after",
        "MESSAGES[0][chat][id]": "c-1"
      })
      const response = await fetch(`${sandbox.restUrl}imconnector.update.messages?auth=${sandbox.accessToken}`, {
        method: "POST",
        body: form
      })
      await response.arrayBuffer()
      assert.isUndefined(({} as Record<string, unknown>).rewordPolluted)
      assert.isUndefined((Object.prototype as Record<string, unknown>).rewordPolluted)
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(sandbox.inspect({ externalChatId: "c-1", externalMessageId: "f-1" })?.history, [
        "before",
        "after"
      ])
    } finally {
      delete (Object.prototype as Record<string, unknown>).rewordPolluted
      await sandbox.stop()
    }
  })
})

describe("a plan named like a member of Object.prototype", () => {
  it("is no plan: the sandbox and the rate limiter refuse it by naming the plans", async () => {
    for (const name of ["toString", "constructor", "__proto__"]) {
      await expectRejects(() => Bitrix24Sandbox.start({ bucket: name as "standard" }), /bucket must be "standard"/)
      assert.throws(
        () => RateLimiter.make({ bucket: name as "standard" }),
        /bucket must be one of standard, enterprise/
      )
    }
  })
})

const expectRejects = async (start: () => Promise<unknown>, message: RegExp) => {
  const outcome = await start().then(
    () => undefined,
    (error: unknown) => error
  )
  assert.instanceOf(outcome, Error)
  assert.match((outcome as Error).message, message)
}
