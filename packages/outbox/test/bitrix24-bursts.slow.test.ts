/**
 * The Bitrix24 property of `bitrix24-bursts.test.ts`, over many seeds (a new
 * seed on each run, printed by fast-check when a case fails); each case drains
 * within 30 s, and 40 cases take about 20 s. REWORD_TEST_SETTLE="1 millis" (a settle window
 * shorter than the latencies) makes it fail: late attempts then win.
 */
import * as fc from "fast-check"
import { afterAll, describe, it } from "vitest"
import * as Bursts from "./support/bitrix24Bursts.ts"
import * as Databases from "./support/databases.ts"

afterAll(() => Databases.stopAll())

describe("Bitrix24 through the outbox, many seeds", () => {
  it("property: bursts of edits with latencies, timeouts and sandbox faults end with the newest text", async () => {
    await fc.assert(fc.asyncProperty(Bursts.arbitrary, Bursts.run), { numRuns: 40 })
  }, 180_000)
})
