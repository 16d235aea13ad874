/**
 * Telegram at the Bot FAQ's limits: the editor with its default limiter (30
 * calls a second for the bot, 1 a second per chat) against a sandbox that
 * enforces the same limits over sliding windows (429 past them), in a child
 * process. Edits to many chats at once (the bot's limit binds), and several
 * edits to one chat (the chat's limit binds): the share of the rate the
 * limits allow that the editor reached, and the 429 answers it met.
 */
import { Effect, Result } from "effect"
import { type Edit, telegramEditor } from "./support/editors.ts"
import { count, percent, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult, Context, Target } from "./support/report.ts"
import { startSandbox } from "./support/sandboxes.ts"
import { round } from "./support/stats.ts"

const TARGET_SHARE = 0.9

interface Scenario {
  readonly name: string
  /** Edits, and the chats they spread over. */
  readonly edits: number
  readonly chats: number
  /** The least time the limits allow for the edits, in seconds. */
  readonly least: (edits: number) => number
}

/** 30 a second over sliding windows: N calls need (ceil(N / 30) - 1) s at the least. */
const manyChats = (edits: number): Scenario => ({
  name: `${count(edits)} edits in ${count(edits)} chats (30 calls a second binds)`,
  edits,
  chats: edits,
  least: (n) => Math.ceil(n / 30) - 1
})

/** 1 a second in one chat: N calls need N - 1 s. */
const oneChat = (edits: number): Scenario => ({
  name: `${count(edits)} edits in one chat (1 call a second binds)`,
  edits,
  chats: 1,
  least: (n) => n - 1
})

interface Run {
  readonly scenario: string
  readonly edits: number
  readonly succeeded: number
  readonly elapsed: number
  readonly least: number
  readonly share: number
  readonly limitHits: number
}

const run = async (context: Context, scenario: Scenario): Promise<Run> => {
  const sandbox = await startSandbox("telegram", { telegramLimits: "faq" })
  try {
    const ids = await sandbox.seed(scenario.edits, "limits", scenario.chats)
    const edits = ids.map((messageIds, index): Edit => ({ ids: messageIds, text: `Limited edit ${index}` }))
    // The default limiter (the Bot FAQ's figures); no retry, so that a 429 shows as a failure.
    const editor = await telegramEditor(sandbox.env, {
      retry: { maxAttempts: 1, maxElapsed: "5 minutes" },
      concurrency: 64
    })
    const started = performance.now()
    const outcomes = await Effect.runPromise(editor.updateMany(edits))
    const elapsed = (performance.now() - started) / 1000
    const succeeded = outcomes.filter(Result.isSuccess).length
    const least = scenario.least(edits.length)
    const { limitHits } = await sandbox.stats()
    context.log(`  telegram-limits: ${scenario.name}: ${seconds(elapsed)}, ${limitHits} limit answers`)
    return {
      scenario: scenario.name,
      edits: edits.length,
      succeeded,
      elapsed,
      least,
      share: least / elapsed,
      limitHits
    }
  } finally {
    await sandbox.stop()
  }
}

export const telegramLimits: Benchmark = {
  name: "telegram-limits",
  run: async (context): Promise<BenchResult> => {
    const scenarios = context.short ? [manyChats(90), oneChat(4)] : [manyChats(600), oneChat(11)]
    const runs: Array<Run> = []
    for (const scenario of scenarios) runs.push(await run(context, scenario))
    const targets: Array<Target> = runs.flatMap((r) => [
      {
        what: `Telegram, ${r.scenario}: the rate reached against the most the limits allow`,
        target: `at least ${percent(TARGET_SHARE)}`,
        measured: percent(r.share),
        value: round(r.share, 4),
        met: r.share >= TARGET_SHARE
      },
      {
        what: `Telegram, ${r.scenario}: limit answers (429)`,
        target: "0",
        measured: count(r.limitHits),
        value: r.limitHits,
        met: r.limitHits === 0 && r.succeeded === r.edits
      }
    ])
    return {
      name: "telegram-limits",
      title: "15. Telegram at the Bot FAQ's limits",
      method: [
        "`updateMany` (concurrency 64) through the Telegram editor with its default limiter (30 calls a second for the bot,",
        "1 a second per chat, 20 a minute per group), against a sandbox in a child process enforcing the same limits over",
        "sliding windows (429 past them), no retry. The share is the least time the limits allow for the edits",
        "(`ceil(n / 30) - 1` s for the bot, `n - 1` s for one chat) over the time taken."
      ].join(" "),
      parameters: { scenarios: scenarios.map((s) => ({ edits: s.edits, chats: s.chats })), target: TARGET_SHARE },
      tables: [
        {
          title: "Telegram at the Bot FAQ's limits",
          columns: ["edits", "succeeded", "time", "least the limits allow", "share", "limit answers (429)"],
          rows: runs.map((r) => [
            r.scenario,
            count(r.succeeded),
            seconds(r.elapsed),
            seconds(r.least),
            percent(r.share),
            count(r.limitHits)
          ])
        }
      ],
      targets,
      notes: [
        "The in-process limiter counts a call until a second after its answer for the bot's limit, and a chat's next call from the previous one's answer: however late a call reaches Telegram, the sliding windows hold. `@reword/postgres`'s `PgLimiter` shares the same limits across processes (its tests: two editors against one sandbox, no 429)."
      ],
      data: runs
    }
  }
}
