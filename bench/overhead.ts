/**
 * Per-call overhead: sequential `update` calls through the `MessageEditor`
 * (Effect API and Promise API) against the same HTTP request written by hand
 * with ky, for each provider, on the same sandbox with the same payloads;
 * beside them, the layers in between (`fetch` alone, ky in one Effect fiber:
 * Effect's own floor, reword's transport, the provider's client), so that
 * each layer's cost reads off the table.
 */
import { Acquire, AcquireClient } from "@reword/acquire"
import type { Bitrix24Schemas } from "@reword/bitrix24"
import { HttpTransport } from "@reword/core/adapter"
import { createEditor, type Editor } from "@reword/core/promise"
import { Telegram, TelegramClient } from "@reword/telegram"
import { Effect, Redacted } from "effect"
import {
  acquireEditor,
  acquireKy,
  acquireSettings,
  bitrix24Body,
  bitrix24Descriptor,
  bitrix24Editor,
  bitrix24Ky,
  collectGarbage,
  type Edit,
  telegramBody,
  telegramEditor,
  telegramKy,
  telegramSettings,
  unlimited
} from "./support/editors.ts"
import { count, ms, ratio, type Table } from "./support/format.ts"
import type { Benchmark, BenchResult, Context, Target } from "./support/report.ts"
import { type ProviderName, type RemoteSandbox, startSandbox } from "./support/sandboxes.ts"
import { round, type Summary, summarize } from "./support/stats.ts"

/** Median latency and CPU per call of each API against hand-written ky (Effect's own floor measures 1.11-1.13x). */
const TARGET = 1.15

const NAMES = ["fetch", "ky", "floor", "transport", "client", "effect", "promise"] as const

interface Contender {
  readonly name: (typeof NAMES)[number]
  readonly label: string
  /** Runs the edits one after the other and answers each one's latency in milliseconds. */
  readonly block: (edits: ReadonlyArray<Edit>) => Promise<Float64Array>
}

const timed = async (edits: ReadonlyArray<Edit>, call: (edit: Edit) => Promise<unknown>): Promise<Float64Array> => {
  const latencies = new Float64Array(edits.length)
  for (let index = 0; index < edits.length; index++) {
    const start = performance.now()
    await call(edits[index] as Edit)
    latencies[index] = performance.now() - start
  }
  return latencies
}

/** Each edit in turn in one fiber, as the Effect API runs: `name` and `label` say what `call` is. */
const fiberContender = (
  name: Contender["name"],
  label: string,
  update: (edit: Edit) => Effect.Effect<unknown, unknown>
): Contender => ({
  name,
  label,
  block: (edits) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const latencies = new Float64Array(edits.length)
        for (let index = 0; index < edits.length; index++) {
          const start = performance.now()
          yield* update(edits[index] as Edit)
          latencies[index] = performance.now() - start
        }
        return latencies
      })
    )
})

const effectContender = (update: (edit: Edit) => Effect.Effect<unknown, unknown>): Contender =>
  fiberContender("effect", "reword, Effect API (`MessageEditor.update`)", update)

/** Hand-written ky, each call an `Effect.tryPromise` in one fiber: what Effect itself adds (the floor). */
const floorContender = (call: (edit: Edit) => Promise<void>): Contender =>
  fiberContender("floor", "hand-written ky in one Effect fiber (`Effect.tryPromise`): Effect's floor", (edit) =>
    Effect.tryPromise(() => call(edit))
  )

const fetchContender = (call: (edit: Edit) => Promise<void>): Contender => ({
  name: "fetch",
  label: "`fetch` alone (the same request, the JSON answer parsed)",
  block: (edits) => timed(edits, call)
})

const promiseContender = (editor: Editor): Contender => ({
  name: "promise",
  label: "reword, Promise API (`createEditor().update`)",
  block: (edits) => timed(edits, (edit) => editor.update(edit))
})

