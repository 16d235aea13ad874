/**
 * Where reword's time per edit goes, against hand-written ky: the same edits
 * as the overhead and bulk benchmarks, each contender under V8's sampling
 * profiler (the run only: start-up, seeding and warm-up are left out), and the
 * samples grouped by where their code comes from.
 *
 *   node --conditions=@reword/source --expose-gc bench/profile.ts [--provider acquire|bitrix24|telegram] [--bulk] [--calls 4000]
 *
 * `--bulk` profiles `updateMany` at a concurrency of 16 against ky over 16
 * workers (Acquire only); without it, sequential `update` calls. The sandbox
 * runs in a child process, so its work is not in the profile.
 */
import { Session } from "node:inspector/promises"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import {
  acquireEditor,
  acquireKy,
  bitrix24Editor,
  bitrix24Ky,
  collectGarbage,
  type Edit,
  telegramEditor,
  telegramKy,
  unlimited
} from "./support/editors.ts"
import { markdownTable } from "./support/format.ts"
import { type ProviderName, startSandbox } from "./support/sandboxes.ts"

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "acquire" },
    bulk: { type: "boolean", default: false },
    calls: { type: "string", default: "4000" }
  }
})
const provider = values.provider as ProviderName
const bulk = values.bulk === true
const calls = Number(values.calls)
if (bulk && provider !== "acquire") throw new Error("--bulk profiles Acquire only")

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Where a frame's code comes from. */
const groupOf = ({ url, functionName }: ProfileNode["callFrame"]): string => {
  if (url.includes("/effect/dist/")) {
    const file = url.slice(url.indexOf("/effect/dist/") + "/effect/dist/".length)
    if (/^(Schema|internal\/schema\/)/.test(file)) return "effect: Schema (decoding)"
    if (/tracer/i.test(file)) return "effect: tracer (spans)"
    if (/^(Stream|Channel|Queue|Pull|internal\/stream)/.test(file)) return "effect: Stream"
    return "effect: runtime (fibers, Exit, Context, ...)"
  }
  if (url.includes("/ky/")) return "ky"
  if (url.includes("/packages/")) return "reword"
  if (url.includes("undici")) return "undici (fetch)"
  if (url.startsWith("node:")) return "node internals"
  if (url === "") return functionName === "(garbage collector)" ? "GC" : `native: ${functionName}`
  return "other"
}

