/**
 * One "did you mean" for every key check (issue 19): the same suggestion, by the same threshold, for a
 * settings object's key (core) and for an outbox option (the outbox imports core's function).
 */
import { Provider } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import * as OutboxOptions from "../packages/outbox/src/internal/options.ts"

describe("ProviderKit.didYouMean", () => {
  it.each([
    ["acountId", ["accountId", "apiKey"], "accountId"],
    ["baseURL", ["baseUrl"], "baseUrl"],
    ["bta", ["provider", "alpha", "beta"], "beta"],
    ["regoin", ["region"], "region"],
    ["leese", ["lease", "pollInterval"], "lease"]
  ] as const)("suggests the known key %s most likely meant", (key, known, meant) => {
    expect(ProviderKit.nearest(key, known)).toBe(meant)
    expect(ProviderKit.didYouMean(key, known)).toBe(` (did you mean ${meant}?)`)
  })

  it.each([
    ["idx", ["id"]], // a 2-letter key is matched only in another case
    ["zone", ["region", "account"]],
    ["lase", ["pollInterval"]]
  ] as const)("suggests nothing for %s, far from every known key", (key, known) => {
    expect(ProviderKit.nearest(key, known)).toBeUndefined()
    expect(ProviderKit.didYouMean(key, known)).toBe("")
  })

  it("answers at once for a hostile key of any length", () => {
    expect(ProviderKit.nearest("a".repeat(1_000_000), ["accountId"])).toBeUndefined()
    expect(ProviderKit.nearest("ACCOUNTID", ["accountId"])).toBe("accountId")
  })

  it("is the suggestion of a settings object's key and of an outbox option alike", async () => {
    const Settings = ProviderKit.declareSettings({
      name: "acme",
      fields: { batchSize: ProviderKit.text({ env: "ACME_BATCH_SIZE", description: "a field named as an option" }) },
      check: (raw) => Result.succeed(raw)
    })
    const refused = await Effect.runPromise(
      Effect.flip(Settings.read(Provider.fromObject({ acme: { bachSize: "1" } } as never)))
    )
    expect(refused.message).toContain(
      `Unknown setting "bachSize" in acme (the settings object) (did you mean batchSize?)`
    )
    const outbox = OutboxOptions.unknownKeys({ bachSize: 1 }, ["batchSize", "lease"])
    expect(outbox[0]?.message).toContain("(did you mean batchSize?)")
    const far = OutboxOptions.unknownKeys({ zzz: 1 }, ["batchSize", "lease"])
    expect(far[0]?.message).not.toContain("did you mean")
  })
})
