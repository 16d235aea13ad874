/**
 * Many app instances, one portal, with real processes: four instances of an
 * app (`support/instance.ts`, each a Node process with its own connection
 * pool) edit messages on one Bitrix24 sandbox, their tokens and rate limit in
 * one PostgreSQL database.
 *
 * The portal's limit is scaled down for the test: it drains 10 requests/s and
 * refuses above 10 (Bitrix24's standard plan is 2/s and 50); the instances
 * keep 3 requests of the bucket in reserve (`headroom`): at 10/s a slot is
 * 100 ms, and a process whose event loop stalls sends its slot late, into
 * the next ones. With 2, a stress run (load 18 on 2 cores) met one limit
 * answer; a real portal's slot is 500 ms, where the same stall costs one.
 *
 * These run against a PostgreSQL server only (`REWORD_TEST_POSTGRES_URL`, which
 * CI sets): PGlite is one session behind its socket server, so processes
 * connected to it share one backend (a lock one holds is everybody's) and the
 * messages of their statements interleave.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { assert, describe, it } from "@effect/vitest"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Effect } from "effect"
import { prefixOfTables, serverUrl } from "./support/databases.ts"
import type { Args } from "./support/instance.ts"

const INSTANCES = 4
const PORTAL_BUCKET = { drainPerSecond: 10, capacity: 10 }
const HEADROOM = 3
const script = new URL("./support/instance.ts", import.meta.url).pathname

interface Outcome {
  readonly name: string
  readonly ok: number
  readonly okByPhase: ReadonlyArray<number>
  readonly failed: Record<string, number>
}

interface Instance {
  readonly name: string
  readonly process: ChildProcess
  readonly ready: Promise<void>
  /** The first `token-request` line it printed. */
  readonly tokenRequest: Promise<void>
  readonly outcome: Promise<Outcome | undefined>
  readonly send: (line: string) => void
}

const start = (args: Args): Instance => {
  const child = spawn(process.execPath, ["--conditions=@reword/source", script, JSON.stringify(args)], {
    stdio: ["pipe", "pipe", "inherit"]
  })
  let readyResolve: () => void = () => undefined
  let tokenResolve: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    readyResolve = resolve
  })
  const tokenRequest = new Promise<void>((resolve) => {
    tokenResolve = resolve
  })
  let outcome: Outcome | undefined
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "ready") readyResolve()
    else if (line === "token-request") tokenResolve()
    else if (line.startsWith("{")) outcome = JSON.parse(line) as Outcome
  })
  const finished = new Promise<Outcome | undefined>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000)
    child.on("exit", () => {
      clearTimeout(timer)
      resolve(outcome)
    })
  })
  return {
    name: args.name,
    process: child,
    ready,
    tokenRequest,
    outcome: finished,
    send: (line) => {
      if (child.stdin?.writable === true) child.stdin.write(`${line}\n`)
    }
  }
}

/** Four instances on one sandbox and one database, each editing its own messages. */
const launch = (sandbox: Bitrix24Sandbox.Sandbox, durationMs: number) =>
  Effect.gen(function* () {
    const prefix = prefixOfTables()
    const instances: Array<Instance> = []
    for (let n = 0; n < INSTANCES; n++) {
      const messages = []
      for (let m = 0; m < 6; m++) messages.push(yield* Effect.promise(() => sandbox.seedMessage(`i${n} m${m} v0`)))
      instances.push(
        start({
          name: `instance-${n}`,
          url: serverUrl ?? "",
          tokenTable: `${prefix}tokens`,
          bucketTable: `${prefix}buckets`,
          settings: {
            portalUrl: sandbox.url,
            accessToken: sandbox.accessToken,
            refreshToken: sandbox.refreshToken,
            clientId: sandbox.clientId,
            clientSecret: sandbox.clientSecret,
            connector: sandbox.connector,
            line: sandbox.line
          },
          bucket: PORTAL_BUCKET,
          headroom: HEADROOM,
          concurrency: 3,
          durationMs,
          messages
        })
      )
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const instance of instances) instance.process.kill("SIGKILL")
      })
    )
    yield* Effect.promise(() => Promise.all(instances.map((instance) => instance.ready)))
    for (const instance of instances) instance.send("go")
    return instances
  })

const outcomesOf = (instances: ReadonlyArray<Instance>) =>
  Effect.promise(() => Promise.all(instances.map((instance) => instance.outcome)))

