/**
 * Many tenants on one PostgreSQL (issue 20), in one process: N Bitrix24
 * portals of the multi-portal sandbox install through the lifecycle route and
 * each gets one edit through one outbox routing by tenant (`editorsFor` from
 * `TenantEditors`): peak RSS and RSS after. Then quiet tenants' edit
 * latency with no backlog anywhere, and again while 10 tenants each hold a
 * backlog at Bitrix24's real bucket; client CPU and database statements per
 * delivered edit over that window. Runs on the PostgreSQL server
 * `REWORD_TEST_POSTGRES_URL` names (a fresh database); skipped without one.
 */
import { count, mb, ms, ratio } from "./support/format.ts"
import { dropDatabase, freshDatabase } from "./support/pg-meter.ts"
import { type RemotePortals, startPortals } from "./support/portals.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"
import { type Summary, summarize } from "./support/stats.ts"
import { startTenantApp, type TenantApp } from "./support/tenant-app.ts"

const TITLE = "16. Many tenants: one process, one PostgreSQL"
const RSS_TARGET = 512 * 1024 * 1024
const LATENCY_TARGET = 2
const BACKLOGGED = 10
const DELIVERY_TIMEOUT_MS = 60_000
/** Quiet tenants taking turns: each edits about once a second, half its bucket's 2 calls/s. */
const QUIET = 10
const GAP_MS = 100

const gc = () => (globalThis as { gc?: () => void }).gc?.()

/** The largest RSS seen, sampled every 20 ms while `peak()` is not called. */
const rssSampler = () => {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 20)
  return {
    reset: () => {
      peak = process.memoryUsage.rss()
    },
    peak: () => Math.max(peak, process.memoryUsage.rss()),
    stop: () => clearInterval(timer)
  }
}

const timeout = (label: string) =>
  new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`${label}: not delivered in ${DELIVERY_TIMEOUT_MS} ms`)),
      DELIVERY_TIMEOUT_MS
    ).unref()
  )

/**
 * `samples` edits of the quiet tenants one after the other, the tenants in turn (so that none edits faster than
 * its own bucket allows): submit to its editor's answer, in ms.
 */
const quietLatencies = async (
  app: TenantApp,
  quiet: ReadonlyArray<{ readonly tenant: string; readonly ids: unknown }>,
  label: string,
  samples: number
): Promise<ReadonlyArray<number>> => {
  const latencies: Array<number> = []
  for (let index = 0; index < samples; index++) {
    const { tenant, ids } = quiet[index % quiet.length] as (typeof quiet)[number]
    const text = `${label} ${index}`
    const started = performance.now()
    const delivered = app.delivered(text)
    await app.submit([{ tenant, ids: ids as never, text }])
    const landed = await Promise.race([delivered, timeout(text)])
    if (!landed) throw new Error(`${text}: the portal refused the quiet tenant's edit`)
    latencies.push(performance.now() - started)
    await new Promise((resolve) => setTimeout(resolve, GAP_MS))
  }
  return latencies
}

interface Sizes {
  readonly tenants: number
  readonly backlog: number
  readonly samples: number
}

/** Part 1: N portals install, one edit each through the outbox, drained. */
const manyTenants = async (app: TenantApp, portals: RemotePortals, sizes: Sizes, log: (line: string) => void) => {
  const sampler = rssSampler()
  try {
    gc()
    const rssStart = process.memoryUsage.rss()
    sampler.reset()
    const started = performance.now()
    const memberIds = await portals.add(sizes.tenants)
    const refused = await portals.install(memberIds, app.handlerUrl)
    if (refused.length > 0) throw new Error(`${refused.length} installs refused, the first: ${refused[0]}`)
    const installSeconds = (performance.now() - started) / 1000
    const seeded = []
    for (const memberId of memberIds) seeded.push({ tenant: memberId, ids: (await portals.seed(memberId, 1))[0] })
    log(`  ${count(sizes.tenants)} portals installed in ${installSeconds.toFixed(1)} s`)
    const submitted = performance.now()
    await app.submit(seeded.map(({ tenant, ids }) => ({ tenant, ids: ids as never, text: `edit of ${tenant}` })))
    const left = await app.drain(600_000)
    if (left.pending > 0 || left.failed > 0) throw new Error(`the outbox left ${JSON.stringify(left)}`)
    const deliverSeconds = (performance.now() - submitted) / 1000
    const peak = sampler.peak()
    gc()
    const after = process.memoryUsage.rss()
    const editors = await app.editorStats()
    log(`  one edit each delivered in ${deliverSeconds.toFixed(1)} s; peak RSS ${mb(peak)}, after ${mb(after)}`)
    return { memberIds, seeded, rssStart, peak, after, editors, installSeconds, deliverSeconds }
  } finally {
    sampler.stop()
  }
}

