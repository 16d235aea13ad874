/**
 * What a benchmark answers, the machine it ran on, and how both are written:
 * JSON for tools, Markdown for people.
 */
import { execFileSync } from "node:child_process"
import * as os from "node:os"
import { markdownTable, type Table } from "./format.ts"

/** A target of the issue, and whether this run met it. */
export interface Target {
  /** What is compared, such as "Acquire, Effect API: median latency against ky". */
  readonly what: string
  /** The target, such as "at most 1.10x". */
  readonly target: string
  /** The figure measured, formatted. */
  readonly measured: string
  /** The figure measured, as a number (the JSON keeps it). */
  readonly value: number
  readonly met: boolean
}

/** One benchmark's answer. */
export interface BenchResult {
  readonly name: string
  readonly title: string
  /** What was measured and how, in a few sentences. */
  readonly method: string
  readonly parameters: Readonly<Record<string, unknown>>
  readonly tables: ReadonlyArray<Table>
  readonly targets: ReadonlyArray<Target>
  readonly notes: ReadonlyArray<string>
  /** The raw figures. */
  readonly data: unknown
}

/** A benchmark as `run.ts` sees it. */
export interface Benchmark {
  readonly name: string
  readonly run: (context: Context) => Promise<BenchResult>
}

export interface Context {
  /** `--short`: a fraction of each size, only to check that the benchmark runs. */
  readonly short: boolean
  readonly log: (line: string) => void
}

/** A benchmark's answer as stored: with when, on which commit, and how long it took, or why it failed. */
export type StoredResult =
  | (BenchResult & {
      readonly status: "ok"
      readonly date: string
      readonly commit: string
      readonly seconds: number
      /** The machine's 1-minute load average when the benchmark started and ended: other work skews the figures. */
      readonly load: readonly [start: number, end: number]
    })
  | {
      readonly status: "error"
      readonly name: string
      readonly title: string
      readonly date: string
      readonly commit: string
      readonly error: string
    }

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memory: string
  readonly os: string
  readonly node: string
  readonly v8: string
}

export interface Report {
  readonly mode: "full" | "short"
  readonly date: string
  readonly commit: string
  readonly machine: Machine
  readonly command: string
  readonly results: ReadonlyArray<StoredResult>
}

const git = (args: ReadonlyArray<string>): string => {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return ""
  }
}

/** The commit checked out, with `-dirty` when the work tree has changes. */
export const commit = (): string => {
  const head = git(["rev-parse", "--short=12", "HEAD"]) || "unknown"
  return git(["status", "--porcelain", "--untracked-files=no"]).length > 0 ? `${head}-dirty` : head
}

export const machine = (): Machine => {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8
  }
}

const targetTable = (targets: ReadonlyArray<Target>): Table => ({
  columns: ["target", "wanted", "measured", ""],
  rows: targets.map((target) => [target.what, target.target, target.measured, target.met ? "met" : "**missed**"])
})

const section = (result: StoredResult): string => {
  if (result.status === "error") {
    return [
      `## ${result.title}`,
      "",
      `**Failed** (${result.date}, ${result.commit}):`,
      "",
      "```",
      result.error,
      "```"
    ].join("\n")
  }
  const parts = [`## ${result.title}`, "", result.method, ""]
  if (result.targets.length > 0) parts.push(markdownTable(targetTable(result.targets)), "")
  for (const table of result.tables) {
    if (table.title !== undefined) parts.push(`**${table.title}**`, "")
    parts.push(markdownTable(table), "")
  }
  for (const note of result.notes) parts.push(`- ${note}`)
  if (result.notes.length > 0) parts.push("")
  const [loadStart, loadEnd] = result.load
  parts.push(
    `<sub>${result.date}, commit ${result.commit}, ${result.seconds.toFixed(1)} s, load average ${loadStart.toFixed(2)} then ${loadEnd.toFixed(2)} on ${os.availableParallelism()} cores</sub>`
  )
  return parts.join("\n")
}

/** The whole report as Markdown. */
export const markdown = (report: Report): string => {
  const { machine: m } = report
  const targets = report.results.flatMap((result) => (result.status === "ok" ? result.targets : []))
  const met = targets.filter((target) => target.met).length
  const lines = [
    `# reword benchmarks${report.mode === "short" ? " (short run)" : ""}`,
    "",
    `\`${report.command}\` on ${report.date}, commit \`${report.commit}\`.`,
    `Node ${m.node} (V8 ${m.v8}), ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memory}.`,
    "",
    report.mode === "short"
      ? "A short run checks that the benchmarks work: its sizes are a fraction of the full ones and its figures mean little."
      : `Targets met: ${met} of ${targets.length}. How each benchmark works, and what bounds the missed targets: [bench/README.md](../README.md).`,
    ""
  ]
  for (const result of report.results) lines.push(section(result), "")
  return `${lines.join("\n").trimEnd()}\n`
}
