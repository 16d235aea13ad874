/**
 * Many app instances, one portal, with real processes (`scripts/rehearsal`):
 * each instance an outbox worker on the shared PostgreSQL server and a
 * Bitrix24 editor whose token pair and rate limit live there too
 * (`@reword/postgres`), against one Bitrix24 sandbox with its leaky bucket
 * (scaled: 10 requests/s after a burst of 10) and every call held for its
 * server time. Concurrent deliveries are found in the sandbox's request log:
 * two update calls carrying one message id in flight at the same time.
 *
 * On the PostgreSQL server `REWORD_TEST_POSTGRES_URL` names (CI sets it); PGlite
 * serves one session and cannot host several processes.
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { describe as lines, passed, rehearse } from "../scripts/rehearsal/run.ts"

const serverUrl = process.env.REWORD_TEST_POSTGRES_URL === "" ? undefined : process.env.REWORD_TEST_POSTGRES_URL

describe.skipIf(serverUrl === undefined)("four app instances on one portal (processes, PostgreSQL server)", () => {
  it("SIGKILL mid-delivery, one joining late, one leaving: no acknowledged edit lost, newest last, no concurrent delivery", async () => {
    const report = await rehearse({ databaseUrl: serverUrl, instances: 4, messages: 150, versions: 3 })
    const killed = report.instances.find((instance) => instance.end === "killed")
    expect(killed, lines(report).join("\n")).toBeDefined()
    expect(report.killedMidDelivery, "killed while a call of its was in flight").toBe(true)
    expect(killed?.acks ?? 0).toBeGreaterThan(0)
    expect(report.instances.filter((instance) => instance.joinedLate)).toHaveLength(1)
    expect(report.instances.filter((instance) => instance.end === "left")).toHaveLength(1)
    // Every edit acknowledged, by any instance (the killed one included), is kept and landed or overwritten by a newer.
    expect(report.acknowledged).toBeGreaterThan(2 * 150)
    expect(report.lost).toEqual([])
    expect(report.notNewest).toEqual([])
    expect(report.outOfOrder).toEqual([])
    expect(report.unconfirmed).toEqual([])
    // The journal is complete: no attempt left open; those in flight in the killed one were taken over.
    expect(report.openAttempts).toBe(0)
    expect(report.abandoned[killed?.name ?? ""] ?? 0).toBeGreaterThan(0)
    expect(report.concurrentDeliveries).toEqual([])
    expect(report.limitAnswers).toBe(0)
    expect(report.refreshes).toBe(1)
    expect(report.invalidGrants).toBe(0)
    expect(passed(report)).toBe(true)
  }, 180_000)

  it("calls held at the portal three times as long as the lease: no message delivered by two instances at once", async () => {
    const report = await rehearse({
      databaseUrl: serverUrl,
      instances: 3,
      messages: 60,
      versions: 3,
      join: false,
      leave: false,
      kill: false,
      expireToken: false,
      // A lease renewed every quarter of it: 2 s leaves a live instance 1.5 s of slack on a loaded machine.
      leaseMs: 2_000,
      settleMs: 500,
      callMs: 6_000,
      timeoutMs: 15_000,
      // Calls held 6 s whatever they carry, against a 15 s timeout: sized from the portal's server time, an
      // editor whose first answer was a 1-message call counts the 6 s per message, so carries one message per
      // call (7.5 s budget) and never learns otherwise; 48 claimed messages then take 48 calls one after
      // another (288 s), past the rehearsal's 120 s. What this test pins is the lease, not the sizing.
      chunkSize: 20
    })
    expect(report.concurrentDeliveries, lines(report).join("\n")).toEqual([])
    // Live instances renewed their claims: none was taken over.
    expect(report.abandoned).toEqual({})
    // No call outlasted the transport's timeout: none was sent again while it may still have been held.
    expect(report.unknown).toEqual({})
    expect(report.lost).toEqual([])
    expect(report.notNewest).toEqual([])
    expect(report.outOfOrder).toEqual([])
    expect(report.openAttempts).toBe(0)
    expect(report.limitAnswers).toBe(0)
  }, 180_000)
})

describe("pnpm rehearsal", () => {
  it.skipIf(serverUrl === undefined)(
    "--short runs and prints what happened",
    () => {
      const output = execFileSync(
        process.execPath,
        ["--conditions=@reword/source", new URL("../scripts/rehearsal.ts", import.meta.url).pathname, "--short"],
        { encoding: "utf8", env: { ...process.env, REWORD_TEST_POSTGRES_URL: serverUrl }, timeout: 120_000 }
      )
      for (const expected of [
        "instances: i0:",
        "calls:",
        "limit answers (QUERY_LIMIT_EXCEEDED): 0",
        "token refreshes: 1, invalid_grant: 0",
        "concurrent deliveries of one message: none",
        "lost edits: none",
        "rehearsal passed"
      ]) {
        expect(output).toContain(expected)
      }
      expect(output).toMatch(/i1 killed with SIGKILL/)
    },
    150_000
  )
})