type Seeded = Awaited<ReturnType<typeof manyTenants>>["seeded"]

/** Part 2 and 3: the quiet tenants alone, then beside 10 backlogs; CPU and statements over the backlog window. */
const quietBesideBacklogs = async (
  app: TenantApp,
  portals: RemotePortals,
  seeded: Seeded,
  sizes: Sizes,
  log: (line: string) => void
) => {
  const quiet = seeded.slice(0, QUIET)
  const alone = await quietLatencies(app, quiet, "alone", sizes.samples)
  log(`  quiet tenants alone: p99 ${ms(summarize(alone).p99, 1)}`)
  const backlogged = seeded.slice(QUIET, QUIET + BACKLOGGED).map((entry) => entry.tenant)
  const edits = []
  for (const tenant of backlogged) {
    for (const ids of await portals.seed(tenant, sizes.backlog)) edits.push({ tenant, ids, text: `backlog ${tenant}` })
  }
  await app.submit(edits)
  const before = await app.counts()
  const calls = await portals.calls(backlogged)
  const statements = await portals.statements()
  const cpu = process.cpuUsage()
  const started = performance.now()
  const beside = await quietLatencies(app, quiet, "beside", sizes.samples)
  const used = process.cpuUsage(cpu)
  const seconds = (performance.now() - started) / 1000
  const statementsAfter = await portals.statements()
  const callsAfter = await portals.calls(backlogged)
  const after = await app.counts()
  const delivered = before.pending - after.pending
  log(
    `  beside ${BACKLOGGED} backlogs: p99 ${ms(summarize(beside).p99, 1)}; ${count(delivered)} backlog edits delivered in ${seconds.toFixed(1)} s`
  )
  return {
    alone: summarize(alone),
    beside: summarize(beside),
    window: {
      seconds,
      pendingBefore: before.pending,
      pendingAfter: after.pending,
      delivered,
      portalCalls: callsAfter.calls - calls.calls,
      limitAnswers: callsAfter.limitHits - calls.limitHits,
      cpuUsPerEdit: delivered > 0 ? (used.user + used.system) / delivered : Number.NaN,
      // The quiet tenants' own edits (submitted and delivered inside the window) are counted with the statements.
      statementsPerEdit: delivered > 0 ? (statementsAfter - statements) / delivered : Number.NaN
    }
  }
}

const latencyRow = (label: string, summary: Summary) => [
  label,
  summary.n,
  ms(summary.median, 1),
  ms(summary.p99, 1),
  ms(summary.max, 1)
]

const skipped = (method: string, parameters: Record<string, unknown>): BenchResult => ({
  name: "tenants",
  title: TITLE,
  method,
  parameters,
  tables: [],
  targets: [],
  notes: ["Skipped: no PostgreSQL server named (set REWORD_TEST_POSTGRES_URL; CI does)."],
  data: { skipped: true }
})

const methodOf = (sizes: Sizes) =>
  [
    "One app process (4 instances are future work): the tenant registry, `TenantEditors` (an LRU sized to hold every",
    "tenant's editor), the Bitrix24 lifecycle route and one outbox routing by tenant (`editorsFor`), all on one fresh",
    "PostgreSQL database through a loopback proxy that counts statements; the multi-portal Bitrix24 sandbox",
    "(`Bitrix24Portals`, every portal on the real bucket: 2 calls/s after a burst of 50) and the proxy run in a child",
    `process. 1: ${count(sizes.tenants)} portals install (ONAPPINSTALL through the route, verified against the portal),`,
    "then one edit each is submitted and drained: RSS sampled every 20 ms, and after a full GC. 2: quiet tenants'",
    `edits, ${sizes.samples} one after the other ${GAP_MS} ms apart (submit to its editor's answer), ${QUIET} tenants in`,
    "turn (each edits about once a second, within its own bucket), with nothing else pending, then again",
    `once ${BACKLOGGED} other tenants each hold ${count(sizes.backlog)} pending edits (distinct messages). 3: over that`,
    "second window, this process's CPU time and the statements it sent, per backlog edit delivered in it."
  ].join(" ")

