/**
 * Memory: 100,000 edits through `updateMany` and `updateStream` (over an
 * iterable and over a `Stream`) and the Promise API's `updateEach`, and the
 * same 100,000 requests written by hand with ky at the same concurrency (the
 * baseline), each in a fresh child process (`memory-child.ts`) sampling its
 * RSS and V8 heap every 100 ms: peak RSS and old-generation peak against the
 * ky loop's, and whether memory grows with the count (outcomes accumulating)
 * or stays flat (outcomes streaming out).
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { buildPackages } from "./support/build.ts"
import { count, mb, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"
import { round } from "./support/stats.ts"

const run = promisify(execFile)
const CHILD = fileURLToPath(new URL("./memory-child.ts", import.meta.url))
/** Peak RSS of a streaming way at most this many times the ky loop's (same process setup, same fetch, Node's defaults). */
const TARGET_RATIO = 1.3
/**
 * V8's heap capped, for the last row: Node 20 and later size the young
 * generation by the machine's memory (64 MB semi-spaces on a 24 GB machine),
 * and the old generation grows with promoted garbage until a full GC.
 */
const CAPPED = ["--max-semi-space-size=4", "--max-old-space-size=64"]

type Sample = readonly [
  seconds: number,
  rss: number,
  heapUsed: number,
  external: number,
  answered: number,
  done: number
]

interface ChildResult {
  readonly mode: string
  readonly total: number
  readonly done: number
  readonly failed: number
  readonly seconds: number
  readonly baseline: { readonly rss: number; readonly heapUsed: number }
  readonly peak: { readonly rss: number; readonly heapUsed: number; readonly oldSpace: number }
  readonly retained: number
  readonly maxRss: number
  readonly samples: ReadonlyArray<Sample>
}

interface Row {
  readonly mode: "ky" | "many" | "stream" | "stream-source" | "each"
  readonly label: string
  /** Node flags besides `--expose-gc`: `--conditions=@reword/source` unless the row runs the built packages. */
  readonly flags: ReadonlyArray<string>
  /** Whether the target applies (the rows with V8 flags explain, they are not the target; `updateMany` keeps every outcome by design). */
  readonly target: boolean
}

const SOURCE = "--conditions=@reword/source"

const ROWS: ReadonlyArray<Row> = [
  {
    mode: "ky",
    label: "baseline: hand-written ky, 16 workers over the same `fetch` (no reword call)",
    flags: [SOURCE],
    target: false
  },
  { mode: "many", label: "`updateMany` over a generator (outcomes accumulate)", flags: [SOURCE], target: false },
  { mode: "stream", label: "`updateStream` over a generator", flags: [SOURCE], target: true },
  { mode: "stream-source", label: "`updateStream` over an Effect `Stream`", flags: [SOURCE], target: true },
  { mode: "each", label: "Promise API `updateEach` over an async generator", flags: [SOURCE], target: true },
  {
    mode: "stream",
    label: `\`updateStream\` over a generator, V8 heap capped (\`${CAPPED.join(" ")}\`)`,
    flags: [SOURCE, ...CAPPED],
    target: false
  },
  {
    mode: "stream",
    label: "`updateStream` over a generator, V8 heap capped, reword from the built `dist` (as installed)",
    flags: CAPPED,
    target: false
  }
]

/** The first sample taken once this share of the edits was answered. */
const at = (result: ChildResult, share: number): Sample | undefined =>
  result.samples.find((sample) => sample[4] >= share * result.total)

const checkpoints = (result: ChildResult, pick: (sample: Sample) => number): string =>
  [0.25, 0.5, 0.75, 1]
    .map((share) => {
      const sample = at(result, share)
      return sample === undefined ? "-" : (pick(sample) / 1024 / 1024).toFixed(0)
    })
    .join(" / ")

const peakOf = (result: ChildResult) => Math.max(result.maxRss, result.peak.rss)
const ratioText = (value: number) => `${value.toFixed(2)}x`