const kyContender = (call: (edit: Edit) => Promise<void>): Contender => ({
  name: "ky",
  label: "hand-written ky",
  block: (edits) => timed(edits, call)
})

interface ProviderRun {
  readonly provider: ProviderName
  readonly summaries: Partial<Record<Contender["name"], Summary>>
  readonly labels: Partial<Record<Contender["name"], string>>
  /** Microseconds of this process's CPU per call. */
  readonly cpuPerCall: Partial<Record<Contender["name"], number>>
}

/** `fetch` with the same request as the hand-written ky call, its JSON answer parsed. */
const fetchJson =
  (url: (edit: Edit) => string, headers: Readonly<Record<string, string>>, body: (edit: Edit) => unknown) =>
  async (edit: Edit): Promise<void> => {
    const response = await fetch(url(edit), {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body(edit))
    })
    const answer = (await response.json()) as unknown
    if (!response.ok || typeof answer !== "object" || answer === null) throw new Error(`fetch: ${response.status}`)
  }

const editsFor = (ids: ReadonlyArray<Edit["ids"]>, roundIndex: number, offset: number, size: number) =>
  Array.from({ length: size }, (_, index): Edit => {
    const n = offset + index
    return { ids: ids[n % ids.length] as Edit["ids"], text: `Edit ${roundIndex}.${n}: see you on Tuesday at 10:00.` }
  })

const measure = async (
  context: Context,
  provider: ProviderName,
  sandbox: RemoteSandbox,
  contenders: ReadonlyArray<Contender>,
  sizes: { readonly calls: number; readonly block: number; readonly warmup: number }
): Promise<ProviderRun> => {
  const ids = (await sandbox.seed(200, "overhead")) as ReadonlyArray<Edit["ids"]>
  // Warm-up: every contender, every code path compiled, connections open.
  for (const contender of contenders) await contender.block(editsFor(ids, -1, 0, sizes.warmup))
  const samples = new Map<Contender["name"], Array<Float64Array>>(contenders.map((contender) => [contender.name, []]))
  /** This process's CPU time per contender: the client's own work (the sandbox runs in another process). */
  const cpuMicros = new Map<Contender["name"], number>()
  const rounds = Math.ceil(sizes.calls / sizes.block)
  for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
    const edits = editsFor(ids, roundIndex, roundIndex * sizes.block, sizes.block)
    // Rounds rotate the order, so that no contender always runs first (or right after another's garbage).
    for (let turn = 0; turn < contenders.length; turn++) {
      const contender = contenders[(roundIndex + turn) % contenders.length] as Contender
      collectGarbage()
      const cpu = process.cpuUsage()
      samples.get(contender.name)?.push(await contender.block(edits))
      const used = process.cpuUsage(cpu)
      cpuMicros.set(contender.name, (cpuMicros.get(contender.name) ?? 0) + used.user + used.system)
    }
    if ((roundIndex + 1) % 5 === 0) context.log(`  ${provider}: round ${roundIndex + 1} of ${rounds}`)
  }
  const summaries = Object.fromEntries(
    contenders.map((contender) => [
      contender.name,
      summarize((samples.get(contender.name) ?? []).flatMap((block) => Array.from(block)))
    ])
  ) as Record<Contender["name"], Summary>
  const labels = Object.fromEntries(contenders.map((contender) => [contender.name, contender.label])) as Record<
    Contender["name"],
    string
  >
  const cpuPerCall = Object.fromEntries(
    contenders.map((contender) => [contender.name, (cpuMicros.get(contender.name) ?? 0) / rounds / sizes.block])
  ) as Record<Contender["name"], number>
  return { provider, summaries, labels, cpuPerCall }
}

