/**
 * `pnpm bench`: runs the benchmarks on the loopback sandboxes and writes
 * `bench/results/latest.json` and `latest.md` (`short.json` and `short.md`
 * with `--short`).
 *
 *   pnpm bench                      every benchmark, full size (a few minutes)
 *   pnpm bench --short              a fraction of each size: checks they run (CI)
 *   pnpm bench --only memory        one benchmark (repeat --only, or separate names with commas);
 *                                   the other benchmarks' results already in the file are kept
 *   REWORD_BENCH_PROVIDERS=telegram pnpm bench --only overhead
 *                                   the per-call overhead of some providers only (comma-separated)
 *
 * No timing is asserted: a missed target is reported, not failed. The exit code
 * is 1 only when a benchmark could not run.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { parseArgs } from "node:util"
import { acquireBulk } from "./acquire-bulk.ts"
import { answerDecode } from "./answer-decode.ts"
import { bitrix24Bulk } from "./bitrix24-bulk.ts"
import { bitrix24Limits } from "./bitrix24-limits.ts"
import { importCost } from "./import-cost.ts"
import { memory } from "./memory.ts"
import { outboxDelivery } from "./outbox-delivery.ts"
import { outboxMemory } from "./outbox-memory.ts"
import { outboxQueues } from "./outbox-queues.ts"
import { outboxSubmit } from "./outbox-submit.ts"
import { outboxWakeup } from "./outbox-wakeup.ts"
import { overhead } from "./overhead.ts"
import { relayInbound } from "./relay-inbound.ts"
import { scaleOut } from "./scale-out.ts"
import { type Benchmark, commit, machine, markdown, type Report, type StoredResult } from "./support/report.ts"
import { telegramLimits } from "./telegram-limits.ts"
import { tenants } from "./tenants.ts"

const benchmarks: ReadonlyArray<Benchmark> = [
  overhead,
  bitrix24Bulk,
  acquireBulk,
  memory,
  importCost,
  bitrix24Limits,
  outboxSubmit,
  outboxDelivery,
  outboxMemory,
  scaleOut,
  outboxQueues,
  outboxWakeup,
  relayInbound,
  answerDecode,
  telegramLimits,
  tenants
]
const TITLES: Record<string, string> = {
  overhead: "1. Per-call overhead",
  "bitrix24-bulk": "2. Bitrix24 bulk",
  "acquire-bulk": "3. Acquire bulk",
  memory: "4. Memory",
  "import-cost": "5. Import cost",
  "bitrix24-limits": "6. Bitrix24 at the portal's limits",
  "outbox-submit": "7. Outbox submit (durable edits/s, SQLite)",
  "outbox-delivery": "8. Outbox delivery against direct calls",
  "outbox-memory": "9. Outbox memory with 100,000 pending",
  "scale-out": "10. Many instances, one portal",
  "outbox-queues": "11. Outbox against job queues on PostgreSQL",
  "outbox-wakeup": "12. Outbox wake-up latency across processes",
  "relay-inbound": "13. Relay inbound: events into the durable inbox",
  "answer-decode": "14. Answer decoding: Schema against the fast read",
  "telegram-limits": "15. Telegram at the Bot FAQ's limits",
  tenants: "16. Many tenants: one process, one PostgreSQL"
}

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    only: { type: "string", multiple: true }
  }
})
const short = values.short === true
const only = (values.only ?? []).flatMap((names) => names.split(",")).map((name) => name.trim())
const unknown = only.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name))
if (unknown.length > 0) {
  console.error(
    `Unknown benchmark ${unknown.join(", ")}: the benchmarks are ${benchmarks.map((b) => b.name).join(", ")}`
  )
  process.exit(2)
}
const selected = only.length === 0 ? benchmarks : benchmarks.filter((benchmark) => only.includes(benchmark.name))

const resultsDir = new URL("./results/", import.meta.url)
const base = short ? "short" : "latest"
const jsonFile = new URL(`${base}.json`, resultsDir)
const mdFile = new URL(`${base}.md`, resultsDir)
const head = commit()
const log = (line: string) => console.log(line)
const command = `pnpm bench${short ? " --short" : ""}`

/** Results of the benchmarks not run this time, kept from the file when only some run. */
const previous = (): ReadonlyArray<StoredResult> => {
  if (only.length === 0 || !existsSync(jsonFile)) return []
  try {
    return (JSON.parse(readFileSync(jsonFile, "utf8")) as Report).results
  } catch {
    return []
  }
}

const kept = previous()
const fresh: Array<StoredResult> = []

/** Writes the results so far (those of this run, and the file's others): a run stopped midway keeps every row it finished. */
const writeReport = (): void => {
  const results = benchmarks.flatMap((benchmark) => {
    const found =
      fresh.find((result) => result.name === benchmark.name) ?? kept.find((result) => result.name === benchmark.name)
    return found === undefined ? [] : [found]
  })
  const report: Report = {
    mode: short ? "short" : "full",
    date: new Date().toISOString(),
    commit: head,
    machine: machine(),
    command,
    results
  }
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(mdFile, markdown(report))
}

for (const benchmark of selected) {
  const started = performance.now()
  const date = new Date().toISOString()
  const loadStart = loadavg()[0] ?? 0
  log(`\n== ${benchmark.name}${short ? " (short)" : ""}`)
  try {
    const result = await benchmark.run({ short, log })
    const seconds = (performance.now() - started) / 1000
    fresh.push({ ...result, status: "ok", date, commit: head, seconds, load: [loadStart, loadavg()[0] ?? 0] })
    for (const target of result.targets)
      log(`  ${target.met ? "met   " : "MISSED"} ${target.what}: ${target.measured} (${target.target})`)
    log(`  done in ${seconds.toFixed(1)} s`)
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
    console.error(`  ${benchmark.name} failed: ${text}`)
    fresh.push({
      status: "error",
      name: benchmark.name,
      title: TITLES[benchmark.name] ?? benchmark.name,
      date,
      commit: head,
      error: text
    })
  }
  writeReport()
}

writeReport()
log(`\nWrote ${new URL(jsonFile).pathname} and ${new URL(mdFile).pathname}`)
// The sandboxes and editors are stopped; leftover sockets must not keep the process alive.
process.exit(fresh.some((result) => result.status === "error") ? 1 : 0)