const tablesOf = (
  sizes: Sizes,
  one: Awaited<ReturnType<typeof manyTenants>>,
  two: Awaited<ReturnType<typeof quietBesideBacklogs>>
) => [
  {
    title: `${count(sizes.tenants)} active tenants, one edit each`,
    columns: ["RSS at start", "peak RSS", "RSS after (GC)", "editors alive", "installs", "edits delivered in"],
    rows: [
      [
        mb(one.rssStart),
        mb(one.peak),
        mb(one.after),
        count(one.editors.alive),
        `${one.installSeconds.toFixed(1)} s`,
        `${one.deliverSeconds.toFixed(1)} s`
      ]
    ]
  },
  {
    title: `The quiet tenants' edit latency, submit to delivered (${QUIET} tenants in turn)`,
    columns: ["when", "edits", "median", "p99", "max"],
    rows: [
      latencyRow("nothing else pending", two.alone),
      latencyRow(`${BACKLOGGED} tenants with ${count(sizes.backlog)} pending each`, two.beside)
    ]
  },
  {
    title: "The backlog window",
    columns: [
      "pending at start",
      "pending at end",
      "edits delivered",
      "portal calls",
      "QUERY_LIMIT_EXCEEDED",
      "client CPU/edit",
      "statements/edit"
    ],
    rows: [
      [
        count(two.window.pendingBefore),
        count(two.window.pendingAfter),
        count(two.window.delivered),
        count(two.window.portalCalls),
        count(two.window.limitAnswers),
        `${count(two.window.cpuUsPerEdit)} µs`,
        two.window.statementsPerEdit.toFixed(2)
      ]
    ]
  }
]

export const tenants: Benchmark = {
  name: "tenants",
  run: async (context): Promise<BenchResult> => {
    const sizes: Sizes = context.short
      ? { tenants: 100, backlog: 500, samples: 30 }
      : { tenants: 1_000, backlog: 10_000, samples: 100 }
    const url = process.env.REWORD_TEST_POSTGRES_URL
    const method = methodOf(sizes)
    const parameters = {
      ...sizes,
      quiet: QUIET,
      gapMs: GAP_MS,
      backlogged: BACKLOGGED,
      bucket: "standard (2/s, burst 50)"
    }
    if (url === undefined || url === "") return skipped(method, parameters)
    const name = `reword_bench_tenants_${process.pid}`
    const database = await freshDatabase(url, name)
    const portals = await startPortals()
    const watched = new Set<string>()
    let app: TenantApp | undefined
    try {
      app = await startTenantApp({
        databaseUrl: await portals.proxy(database),
        portals,
        maxEditors: sizes.tenants,
        watched: (tenant) => watched.has(tenant)
      })
      const one = await manyTenants(app, portals, sizes, context.log)
      for (const { tenant } of one.seeded.slice(0, QUIET)) watched.add(tenant)
      const two = await quietBesideBacklogs(app, portals, one.seeded, sizes, context.log)
      const latencyRatio = two.beside.p99 / two.alone.p99
      const targets: Array<Target> = [
        {
          what: `peak RSS of one process serving ${count(sizes.tenants)} active tenants`,
          target: `at most ${mb(RSS_TARGET)} (for 1,000)`,
          measured: mb(one.peak),
          value: one.peak,
          met: one.peak <= RSS_TARGET
        },
        {
          what: `a quiet tenant's p99 edit latency beside ${BACKLOGGED} backlogs of ${count(sizes.backlog)}, against none`,
          target: `at most ${ratio(LATENCY_TARGET)}`,
          measured: `${ratio(latencyRatio)} (${ms(two.beside.p99, 1)} against ${ms(two.alone.p99, 1)})`,
          value: latencyRatio,
          met: latencyRatio <= LATENCY_TARGET
        }
      ]
      return {
        name: "tenants",
        title: TITLE,
        method,
        parameters,
        tables: tablesOf(sizes, one, two),
        targets,
        notes: [
          "RSS is the whole process's: the benchmark runner and whatever benchmarks ran before it in the same `pnpm bench` are in it (the first column).",
          "The proxy that counts statements adds a loopback hop to every statement, in both latency windows alike; its CPU is the child's, not the client's.",
          "A backlogged tenant's edits leave in the burst first (50 calls, packed), then at 2 calls/s: the short run's backlog may be gone before its window ends (pending at end)."
        ],
        data: { sizes, one: { ...one, memberIds: undefined, seeded: undefined }, two }
      }
    } finally {
      await app?.close()
      await portals.stop()
      await dropDatabase(url, name)
    }
  }
}