const runAcquire = async (context: Context, sizes: Parameters<typeof measure>[4]): Promise<ProviderRun> => {
  const sandbox = await startSandbox("acquire")
  const promiseEditor = await createEditor({ providers: Acquire.provider, env: sandbox.env })
  try {
    const editor = await acquireEditor(sandbox.env)
    const settings = await acquireSettings(sandbox.env)
    const client = await Effect.runPromise(AcquireClient.make(settings))
    const env = sandbox.env
    const base = env.ACQUIRE_BASE_URL
    const key = env.ACQUIRE_API_KEY as string
    const headers = { authorization: `Bearer ${key}`, accept: "application/json" }
    const urlOf = (edit: Edit) => `${base}/crm/messenger/chat/message/${edit.ids.providerMessageId}`
    const bodyOf = (edit: Edit) => ({ message: { type: "message", message: edit.text } })
    const transport = HttpTransport.make()
    const secrets = [Redacted.make(key)]
    const ky = acquireKy(env)
    return await measure(
      context,
      "acquire",
      sandbox,
      [
        fetchContender(fetchJson(urlOf, headers, bodyOf)),
        kyContender(ky),
        floorContender(ky),
        fiberContender("transport", "reword's transport alone (`HttpTransport.send`, the answer parsed)", (edit) =>
          transport.send({ method: "POST", url: new URL(urlOf(edit)), headers, json: bodyOf(edit), secrets })
        ),
        fiberContender("client", "reword's client (`AcquireClient.update`)", (edit) =>
          client.update(edit.ids.providerMessageId as number, { text: edit.text })
        ),
        effectContender(editor.update),
        promiseContender(promiseEditor)
      ],
      sizes
    )
  } finally {
    await promiseEditor.dispose()
    await sandbox.stop()
  }
}

const runBitrix24 = async (context: Context, sizes: Parameters<typeof measure>[4]): Promise<ProviderRun> => {
  // No bucket on the portal and a limiter that never waits: the code is measured, not the limit.
  const sandbox = await startSandbox("bitrix24", { bucket: false, operatingLimit: false })
  const promiseEditor = await createEditor({ providers: bitrix24Descriptor(unlimited), env: sandbox.env })
  try {
    const editor = await bitrix24Editor(sandbox.env, { rateLimiter: unlimited() })
    const env = sandbox.env
    const url = `${env.BITRIX24_PORTAL_URL}/rest/imconnector.update.messages`
    const headers = { accept: "application/json" }
    const transport = HttpTransport.make()
    const secrets = [Redacted.make(env.BITRIX24_ACCESS_TOKEN as string)]
    const ky = bitrix24Ky(env)
    return await measure(
      context,
      "bitrix24",
      sandbox,
      [
        fetchContender(
          fetchJson(
            () => url,
            headers,
            (edit) => bitrix24Body(env, [edit])
          )
        ),
        kyContender(ky),
        floorContender(ky),
        fiberContender("transport", "reword's transport alone (`HttpTransport.send`, the answer parsed)", (edit) =>
          transport.send({ method: "POST", url: new URL(url), headers, json: bitrix24Body(env, [edit]), secrets })
        ),
        fiberContender("client", "reword's client (`Bitrix24Client.updateMessages`, the limiter included)", (edit) =>
          editor.client.updateMessages({
            messages: bitrix24Body(env, [edit]).MESSAGES as [Bitrix24Schemas.MessageItem]
          })
        ),
        effectContender(editor.update),
        promiseContender(promiseEditor)
      ],
      sizes
    )
  } finally {
    await promiseEditor.dispose()
    await sandbox.stop()
  }
}

