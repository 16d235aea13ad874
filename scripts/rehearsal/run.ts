/**
 * A multi-instance rehearsal: app instances as processes (`instance.ts`: an
 * outbox worker and a Bitrix24 editor each), the Bitrix24 sandbox as the
 * portal (with its leaky bucket, every call held for its server time), one
 * PostgreSQL database for the outbox, the token pair and the rate limit.
 * Edits are submitted across the instances; along the way one instance joins
 * late, one leaves, one is killed with SIGKILL while a call of its is in
 * flight, and the access token expires. Then every message is checked against
 * the journal and the sandbox.
 *
 * `rehearse` answers a {@link Report}; `scripts/rehearsal.ts` prints it, the
 * tests assert on it, the benchmark measures with it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createInterface } from "node:readline"
import { PgClient } from "@effect/sql-pg"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Outbox } from "@reword/outbox"
import { Effect, Layer, Redacted } from "effect"
import * as Database from "./database.ts"
import type { Ack, InstanceArgs } from "./instance.ts"

export interface Options {
  /** App instances (processes). Default 4. */
  readonly instances?: number | undefined
  /** Messages relayed (seeded at the sandbox and recorded in the id map). Default 200. */
  readonly messages?: number | undefined
  /** Edits of each message, submitted across the instances. Default 3. */
  readonly versions?: number | undefined
  /** The database; when omitted, a throwaway server is started (see `database.ts`). */
  readonly databaseUrl?: string | undefined
  /** The last instance starts a second after the others. Default true. */
  readonly join?: boolean | undefined
  /** One instance leaves (closes) once it has submitted its edits. Default true. */
  readonly leave?: boolean | undefined
  /** One instance is killed with SIGKILL while one of its calls is in flight. Default true. */
  readonly kill?: boolean | undefined
  /** The access token expires once, a second in. Default true. */
  readonly expireToken?: boolean | undefined
  /**
   * `true`: every edit is submitted before the instances start (one version per
   * message), so they start on a backlog: what the benchmark measures.
   */
  readonly backlog?: boolean | undefined
  /** How long the portal holds each call (its server time), ms. Default 200. */
  readonly callMs?: number | undefined
  /** The outbox's lease, ms. Default 2,000 (above the transport's timeout, 1,500, when calls are short). */
  readonly leaseMs?: number | undefined
  /** The outbox's settle window, ms. Default 1,000. */
  readonly settleMs?: number | undefined
  /** The transport's timeout, ms. Default 1,500, or 3 × `callMs` when longer. */
  readonly timeoutMs?: number | undefined
  /**
   * Messages per update call. Default: the editor sizes its calls from the
   * portal's server time (see `@reword/bitrix24`'s `ServerTime`).
   */
  readonly chunkSize?: number | undefined
  /** The portal's bucket, scaled down. Default 10 requests/s, 10 at most. */
  readonly bucket?: { readonly drainPerSecond: number; readonly capacity: number } | undefined
  /** Requests of the bucket each instance leaves free. Default 2. */
  readonly headroom?: number | undefined
  /** A pause between two submits of one instance, ms. Default 10. */
  readonly submitPauseMs?: number | undefined
  /** Progress lines. */
  readonly log?: ((line: string) => void) | undefined
}

export interface InstanceReport {
  readonly name: string
  readonly joinedLate: boolean
  /** `killed` (SIGKILL), `left` (closed while others went on), `stopped` (at the end). */
  readonly end: "killed" | "left" | "stopped" | "crashed"
  readonly acks: number
  readonly calls: number
  readonly tokenRequests: number
}

export interface Report {
  readonly database: { readonly origin: "given" | "started" }
  readonly instances: ReadonlyArray<InstanceReport>
  readonly messages: number
  readonly acknowledged: number
  /** Acknowledged edits neither landed nor overwritten by a newer landed one. */
  readonly lost: ReadonlyArray<Ack>
  /** Messages whose sandbox text is not the journal's newest version. */
  readonly notNewest: ReadonlyArray<string>
  /** Messages whose texts did not land oldest to newest at the sandbox. */
  readonly outOfOrder: ReadonlyArray<string>
  /** Messages whose newest version the journal does not show confirmed. */
  readonly unconfirmed: ReadonlyArray<string>
  /** Attempts the journal left open. */
  readonly openAttempts: number
  /** Attempts recorded as abandoned (a worker stopped before the portal answered), by worker. */
  readonly abandoned: Readonly<Record<string, number>>
  /**
   * Attempts whose outcome is unknown (a timeout, a cut connection), by worker: the call may still have
   * been held at the portal when the outbox sent the message again.
   */
  readonly unknown: Readonly<Record<string, number>>
  /** Pairs of update calls carrying one message that were in flight at the portal at the same time. */
  readonly concurrentDeliveries: ReadonlyArray<{ readonly messageId: string; readonly at: string }>
  /** Whether the killed instance had a call in flight when it was killed. */
  readonly killedMidDelivery: boolean | undefined
  readonly calls: {
    readonly accepted: number
    /** Messages carried by accepted calls. */
    readonly messages: number
    readonly seconds: number
    readonly perSecond: number
    /** What the portal allows over those seconds: its bucket, then its drain rate. */
    readonly allowed: number
    readonly allowedPerSecond: number
    /** accepted / allowed. */
    readonly share: number
  }
  readonly limitAnswers: number
  readonly refreshes: number
  readonly invalidGrants: number
  /** From the first submit to the last message confirmed, seconds. */
  readonly seconds: number
}

