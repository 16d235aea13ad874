/**
 * Bitrix24 throughput against the portal's real limits (issue 13, items 1 and 2):
 *
 * 1. Concurrent `update()` calls, as a relay makes them (one per incoming
 *    event), against `updateMany` of the same edits, on the real bucket (2
 *    calls/s, burst 50): time and portal calls. Beside them, the same
 *    concurrent calls unpacked (`chunkSize: 1`, one portal call each, as every
 *    `update()` was before packing), on fewer edits.
 * 2. A portal's true limit over a 10-minute window, on a scaled clock: the
 *    sandbox and the client run on the same clock, `scale` times faster than
 *    real time, with the real limits (2 calls/s, burst 50, 480 s of server time
 *    per method per 10 minutes) and a server time per call of `perCall +
 *    perMessage × messages`, at two per-message costs: one where the call rate
 *    binds, one where the operating time binds.
 */
import { Clock, Duration, Effect, Result, Stream } from "effect"
import { bitrix24Editor, type Edit } from "./support/editors.ts"
import { count, percent, perSecond, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult, Context, Target } from "./support/report.ts"
import { type Bucket, startSandbox } from "./support/sandboxes.ts"
import { round } from "./support/stats.ts"

const REAL_BUCKET: Bucket = { drainPerSecond: 2, capacity: 50 }
const MAX_PER_CALL = 50
const OPERATING_LIMIT = 480
const WINDOW_SECONDS = 600
const TARGET_SHARE = 0.9

interface Sizes {
  /** Concurrent update() calls, and updateMany of as many. */
  readonly concurrent: number
  /** Concurrent update() calls unpacked (one portal call each): (n - 49) / 2 s at the real bucket. */
  readonly unpacked: number
  /** How much faster than real time the portal's clock runs in part 2. */
  readonly scale: number
}

const FULL: Sizes = { concurrent: 1_000, unpacked: 100, scale: 10 }
const SHORT: Sizes = { concurrent: 200, unpacked: 60, scale: 60 }

/** The two server-time costs: seconds per call and per message. */
const COSTS = [
  { name: "call rate binds", perCall: 0.01, perMessage: 0.002 },
  { name: "operating time binds", perCall: 0.01, perMessage: 0.02 }
] as const

const editsOf = (ids: ReadonlyArray<Edit["ids"]>): ReadonlyArray<Edit> =>
  ids.map((messageIds, index) => ({ ids: messageIds, text: `Relay edit ${index}: the order ships on Tuesday.` }))

interface Run {
  readonly how: string
  readonly edits: number
  readonly succeeded: number
  readonly calls: number
  readonly elapsed: number
  readonly limitHits: number
}

/** One way of sending `edits` on a fresh sandbox with the real bucket. */
const concurrentRun = async (
  context: Context,
  how: "update" | "updateMany" | "unpacked",
  edits: number
): Promise<Run> => {
  const sandbox = await startSandbox("bitrix24", { bucket: REAL_BUCKET })
  try {
    const list = editsOf((await sandbox.seed(edits, how)) as ReadonlyArray<Edit["ids"]>)
    const editor = await bitrix24Editor(sandbox.env, {
      rateLimit: { bucket: REAL_BUCKET },
      // The unpacked calls wait for the bucket up to (n - 49) / 2 s: within the budget.
      retry: { maxElapsed: "10 minutes" },
      ...(how === "unpacked" ? { chunkSize: 1 } : {})
    })
    context.log(`  ${how}: ${count(list.length)} edits`)
    const start = performance.now()
    const outcomes =
      how === "updateMany"
        ? await Effect.runPromise(editor.updateMany(list))
        : await Effect.runPromise(
            Effect.forEach(list, (edit) => Effect.result(editor.update(edit)), { concurrency: "unbounded" })
          )
    const elapsed = (performance.now() - start) / 1000
    const stats = await sandbox.stats()
    return {
      how,
      edits: list.length,
      succeeded: outcomes.filter(Result.isSuccess).length,
      calls: stats.updateCalls,
      elapsed,
      limitHits: stats.limitHits
    }
  } finally {
    await sandbox.stop()
  }
}

/** A clock `scale` times faster than real time from `epoch`: the client's, as the sandbox's. */
const scaledClock = (epoch: number, scale: number): Clock.Clock => {
  const now = () => epoch + (Date.now() - epoch) * scale
  const nanos = () => BigInt(Math.round(now() * 1e6))
  const monotonic = () => BigInt(Math.round(performance.now() * scale * 1e6))
  return {
    currentTimeMillisUnsafe: now,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: monotonic,
    monotonicTimeNanos: Effect.sync(monotonic),
    sleep: (duration) =>
      Effect.callback<void>((resume) => {
        const timer = setTimeout(() => resume(Effect.void), Duration.toMillis(duration) / scale)
        return Effect.sync(() => clearTimeout(timer))
      })
  }
}

