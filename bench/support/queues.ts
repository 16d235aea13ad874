/**
 * The outbox and the PostgreSQL job queues people already run, driven the
 * same way: enqueue `items` (in batches, or one at a time from several
 * callers) while the system's own worker completes them with a handler that
 * does nothing else; done when the last one is completed. Each system runs in
 * a database of its own on the same server, with its documented defaults and
 * the same concurrency.
 */
import { createOutbox } from "@reword/outbox/promise"
import { Logger, makeWorkerUtils, run as runGraphile } from "graphile-worker"
import pg from "pg"
import { PgBoss } from "pg-boss"
import { instantEditor } from "../outbox-support.ts"

/** How the items are enqueued. */
export type Path = "batch" | "single"

export interface QueueSystem {
  readonly name: string
  /** How this system enqueues on each path, for the tables. */
  readonly how: Readonly<Record<Path, string>>
  /** Prepares the database (migrations, queues) outside the timing; answers the run. */
  readonly prepare: (url: string) => Promise<PreparedRun>
}

export interface PreparedRun {
  /** Enqueues `items` on the path and resolves once every one is completed. */
  readonly run: (path: Path, items: number, callers: number) => Promise<void>
  readonly close: () => Promise<void>
}

/** Items per enqueue call on the batch path. */
export const BATCH = 1_000
/** Jobs a worker runs at once, for every system. */
export const CONCURRENCY = 16
const payload = (index: number) => ({ message: `wa-${index}`, text: `edit ${index}: the order ships on Tuesday.` })

/** Calls `one(index)` for 0..items-1 from `callers` concurrent loops. */
const fromCallers = async (items: number, callers: number, one: (index: number) => Promise<unknown>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let index = next++; index < items; index = next++) await one(index)
    })
  )
}

/** Calls `many(from, to)` over 0..items-1 in batches of {@link BATCH}, one batch at a time. */
const inBatches = async (items: number, many: (from: number, to: number) => Promise<unknown>) => {
  for (let from = 0; from < items; from += BATCH) await many(from, Math.min(items, from + BATCH))
}

/** A counter that resolves `reached` once `target` completions were counted. */
const completions = () => {
  let done = 0
  let target = Number.POSITIVE_INFINITY
  let resolve: () => void = () => {}
  let reached = Promise.resolve()
  return {
    expect: (items: number) => {
      done = 0
      target = items
      reached = new Promise<void>((r) => {
        resolve = r
      })
      return reached
    },
    add: (n: number) => {
      done += n
      if (done >= target) resolve()
    }
  }
}

export const reword: QueueSystem = {
  name: "reword outbox",
  how: { batch: "submitMany, 1,000 a call", single: "submit" },
  prepare: async (url) => {
    const { editor } = instantEditor(100)
    const outbox = await createOutbox({
      editors: [{ editor }],
      database: { postgres: url },
      unknownMessages: "record"
    })
    let offset = 0
    const submission = (index: number) => ({
      ids: { externalMessageId: `wa-${offset + index}` },
      text: `edit ${index}`
    })
    return {
      run: async (path, items, callers) => {
        if (path === "batch") {
          await inBatches(items, async (from, to) => {
            const settled = await outbox.submitMany(Array.from({ length: to - from }, (_, i) => submission(from + i)))
            const refused = settled.find((result) => result.status === "rejected")
            if (refused !== undefined) throw refused.reason
          })
        } else {
          await fromCallers(items, callers, (index) => outbox.submit(submission(index)))
        }
        const left = await outbox.drain({ timeoutMs: 600_000 })
        if (left.pending > 0 || left.failed > 0) throw new Error(`the outbox left ${JSON.stringify(left)}`)
        offset += items
      },
      close: () => outbox.close()
    }
  }
}

const quiet = new Logger(() => () => {})

export const graphileWorker: QueueSystem = {
  name: "graphile-worker 0.18",
  how: { batch: "addJobs, 1,000 a call", single: "addJob" },
  prepare: async (url) => {
    // A pool of our own, so that its idle connections' errors at the end are ours to ignore.
    const pgPool = new pg.Pool({ connectionString: url, max: CONCURRENCY + 4 })
    pgPool.on("error", () => {})
    pgPool.on("connect", (client) => client.on("error", () => {}))
    const utils = await makeWorkerUtils({ pgPool, logger: quiet })
    await utils.migrate()
    const counter = completions()
    const runner = await runGraphile({
      pgPool,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        edit: async () => {
          counter.add(1)
        }
      }
    })
    return {
      run: async (path, items, callers) => {
        const reached = counter.expect(items)
        if (path === "batch") {
          await inBatches(items, (from, to) =>
            utils.addJobs(
              Array.from({ length: to - from }, (_, i) => ({ identifier: "edit", payload: payload(from + i) }))
            )
          )
        } else {
          await fromCallers(items, callers, (index) => utils.addJob("edit", payload(index)))
        }
        await reached
      },
      close: async () => {
        await runner.stop()
        await utils.release()
        await pgPool.end()
      }
    }
  }
}

export const pgBoss: QueueSystem = {
  name: "pg-boss 12",
  how: { batch: "insert, 1,000 a call", single: "send" },
  prepare: async (url) => {
    const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, useListenNotify: true })
    boss.on("error", () => {})
    await boss.start()
    await boss.createQueue("edit", { notify: true })
    const counter = completions()
    // Its fastest documented settings: woken by NOTIFY, fetching again at once while batches come back full.
    const options = { batchSize: 100, localConcurrency: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }
    await boss.work("edit", options, async (jobs) => {
      counter.add(jobs.length)
    })
    return {
      run: async (path, items, callers) => {
        const reached = counter.expect(items)
        if (path === "batch") {
          await inBatches(items, (from, to) =>
            boss.insert(
              "edit",
              Array.from({ length: to - from }, (_, i) => ({ data: payload(from + i) }))
            )
          )
        } else {
          await fromCallers(items, callers, (index) => boss.send("edit", payload(index)))
        }
        await reached
      },
      close: () => boss.stop({ graceful: false })
    }
  }
}

export const systems: ReadonlyArray<QueueSystem> = [reword, graphileWorker, pgBoss]
