/**
 * The outbox on the Bitrix24 sandbox under bursts of edits, random latencies
 * (late landings) and faults: a few seeds here; many in
 * `bitrix24-bursts.slow.test.ts`.
 */
import * as fc from "fast-check"
import { afterAll, describe, it } from "vitest"
import * as Bursts from "./support/bitrix24Bursts.ts"
import * as Databases from "./support/databases.ts"

afterAll(() => Databases.stopAll())

describe("Bitrix24 through the outbox", () => {
  it("property (a few seeds): bursts of edits with latencies, timeouts and sandbox faults end with the newest text", async () => {
    await fc.assert(fc.asyncProperty(Bursts.arbitrary, Bursts.run), { numRuns: 3, seed: 1414 })
  }, 120_000)
})
