/**
 * Acquire bulk: many edits at a bounded concurrency through reword's
 * `updateMany`, against hand-written ky with `Promise.all` at the same
 * concurrency, on the same sandbox.
 */
import { Acquire } from "@reword/acquire"
import { createEditor } from "@reword/core/promise"
import { Effect, Result } from "effect"
import { acquireEditor, acquireKy, collectGarbage, type Edit } from "./support/editors.ts"
import { count, perSecond, ratio, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { startSandbox } from "./support/sandboxes.ts"
import { median, round } from "./support/stats.ts"

const TARGET = 0.9
const CONCURRENCY = 16

interface Contender {
  readonly name: "effect" | "promise" | "kyPool" | "kyBatches"
  readonly label: string
  /** Sends every edit and answers how many failed. */
  readonly run: (edits: ReadonlyArray<Edit>) => Promise<number>
}

/** N workers, each taking the next edit as soon as its last one is answered: `Promise.all` over the workers. */
const pool = async (edits: ReadonlyArray<Edit>, concurrency: number, call: (edit: Edit) => Promise<void>) => {
  let next = 0
  const worker = async () => {
    while (next < edits.length) {
      const edit = edits[next++] as Edit
      await call(edit)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return 0
}

/** `Promise.all` over consecutive batches of N: each batch waits for its slowest edit. */
const batches = async (edits: ReadonlyArray<Edit>, size: number, call: (edit: Edit) => Promise<void>) => {
  for (let start = 0; start < edits.length; start += size) await Promise.all(edits.slice(start, start + size).map(call))
  return 0
}

export const acquireBulk: Benchmark = {
  name: "acquire-bulk",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { edits: 500, rounds: 1, warmup: 50 } : { edits: 5_000, rounds: 3, warmup: 500 }
    const sandbox = await startSandbox("acquire")
    const promiseEditor = await createEditor({
      providers: Acquire.provider,
      env: sandbox.env,
      concurrency: CONCURRENCY
    })
    try {
      const ids = (await sandbox.seed(sizes.edits, "bulk")) as ReadonlyArray<Edit["ids"]>
      const editsOf = (label: string) =>
        ids.map(
          (messageIds, index): Edit => ({ ids: messageIds, text: `${label} ${index}: the order ships on Tuesday.` })
        )
      const editor = await acquireEditor(sandbox.env, { concurrency: CONCURRENCY })
      const call = acquireKy(sandbox.env)
      const contenders: ReadonlyArray<Contender> = [
        {
          name: "kyPool",
          label: `hand-written ky, \`Promise.all\` over ${CONCURRENCY} workers`,
          run: (edits) => pool(edits, CONCURRENCY, call)
        },
        {
          name: "kyBatches",
          label: `hand-written ky, \`Promise.all\` over batches of ${CONCURRENCY}`,
          run: (edits) => batches(edits, CONCURRENCY, call)
        },
        {
          name: "effect",
          label: `reword, Effect API \`updateMany\` (concurrency ${CONCURRENCY})`,
          run: (edits) =>
            Effect.runPromise(
              Effect.map(editor.updateMany(edits), (outcomes) => outcomes.filter(Result.isFailure).length)
            )
        },
        {
          name: "promise",
          label: `reword, Promise API \`updateMany\` (concurrency ${CONCURRENCY})`,
          run: async (edits) =>
            (await promiseEditor.updateMany(edits)).filter((settled) => settled.status === "rejected").length
        }
      ]
      for (const contender of contenders) await contender.run(editsOf("Warm-up").slice(0, sizes.warmup))
      const rates = new Map<Contender["name"], Array<number>>(contenders.map((contender) => [contender.name, []]))
      let failures = 0
      for (let roundIndex = 0; roundIndex < sizes.rounds; roundIndex++) {
        const edits = editsOf(`Round ${roundIndex}`)
        for (let turn = 0; turn < contenders.length; turn++) {
          const contender = contenders[(roundIndex + turn) % contenders.length] as Contender
          collectGarbage()
          const start = performance.now()
          failures += await contender.run(edits)
          const elapsed = (performance.now() - start) / 1000
          rates.get(contender.name)?.push(edits.length / elapsed)
        }
        context.log(`  round ${roundIndex + 1} of ${sizes.rounds}`)
      }
      if (failures > 0) throw new Error(`${failures} edits failed`)
      const rateOf = (name: Contender["name"]) => median(rates.get(name) ?? [])
      const baseline = rateOf("kyPool")
      return {
        name: "acquire-bulk",
        title: "3. Acquire bulk",
        method: [
          `${count(sizes.edits)} edits (one per seeded message) at a concurrency of ${CONCURRENCY}, in ${sizes.rounds} round${sizes.rounds > 1 ? "s" : ""};`,
          "in each round every contender sends all of them, the order rotating, after a warm-up of",
          `${sizes.warmup} edits each. Throughput is the median over the rounds. The sandbox runs in a child process.`,
          "The target compares reword with hand-written ky over a pool of workers (the faster of the two ky forms)."
        ].join(" "),
        parameters: { ...sizes, concurrency: CONCURRENCY, target: TARGET },
        tables: [
          {
            columns: ["contender", "throughput (median)", "time per round", "against ky (workers)", "each round"],
            rows: contenders.map((contender) => {
              const rate = rateOf(contender.name)
              return [
                contender.label,
                perSecond(rate),
                seconds(sizes.edits / rate),
                ratio(rate / baseline),
                (rates.get(contender.name) ?? []).map((value) => count(value)).join(", ")
              ]
            })
          }
        ],
        targets: (["effect", "promise"] as const).map((name) => {
          const value = rateOf(name) / baseline
          return {
            what: `Acquire, ${name === "effect" ? "Effect" : "Promise"} API \`updateMany\`: throughput against ky + \`Promise.all\` (${CONCURRENCY} workers)`,
            target: `at least ${ratio(TARGET)}`,
            measured: ratio(value),
            value: round(value),
            met: value >= TARGET
          }
        }),
        notes: [],
        data: Object.fromEntries(
          contenders.map((contender) => [
            contender.name,
            {
              label: contender.label,
              median: round(rateOf(contender.name), 1),
              rounds: (rates.get(contender.name) ?? []).map((value) => round(value, 1))
            }
          ])
        )
      }
    } finally {
      await promiseEditor.dispose()
      await sandbox.stop()
    }
  }
}
