/**
 * Acquire bulk: many edits at a bounded concurrency through reword's
 * `updateMany`, against hand-written ky with `Promise.all` at the same
 * concurrency (a pool of workers, and consecutive batches), on the same
 * sandbox, side by side in the same run: throughput, the client's CPU per
 * edit, and the connections each opened.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel"
import { Acquire } from "@reword/acquire"
import { createEditor } from "@reword/core/promise"
import { Effect, Result, Stream } from "effect"
import { acquireEditor, acquireKy, collectGarbage, type Edit } from "./support/editors.ts"
import { count, perSecond, ratio, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { startSandbox } from "./support/sandboxes.ts"
import { median, round } from "./support/stats.ts"

const TARGET = 0.9
const CONCURRENCY = 16

type Name = "kyPool" | "kyBatches" | "effect" | "promise" | "orderedStream"

interface Contender {
  readonly name: Name
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

/**
 * The TCP connections this process opens, from undici's diagnostics channel
 * (Node's `fetch` and the transport's own `Agent` both publish on it): a
 * client that reuses its keep-alive sockets opens at most one per slot.
 */
const connectionCounter = () => {
  let opened = 0
  const onConnected = () => {
    opened++
  }
  subscribe("undici:client:connected", onConnected)
  return {
    opened: () => opened,
    stop: () => unsubscribe("undici:client:connected", onConnected)
  }
}