interface Window {
  readonly name: string
  readonly perCall: number
  readonly perMessage: number
  readonly succeeded: number
  readonly failed: number
  readonly calls: number
  readonly limitHits: number
  readonly operatingHits: number
  readonly operating: number
  readonly limit: number
  readonly callBound: number
  readonly operatingBound: number
  readonly realSeconds: number
}

/** The physical limit over the window, in messages: whichever binds first. */
const boundsOf = (perCall: number, perMessage: number) => {
  const callBound = (REAL_BUCKET.capacity + REAL_BUCKET.drainPerSecond * WINDOW_SECONDS) * MAX_PER_CALL
  const operatingBound = (OPERATING_LIMIT / (perCall + perMessage * MAX_PER_CALL)) * MAX_PER_CALL
  return { callBound, operatingBound, limit: Math.min(callBound, operatingBound) }
}

function* endless(): Generator<Edit> {
  for (let n = 0; ; n++) {
    yield {
      ids: { externalMessageId: `w-${n}`, externalChatId: `chat-${n % 50}`, externalAuthorId: `author-${n % 50}` },
      text: `Window edit ${n}.`
    }
  }
}

/** `updateStream` over an endless supply of edits for 10 minutes of the scaled clock. */
const windowRun = async (context: Context, sizes: Sizes, cost: (typeof COSTS)[number]): Promise<Window> => {
  const epoch = Date.now()
  const sandbox = await startSandbox("bitrix24", {
    bucket: REAL_BUCKET,
    operatingLimit: { costPerCall: cost.perCall, costPerMessage: cost.perMessage },
    clock: { epoch, scale: sizes.scale }
  })
  try {
    const editor = await bitrix24Editor(sandbox.env, {
      rateLimit: { bucket: REAL_BUCKET },
      // Waiting for the operating-time reset (up to the window) is part of the plan, not a failure.
      retry: { maxElapsed: "15 minutes" }
    })
    context.log(`  window (${cost.name}): 10 minutes at ${sizes.scale}x (${seconds(WINDOW_SECONDS / sizes.scale)})`)
    let succeeded = 0
    let failed = 0
    const started = performance.now()
    const program = Stream.runForEach(editor.updateStream(endless()), (outcome) =>
      Effect.sync(() => {
        if (Result.isSuccess(outcome)) succeeded += 1
        else failed += 1
      })
    ).pipe(Effect.timeoutOption(Duration.seconds(WINDOW_SECONDS)))
    await Effect.runPromise(Effect.provideService(program, Clock.Clock, scaledClock(epoch, sizes.scale)))
    const realSeconds = (performance.now() - started) / 1000
    const stats = await sandbox.stats()
    return {
      name: cost.name,
      perCall: cost.perCall,
      perMessage: cost.perMessage,
      succeeded,
      failed,
      calls: stats.updateCalls,
      limitHits: stats.limitHits,
      operatingHits: stats.operatingHits,
      operating: stats.operating,
      realSeconds,
      ...boundsOf(cost.perCall, cost.perMessage)
    }
  } finally {
    await sandbox.stop()
  }
}