const updates = (sandbox: Bitrix24Sandbox.Sandbox) =>
  sandbox.server.requests.filter((request) => request.path.includes("imconnector.update.messages"))

describe.skipIf(serverUrl === undefined)("four app instances (processes) on one portal, PostgreSQL server", () => {
  it.live(
    "share one rate limit: zero QUERY_LIMIT_EXCEEDED, and together at least 90% of the portal's allowed rate",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: PORTAL_BUCKET })
        const instances = yield* launch(sandbox, 8_000)
        const outcomes = yield* outcomesOf(instances)
        assert.strictEqual(sandbox.limitHits(), 0)
        for (const outcome of outcomes) {
          assert.isDefined(outcome, "every instance finished")
          assert.deepStrictEqual(outcome?.failed, {})
          assert.isAbove(outcome?.ok ?? 0, 0)
        }
        // The most the portal accepts over the window the calls spanned: a full bucket, then the drain rate.
        const calls = updates(sandbox)
        const accepted = calls.filter((call) => call.status === 200).length
        const first = calls[0]?.at.getTime() ?? 0
        const last = calls[calls.length - 1]?.at.getTime() ?? 0
        const allowed = PORTAL_BUCKET.capacity + (PORTAL_BUCKET.drainPerSecond * (last - first)) / 1000
        const share = accepted / allowed
        console.log(
          `4 instances: ${accepted} calls in ${(last - first) / 1000} s; the portal allows ${allowed.toFixed(1)}: ${(100 * share).toFixed(1)}%`
        )
        assert.isAtLeast(share, 0.9)
        assert.isAtMost(accepted, Math.floor(allowed) + 1)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "an expired token is refreshed exactly once across the instances, and every instance carries on",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: PORTAL_BUCKET })
        const instances = yield* launch(sandbox, 7_000)
        for (let expiry = 1; expiry <= 2; expiry++) {
          yield* Effect.sleep("2 seconds")
          sandbox.expireAccessToken()
          for (const instance of instances) instance.send("mark")
        }
        const outcomes = yield* outcomesOf(instances)
        assert.strictEqual(sandbox.refreshes(), 2, "one refresh per expiry")
        assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
        assert.strictEqual(sandbox.limitHits(), 0)
        for (const outcome of outcomes) {
          assert.deepStrictEqual(outcome?.failed, {})
          // Edits before the first expiry, between the two, and after the second.
          assert.strictEqual(outcome?.okByPhase.length, 3)
          for (const count of outcome?.okByPhase ?? []) assert.isAbove(count, 0)
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "the refresher killed with SIGKILL while its token request is held: another refreshes, and all go on",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: PORTAL_BUCKET })
        // The first token request never reaches the OAuth server: it hangs until its process dies.
        sandbox.server.inject({ fault: Bitrix24Sandbox.Faults.hang(), path: "/oauth/token/", times: 1 })
        const instances = yield* launch(sandbox, 7_000)
        yield* Effect.sleep("1500 millis")
        sandbox.expireAccessToken()
        const refresher = yield* Effect.promise(() =>
          Promise.race(instances.map((instance) => instance.tokenRequest.then(() => instance)))
        )
        // It holds the refresh lock while its token request hangs; the others wait for it.
        yield* Effect.sleep("500 millis")
        assert.strictEqual(sandbox.refreshes(), 0)
        refresher.process.kill("SIGKILL")
        for (const instance of instances) instance.send("mark")
        const outcomes = yield* outcomesOf(instances)
        const survivors = outcomes.filter((outcome) => outcome !== undefined && outcome.name !== refresher.name)
        assert.strictEqual(survivors.length, INSTANCES - 1)
        assert.isUndefined(
          outcomes.find((outcome) => outcome?.name === refresher.name),
          "the killed one printed nothing"
        )
        assert.strictEqual(sandbox.refreshes(), 1, "the survivors refreshed once, with the refresh token never used")
        assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 0)
        const tokenRequests = sandbox.server.requests.filter((request) => request.path.includes("/oauth/token/"))
        assert.deepStrictEqual(
          tokenRequests.map((request) => request.fault ?? "answered"),
          ["Hang", "answered"]
        )
        for (const outcome of survivors) {
          assert.deepStrictEqual(outcome?.failed, {})
          // They went on after the kill.
          assert.isAbove(outcome?.okByPhase[1] ?? 0, 0)
        }
      }).pipe(Effect.scoped),
    60_000
  )
})
