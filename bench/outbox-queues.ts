/**
 * The outbox against the PostgreSQL job queues a relay's operator already
 * knows (graphile-worker, pg-boss), side by side on the same PostgreSQL
 * server, each in a fresh database of its own: throughput from the first
 * enqueue to the last completion, on the batch path and on the single path
 * (16 callers), with client CPU, server CPU and statements per item beside it.
 */
import { count, perSecond, ratio } from "./support/format.ts"
import { dropDatabase, freshDatabase, serverCpuSeconds, statementCounter } from "./support/pg-meter.ts"
import { CONCURRENCY, type Path, type QueueSystem, systems } from "./support/queues.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"

const TITLE = "11. Outbox against job queues on PostgreSQL"
const CALLERS = 16
const TARGET = 1

interface Measured {
  readonly system: string
  readonly path: Path
  readonly items: number
  readonly seconds: number
  readonly perSecond: number
  readonly clientCpuUsPerItem: number
  readonly serverCpuUsPerItem: number
  readonly statementsPerItem: number
}

const databaseName = (system: QueueSystem, path: Path) =>
  `reword_bench_${system.name.split(" ")[0]?.replace(/[^a-z]/g, "")}_${path}_${process.pid}`

/** One timed run of `system` on `path`, in a fresh database. */
const timed = async (url: string, system: QueueSystem, path: Path, items: number) => {
  const name = databaseName(system, path)
  const database = await freshDatabase(url, name)
  try {
    const prepared = await system.prepare(database)
    try {
      // A warm-up outside the timing: connections open, statements prepared.
      await prepared.run(path, Math.min(200, items), CALLERS)
      const cpu = process.cpuUsage()
      const server = serverCpuSeconds()
      const start = performance.now()
      await prepared.run(path, items, CALLERS)
      const seconds = (performance.now() - start) / 1000
      const used = process.cpuUsage(cpu)
      return {
        seconds,
        clientCpuUsPerItem: (used.user + used.system) / items,
        serverCpuUsPerItem: ((serverCpuSeconds() - server) * 1e6) / items
      }
    } finally {
      await prepared.close()
    }
  } finally {
    await dropDatabase(url, name)
  }
}

/** Statements per item: a smaller run through a proxy that counts what the client sends. */
const statements = async (url: string, system: QueueSystem, path: Path, items: number) => {
  const name = `${databaseName(system, path)}_count`
  const database = await freshDatabase(url, name)
  const counter = await statementCounter(database)
  try {
    const prepared = await system.prepare(counter.url)
    try {
      await prepared.run(path, Math.min(200, items), CALLERS)
      const before = counter.statements()
      await prepared.run(path, items, CALLERS)
      return (counter.statements() - before) / items
    } finally {
      await prepared.close()
    }
  } finally {
    await counter.close()
    await dropDatabase(url, name)
  }
}

const skipped = (method: string, parameters: Record<string, unknown>): BenchResult => ({
  name: "outbox-queues",
  title: TITLE,
  method,
  parameters,
  tables: [],
  targets: [],
  notes: ["Skipped: no PostgreSQL server named (set REWORD_TEST_POSTGRES_URL; CI does)."],
  data: { skipped: true }
})

export const outboxQueues: Benchmark = {
  name: "outbox-queues",
  run: async (context): Promise<BenchResult> => {
    const sizes: Record<Path, number> = context.short
      ? { batch: 2_000, single: 1_000 }
      : { batch: 100_000, single: 20_000 }
    const counted = context.short ? 300 : 2_000
    const url = process.env.REWORD_TEST_POSTGRES_URL
    const method = [
      "Each system in a fresh database on the same PostgreSQL server, in this process, with its documented defaults",
      `and ${CONCURRENCY} jobs at once: reword's outbox (journal on, delivering to an editor that answers at once),`,
      "graphile-worker (its runner) and pg-boss (`work`, batches of 100). Batch path: enqueue in calls of 1,000 while",
      `the worker runs; single path: ${CALLERS} callers enqueue one at a time. Throughput = items / (first enqueue ->`,
      "last completion), after a warm-up of 200. Client CPU: this process; server CPU: the PostgreSQL processes'",
      "time in /proc; statements: Query and Execute messages counted by a loopback proxy in a separate smaller run."
    ].join(" ")
    const parameters = { sizes, counted, callers: CALLERS, concurrency: CONCURRENCY }
    if (url === undefined || url === "") return skipped(method, parameters)
    const results: Array<Measured> = []
    for (const path of ["batch", "single"] as const) {
      for (const system of systems) {
        context.log(`  ${system.name}, ${path} path: ${count(sizes[path])} items`)
        const run = await timed(url, system, path, sizes[path])
        const perItem = await statements(url, system, path, counted)
        results.push({
          system: system.name,
          path,
          items: sizes[path],
          seconds: run.seconds,
          perSecond: sizes[path] / run.seconds,
          clientCpuUsPerItem: run.clientCpuUsPerItem,
          serverCpuUsPerItem: run.serverCpuUsPerItem,
          statementsPerItem: perItem
        })
        context.log(`    ${perSecond(sizes[path] / run.seconds, "items/s")}, ${perItem.toFixed(2)} statements/item`)
      }
    }
    const targets: Array<Target> = (["batch", "single"] as const).map((path) => {
      const ours = results.find((r) => r.path === path && r.system === systems[0]?.name)
      const best = Math.max(...results.filter((r) => r.path === path && r !== ours).map((r) => r.perSecond))
      const value = (ours?.perSecond ?? 0) / best
      return {
        what: `${path} path: reword's outbox throughput against the faster baseline`,
        target: `at least ${ratio(TARGET)}`,
        measured: ratio(value),
        value,
        met: value >= TARGET
      }
    })
    return {
      name: "outbox-queues",
      title: TITLE,
      method,
      parameters,
      tables: (["batch", "single"] as const).map((path) => ({
        title: `${path === "batch" ? "Batch" : `Single (${CALLERS} callers)`} path, ${count(sizes[path])} items`,
        columns: ["system", "enqueue", "items/s", "client CPU/item", "server CPU/item", "statements/item"],
        rows: results
          .filter((r) => r.path === path)
          .map((r) => [
            r.system,
            systems.find((s) => s.name === r.system)?.how[path] ?? "",
            count(r.perSecond),
            `${count(r.clientCpuUsPerItem)} µs`,
            `${count(r.serverCpuUsPerItem)} µs`,
            r.statementsPerItem.toFixed(2)
          ])
      })),
      targets,
      notes: [
        "The job queues' figures published elsewhere (graphile-worker about 15,600 jobs/s, pg-boss under about 10,000/s)",
        "come from other machines; these come from this one, all three on the same server in the same run."
      ],
      data: results
    }
  }
}