/** Microseconds of samples per group, and per reword or effect function, divided by the edits. */
const breakdown = (profile: Profile, edits: number) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const groups = new Map<string, number>()
  const functions = new Map<string, number>()
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)
    if (node === undefined) return
    const micros = profile.timeDeltas[index] ?? 0
    const group = groupOf(node.callFrame)
    groups.set(group, (groups.get(group) ?? 0) + micros)
    if (group.startsWith("effect") || group === "reword") {
      const { functionName, url, lineNumber } = node.callFrame
      const key = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`
      functions.set(key, (functions.get(key) ?? 0) + micros)
    }
  })
  const perEdit = (map: Map<string, number>) => new Map([...map].map(([key, value]) => [key, value / edits]))
  return { groups: perEdit(groups), functions: perEdit(functions) }
}

const session = new Session()
session.connect()
await session.post("Profiler.enable")
await session.post("Profiler.setSamplingInterval", { interval: 100 })

const profiled = async (run: () => Promise<unknown>) => {
  collectGarbage()
  await session.post("Profiler.start")
  const started = performance.now()
  await run()
  const seconds = (performance.now() - started) / 1000
  const { profile } = (await session.post("Profiler.stop")) as unknown as { readonly profile: Profile }
  return { profile, seconds }
}

const sandbox = await startSandbox(provider, provider === "bitrix24" ? { bucket: false, operatingLimit: false } : {})
try {
  const ids = (await sandbox.seed(bulk ? calls : 200, "profile")) as ReadonlyArray<Edit["ids"]>
  const edits = Array.from(
    { length: calls },
    (_, index): Edit => ({
      ids: ids[index % ids.length] as Edit["ids"],
      text: `Profiled edit ${index}`
    })
  )
  const ky =
    provider === "acquire"
      ? acquireKy(sandbox.env)
      : provider === "telegram"
        ? telegramKy(sandbox.env)
        : bitrix24Ky(sandbox.env)
  // Telegram's limiter off, as in the overhead benchmark: the code is profiled, not the limit.
  const editor =
    provider === "acquire"
      ? await acquireEditor(sandbox.env, { concurrency: 16 })
      : provider === "telegram"
        ? await telegramEditor(sandbox.env, { limits: false })
        : await bitrix24Editor(sandbox.env, { rateLimiter: unlimited() })
  const kyRun = bulk
    ? async () => {
        let next = 0
        const worker = async () => {
          while (next < edits.length) await ky(edits[next++] as Edit)
        }
        await Promise.all(Array.from({ length: 16 }, worker))
      }
    : async () => {
        for (const edit of edits) await ky(edit)
      }
  const rewordRun = bulk
    ? () => Effect.runPromise(editor.updateMany(edits))
    : () =>
        Effect.runPromise(
          Effect.gen(function* () {
            for (const edit of edits) yield* editor.update(edit)
          })
        )
  // Warm-up, then each contender once under the profiler.
  await kyRun()
  await rewordRun()
  const kyProfile = await profiled(kyRun)
  const rewordProfile = await profiled(rewordRun)
  const kyBreakdown = breakdown(kyProfile.profile, calls)
  const rewordBreakdown = breakdown(rewordProfile.profile, calls)
  const rows = [...new Set([...kyBreakdown.groups.keys(), ...rewordBreakdown.groups.keys()])].map((group) => ({
    group,
    ky: kyBreakdown.groups.get(group) ?? 0,
    reword: rewordBreakdown.groups.get(group) ?? 0
  }))
  // Native frames under 5 µs an edit either way are summed into one row.
  const small = (row: (typeof rows)[number]) => row.group.startsWith("native:") && row.ky < 5 && row.reword < 5
  const groups = [
    ...rows.filter((row) => !small(row)),
    {
      group: "native: the rest",
      ky: rows.filter(small).reduce((sum, row) => sum + row.ky, 0),
      reword: rows.filter(small).reduce((sum, row) => sum + row.reword, 0)
    }
  ].sort((a, b) => b.reword - b.ky - (a.reword - a.ky))
  const total = (map: Map<string, number>) =>
    [...map].filter(([group]) => group !== "native: (idle)").reduce((sum, [, value]) => sum + value, 0)
  const us = (value: number) => `${value.toFixed(0)} µs`
  console.log(
    `\n${provider}, ${bulk ? "updateMany at concurrency 16 against ky over 16 workers" : "sequential update against ky"}, ${calls} edits: ${(calls / kyProfile.seconds).toFixed(0)} against ${(calls / rewordProfile.seconds).toFixed(0)} edits/s\n`
  )
  console.log(
    markdownTable({
      columns: ["where (self time)", "ky per edit", "reword per edit", "difference"],
      rows: [
        ...groups.map((row) => [row.group, us(row.ky), us(row.reword), us(row.reword - row.ky)]),
        [
          "total, idle left out",
          us(total(kyBreakdown.groups)),
          us(total(rewordBreakdown.groups)),
          us(total(rewordBreakdown.groups) - total(kyBreakdown.groups))
        ]
      ]
    })
  )
  console.log("\nreword's and effect's heaviest functions (self time per edit):\n")
  console.log(
    markdownTable({
      columns: ["function", "per edit"],
      rows: [...rewordBreakdown.functions]
        .sort((a, b) => b[1] - a[1])
        .slice(0, Number(process.env.PROFILE_TOP ?? 20))
        .map(([name, value]) => [name, `${value.toFixed(1)} µs`])
    })
  )
} finally {
  session.disconnect()
  await sandbox.stop()
}
process.exit(0)