interface Running {
  readonly name: string
  readonly joinedLate: boolean
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly submitted: Promise<void>
  readonly exited: Promise<number | null>
  readonly acks: Array<Ack>
  readonly counters: { calls: number; answered: number; tokenRequests: number }
  end: InstanceReport["end"] | undefined
  readonly send: (line: string) => void
}

const script = new URL("./instance.ts", import.meta.url).pathname

const spawnInstance = (args: InstanceArgs, joinedLate: boolean, log: (line: string) => void): Running => {
  const child = spawn(process.execPath, ["--conditions=@reword/source", script, JSON.stringify(args)], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  const acks: Array<Ack> = []
  const counters = { calls: 0, answered: 0, tokenRequests: 0 }
  let onReady: () => void = () => undefined
  let onSubmitted: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  const submitted = new Promise<void>((resolve) => {
    onSubmitted = resolve
  })
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "ready") onReady()
    else if (line === "submitted") onSubmitted()
    else if (line === "call") counters.calls += 1
    else if (line === "answered") counters.answered += 1
    else if (line === "token-request") counters.tokenRequests += 1
    else if (line.startsWith("ack ")) acks.push(JSON.parse(line.slice(4)) as Ack)
    else log(`  [${args.name}] ${line}`)
  })
  createInterface({ input: child.stderr }).on("line", (line) => log(`  [${args.name}] ${line}`))
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      onReady()
      onSubmitted()
      resolve(code)
    })
  })
  return {
    name: args.name,
    joinedLate,
    process: child,
    ready,
    submitted,
    exited,
    acks,
    counters,
    end: undefined,
    send: (line) => {
      if (child.stdin?.writable === true) child.stdin.write(`${line}\n`)
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits for a condition, at most `ms`; answers whether it held. */
const until = async (condition: () => boolean, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await sleep(20)
  }
  return true
}

const withTimeout = <A>(promise: Promise<A>, ms: number): Promise<A | undefined> =>
  Promise.race([promise, sleep(ms).then(() => undefined)])

const UPDATE_PATH = "imconnector.update.messages"

const messageIdsOf = (text: string): ReadonlyArray<string> => {
  try {
    const body = JSON.parse(text) as { MESSAGES?: ReadonlyArray<{ message?: { id?: unknown } }> }
    return (body.MESSAGES ?? []).map((item) => String(item.message?.id))
  } catch {
    return []
  }
}

/** Pairs of update calls carrying one message id in flight at the portal at once (from the request log). */
export const concurrentDeliveries = (
  requests: ReadonlyArray<{
    readonly path: string
    readonly text: string
    readonly receivedAt: Date
    readonly at: Date
  }>
): ReadonlyArray<{ readonly messageId: string; readonly at: string }> => {
  const byId = new Map<string, Array<{ readonly from: number; readonly to: number }>>()
  for (const request of requests) {
    if (!request.path.includes(UPDATE_PATH)) continue
    for (const id of messageIdsOf(request.text)) {
      const list = byId.get(id) ?? []
      list.push({ from: request.receivedAt.getTime(), to: request.at.getTime() })
      byId.set(id, list)
    }
  }
  const found: Array<{ readonly messageId: string; readonly at: string }> = []
  for (const [messageId, calls] of byId) {
    const sorted = calls.sort((a, b) => a.from - b.from)
    let end = Number.NEGATIVE_INFINITY
    for (const call of sorted) {
      if (call.from < end) found.push({ messageId, at: new Date(call.from).toISOString() })
      end = Math.max(end, call.to)
    }
  }
  return found
}

/** Runs one rehearsal; every process and server it started is stopped before it answers. */
export const rehearse = async (options: Options = {}): Promise<Report> => {
  const log = options.log ?? (() => undefined)
  const count = Math.max(1, options.instances ?? 4)
  const messages = Math.max(1, options.messages ?? 200)
  const versions = Math.max(1, options.versions ?? 3)
  const backlog = options.backlog === true
  const join = !backlog && (options.join ?? true) && count > 1
  const leave = !backlog && (options.leave ?? true) && count > 2
  const kill = !backlog && (options.kill ?? true) && count > 1
  const expireToken = !backlog && (options.expireToken ?? true)
  const callMs = options.callMs ?? 200
  const leaseMs = options.leaseMs ?? 2_000
  const settleMs = options.settleMs ?? 1_000
  const timeoutMs = options.timeoutMs ?? Math.max(1_500, 3 * callMs)
  const bucket = options.bucket ?? { drainPerSecond: 10, capacity: 10 }
  const headroom = options.headroom ?? 2

  const database = await Database.open(options.databaseUrl)
  log(`database: ${database.origin === "given" ? "the server given" : "a throwaway PostgreSQL server, started here"}`)
  const sandbox = await Bitrix24Sandbox.start({
    bucket,
    serverTime: { wait: true },
    operatingLimit: { costPerCall: callMs / 1000, limitSeconds: 1_000_000 }
  })
  log(
    `portal: the Bitrix24 sandbox at ${sandbox.url}, ${bucket.drainPerSecond} requests/s after a burst of ${bucket.capacity}, each call held ${callMs} ms`
  )
  const running: Array<Running> = []
  const prefix = `rehearsal_${randomBytes(4).toString("hex")}_`
  const account = `${sandbox.url}/${sandbox.connector}/${sandbox.line}`
  try {
    return await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(
            PgClient.layer({ url: Redacted.make(database.url), maxConnections: 4 })
          ).pipe(Effect.orDie)
          const editor = yield* Effect.orDie(Bitrix24.make(sandbox.settings, { retry: { maxAttempts: 1 } }))
          // Submits, queries and the id map only: the instances deliver.
          const outbox = yield* Effect.provide(
            Outbox.makeWith([{ editor, account }], { tablePrefix: prefix, worker: false }),
            context
          ).pipe(Effect.orDie)

          const seeded = []
          for (let m = 0; m < messages; m++) {
            const ids = yield* Effect.promise(() => sandbox.seedMessage(`m${m} v0`))
            seeded.push(ids)
            yield* Effect.orDie(outbox.record({ ids }))
          }
          log(`${messages} messages relayed and recorded in the id map; ${count} instances`)

          // Edit k of message m goes through instance (m + k) % count, each instance's in order of k.
          const plan: Array<Array<{ readonly externalMessageId: string; readonly text: string }>> = Array.from(
            { length: count },
            () => []
          )
          const preAcks: Array<Ack> = []
          const startedAt = Date.now()
          for (let k = 1; k <= (backlog ? 1 : versions); k++) {
            for (let m = 0; m < messages; m++) {
              const n = (m + k) % count
              const edit = { externalMessageId: seeded[m]?.externalMessageId ?? "", text: `m${m} v${k} via i${n}` }
              if (backlog) {
                const receipt = yield* Effect.orDie(
                  outbox.submit({ ids: { externalMessageId: edit.externalMessageId }, text: edit.text })
                )
                preAcks.push({ instance: "backlog", ...edit, version: receipt.version })
              } else plan[n]?.push(edit)
            }
          }

          const argsOf = (n: number): InstanceArgs => ({
            name: `i${n}`,
            databaseUrl: database.url,
            tablePrefix: prefix,
            account,
            settings: {
              portalUrl: sandbox.url,
              accessToken: sandbox.accessToken,
              refreshToken: sandbox.refreshToken,
              clientId: sandbox.clientId,
              clientSecret: sandbox.clientSecret,
              connector: sandbox.connector,
              line: sandbox.line
            },
            bucket,
            headroom,
            leaseMs,
            settleMs,
            timeoutMs,
            chunkSize: options.chunkSize,
            edits: plan[n] ?? [],
            submitPauseMs: options.submitPauseMs ?? 10
          })
          const late = join ? count - 1 : -1
          for (let n = 0; n < count; n++) {
            if (n !== late) running.push(spawnInstance(argsOf(n), false, log))
          }
          yield* Effect.promise(() => Promise.all(running.map((instance) => instance.ready)))
          const goAt = Date.now()
          for (const instance of running) instance.send("go")
          log(`instances ${running.map((instance) => instance.name).join(", ")} started`)

          const events: Array<Promise<void>> = []
          if (join) {
            events.push(
              (async () => {
                await sleep(1_000)
                const joiner = spawnInstance(argsOf(late), true, log)
                running.push(joiner)
                await joiner.ready
                joiner.send("go")
                log(`${joiner.name} joined`)
              })()
            )
          }
          if (expireToken) {
            events.push(
              (async () => {
                await sleep(Math.max(0, goAt + 1_000 - Date.now()))
                sandbox.expireAccessToken()
                log("the access token expired")
              })()
            )
          }
          let killedMidDelivery: boolean | undefined
          if (kill) {
            const victim = running[Math.min(1, running.length - 1)] as Running
            events.push(
              (async () => {
                await until(() => victim.acks.length >= Math.max(5, Math.floor((plan[1]?.length ?? 0) / 3)), 20_000)
                killedMidDelivery = await until(() => victim.counters.calls > victim.counters.answered, 20_000)
                victim.end = "killed"
                victim.process.kill("SIGKILL")
                log(
                  `${victim.name} killed with SIGKILL${killedMidDelivery ? ", a call of its in flight" : ""} (${victim.acks.length} edits acknowledged)`
                )
              })()
            )
          }
          if (leave) {
            const leaver = running[running.length - 1] as Running
            events.push(
              (async () => {
                await withTimeout(leaver.submitted, 60_000)
                await sleep(100)
                if (leaver.end !== undefined) return
                leaver.end = "left"
                leaver.send("stop")
                await withTimeout(leaver.exited, 15_000)
                log(`${leaver.name} left`)
              })()
            )
          }
          yield* Effect.promise(() => Promise.all(events))
          // Every instance still running has submitted all it had to.
          yield* Effect.promise(() =>
            withTimeout(
              Promise.all(running.filter((instance) => instance.end === undefined).map((i) => i.submitted)),
              120_000
            )
          )
          // Until the outbox is empty (bounded).
          const left = yield* Effect.orDie(outbox.drain({ timeout: "120 seconds" }))
          const seconds = (Date.now() - (backlog ? startedAt : goAt)) / 1000
          log(`outbox empty after ${seconds.toFixed(1)} s: ${left.pending} pending, ${left.failed} failed`)
          for (const instance of running) {
            if (instance.end === undefined) {
              instance.end = "stopped"
              instance.send("stop")
            }
          }
          yield* Effect.promise(() =>
            Promise.all(
              running.map(async (instance) => {
                const code = await withTimeout(instance.exited, 15_000)
                if (code === undefined) instance.process.kill("SIGKILL")
                else if (code !== 0 && instance.end !== "killed") instance.end = "crashed"
              })
            )
          )

          // What happened, from the journal and the portal.
          const acks = [...preAcks, ...running.flatMap((instance) => instance.acks)]
          const notNewest: Array<string> = []
          const outOfOrder: Array<string> = []
          const unconfirmed: Array<string> = []
          const lost: Array<Ack> = []
          const abandoned: Record<string, number> = {}
          const unknown: Record<string, number> = {}
          let openAttempts = 0
          for (const ids of seeded) {
            const history = yield* Effect.orDie(outbox.history(ids.externalMessageId))
            const versionsOf = history?.versions ?? []
            const newest = versionsOf[versionsOf.length - 1]
            const stored = sandbox.inspect(ids)
            if (newest !== undefined && stored?.text !== newest.text) notNewest.push(ids.externalMessageId)
            if (newest !== undefined && newest.status !== "confirmed") unconfirmed.push(ids.externalMessageId)
            const versionOfText = new Map(versionsOf.map((version) => [version.text, version.version]))
            const landed = (stored?.history ?? []).slice(1).map((text) => versionOfText.get(text) ?? -1)
            if (landed.some((version, n) => version < 0 || (n > 0 && version < (landed[n - 1] ?? 0)))) {
              outOfOrder.push(ids.externalMessageId)
            }
            const landedVersion = versionOfText.get(stored?.text) ?? 0
            for (const ack of acks.filter((a) => a.externalMessageId === ids.externalMessageId)) {
              const kept = versionsOf.find((version) => version.version === ack.version)
              if (kept?.text !== ack.text || landedVersion < ack.version) lost.push(ack)
            }
            for (const attempt of versionsOf.flatMap((version) => version.attempts)) {
              if (attempt.outcome === undefined) openAttempts += 1
              if (attempt.outcome === "abandoned") abandoned[attempt.worker] = (abandoned[attempt.worker] ?? 0) + 1
              if (attempt.outcome === "unknown") unknown[attempt.worker] = (unknown[attempt.worker] ?? 0) + 1
            }
          }
          const updates = sandbox.server.requests.filter((request) => request.path.includes(UPDATE_PATH))
          const accepted = updates.filter((request) => request.status === 200)
          const first = accepted[0]?.receivedAt.getTime() ?? 0
          const last = accepted[accepted.length - 1]?.receivedAt.getTime() ?? 0
          const span = (last - first) / 1000
          const allowed = bucket.capacity + bucket.drainPerSecond * span
          const carried = accepted.reduce((sum, request) => sum + messageIdsOf(request.text).length, 0)
          const report: Report = {
            database: { origin: database.origin },
            instances: running.map((instance) => ({
              name: instance.name,
              joinedLate: instance.joinedLate,
              end: instance.end ?? "stopped",
              acks: instance.acks.length,
              calls: instance.counters.calls,
              tokenRequests: instance.counters.tokenRequests
            })),
            messages,
            acknowledged: acks.length,
            lost,
            notNewest,
            outOfOrder,
            unconfirmed,
            openAttempts,
            abandoned,
            unknown,
            concurrentDeliveries: concurrentDeliveries(sandbox.server.requests),
            killedMidDelivery,
            calls: {
              accepted: accepted.length,
              messages: carried,
              seconds: span,
              perSecond: span > 0 ? accepted.length / span : 0,
              allowed,
              allowedPerSecond: span > 0 ? allowed / span : 0,
              share: allowed > 0 ? accepted.length / allowed : 0
            },
            limitAnswers: sandbox.limitHits(),
            refreshes: sandbox.refreshes(),
            invalidGrants: sandbox.errorAnswers("invalid_grant"),
            seconds
          }
          return report
        })
      )
    )
  } finally {
    for (const instance of running) if (instance.process.exitCode === null) instance.process.kill("SIGKILL")
    await sandbox.stop()
    await database.stop()
  }
}