const runTelegram = async (context: Context, sizes: Parameters<typeof measure>[4]): Promise<ProviderRun> => {
  const sandbox = await startSandbox("telegram")
  // The limiter off: the code is measured, not the Bot FAQ's 1 call a second per chat.
  const promiseEditor = await createEditor({
    providers: Telegram.provider,
    env: sandbox.env,
    providerOptions: { telegram: { limits: false } }
  })
  try {
    const editor = await telegramEditor(sandbox.env, { limits: false })
    const settings = await telegramSettings(sandbox.env)
    const client = await Effect.runPromise(TelegramClient.make(settings, { limits: false }))
    const env = sandbox.env
    const token = env.TELEGRAM_BOT_TOKEN as string
    const url = `${env.TELEGRAM_API_URL}/bot${token}/editMessageText`
    const headers = { accept: "application/json" }
    const transport = HttpTransport.make()
    const secrets = [Redacted.make(token)]
    const ky = telegramKy(env)
    // Telegram answers `message is not modified` (400) to an edit that changes nothing: each contender's
    // text differs from the one before it, so that every call is a real edit.
    return await measure(
      context,
      "telegram",
      sandbox,
      distinct([
        fetchContender(fetchJson(() => url, headers, telegramBody)),
        kyContender(ky),
        floorContender(ky),
        fiberContender("transport", "reword's transport alone (`HttpTransport.send`, the answer parsed)", (edit) =>
          transport.send({ method: "POST", url: new URL(url), headers, json: telegramBody(edit), secrets })
        ),
        fiberContender("client", "reword's client (`TelegramClient.editMessageText`)", (edit) =>
          client.editMessageText(
            { chatId: edit.ids.providerChatId as number, messageId: edit.ids.providerMessageId as number },
            edit.text
          )
        ),
        effectContender(editor.update),
        promiseContender(promiseEditor)
      ]),
      sizes
    )
  } finally {
    await promiseEditor.dispose()
    await sandbox.stop()
  }
}

/** Each contender's edits with its own text (the same length for all): no edit repeats the text before it. */
const distinct = (contenders: ReadonlyArray<Contender>): ReadonlyArray<Contender> =>
  contenders.map((contender, index) => ({
    ...contender,
    block: (edits) => contender.block(edits.map((edit) => ({ ...edit, text: `${edit.text} #${index}` })))
  }))

const PROVIDER_LABEL: Record<ProviderName, string> = { acquire: "Acquire", bitrix24: "Bitrix24", telegram: "Telegram" }

const present = (run: ProviderRun) => NAMES.filter((name) => run.summaries[name] !== undefined)

const tableOf = (run: ProviderRun): Table => {
  const ky = run.summaries.ky as Summary
  const kyCpu = run.cpuPerCall.ky as number
  return {
    title: `${PROVIDER_LABEL[run.provider]}: ${count(ky.n)} sequential calls per contender`,
    columns: [
      "contender",
      "median",
      "p99",
      "mean",
      "calls/s",
      "median vs ky",
      "p99 vs ky",
      "client CPU per call",
      "CPU vs ky"
    ],
    rows: present(run).map((name) => {
      const summary = run.summaries[name] as Summary
      const cpu = run.cpuPerCall[name] as number
      return [
        run.labels[name] as string,
        ms(summary.median),
        ms(summary.p99),
        ms(summary.mean),
        count(1000 / summary.mean),
        ratio(summary.median / ky.median),
        ratio(summary.p99 / ky.p99),
        `${count(cpu)} µs`,
        ratio(cpu / kyCpu)
      ]
    })
  }
}

const targetsOf = (run: ProviderRun): ReadonlyArray<Target> =>
  (["effect", "promise"] as const).flatMap((name) => {
    const api = name === "effect" ? "Effect" : "Promise"
    const floor = run.summaries.floor
    const latency = (run.summaries[name] as Summary).median / (run.summaries.ky as Summary).median
    const cpu = (run.cpuPerCall[name] as number) / (run.cpuPerCall.ky as number)
    const floorNote =
      floor === undefined
        ? ""
        : ` (Effect's floor in this run: ${ratio(floor.median / (run.summaries.ky as Summary).median)})`
    return [
      {
        what: `${PROVIDER_LABEL[run.provider]}, ${api} API: median latency against hand-written ky${floorNote}`,
        target: `at most ${ratio(TARGET)}`,
        measured: ratio(latency),
        value: round(latency),
        met: latency <= TARGET
      },
      {
        what: `${PROVIDER_LABEL[run.provider]}, ${api} API: client CPU per call against hand-written ky`,
        target: `at most ${ratio(TARGET)}`,
        measured: ratio(cpu),
        value: round(cpu),
        met: cpu <= TARGET
      }
    ]
  })