export const bitrix24Limits: Benchmark = {
  name: "bitrix24-limits",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? SHORT : FULL
    const packed = await concurrentRun(context, "update", sizes.concurrent)
    const many = await concurrentRun(context, "updateMany", sizes.concurrent)
    const unpacked = await concurrentRun(context, "unpacked", sizes.unpacked)
    const windows: Array<Window> = []
    for (const cost of COSTS) windows.push(await windowRun(context, sizes, cost))

    const runRow = (run: Run, label: string) => [
      label,
      count(run.edits),
      count(run.succeeded),
      count(run.calls),
      seconds(run.elapsed),
      perSecond(run.succeeded / run.elapsed),
      count(run.limitHits)
    ]
    const packedRatio = packed.elapsed / many.elapsed
    const targets: Array<Target> = [
      {
        what: `Bitrix24: ${count(sizes.concurrent)} concurrent \`update()\` calls, time against \`updateMany\` of the same`,
        target: "at most 2x, all succeeded",
        measured: `${seconds(packed.elapsed)} vs ${seconds(many.elapsed)} (${packedRatio.toFixed(2)}x), ${count(packed.calls)} calls`,
        value: round(packedRatio, 3),
        met: packedRatio <= 2 && packed.succeeded === packed.edits
      },
      ...windows.flatMap((window): Array<Target> => {
        const share = window.succeeded / window.limit
        return [
          {
            what: `Bitrix24 10-minute window (${window.name}): share of the physical limit`,
            target: `at least ${percent(TARGET_SHARE)}`,
            measured: percent(share),
            value: round(share, 4),
            met: share >= TARGET_SHARE
          },
          {
            what: `Bitrix24 10-minute window (${window.name}): QUERY_LIMIT_EXCEEDED and OPERATION_TIME_LIMIT answers`,
            target: "0 and 0",
            measured: `${count(window.limitHits)} and ${count(window.operatingHits)}`,
            value: window.limitHits + window.operatingHits,
            met: window.limitHits === 0 && window.operatingHits === 0
          }
        ]
      })
    ]
    return {
      name: "bitrix24-limits",
      title: "6. Bitrix24 at the portal's limits",
      method: [
        `Part 1: ${count(sizes.concurrent)} concurrent \`update()\` calls (Effect API, all at once, as a relay makes one per`,
        "event) against the Bitrix24 sandbox with the real bucket (2 calls/s, burst 50) and the adapter's default limiter and",
        `chunk size, then \`updateMany\` of as many edits on a fresh sandbox; beside them, ${count(sizes.unpacked)} concurrent`,
        "`update()` calls unpacked (`chunkSize: 1`: one portal call each, as before packing).",
        `Part 2: \`updateStream\` over an endless supply of edits for a 10-minute window on a clock ${sizes.scale} times`,
        `faster than real time (${seconds(WINDOW_SECONDS / sizes.scale)} real per window), shared by the sandbox (which`,
        "answers a call once its server time has passed on that clock) and the client (Effect's `Clock`), with the real",
        "limits: 2 calls/s, burst 50, 480 s of server time per method per 10 minutes. A call costs `perCall + perMessage ×",
        "messages` of server time. The physical limit over the window is whichever binds first: (50 + 2 × 600) calls × 50",
        "messages, or 480 s / (perCall + 50 × perMessage) calls × 50 messages."
      ].join(" "),
      parameters: {
        ...sizes,
        bucket: REAL_BUCKET,
        costs: COSTS,
        operatingLimit: OPERATING_LIMIT,
        targetShare: TARGET_SHARE
      },
      tables: [
        {
          columns: ["approach", "edits", "succeeded", "portal calls", "time", "msg/s", "QUERY_LIMIT_EXCEEDED"],
          rows: [
            runRow(packed, "concurrent `update()`, packed"),
            runRow(many, "`updateMany`"),
            runRow(unpacked, "concurrent `update()`, unpacked (`chunkSize: 1`)")
          ]
        },
        {
          columns: [
            "window",
            "s per call + per message",
            "messages edited",
            "msg/s (portal time)",
            "physical limit",
            "share",
            "portal calls",
            "server time in the window at its end",
            "QUERY_LIMIT_EXCEEDED",
            "OPERATION_TIME_LIMIT"
          ],
          rows: windows.map((window) => [
            window.name,
            `${window.perCall} + ${window.perMessage}`,
            count(window.succeeded),
            perSecond(window.succeeded / WINDOW_SECONDS),
            perSecond(window.limit / WINDOW_SECONDS),
            percent(window.succeeded / window.limit),
            count(window.calls),
            seconds(window.operating),
            count(window.limitHits),
            count(window.operatingHits)
          ])
        }
      ],
      targets,
      notes: [
        `Unpacked, ${count(unpacked.edits)} concurrent updates take (n − 49) / 2 s at the bucket's rate; packed, ${count(packed.edits)} took ${seconds(packed.elapsed)} in ${count(packed.calls)} calls.`,
        ...windows.map(
          (window) =>
            `${window.name}: call-rate bound ${count(window.callBound)} messages, operating-time bound ${count(window.operatingBound)}; ${count(window.failed)} outcomes failed; ${seconds(window.realSeconds)} real.`
        ),
        "The chunk size is the adapter's default: 20 until the portal's first answers, then what the server time per message allows within half of a request's time, up to 50."
      ],
      data: {
        packed: { ...packed, elapsed: round(packed.elapsed) },
        updateMany: { ...many, elapsed: round(many.elapsed) },
        unpacked: { ...unpacked, elapsed: round(unpacked.elapsed) },
        windows: windows.map((window) => ({ ...window, realSeconds: round(window.realSeconds) }))
      }
    }
  }
}