export const acquireBulk: Benchmark = {
  name: "acquire-bulk",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { edits: 400, rounds: 2, warmup: 50 } : { edits: 2_000, rounds: 8, warmup: 500 }
    const sandbox = await startSandbox("acquire")
    const promiseEditor = await createEditor({
      providers: Acquire.provider,
      env: sandbox.env,
      concurrency: CONCURRENCY
    })
    const connections = connectionCounter()
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
        },
        {
          name: "orderedStream",
          label: `for contrast: reword's \`update\` through Effect's ordered \`Stream.mapEffect\` (concurrency ${CONCURRENCY}), the way \`updateMany\` ran before the reorder window`,
          run: (edits) =>
            Effect.runPromise(
              Stream.runFold(
                Stream.mapEffect(Stream.fromIterable(edits), (edit) => Effect.result(editor.update(edit)), {
                  concurrency: CONCURRENCY
                }),
                () => 0,
                (failed, outcome) => failed + (Result.isFailure(outcome) ? 1 : 0)
              )
            )
        }
      ]
      for (const contender of contenders) await contender.run(editsOf("Warm-up").slice(0, sizes.warmup))
      const rates = new Map<Name, Array<number>>(contenders.map((contender) => [contender.name, []]))
      let failures = 0
      /** This process's CPU time per contender: the client's own work (the sandbox runs in another process). */
      const cpuMicros = new Map<Name, number>()
      const cpuPerEdit = (name: Name) => (cpuMicros.get(name) ?? 0) / sizes.rounds / sizes.edits
      /** Connections opened during each measured run, per contender. */
      const opened = new Map<Name, Array<number>>(contenders.map((contender) => [contender.name, []]))
      const openedOf = (name: Name) => (opened.get(name) ?? []).reduce((sum, value) => sum + value, 0)
      for (let roundIndex = 0; roundIndex < sizes.rounds; roundIndex++) {
        const edits = editsOf(`Round ${roundIndex}`)
        for (let turn = 0; turn < contenders.length; turn++) {
          const contender = contenders[(roundIndex + turn) % contenders.length] as Contender
          collectGarbage()
          const openedBefore = connections.opened()
          const cpu = process.cpuUsage()
          const start = performance.now()
          failures += await contender.run(edits)
          const elapsed = (performance.now() - start) / 1000
          const used = process.cpuUsage(cpu)
          rates.get(contender.name)?.push(edits.length / elapsed)
          cpuMicros.set(contender.name, (cpuMicros.get(contender.name) ?? 0) + used.user + used.system)
          opened.get(contender.name)?.push(connections.opened() - openedBefore)
        }
        context.log(`  round ${roundIndex + 1} of ${sizes.rounds}`)
      }
      if (failures > 0) throw new Error(`${failures} edits failed`)
      const rateOf = (name: Name) => median(rates.get(name) ?? [])
      const roundRate = (name: Name, round: number) => rates.get(name)?.[round] ?? Number.NaN
      /** The median over the rounds of a contender's rate over the faster ky's in the same round (same load). */
      const pairedOf = (name: Name) =>
        median(
          Array.from(
            { length: sizes.rounds },
            (_, index) => roundRate(name, index) / Math.max(roundRate("kyPool", index), roundRate("kyBatches", index))
          )
        )
      // The target is against the faster of the two ky forms in this run (batches often win on loopback:
      // sending 16 requests in one tick and reading 16 answers in a burst costs fewer wake-ups than a pool).
      const fasterKy = rateOf("kyPool") >= rateOf("kyBatches") ? "kyPool" : "kyBatches"
      const baseline = rateOf(fasterKy)
      const fasterLabel = fasterKy === "kyPool" ? `${CONCURRENCY} workers` : `batches of ${CONCURRENCY}`
      return {
        name: "acquire-bulk",
        title: "3. Acquire bulk",
        method: [
          `${count(sizes.edits)} edits (one per seeded message) at a concurrency of ${CONCURRENCY}, in ${sizes.rounds} round${sizes.rounds > 1 ? "s" : ""};`,
          "in each round every contender sends all of them, the order rotating, after a warm-up of",
          `${sizes.warmup} edits each. Throughput is the median over the rounds. The sandbox runs in a child process.`,
          "Two ky forms at the same concurrency: a pool of workers (each sends its next edit as soon as its last is answered, as",
          "`updateMany` does) and consecutive batches; the target compares reword with the faster of the two in this run",
          "(medians over the rounds); the paired column divides each round's rate by the faster ky's in that same round, which",
          "cancels most of the drift of the machine's load. Client CPU is this process's user and system time per edit, the",
          "sandbox's work excluded. Connections are those the client opened during the measured runs (undici's",
          "`undici:client:connected` channel): a client that reuses its keep-alive sockets opens at most one per slot, and",
          "again after its sockets sat idle past undici's 4 s keep-alive while the other contenders ran."
        ].join(" "),
        parameters: { ...sizes, concurrency: CONCURRENCY, target: TARGET },
        tables: [
          {
            columns: [
              "contender",
              "throughput (median)",
              "time per round",
              "against the faster ky",
              "paired, per round",
              "against ky batches",
              "against ky pool",
              "client CPU per edit",
              "connections opened",
              "each round"
            ],
            rows: contenders.map((contender) => {
              const rate = rateOf(contender.name)
              return [
                contender.label,
                perSecond(rate),
                seconds(sizes.edits / rate),
                ratio(rate / baseline),
                ratio(pairedOf(contender.name)),
                ratio(rate / rateOf("kyBatches")),
                ratio(rate / rateOf("kyPool")),
                `${count(cpuPerEdit(contender.name))} µs`,
                `${count(openedOf(contender.name))} for ${count(sizes.edits * sizes.rounds)} edits (per round: ${(opened.get(contender.name) ?? []).join(", ")})`,
                (rates.get(contender.name) ?? []).map((value) => count(value)).join(", ")
              ]
            })
          }
        ],
        targets: (["effect", "promise"] as const).map((name) => {
          const value = rateOf(name) / baseline
          return {
            what: `Acquire, ${name === "effect" ? "Effect" : "Promise"} API \`updateMany\`: throughput against ky + \`Promise.all\` (${fasterLabel})`,
            target: `at least ${ratio(TARGET)}`,
            measured: `${ratio(value)} (paired per round: ${ratio(pairedOf(name))})`,
            value: round(value),
            met: value >= TARGET
          }
        }),
        notes: [
          "`orderedStream` is not a target: it runs reword's `update` through Effect's ordered `Stream.mapEffect`, which keeps at most the concurrency between start and emission, so one slow answer leaves the other slots idle (head-of-line blocking); `updateMany` now keeps order with a bounded reorder window instead (core's `internal/orderedWindow.ts`).",
          "On loopback the client's CPU per edit bounds the throughput when the machine is busy, and it depends on how answers arrive: ky in batches reads 16 answers per wake-up and spends less CPU per edit than the same ky over a pool of workers."
        ],
        data: Object.fromEntries(
          contenders.map((contender) => [
            contender.name,
            {
              label: contender.label,
              median: round(rateOf(contender.name), 1),
              paired: round(pairedOf(contender.name)),
              cpuMicrosPerEdit: round(cpuPerEdit(contender.name), 1),
              connectionsOpened: opened.get(contender.name) ?? [],
              rounds: (rates.get(contender.name) ?? []).map((value) => round(value, 1))
            }
          ])
        )
      }
    } finally {
      connections.stop()
      await promiseEditor.dispose()
      await sandbox.stop()
    }
  }
}
