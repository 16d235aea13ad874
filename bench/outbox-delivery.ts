/**
 * Outbox delivery, side by side with calling the editor directly, on the
 * sandboxes (each in its own process):
 *
 * 1. Acquire: N edits of N messages delivered by the outbox's worker (from a
 *    backlog in a SQLite file: claim, call, record every outcome), against
 *    `updateMany` of the same edits on the same editor (concurrency 16).
 * 2. Bitrix24 at the portal's real bucket (2 calls/s, burst 50), 50 messages
 *    per call: the messages per second the outbox delivers against the most
 *    the portal allows, `(burst + 2 t) × 50 / t`, and against `updateMany`.
 */
import type { MessageEditor } from "@reword/core"
import { createOutbox } from "@reword/outbox/promise"
import { Effect } from "effect"
import { scratchDatabase } from "./outbox-support.ts"
import { acquireEditor, bitrix24Editor, type Edit } from "./support/editors.ts"
import { count, percent, perSecond, ratio, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult, Context } from "./support/report.ts"
import { type Bucket, startSandbox } from "./support/sandboxes.ts"
import { round } from "./support/stats.ts"

const CONCURRENCY = 16
const ACQUIRE_TARGET = 0.8
const BITRIX24_TARGET = 0.9
const REAL_BUCKET: Bucket = { drainPerSecond: 2, capacity: 50 }
const PER_CALL = 50

interface Timed {
  readonly how: string
  readonly edits: number
  readonly elapsed: number
  readonly calls?: number | undefined
}

const editsOf = (ids: ReadonlyArray<Edit["ids"]>, label: string): ReadonlyArray<Edit> =>
  ids.map((messageIds, index) => ({ ids: messageIds, text: `${label} ${index}: the order ships on Tuesday.` }))

/** The outbox delivering a backlog of `edits` through `editor`: from starting the worker to nothing pending. */
const throughOutbox = async (
  editor: MessageEditor.Service,
  edits: ReadonlyArray<Edit>,
  batchSize: number
): Promise<number> => {
  const database = scratchDatabase()
  const options = { editors: [{ editor }], database: database.filename, batchSize, settleWindow: "30 seconds" as const }
  try {
    const writer = await createOutbox({ ...options, worker: false })
    for (const edit of edits) await writer.record({ ids: edit.ids })
    await Promise.all(edits.map((edit) => writer.submit({ ids: edit.ids, text: edit.text })))
    await writer.close()
    const start = performance.now()
    const outbox = await createOutbox(options)
    const left = await outbox.drain({ timeoutMs: 600_000 })
    const elapsed = (performance.now() - start) / 1000
    await outbox.close()
    if (left.pending > 0 || left.failed > 0) throw new Error(`the outbox left ${JSON.stringify(left)}`)
    return elapsed
  } finally {
    database.cleanup()
  }
}

const acquirePart = async (context: Context, edits: number) => {
  const sandbox = await startSandbox("acquire")
  try {
    const ids = (await sandbox.seed(edits * 2, "outbox")) as ReadonlyArray<Edit["ids"]>
    const editor = await acquireEditor(sandbox.env, { concurrency: CONCURRENCY })
    // The worker runs two delivery loops, each calling updateMany: half the concurrency each, 16 in flight in all.
    const outboxEditor = await acquireEditor(sandbox.env, { concurrency: CONCURRENCY / 2 })
    // One attempt per call for both: the outbox retries itself.
    const direct = editsOf(ids.slice(0, edits), "direct")
    const queued = editsOf(ids.slice(edits), "outbox")
    await Effect.runPromise(editor.updateMany(direct.slice(0, 100)))
    context.log(`  acquire: updateMany of ${count(edits)}`)
    const start = performance.now()
    await Effect.runPromise(editor.updateMany(direct))
    const directRun: Timed = { how: "updateMany", edits, elapsed: (performance.now() - start) / 1000 }
    context.log(`  acquire: the outbox, ${count(edits)}`)
    const outboxElapsed = await throughOutbox(outboxEditor, queued, 100)
    const outboxRun: Timed = { how: "outbox", edits, elapsed: outboxElapsed }
    return { directRun, outboxRun }
  } finally {
    await sandbox.stop()
  }
}

