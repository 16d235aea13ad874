/**
 * The Bitrix24 property of the outbox: bursts of edits to the same messages,
 * through a network with random latencies (an attempt past the timeout is
 * abandoned by reword yet still reaches the portal, late), and a share of
 * faults from the sandbox (5xx, `QUERY_LIMIT_EXCEEDED`, resets, hangs). Once
 * the outbox has drained and every late request has landed, the portal holds
 * the newest text of every message. Shared by a quick run in `pnpm test` and
 * many seeds in `pnpm test:slow`.
 */
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import type { SandboxServer } from "@reword/core/sandbox"
import { type Duration, Effect } from "effect"
import * as fc from "fast-check"
import { openOutbox } from "./sqlite.ts"

const BUCKET = { drainPerSecond: 1_000, capacity: 1_000 } as const
const TIMEOUT_MS = 150
/** Latencies go up to this: past the timeout, an attempt lands late (before the settle window ends). */
const MAX_LATENCY_MS = 250
const SETTLE = (process.env.REWORD_TEST_SETTLE ?? "400 millis") as Duration.Input

const faults: Readonly<Record<"status" | "queryLimit" | "reset" | "hang", SandboxServer.Fault>> = {
  status: Bitrix24Sandbox.Faults.status(500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal" }),
  queryLimit: Bitrix24Sandbox.Faults.status(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many" }),
  reset: Bitrix24Sandbox.Faults.reset(),
  hang: Bitrix24Sandbox.Faults.hang()
}

export interface Case {
  readonly messages: number
  readonly bursts: ReadonlyArray<number>
  readonly fault: keyof typeof faults | "none"
  readonly share: number
  readonly seed: number
  /** Share of requests held on the network (random latency up to MAX_LATENCY_MS). */
  readonly slowShare: number
}

export const arbitrary: fc.Arbitrary<Case> = fc.record({
  messages: fc.integer({ min: 1, max: 25 }),
  bursts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
  fault: fc.constantFrom("status", "queryLimit", "reset", "hang", "none"),
  share: fc.double({ min: 0.05, max: 0.35, noNaN: true }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  slowShare: fc.double({ min: 0, max: 0.5, noNaN: true })
})

/** mulberry32: the same latencies for the same seed. */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * A network where a seeded share of requests is slow: each goes out after its
 * latency whether or not reword still waits for it (as a request already on
 * its way does), so an attempt reword abandoned at its timeout lands late.
 */
const slowNetwork = (random: () => number, slowShare: number) => {
  const inFlight = new Set<Promise<unknown>>()
  const fetchLate: typeof globalThis.fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init)
    if (random() >= slowShare) return fetch(request)
    const latency = Math.floor(random() * MAX_LATENCY_MS)
    const body = request.method === "GET" ? undefined : await request.clone().text()
    const sent = new Promise<void>((resolve) => setTimeout(resolve, latency)).then(() =>
      // Its own bound: a request the sandbox holds forever (a hang) is given up here too.
      fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(MAX_LATENCY_MS + 1_000)
      })
    )
    const tracked = sent.catch(() => undefined)
    inFlight.add(tracked)
    void tracked.finally(() => inFlight.delete(tracked))
    const signal = init?.signal ?? request.signal
    return new Promise<Response>((resolve, reject) => {
      sent.then(resolve, reject)
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true })
    })
  }
  return { fetch: fetchLate, settled: () => Promise.all([...inFlight]) }
}

/** One case: true when the portal ends with the newest text of every message (else it throws, saying what). */
export const run = (testCase: Case): Promise<boolean> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: BUCKET })
      const network = slowNetwork(seeded(testCase.seed), testCase.slowShare)
      const editor = yield* Effect.orDie(
        Bitrix24.make(sandbox.settings, {
          retry: { maxAttempts: 1 },
          transport: { timeout: TIMEOUT_MS, fetch: network.fetch },
          rateLimit: { bucket: BUCKET },
          chunkSize: 10
        })
      )
      const outbox = yield* openOutbox([{ editor, account: `${sandbox.url}/${sandbox.connector}/${sandbox.line}` }], {
        settleWindow: SETTLE,
        retry: { initialDelay: 20, maxDelay: 150 }
      })
      if (testCase.fault !== "none") {
        sandbox.server.inject({ fault: faults[testCase.fault], share: testCase.share, seed: testCase.seed })
      }
      const seededIds = []
      for (let n = 0; n < testCase.messages; n++) {
        const ids = yield* Effect.promise(() => sandbox.seedMessage(`m${n} v0`))
        seededIds.push(ids)
        yield* outbox.record({ ids })
      }
      let version = 0
      for (const [index, burst] of testCase.bursts.entries()) {
        for (let k = 0; k < burst; k++) {
          version++
          const text = `v${version}`
          yield* Effect.forEach(
            seededIds,
            (ids) =>
              outbox.submit({
                ids: { externalMessageId: ids.externalMessageId },
                text: `${ids.externalMessageId} ${text}`
              }),
            { concurrency: 8, discard: true }
          )
        }
        yield* Effect.sleep(`${((testCase.seed >> index) % 4) * 40} millis`)
      }
      const left = yield* outbox.drain({ timeout: "30 seconds" })
      sandbox.server.clearFaults()
      yield* Effect.promise(network.settled)
      if (left.pending !== 0 || left.failed !== 0) {
        throw new Error(`the outbox did not drain: ${JSON.stringify(left)} (${JSON.stringify(testCase)})`)
      }
      for (const ids of seededIds) {
        const text = sandbox.inspect(ids)?.text
        const newest = `${ids.externalMessageId} v${version}`
        if (text !== newest) {
          throw new Error(
            `${ids.externalMessageId} holds ${JSON.stringify(text)}, not ${newest} (${JSON.stringify(testCase)})`
          )
        }
      }
      return true
    }).pipe(Effect.scoped)
  )
