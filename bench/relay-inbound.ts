/**
 * The relay's inbound path: Telegram updates posted to the example relay's `node:http` handler
 * (`Handlers.node`: verified, written to the durable inbox, then answered 200), on SQLite (a file, WAL,
 * `synchronous = FULL`) and on PostgreSQL (a fresh database on the server of `REWORD_TEST_POSTGRES_URL`),
 * side by side with a bare `node:http` handler that reads the body, parses it as JSON and inserts one row
 * into the same database through the same client, then answers 200. Two loads: as fast as 32 keep-alive
 * callers can (events per second), and an open loop at 1,000 events/s (time to acknowledge, from when each
 * event was due to be sent, so that a stall counts for every event behind it).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { Agent, createServer, request, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { sqliteClient } from "@reword/outbox"
import { pgClient } from "@reword/outbox/pg"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Exit, Layer, Redacted, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { start } from "../examples/relay/app.ts"
import { count, ms, perSecond, ratio } from "./support/format.ts"
import { dropDatabase, freshDatabase } from "./support/pg-meter.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"
import { round, summarize } from "./support/stats.ts"

const TITLE = "13. Relay inbound: events into the durable inbox"
const SECRET = "bench-relay-secret_0123456789"
const CALLERS = 32
const RATE = 1_000
const RATE_TARGET = 0.5
const P99_TARGET_MS = 100

interface Endpoint {
  readonly url: string
  readonly close: () => Promise<void>
}

interface Measured {
  readonly database: string
  readonly handler: "relay" | "bare"
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly sentAtRate: number
  readonly failed: number
}

let nextUpdate = 1
const updateBody = () => {
  const id = nextUpdate++
  return JSON.stringify({
    update_id: id,
    edited_message: {
      message_id: (id % 1000) + 1,
      chat: { id: 42, type: "private" },
      date: 1_700_000_000,
      edit_date: 1_700_000_000 + id,
      text: `Edit ${id}: the order ships on Tuesday.`
    }
  })
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 })
/** One POST; resolves with the status (0 when the request failed). */
const post = (url: string, body: string) =>
  new Promise<number>((resolve) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-telegram-bot-api-secret-token": SECRET
        },
        timeout: 30_000
      },
      (response) => {
        response.resume()
        response.on("end", () => resolve(response.statusCode ?? 0))
      }
    )
    outgoing.on("error", () => resolve(0))
    outgoing.on("timeout", () => outgoing.destroy())
    outgoing.end(body)
  })

/** As fast as `CALLERS` callers can: events per second. */
const closedLoop = async (url: string, events: number) => {
  let sent = 0
  let failed = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (sent < events) {
        sent++
        if ((await post(url, updateBody())) !== 200) failed++
      }
    })
  )
  return { perSecond: events / ((performance.now() - started) / 1000), failed }
}

/** An open loop at `RATE` events/s for `seconds`: each event's time to acknowledge, from when it was due. */
const openLoop = async (url: string, seconds: number) => {
  const total = RATE * seconds
  const latencies: Array<number> = []
  const inFlight: Array<Promise<void>> = []
  let failed = 0
  const started = performance.now()
  for (let index = 0; index < total; ) {
    const due = started + (index * 1000) / RATE
    const now = performance.now()
    if (due > now) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, due - now)))
      continue
    }
    // Everything due by now goes out at once (a timer tick is coarser than 1 ms).
    while (index < total && started + (index * 1000) / RATE <= performance.now()) {
      const dueAt = started + (index * 1000) / RATE
      inFlight.push(
        post(url, updateBody()).then((status) => {
          latencies.push(performance.now() - dueAt)
          if (status !== 200) failed++
        })
      )
      index++
    }
  }
  await Promise.all(inFlight)
  const summary = summarize(latencies)
  return { p50: summary.median, p99: summary.p99, sent: total / ((performance.now() - started) / 1000), failed }
}

/** A bare handler: read the body, parse it, insert one row, answer 200. */
const bareEndpoint = async (layer: Layer.Layer<SqlClient.SqlClient, unknown>, table: string): Promise<Endpoint> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const sql = Effect.runSync(Effect.provide(Effect.service(SqlClient.SqlClient), context))
  await Effect.runPromise(
    sql.unsafe(`CREATE TABLE IF NOT EXISTS ${table} (update_id BIGINT PRIMARY KEY, body TEXT NOT NULL)`)
  )
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Array<Buffer> = []
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
    incoming.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const update = JSON.parse(body) as { readonly update_id: number }
      Effect.runPromise(sql`INSERT INTO ${sql(table)} (update_id, body) VALUES (${update.update_id}, ${body})`).then(
        () => outgoing.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'),
        () => outgoing.writeHead(503).end()
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve))
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

/** The example relay (its `node:http` handler), storing only: its worker would compete for the same CPU. */
const relayEndpoint = async (database: string, prefix: string): Promise<Endpoint> => {
  const telegram = await TelegramSandbox.start()
  const portals = await Bitrix24Portals.start()
  const portal = portals.add()
  const app = await start({
    database,
    tablePrefix: prefix,
    worker: false,
    telegram: { settings: telegram.settings, secretToken: Redacted.make(SECRET) },
    bitrix24: {
      settings: portal.settings,
      memberId: portal.memberId,
      applicationToken: Redacted.make(portal.applicationToken)
    }
  })
  return {
    url: `${app.url}/telegram`,
    close: async () => {
      await app.close()
      await telegram.stop()
      await portals.stop()
    }
  }
}