export const overhead: Benchmark = {
  name: "overhead",
  run: async (context): Promise<BenchResult> => {
    const sizes = context.short ? { calls: 200, block: 50, warmup: 20 } : { calls: 5_000, block: 250, warmup: 500 }
    context.log(`overhead: ${sizes.calls} calls per contender and provider`)
    // `REWORD_BENCH_PROVIDERS=telegram pnpm bench --only overhead`: some providers only (comma-separated).
    const wanted = (process.env.REWORD_BENCH_PROVIDERS ?? "acquire,bitrix24,telegram").split(",").map((n) => n.trim())
    const runners = { acquire: runAcquire, bitrix24: runBitrix24, telegram: runTelegram } as const
    const runs: Array<ProviderRun> = []
    for (const [name, run] of Object.entries(runners)) if (wanted.includes(name)) runs.push(await run(context, sizes))
    const rounded = (summary: Summary) =>
      Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, round(value, 4)]))
    return {
      name: "overhead",
      title: "1. Per-call overhead",
      method: [
        `${count(sizes.calls)} sequential \`update\` calls per contender and provider, one at a time, each timed from call to answer.`,
        "Contenders: the same HTTP request written by hand with ky (the JSON answer parsed), reword's Effect API",
        "(`MessageEditor.update`, run in one fiber) and reword's Promise API (`createEditor(...).update`); beside them the layers",
        "in between: `fetch` alone, the ky call as an `Effect.tryPromise` in one fiber (what Effect itself adds: the floor),",
        "reword's transport alone (`HttpTransport.send`) and the provider's client (`AcquireClient.update`,",
        "`Bitrix24Client.updateMessages`, `TelegramClient.editMessageText`).",
        `They take turns in rounds of ${sizes.block} calls, the order rotating each round, after a warm-up of ${sizes.warmup} calls each;`,
        "every round sends the same payloads to the same messages of the same sandbox.",
        "The sandbox runs in a child process (a provider is another machine) and keeps connections alive for 5 s, as",
        "servers do (see `support/sandbox-host.ts`); Bitrix24's has no bucket and the",
        "adapter's limiter never waits, and Telegram's editor runs with `limits: false`, so the code is measured, not the limit. Latencies in milliseconds;",
        "client CPU is this process's user and system time per call, the sandbox's work excluded."
      ].join(" "),
      parameters: { ...sizes, seededMessages: 200, target: TARGET },
      tables: runs.map(tableOf),
      targets: runs.flatMap(targetsOf),
      notes: [
        "Hand-written ky uses ky's defaults (a 10 s timeout, and no retry for a POST); reword's transport runs ky with its own timeout and retries in Effect.",
        "reword's path also validates the request, maps the answer to the neutral `EditedMessage`, retries on retryable failures (the retry is set up only after a first failure), records the edit metrics, and on Bitrix24 goes through the rate limiter and the packer of concurrent `update()` calls. No tracer is installed here, so no span is made (with one, each call is a span).",
        "Targets: median latency and client CPU per call of each API at most 1.15x hand-written ky; the floor row is what any Effect program pays for the same ky call."
      ],
      data: runs.map((run) => ({
        provider: run.provider,
        contenders: Object.fromEntries(
          Object.entries(run.summaries).map(([name, summary]) => [
            name,
            {
              label: run.labels[name as Contender["name"]] ?? name,
              ...rounded(summary),
              cpuMicrosPerCall: round(run.cpuPerCall[name as Contender["name"]] ?? 0, 1)
            }
          ])
        )
      }))
    }
  }
}
