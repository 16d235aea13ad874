/**
 * Outbox submit: durable edits per second on the embedded default (SQLite
 * through `node:sqlite`, a file, WAL, `synchronous = FULL`: each commit on
 * disk before `submit` answers), through the Promise API, with no worker.
 * Side by side: 64 concurrent callers (their submits share transactions:
 * group commit), one caller awaiting each submit, and the baseline of
 * `node:sqlite` alone committing one row per transaction (what one durable
 * edit costs the disk, without reword).
 */
import { createHash } from "node:crypto"
import { DatabaseSync } from "node:sqlite"
import { createOutbox } from "@reword/outbox/promise"
import { instantEditor, scratchDatabase } from "./outbox-support.ts"
import { count, perSecond, ratio } from "./support/format.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { round } from "./support/stats.ts"

const TARGET = 5_000
const HAND_TARGET = 0.8
const CALLERS = 64
const MESSAGES = 1_000

interface Run {
  readonly how: string
  readonly edits: number
  readonly perSecond: number
}

const outboxRun = async (how: "concurrent" | "single", edits: number): Promise<Run> => {
  const database = scratchDatabase()
  const outbox = await createOutbox({
    editors: [{ editor: instantEditor().editor }],
    database: database.filename,
    unknownMessages: "record",
    worker: false
  })
  try {
    const submit = (n: number) =>
      outbox.submit({ ids: { externalMessageId: `m-${n % MESSAGES}` }, text: `edit ${n}: the order ships on Tuesday.` })
    // Warm up: the messages exist, statements are prepared.
    for (let n = 0; n < MESSAGES; n += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => submit(n + k)))
    const start = performance.now()
    if (how === "single") {
      for (let n = 0; n < edits; n++) await submit(n)
    } else {
      let next = 0
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (next < edits) await submit(next++)
        })
      )
    }
    const elapsed = (performance.now() - start) / 1000
    return { how, edits, perSecond: edits / elapsed }
  } finally {
    await outbox.close()
    database.cleanup()
  }
}

/**
 * The same rows by hand: what the outbox writes for each submit (look the message up, take its next version,
 * insert the edit with its request and hash) with node:sqlite's prepared statements, in transactions of
 * {@link CALLERS} edits, the size group commit makes them with that many callers: what reword's own code costs.
 */
const handRun = async (edits: number): Promise<Run> => {
  const database = scratchDatabase()
  // The outbox makes its tables and its messages; then the same file is written by hand.
  const outbox = await createOutbox({
    editors: [{ editor: instantEditor().editor }],
    database: database.filename,
    unknownMessages: "record",
    worker: false
  })
  for (let n = 0; n < MESSAGES; n += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, k) => outbox.submit({ ids: { externalMessageId: `m-${n + k}` }, text: "first" }))
    )
  }
  await outbox.close()
  const db = new DatabaseSync(database.filename)
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
    const lookup = db.prepare("SELECT * FROM reword_outbox_messages WHERE message_key = ?")
    const next = db.prepare(`UPDATE reword_outbox_messages SET latest_version = latest_version + 1,
      next_attempt_at = CASE WHEN state = 'pending' THEN next_attempt_at ELSE ? END, state = 'pending',
      updated_at = CASE WHEN state = 'pending' THEN updated_at ELSE ? END
      WHERE message_key = ? RETURNING latest_version`)
    const insert = db.prepare(`INSERT INTO reword_outbox_edits
      (message_key, version, request, text, text_hash, source, asked_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`)
    const start = performance.now()
    for (let from = 0; from < edits; from += CALLERS) {
      db.exec("BEGIN IMMEDIATE")
      const now = Date.now()
      for (let n = from; n < Math.min(edits, from + CALLERS); n++) {
        const key = `instant\u001fdefault\u001fm-${n % MESSAGES}`
        const text = `edit ${n}: the order ships on Tuesday.`
        lookup.get(key)
        const row = next.get(now, now, key) as { latest_version: number }
        const hash = `sha256:${createHash("sha256").update(text).digest("hex")}`
        insert.run(key, row.latest_version, JSON.stringify({ text }), text, hash, null, now)
      }
      db.exec("COMMIT")
    }
    const elapsed = (performance.now() - start) / 1000
    return { how: "by hand", edits, perSecond: edits / elapsed }
  } finally {
    db.close()
    database.cleanup()
  }
}

