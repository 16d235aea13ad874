/**
 * Wake-up latency: from `submit` in one process to the delivery starting in
 * another (an outbox worker on the same PostgreSQL, otherwise idle), p50 and
 * p99, with LISTEN/NOTIFY and with polling alone; and the CPU the waiting
 * worker spends between edits.
 */
import { fork } from "node:child_process"
import { createOutbox } from "@reword/outbox/promise"
import { instantEditor } from "./outbox-support.ts"
import { count, ms } from "./support/format.ts"
import { dropDatabase, freshDatabase } from "./support/pg-meter.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"
import { percentile } from "./support/stats.ts"

const TITLE = "12. Outbox wake-up latency across processes"
const CHILD = new URL("./support/wakeup-child.ts", import.meta.url).pathname
const TARGET_P99_MS = 50
const sorted = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)
/** The worker's own options in each row: the outbox's defaults, and polling alone. */
const ROWS = [
  { how: "LISTEN/NOTIFY (default options)", options: {} },
  { how: "polling alone (notify off, default poll interval)", options: { notify: false } }
] as const

interface Row {
  readonly how: string
  readonly latencies: ReadonlyArray<number>
  readonly cpuMsPerSecondIdle: number
}

type ChildMessage = { readonly ready?: true; readonly started?: string; readonly at?: number; readonly cpuUs?: number }

const measure = async (url: string, options: object, edits: number, gapMs: number): Promise<Omit<Row, "how">> => {
  const child = fork(CHILD, [], {
    execArgv: ["--conditions=@reword/source"],
    env: { ...process.env, WAKEUP_DATABASE_URL: url, WAKEUP_OPTIONS: JSON.stringify(options) },
    stdio: ["ignore", "ignore", "inherit", "ipc"]
  })
  const started = new Map<string, number>()
  const waiters = new Map<string, () => void>()
  let cpu: ((us: number) => void) | undefined
  const ready = new Promise<void>((resolve) => {
    child.on("message", (message: ChildMessage) => {
      if (message.ready === true) resolve()
      if (message.started !== undefined && message.at !== undefined) {
        started.set(message.started, message.at)
        waiters.get(message.started)?.()
      }
      if (message.cpuUs !== undefined) cpu?.(message.cpuUs)
    })
  })
  const cpuNow = () =>
    new Promise<number>((resolve) => {
      cpu = resolve
      child.send({ cpu: true })
    })
  const writer = await createOutbox({
    editors: [{ editor: instantEditor().editor }],
    database: { postgres: url },
    unknownMessages: "record",
    worker: false
  })
  try {
    await ready
    const latencies: Array<number> = []
    let idleCpuUs = 0
    let idleMs = 0
    for (let n = 0; n < edits; n++) {
      const id = `wake-${n}`
      const before = await cpuNow()
      const waitStart = performance.now()
      await new Promise((resolve) => setTimeout(resolve, gapMs))
      idleMs += performance.now() - waitStart
      idleCpuUs += (await cpuNow()) - before
      const delivered = new Promise<void>((resolve) => waiters.set(id, resolve))
      const at = performance.timeOrigin + performance.now()
      await writer.submit({ ids: { externalMessageId: id }, text: `wake ${n}` })
      await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, 30_000))])
      const deliveredAt = started.get(id)
      if (deliveredAt === undefined) throw new Error(`edit ${id} was not delivered within 30 s`)
      latencies.push(deliveredAt - at)
    }
    return { latencies, cpuMsPerSecondIdle: idleCpuUs / idleMs }
  } finally {
    await writer.close()
    child.send({ stop: true })
    await new Promise((resolve) => child.once("exit", resolve))
  }
}

export const outboxWakeup: Benchmark = {
  name: "outbox-wakeup",
  run: async (context): Promise<BenchResult> => {
    const edits = context.short ? 20 : 200
    const gapMs = 250
    const url = process.env.REWORD_TEST_POSTGRES_URL
    const method = [
      "An outbox worker in a child process on PostgreSQL (its editor answers at once and reports when each delivery",
      `starts); this process submits ${count(edits)} edits, one every ${gapMs} ms after the last was delivered, and`,
      "measures submit-call -> delivery-start on the wall clock. The worker's CPU while it waits is read between edits."
    ].join(" ")
    if (url === undefined || url === "") {
      return {
        name: "outbox-wakeup",
        title: TITLE,
        method,
        parameters: { edits, gapMs },
        tables: [],
        targets: [],
        notes: ["Skipped: no PostgreSQL server named (set REWORD_TEST_POSTGRES_URL; CI does)."],
        data: { skipped: true }
      }
    }
    const rows: Array<Row> = []
    for (const row of ROWS) {
      const name = `reword_bench_wakeup_${rows.length}_${process.pid}`
      const database = await freshDatabase(url, name)
      try {
        context.log(`  ${row.how}: ${count(edits)} edits`)
        rows.push({ how: row.how, ...(await measure(database, row.options, edits, gapMs)) })
      } finally {
        await dropDatabase(url, name)
      }
    }
    const notify = rows[0]
    const p99 = notify === undefined ? Number.NaN : percentile(sorted(notify.latencies), 99)
    const targets: Array<Target> = [
      {
        what: "submit in one process -> delivery starting in another, LISTEN/NOTIFY, p99",
        target: `under ${TARGET_P99_MS} ms`,
        measured: ms(p99, 1),
        value: p99,
        met: p99 < TARGET_P99_MS
      }
    ]
    return {
      name: "outbox-wakeup",
      title: TITLE,
      method,
      parameters: { edits, gapMs },
      tables: [
        {
          columns: ["how", "p50", "p99", "max", "worker CPU while waiting"],
          rows: rows.map((row) => [
            row.how,
            ms(percentile(sorted(row.latencies), 50), 1),
            ms(percentile(sorted(row.latencies), 99), 1),
            ms(Math.max(...row.latencies), 1),
            `${(row.cpuMsPerSecondIdle).toFixed(1)} ms/s`
          ])
        }
      ],
      targets,
      notes: [],
      data: rows
    }
  }
}