export const memory: Benchmark = {
  name: "memory",
  run: async (context): Promise<BenchResult> => {
    const total = context.short ? 2_000 : 100_000
    // The last row imports the built packages.
    await buildPackages(context.log)
    const results: Array<{ readonly row: Row; readonly result: ChildResult }> = []
    for (const row of ROWS) {
      context.log(`  ${row.mode} (${row.flags.join(" ")}): ${count(total)} edits in a child process`)
      const { stdout } = await run(process.execPath, ["--expose-gc", ...row.flags, CHILD, row.mode, String(total)], {
        maxBuffer: 64 * 1024 * 1024
      })
      const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as ChildResult
      if (result.done !== total || result.failed > 0) {
        throw new Error(`${row.mode}: ${result.done} outcomes of ${total}, ${result.failed} failed`)
      }
      results.push({ row, result })
    }
    const baseline = results.find(({ row }) => row.mode === "ky")?.result
    if (baseline === undefined) throw new Error("the ky baseline did not run")
    const targets: Array<Target> = results
      .filter(({ row }) => row.target)
      .map(({ row, result }) => {
        const value = peakOf(result) / peakOf(baseline)
        return {
          what: `${row.label}: peak RSS over ${count(total)} edits against the ky loop's (${mb(peakOf(baseline))}; old generation ${mb(result.peak.oldSpace)} against ${mb(baseline.peak.oldSpace)})`,
          target: `at most ${ratioText(TARGET_RATIO)}`,
          measured: `${ratioText(value)} (${mb(peakOf(result))})`,
          value: round(value),
          met: value <= TARGET_RATIO
        }
      })
    return {
      name: "memory",
      title: "4. Memory",
      method: [
        `${count(total)} edits given as a generator (or an Effect \`Stream\`, or an async generator), each way in a fresh Node`,
        "process (`node --conditions=@reword/source --expose-gc bench/memory-child.ts`) that samples `process.memoryUsage()`",
        "every 100 ms. Peak RSS is the kernel's high-water mark for the process (`resourceUsage().maxRSS`), which sampling cannot",
        "miss; *heap kept* is the heap used after a full GC at the end (with `updateMany`'s answer still held) less the heap used after one before the first edit. The target",
        "is the Acquire adapter (concurrency 16) over a `fetch` that answers in the same process on the next turn of the event",
        "loop (`transport.fetch`): the whole adapter path runs, HTTP client and answer decoding included, and the target keeps",
        "no state, so the memory is reword's own (a sandbox would keep every edit, and the in-memory editor a store of every",
        "message). The baseline is the same requests written by hand with ky over the same `fetch`, 16 workers each awaiting its",
        "own (a plain loop at the same concurrency), in a process set up the same way (effect and reword loaded, editors built):",
        "the target is each streaming way's peak RSS at most 1.3x the baseline's. *Peak old generation* is V8's `old_space` used,",
        "sampled: what survived young collections until a full GC.",
        "Checkpoints: when 25, 50, 75 and 100% of the edits were answered. The last two rows run with V8's heap",
        "capped, to show how much of the peak is V8's own sizing rather than what reword keeps; the very last imports the",
        "built packages, as an installed app does (the benchmark process itself is still TypeScript)."
      ].join(" "),
      parameters: { total, concurrency: 16, sampleMs: 100, targetRatio: TARGET_RATIO },
      tables: [
        {
          columns: [
            "way",
            "time",
            "RSS before",
            "peak RSS",
            "vs ky loop",
            "peak heap used",
            "peak old generation",
            "heap kept after GC",
            "RSS at 25/50/75/100% (MB)",
            "heap used at 25/50/75/100% (MB)"
          ],
          rows: results.map(({ row, result }) => [
            row.label,
            seconds(result.seconds),
            mb(result.baseline.rss),
            mb(peakOf(result)),
            ratioText(peakOf(result) / peakOf(baseline)),
            mb(result.peak.heapUsed),
            mb(result.peak.oldSpace),
            mb(result.retained - result.baseline.heapUsed),
            checkpoints(result, (sample) => sample[1]),
            checkpoints(result, (sample) => sample[2])
          ])
        }
      ],
      targets,
      notes: [
        "`updateMany` answers every outcome at once, so it holds all of them by the end (see *heap kept*); `updateStream` and `updateEach` hand each outcome on as it completes, so what they retain does not grow with the count.",
        "RSS before is the process with Node, the TypeScript type stripper (the benchmark is TypeScript), effect and reword loaded, before any edit."
      ],
      data: results.map(({ row, result }) => ({
        mode: row.mode,
        flags: row.flags,
        total: result.total,
        seconds: round(result.seconds),
        baseline: result.baseline,
        peak: result.peak,
        retained: result.retained,
        maxRss: result.maxRss,
        // One sample in ten is enough to draw the curve: [seconds, rss, heapUsed, external, answered, done].
        samples: result.samples.filter((_, index) => index % 10 === 0 || index === result.samples.length - 1)
      }))
    }
  }
}