/** node:sqlite alone: one INSERT per transaction, FULL, WAL: the disk's own cost of one durable row. */
const rawRun = (edits: number): Run => {
  const database = scratchDatabase()
  const db = new DatabaseSync(database.filename)
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
    db.exec("CREATE TABLE edits (message TEXT, version INTEGER, text TEXT, PRIMARY KEY (message, version))")
    const insert = db.prepare("INSERT INTO edits VALUES (?, ?, ?)")
    const start = performance.now()
    for (let n = 0; n < edits; n++) {
      db.exec("BEGIN IMMEDIATE")
      insert.run(`m-${n % MESSAGES}`, n, `edit ${n}: the order ships on Tuesday.`)
      db.exec("COMMIT")
    }
    const elapsed = (performance.now() - start) / 1000
    return { how: "node:sqlite alone", edits, perSecond: edits / elapsed }
  } finally {
    db.close()
    database.cleanup()
  }
}

export const outboxSubmit: Benchmark = {
  name: "outbox-submit",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { concurrent: 3_000, single: 500 } : { concurrent: 30_000, single: 3_000 }
    context.log(`  ${count(sizes.concurrent)} submits from ${CALLERS} callers`)
    const concurrent = await outboxRun("concurrent", sizes.concurrent)
    context.log(`  ${count(sizes.single)} submits from one caller`)
    const single = await outboxRun("single", sizes.single)
    context.log(`  ${count(sizes.single)} rows, node:sqlite alone`)
    const raw = rawRun(sizes.single)
    context.log(`  ${count(sizes.concurrent)} edits by hand, transactions of ${CALLERS}`)
    const hand = await handRun(sizes.concurrent)
    const label = {
      concurrent: `outbox.submit, ${CALLERS} concurrent callers (group commit)`,
      single: "outbox.submit, one caller awaiting each",
      "node:sqlite alone": "baseline: node:sqlite alone, one row per transaction",
      "by hand": `baseline: the same rows by hand (node:sqlite), transactions of ${CALLERS}`
    } as Record<string, string>
    return {
      name: "outbox-submit",
      title: "7. Outbox submit (durable edits/s, SQLite)",
      method: `Durable submits per second on a SQLite file (WAL, synchronous FULL) through createOutbox (no worker), over ${count(MESSAGES)} messages; against node:sqlite alone committing one row per transaction.`,
      parameters: { ...sizes, callers: CALLERS, messages: MESSAGES, synchronous: "FULL" },
      tables: [
        {
          columns: ["how", "edits", "durable edits/s", "vs node:sqlite alone"],
          rows: [concurrent, hand, single, raw].map((run) => [
            label[run.how] ?? run.how,
            count(run.edits),
            perSecond(run.perSecond, "edits/s"),
            ratio(run.perSecond / raw.perSecond)
          ])
        }
      ],
      targets: [
        {
          what: `Outbox submit, ${CALLERS} concurrent callers: durable edits/s`,
          target: `at least ${count(TARGET)}/s`,
          measured: perSecond(concurrent.perSecond, "edits/s"),
          value: round(concurrent.perSecond, 0),
          met: concurrent.perSecond >= TARGET
        },
        {
          what: `Outbox submit, ${CALLERS} concurrent callers, against the same rows written by hand in the same transactions`,
          target: `at least ${ratio(HAND_TARGET)}`,
          measured: ratio(concurrent.perSecond / hand.perSecond),
          value: round(concurrent.perSecond / hand.perSecond, 3),
          met: concurrent.perSecond / hand.perSecond >= HAND_TARGET
        }
      ],
      notes: [
        "One caller waits for each commit (an fsync) before the next: its rate is the disk's, as the node:sqlite baseline shows. Concurrent callers share commits.",
        "synchronous NORMAL (createOutbox({ database: { sqlite, synchronous: 'NORMAL' } })) skips the fsync of each commit: it survives a process crash, not a power loss."
      ],
      data: { concurrent, single, raw, hand }
    }
  }
}
