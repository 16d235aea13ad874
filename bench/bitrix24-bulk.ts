/**
 * Bitrix24 bulk: `updateMany` over many edits against a sandbox that enforces
 * its leaky bucket, with the adapter's limiter set to the same bucket; beside
 * it, the naive way (one call per message, no limiter) on the same bucket.
 */
import { Effect, Result } from "effect"
import { bitrix24Body, bitrix24Editor, type Edit } from "./support/editors.ts"
import { count, percent, perSecond, seconds } from "./support/format.ts"
import ky from "./support/ky.ts"
import type { Benchmark, BenchResult, Context } from "./support/report.ts"
import { type Bucket, startSandbox } from "./support/sandboxes.ts"
import { round } from "./support/stats.ts"

const TARGET_SHARE = 0.9

interface Sizes {
  readonly edits: number
  readonly chunkSize: number
  readonly bucket: Bucket
  /** The naive run stops after this many messages or this many seconds, whichever comes first. */
  readonly naiveMessages: number
  readonly naiveSeconds: number
}

const FULL: Sizes = {
  edits: 10_000,
  chunkSize: 20,
  // The real bucket drains 2 calls/s and holds 50: the same burst, drained 22.5 times faster, so that
  // 10,000 edits in 500 calls of 20 take about 10 s: (500 - 50) / 45 = 10 s.
  bucket: { drainPerSecond: 45, capacity: 50 },
  naiveMessages: 2_000,
  naiveSeconds: 5
}

const SHORT: Sizes = {
  edits: 500,
  chunkSize: 20,
  bucket: { drainPerSecond: 15, capacity: 10 },
  naiveMessages: 200,
  naiveSeconds: 1
}

/** The most calls the bucket lets through in `elapsed` seconds from empty: the burst, then the drain. */
const allowedCalls = (bucket: Bucket, elapsed: number) => bucket.capacity + bucket.drainPerSecond * elapsed

const editsOf = (ids: ReadonlyArray<Edit["ids"]>): ReadonlyArray<Edit> =>
  ids.map((messageIds, index) => ({ ids: messageIds, text: `Bulk edit ${index}: the order ships on Tuesday.` }))

interface Batched {
  readonly edits: number
  readonly calls: number
  readonly elapsed: number
  readonly succeeded: number
  readonly failed: number
  readonly limitHits: number
}

const batched = async (context: Context, sizes: Sizes): Promise<Batched> => {
  const sandbox = await startSandbox("bitrix24", { bucket: sizes.bucket })
  try {
    const edits = editsOf((await sandbox.seed(sizes.edits, "bulk")) as ReadonlyArray<Edit["ids"]>)
    const editor = await bitrix24Editor(sandbox.env, {
      chunkSize: sizes.chunkSize,
      rateLimit: { bucket: sizes.bucket }
    })
    context.log(`  updateMany: ${count(edits.length)} edits in chunks of ${sizes.chunkSize}`)
    const start = performance.now()
    const outcomes = await Effect.runPromise(editor.updateMany(edits))
    const elapsed = (performance.now() - start) / 1000
    const stats = await sandbox.stats()
    const succeeded = outcomes.filter(Result.isSuccess).length
    return {
      edits: edits.length,
      calls: stats.updateCalls,
      elapsed,
      succeeded,
      failed: outcomes.length - succeeded,
      limitHits: stats.limitHits
    }
  } finally {
    await sandbox.stop()
  }
}

interface Naive {
  readonly attempted: number
  readonly accepted: number
  readonly refused: number
  readonly otherErrors: number
  readonly elapsed: number
  readonly limitHits: number
}

/** One `imconnector.update.messages` call per message, one after the other, no limiter: hand-written ky. */
const naive = async (context: Context, sizes: Sizes): Promise<Naive> => {
  const sandbox = await startSandbox("bitrix24", { bucket: sizes.bucket })
  try {
    const edits = editsOf((await sandbox.seed(sizes.naiveMessages, "naive")) as ReadonlyArray<Edit["ids"]>)
    const url = `${sandbox.env.BITRIX24_PORTAL_URL}/rest/imconnector.update.messages`
    context.log(`  naive: one call per message, at most ${sizes.naiveMessages} messages or ${sizes.naiveSeconds} s`)
    let accepted = 0
    let refused = 0
    let otherErrors = 0
    let attempted = 0
    const start = performance.now()
    const deadline = start + sizes.naiveSeconds * 1000
    for (const edit of edits) {
      if (performance.now() >= deadline) break
      attempted += 1
      try {
        await ky.post(url, { headers: { accept: "application/json" }, json: bitrix24Body(sandbox.env, [edit]) }).json()
        accepted += 1
      } catch (error) {
        if ((error as { response?: Response }).response?.status === 503) refused += 1
        else otherErrors += 1
      }
    }
    const elapsed = (performance.now() - start) / 1000
    return { attempted, accepted, refused, otherErrors, elapsed, limitHits: (await sandbox.stats()).limitHits }
  } finally {
    await sandbox.stop()
  }
}