const measure = async (
  database: string,
  handler: Measured["handler"],
  endpoint: Endpoint,
  sizes: { readonly events: number; readonly seconds: number }
): Promise<Measured> => {
  try {
    await closedLoop(endpoint.url, Math.min(500, sizes.events)) // warm-up
    const fast = await closedLoop(endpoint.url, sizes.events)
    const paced = await openLoop(endpoint.url, sizes.seconds)
    return {
      database,
      handler,
      perSecond: fast.perSecond,
      p50: paced.p50,
      p99: paced.p99,
      sentAtRate: paced.sent,
      failed: fast.failed + paced.failed
    }
  } finally {
    await endpoint.close()
  }
}

const onSqlite = async (sizes: { readonly events: number; readonly seconds: number }) => {
  const directory = mkdtempSync(join(tmpdir(), "reword-bench-relay-"))
  try {
    const file = join(directory, "relay.db")
    const relay = await measure("SQLite", "relay", await relayEndpoint(file, "bench_"), sizes)
    const bare = await measure(
      "SQLite",
      "bare",
      await bareEndpoint(sqliteClient({ filename: file }), "bare_rows"),
      sizes
    )
    return [relay, bare]
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

const onPostgres = async (url: string, sizes: { readonly events: number; readonly seconds: number }) => {
  const name = `reword_bench_relay_${process.pid}`
  const database = await freshDatabase(url, name)
  try {
    const relay = await measure("PostgreSQL", "relay", await relayEndpoint(database, "bench_"), sizes)
    const bare = await measure(
      "PostgreSQL",
      "bare",
      await bareEndpoint(pgClient({ url: Redacted.make(database) }), "bare_rows"),
      sizes
    )
    return [relay, bare]
  } finally {
    await dropDatabase(url, name)
  }
}

const targetsOf = (results: ReadonlyArray<Measured>): Array<Target> =>
  ["SQLite", "PostgreSQL"].flatMap((database) => {
    const relay = results.find((result) => result.database === database && result.handler === "relay")
    const bare = results.find((result) => result.database === database && result.handler === "bare")
    if (relay === undefined || bare === undefined) return []
    const share = relay.perSecond / bare.perSecond
    return [
      {
        what: `${database}: relay's events/s against the bare handler's`,
        target: `at least ${ratio(RATE_TARGET)}`,
        measured: ratio(share),
        value: round(share),
        met: share >= RATE_TARGET
      },
      {
        what: `${database}: relay's p99 time to acknowledge at ${count(RATE)} events/s`,
        target: `under ${P99_TARGET_MS} ms`,
        measured: ms(relay.p99, 1),
        value: round(relay.p99),
        met: relay.p99 < P99_TARGET_MS
      }
    ]
  })

export const relayInbound: Benchmark = {
  name: "relay-inbound",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { events: 1_000, seconds: 2 } : { events: 20_000, seconds: 10 }
    const url = process.env.REWORD_TEST_POSTGRES_URL
    const results: Array<Measured> = []
    context.log(`  SQLite: ${count(sizes.events)} events as fast as possible, then ${sizes.seconds} s at ${RATE}/s`)
    results.push(...(await onSqlite(sizes)))
    if (url !== undefined && url !== "") {
      context.log("  PostgreSQL: the same")
      results.push(...(await onPostgres(url, sizes)))
    }
    return {
      name: "relay-inbound",
      title: TITLE,
      method: [
        "Telegram updates (one `edited_message` each, ~230 bytes, the webhook's secret header) posted over loopback",
        `keep-alive connections by this process to the example relay's \`Handlers.node\` (verified, stored in the inbox`,
        "in one transaction, answered 200; the relay's worker off) and to a bare `node:http` handler that parses the",
        "body and inserts one row through the same SQL client. Events/s: 32 callers, each waiting for its answer.",
        `Time to acknowledge: an open loop at ${count(RATE)} events/s, from when each event was due to its answer.`
      ].join(" "),
      parameters: { ...sizes, callers: CALLERS, rate: RATE },
      tables: [
        {
          title: "Inbound events",
          columns: ["database", "handler", "events/s (32 callers)", "p50 at 1,000/s", "p99 at 1,000/s", "failed"],
          rows: results.map((result) => [
            result.database,
            result.handler,
            perSecond(result.perSecond, "events/s"),
            ms(result.p50, 1),
            ms(result.p99, 1),
            result.failed
          ])
        }
      ],
      targets: targetsOf(results),
      notes: [
        "The load generator, the sandboxes and the handler share the machine's cores: the figures are a floor.",
        ...(url === undefined || url === ""
          ? ["PostgreSQL skipped: no server named (set REWORD_TEST_POSTGRES_URL; CI does)."]
          : [])
      ],
      data: results.map((result) => ({
        ...result,
        perSecond: round(result.perSecond),
        p50: round(result.p50),
        p99: round(result.p99),
        sentAtRate: round(result.sentAtRate)
      }))
    }
  }
}
