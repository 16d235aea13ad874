/**
 * Outbox memory: a worker delivering 100,000 pending edits (100,000 messages,
 * a SQLite file) to a provider that answers at once. The heap is sampled
 * (after a full GC) every 200 ms across the run: it stays flat because the
 * worker reads pending work page by page (`batchSize`) from the database.
 * Side by side, the heap that holding the same edits in memory would take
 * (the baseline: an array of as many requests).
 */
import { createOutbox } from "@reword/outbox/promise"
import { instantEditor, scratchDatabase } from "./outbox-support.ts"
import { count, mb, perSecond, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { median, round } from "./support/stats.ts"

/** Growth allowed between the first and the last quarter of the run's samples. */
const FLAT_BYTES = 8 * 1024 * 1024

const gc = (): void => (globalThis as { gc?: () => void }).gc?.()
const heap = (): number => {
  gc()
  return process.memoryUsage().heapUsed
}

export const outboxMemory: Benchmark = {
  name: "outbox-memory",
  run: async (context): Promise<BenchResult> => {
    const pending = context.short ? 10_000 : 100_000
    const database = scratchDatabase()
    const { editor, state } = instantEditor(50)
    try {
      context.log(`  submitting ${count(pending)} edits`)
      const writer = await createOutbox({
        editors: [{ editor }],
        database: { sqlite: database.filename, synchronous: "NORMAL" },
        unknownMessages: "record",
        worker: false
      })
      const CHUNK = 1_000
      for (let start = 0; start < pending; start += CHUNK) {
        await Promise.all(
          Array.from({ length: Math.min(CHUNK, pending - start) }, (_, k) =>
            writer.submit({ ids: { externalMessageId: `m-${start + k}` }, text: `edit ${start + k}: ships Tuesday.` })
          )
        )
      }
      await writer.close()

      // The baseline: the same requests held in memory at once.
      const before = heap()
      const held = Array.from({ length: pending }, (_, n) => ({
        ids: { externalMessageId: `m-${n}` },
        text: `edit ${n}: ships Tuesday.`
      }))
      const inMemory = heap() - before
      held.length = 0

      context.log(`  delivering ${count(pending)} with one worker`)
      const baseline = heap()
      const samples: Array<{ readonly at: number; readonly delivered: number; readonly heap: number }> = []
      const start = performance.now()
      const outbox = await createOutbox({ editors: [{ editor }], database: database.filename, batchSize: 100 })
      const sampler = setInterval(() => {
        samples.push({ at: (performance.now() - start) / 1000, delivered: state.delivered, heap: heap() })
      }, 200)
      const left = await outbox.drain({ timeoutMs: 600_000 })
      const elapsed = (performance.now() - start) / 1000
      clearInterval(sampler)
      samples.push({ at: elapsed, delivered: state.delivered, heap: heap() })
      await outbox.close()
      if (left.pending > 0 || left.failed > 0) throw new Error(`the outbox left ${JSON.stringify(left)}`)

      const quarter = Math.max(1, Math.floor(samples.length / 4))
      const first = median(samples.slice(0, quarter).map((s) => s.heap))
      const last = median(samples.slice(-quarter).map((s) => s.heap))
      const peak = Math.max(...samples.map((s) => s.heap))
      const growth = last - first
      const shown = samples.filter(
        (_, n) => n % Math.max(1, Math.floor(samples.length / 8)) === 0 || n === samples.length - 1
      )
      return {
        name: "outbox-memory",
        title: "9. Outbox memory with 100,000 pending",
        method: `${count(pending)} pending edits of as many messages in a SQLite file, delivered by one worker (batchSize 100) to a provider that answers at once; the heap sampled after a full GC every 200 ms, from the worker's start to nothing pending.`,
        parameters: { pending, batchSize: 100, sampleEveryMs: 200 },
        tables: [
          {
            columns: ["", "heap"],
            rows: [
              ["before the worker starts", mb(baseline)],
              ["median, first quarter of the run", mb(first)],
              ["median, last quarter of the run", mb(last)],
              ["peak", mb(peak)],
              [`baseline: the ${count(pending)} requests held in memory`, `+${mb(inMemory)}`]
            ]
          },
          {
            title: "Samples",
            columns: ["time", "delivered", "heap"],
            rows: shown.map((s) => [seconds(s.at), count(s.delivered), mb(s.heap)])
          }
        ],
        targets: [
          {
            what: `Outbox worker, ${count(pending)} pending: heap growth from the first to the last quarter of the run`,
            target: `flat: at most ${mb(FLAT_BYTES)}`,
            measured: mb(growth),
            value: round(growth / 1024 / 1024, 2),
            met: growth <= FLAT_BYTES
          }
        ],
        notes: [
          `Delivered ${count(state.delivered)} in ${seconds(elapsed)} (${perSecond(pending / elapsed, "edits/s")}: claim, call, record each outcome).`,
          `Peak above the heap before the worker started: ${mb(peak - baseline)}; holding the requests in memory would add ${mb(inMemory)}.`
        ],
        data: { baseline, first, last, peak, growth, inMemory, elapsed, samples: shown }
      }
    } finally {
      database.cleanup()
    }
  }
}
