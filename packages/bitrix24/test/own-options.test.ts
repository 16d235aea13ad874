/**
 * Bitrix24's own options (`chunkSize`, `tokenStore`, `tokenStoreTimeout`, `onOperatingLimit`, `rateLimit`) are
 * one Schema, decoded once with core's: each wrong value is a configuration error naming its path, before
 * anything is built or sent.
 */
import { Bitrix24 } from "@reword/bitrix24"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"

const settings = {
  portalUrl: "https://example.bitrix24.com",
  accessToken: Redacted.make("access-own-options"),
  refreshToken: Redacted.make("refresh-own-options"),
  clientId: "local.own-options",
  clientSecret: Redacted.make("secret-own-options"),
  connector: "my_connector",
  line: 7
}

const problemOf = (options: object): string =>
  Effect.runSync(
    Effect.match(Effect.scoped(Bitrix24.make(settings as never, options as Bitrix24.Options)), {
      onFailure: (error) => error.message,
      onSuccess: () => "built"
    })
  )

describe("Bitrix24's own options", () => {
  it.each([
    [{ chunkSize: 0 }, /chunkSize must be an integer from 1 to \d+ \(got 0\)/],
    [{ tokenStore: { load: 1 } }, /tokenStore must be a TokenStore service/],
    [{ tokenStoreTimeout: "soon" }, /tokenStoreTimeout/],
    [{ onOperatingLimit: "retry" }, /onOperatingLimit must be one of "wait", "fail"/],
    [{ rateLimit: "fast" }, /rateLimit must be an object/],
    [{ rateLimit: { bucket: "huge" } }, /rateLimit\.bucket must be one of "standard"/],
    [
      { rateLimit: { bucket: { drainPerSecond: 0, capacity: 10 } } },
      /rateLimit\.bucket\.drainPerSecond must be a finite number above 0/
    ],
    [
      { rateLimit: { bucket: { drainPerSecond: 2, capacity: 1.5 } } },
      /rateLimit\.bucket\.capacity must be an integer at least 1/
    ],
    [{ rateLimit: { headroom: -1 } }, /rateLimit\.headroom must be an integer at least 0/],
    [{ rateLimit: { operatingMargin: "forever" } }, /rateLimit\.operatingMargin must be a duration/]
  ])("%j is refused, naming the field", (options, message) => {
    expect(problemOf(options)).toMatch(message)
  })

  it("names every wrong field at once", () => {
    const message = problemOf({ chunkSize: 0, rateLimit: { headroom: -1 }, onOperatingLimit: "x" })
    expect(message).toMatch(/chunkSize/)
    expect(message).toMatch(/rateLimit\.headroom/)
    expect(message).toMatch(/onOperatingLimit/)
  })

  it("takes good options", () => {
    expect(
      problemOf({ chunkSize: 10, rateLimit: { bucket: "enterprise", headroom: 2 }, onOperatingLimit: "fail" })
    ).toBe("built")
  })
})