/** The report as lines a person reads. */
export const describe = (report: Report): ReadonlyArray<string> => {
  const lines: Array<string> = []
  lines.push(
    `instances: ${report.instances
      .map(
        (i) => `${i.name}${i.joinedLate ? " (joined late)" : ""}: ${i.acks} edits submitted, ${i.calls} calls, ${i.end}`
      )
      .join("; ")}`
  )
  lines.push(`messages: ${report.messages}, edits acknowledged: ${report.acknowledged}`)
  lines.push(
    `calls: ${report.calls.accepted} accepted in ${report.calls.seconds.toFixed(1)} s, ${report.calls.perSecond.toFixed(1)}/s; the portal allows ${report.calls.allowedPerSecond.toFixed(1)}/s over that time (its burst, then its drain rate): ${(100 * report.calls.share).toFixed(1)}%; ${report.calls.messages} messages carried`
  )
  lines.push(`limit answers (QUERY_LIMIT_EXCEEDED): ${report.limitAnswers}`)
  lines.push(`token refreshes: ${report.refreshes}, invalid_grant: ${report.invalidGrants}`)
  const abandoned = Object.entries(report.abandoned)
  lines.push(
    `attempts abandoned (taken over from a stopped instance): ${abandoned.length === 0 ? "none" : abandoned.map(([w, n]) => `${n} of ${w}`).join(", ")}; left open: ${report.openAttempts}`
  )
  const unknown = Object.entries(report.unknown)
  lines.push(
    `attempts with an unknown outcome (timeouts, cut connections): ${unknown.length === 0 ? "none" : unknown.map(([w, n]) => `${n} of ${w}`).join(", ")}`
  )
  lines.push(
    `concurrent deliveries of one message: ${report.concurrentDeliveries.length === 0 ? "none" : report.concurrentDeliveries.length}`
  )
  lines.push(
    `messages not ending with their newest text: ${report.notNewest.length === 0 ? "none" : report.notNewest.length}; landed out of order: ${report.outOfOrder.length === 0 ? "none" : report.outOfOrder.length}; newest not confirmed: ${report.unconfirmed.length === 0 ? "none" : report.unconfirmed.length}`
  )
  lines.push(`lost edits: ${report.lost.length === 0 ? "none" : report.lost.length}`)
  return lines
}

/** Whether the rehearsal found nothing wrong. */
export const passed = (report: Report): boolean =>
  report.lost.length === 0 &&
  report.notNewest.length === 0 &&
  report.outOfOrder.length === 0 &&
  report.unconfirmed.length === 0 &&
  report.openAttempts === 0 &&
  report.concurrentDeliveries.length === 0 &&
  report.limitAnswers === 0 &&
  report.invalidGrants === 0 &&
  report.instances.every((instance) => instance.end !== "crashed")