export const bitrix24Bulk: Benchmark = {
  name: "bitrix24-bulk",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? SHORT : FULL
    const { bucket, chunkSize } = sizes
    const bulk = await batched(context, sizes)
    const plain = await naive(context, sizes)

    const bulkAllowed = allowedCalls(bucket, bulk.elapsed) * chunkSize
    const bulkShare = bulk.edits / bulkAllowed
    const idealSeconds = Math.max(0, bulk.edits / chunkSize - bucket.capacity) / bucket.drainPerSecond
    const naiveAllowed = allowedCalls(bucket, plain.elapsed)
    const bucketText = `${bucket.drainPerSecond} calls/s, burst ${bucket.capacity}`
    return {
      name: "bitrix24-bulk",
      title: "2. Bitrix24 bulk",
      method: [
        `${count(sizes.edits)} edits through the Effect API's \`updateMany\` (chunks of ${chunkSize} messages per`,
        `\`imconnector.update.messages\` call, the default concurrency of 4) against the Bitrix24 sandbox enforcing a leaky`,
        `bucket of ${bucketText} (the real portal's burst of 50, drained 22.5 times faster than its 2/s, so that the run`,
        `takes about ${Math.round(idealSeconds)} s), with the adapter's limiter set to the same bucket. The maximum the limit`,
        "allows over a run of T seconds is (burst + drain × T) calls, times the chunk size in messages.",
        `Beside it, the naive way: one call per message, one after the other, no limiter (hand-written ky), on a fresh`,
        `sandbox with the same bucket, stopped after ${count(sizes.naiveMessages)} messages or ${sizes.naiveSeconds} s.`
      ].join(" "),
      parameters: { ...sizes, targetShare: TARGET_SHARE },
      tables: [
        {
          columns: [
            "approach",
            "messages sent",
            "accepted",
            "calls",
            "time",
            "accepted msg/s",
            "most the limit allows",
            "share of it",
            "QUERY_LIMIT_EXCEEDED"
          ],
          rows: [
            [
              `reword \`updateMany\`, chunks of ${chunkSize}, limiter`,
              count(bulk.edits),
              count(bulk.succeeded),
              count(bulk.calls),
              seconds(bulk.elapsed),
              perSecond(bulk.succeeded / bulk.elapsed),
              perSecond(bulkAllowed / bulk.elapsed),
              percent(bulkShare),
              count(bulk.limitHits)
            ],
            [
              "naive: one call per message, no limiter (ky)",
              count(plain.attempted),
              count(plain.accepted),
              count(plain.attempted),
              seconds(plain.elapsed),
              perSecond(plain.accepted / plain.elapsed),
              perSecond(naiveAllowed / plain.elapsed),
              percent(plain.accepted / naiveAllowed),
              count(plain.limitHits)
            ]
          ]
        }
      ],
      targets: [
        {
          what: "Bitrix24 `updateMany`: share of the most the limit allows",
          target: `at least ${percent(TARGET_SHARE)}`,
          measured: percent(bulkShare),
          value: round(bulkShare, 4),
          met: bulkShare >= TARGET_SHARE && bulk.failed === 0
        },
        {
          what: "Bitrix24 `updateMany`: `QUERY_LIMIT_EXCEEDED` answers",
          target: "0",
          measured: count(bulk.limitHits),
          value: bulk.limitHits,
          met: bulk.limitHits === 0
        }
      ],
      notes: [
        `At the steady rate the bucket allows ${count(bucket.drainPerSecond * chunkSize)} msg/s in chunks of ${chunkSize}, and ${count(bucket.drainPerSecond)} msg/s one message per call; from an empty bucket, ${count(sizes.edits)} edits cannot take less than ${seconds(idealSeconds)}.`,
        `The adapter's limiter keeps 1 call of the bucket in reserve (its default \`headroom\`) and counts a call as draining from when its answer is back, so it never meets the limit on a fast network and gives up a little of the burst on a slow one.`,
        `Naive: ${count(plain.refused)} of ${count(plain.attempted)} calls were refused with \`503 QUERY_LIMIT_EXCEEDED\` (${count(plain.otherErrors)} other errors); each refused message still has to be sent again.`
      ],
      data: {
        bulk: {
          ...bulk,
          elapsed: round(bulk.elapsed),
          allowedMessages: round(bulkAllowed),
          share: round(bulkShare, 4),
          idealSeconds: round(idealSeconds)
        },
        naive: { ...plain, elapsed: round(plain.elapsed), allowedCalls: round(naiveAllowed) }
      }
    }
  }
}