const bitrix24Part = async (context: Context, messages: number) => {
  const run = async (how: "updateMany" | "outbox"): Promise<Timed> => {
    const sandbox = await startSandbox("bitrix24", { bucket: REAL_BUCKET })
    try {
      const edits = editsOf((await sandbox.seed(messages, how)) as ReadonlyArray<Edit["ids"]>, how)
      const editor = await bitrix24Editor(sandbox.env, {
        rateLimit: { bucket: REAL_BUCKET },
        chunkSize: PER_CALL,
        concurrency: 4,
        retry: how === "outbox" ? { maxAttempts: 1 } : { maxElapsed: "10 minutes" }
      })
      context.log(`  bitrix24: ${how}, ${count(messages)} messages`)
      const start = performance.now()
      if (how === "updateMany") await Effect.runPromise(editor.updateMany(edits))
      const elapsed = how === "outbox" ? await throughOutbox(editor, edits, 200) : (performance.now() - start) / 1000
      const stats = await sandbox.stats()
      return { how, edits: messages, elapsed, calls: stats.updateCalls }
    } finally {
      await sandbox.stop()
    }
  }
  return { direct: await run("updateMany"), outbox: await run("outbox") }
}

/** The most messages per second the portal allows over `t` seconds: (burst + drain × t) calls of PER_CALL. */
const allowedRate = (elapsed: number) =>
  ((REAL_BUCKET.capacity + REAL_BUCKET.drainPerSecond * elapsed) * PER_CALL) / elapsed

export const outboxDelivery: Benchmark = {
  name: "outbox-delivery",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { acquire: 1_000, bitrix24: 2_800 } : { acquire: 10_000, bitrix24: 4_500 }
    const acquire = await acquirePart(context, sizes.acquire)
    const bitrix24 = await bitrix24Part(context, sizes.bitrix24)
    const acquireRatio = acquire.directRun.elapsed / acquire.outboxRun.elapsed
    const bitrix24Share = sizes.bitrix24 / bitrix24.outbox.elapsed / allowedRate(bitrix24.outbox.elapsed)
    const rows = [
      ["Acquire", `updateMany (concurrency ${CONCURRENCY})`, acquire.directRun],
      ["Acquire", `the outbox's worker (two loops of ${CONCURRENCY / 2}: ${CONCURRENCY} in flight)`, acquire.outboxRun],
      ["Bitrix24 (2 calls/s, burst 50)", `updateMany (${PER_CALL} per call)`, bitrix24.direct],
      ["Bitrix24 (2 calls/s, burst 50)", "the outbox's worker, same editor", bitrix24.outbox]
    ] as const
    return {
      name: "outbox-delivery",
      title: "8. Outbox delivery against direct calls",
      method:
        "A backlog of edits (one per message) in a SQLite file, delivered by a worker started on it, until nothing is pending; against updateMany of as many edits on the same editor and sandbox. Bitrix24 on the portal's real bucket: its share of the most the portal allows is messages/s over (burst + 2 t) × 50 / t.",
      parameters: { ...sizes, concurrency: CONCURRENCY, bitrix24Bucket: REAL_BUCKET, perCall: PER_CALL },
      tables: [
        {
          columns: ["provider", "how", "edits", "time", "edits/s", "portal calls"],
          rows: rows.map(([provider, how, run]) => [
            provider,
            how,
            count(run.edits),
            seconds(run.elapsed),
            perSecond(run.edits / run.elapsed, "edits/s"),
            run.calls === undefined ? "" : count(run.calls)
          ])
        }
      ],
      targets: [
        {
          what: "Acquire: the outbox's throughput against updateMany (same concurrency)",
          target: `at least ${ratio(ACQUIRE_TARGET)}`,
          measured: ratio(acquireRatio),
          value: round(acquireRatio),
          met: acquireRatio >= ACQUIRE_TARGET
        },
        {
          what: "Bitrix24: the outbox's messages/s against the most the portal allows",
          target: `at least ${percent(BITRIX24_TARGET)}`,
          measured: percent(bitrix24Share),
          value: round(bitrix24Share),
          met: bitrix24Share >= BITRIX24_TARGET
        }
      ],
      notes: [
        `Bitrix24 through the outbox against updateMany: ${ratio(bitrix24.direct.elapsed / bitrix24.outbox.elapsed)}.`,
        "The outbox's time includes opening the database, claiming each page and recording every outcome in the journal."
      ],
      data: { acquire, bitrix24, acquireRatio, bitrix24Share }
    }
  }
}
