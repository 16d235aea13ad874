/**
 * Import cost: the time to import `@reword/core` and one adapter in a fresh
 * Node process, against importing ky alone (and effect alone, reword's peer
 * dependency), from the built `dist` (what an app installs) and from source.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { buildPackages } from "./support/build.ts"
import { count, ms, ratio } from "./support/format.ts"
import { kyEntry } from "./support/ky.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { median, round } from "./support/stats.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const SOURCE = "--conditions=@reword/source"

interface Row {
  readonly name: string
  readonly label: string
  readonly specifiers: ReadonlyArray<string>
  readonly flags: ReadonlyArray<string>
}

const ROWS: ReadonlyArray<Row> = [
  { name: "node", label: "nothing (Node starting alone)", specifiers: [], flags: [] },
  { name: "ky", label: "ky alone", specifiers: [kyEntry.href], flags: [] },
  { name: "effect", label: "effect alone (reword's peer dependency)", specifiers: ["effect"], flags: [] },
  {
    name: "core+acquire",
    label: "`@reword/core` + `@reword/acquire` (dist)",
    specifiers: ["@reword/core", "@reword/acquire"],
    flags: []
  },
  {
    name: "core+bitrix24",
    label: "`@reword/core` + `@reword/bitrix24` (dist)",
    specifiers: ["@reword/core", "@reword/bitrix24"],
    flags: []
  },
  {
    name: "core+acquire source",
    label: "`@reword/core` + `@reword/acquire` (source, `--conditions=@reword/source`)",
    specifiers: ["@reword/core", "@reword/acquire"],
    flags: [SOURCE]
  }
]

/** A module that times its own imports: Node's start-up is the same for every row and is left out. */
const scriptOf = (row: Row) =>
  [
    "const start = performance.now()",
    ...row.specifiers.map((specifier) => `await import(${JSON.stringify(specifier)})`),
    "process.stdout.write(String(performance.now() - start))"
  ].join(";")

/** One fresh process: the import time it measured, and its whole life as seen from here (start-up included). */
const once = (row: Row): Promise<{ readonly importMs: number; readonly processMs: number }> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, [...row.flags, "--input-type=module", "-e", scriptOf(row)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on("error", reject)
    child.on("exit", (code) => {
      const processMs = performance.now() - start
      if (code !== 0) reject(new Error(`${row.name}: exit ${code}`))
      else resolve({ importMs: Number(output), processMs })
    })
  })

export const importCost: Benchmark = {
  name: "import-cost",
  run: async (context): Promise<BenchResult> => {
    const runs = context.short ? 2 : 20
    // The dist rows import what `pnpm build` writes: build it first.
    await buildPackages(context.log)
    const measured = new Map<string, Array<{ readonly importMs: number; readonly processMs: number }>>(
      ROWS.map((row) => [row.name, []])
    )
    // One process of each row in turn, so that a noisy moment hits every row alike.
    for (let index = 0; index < runs; index++) {
      for (const row of ROWS) measured.get(row.name)?.push(await once(row))
    }
    const medians = new Map(
      ROWS.map((row) => {
        const runsOf = measured.get(row.name) ?? []
        return [
          row.name,
          { importMs: median(runsOf.map((run) => run.importMs)), processMs: median(runsOf.map((run) => run.processMs)) }
        ]
      })
    )
    const ky = medians.get("ky")?.importMs ?? Number.NaN
    const node = medians.get("node")?.processMs ?? Number.NaN
    return {
      name: "import-cost",
      title: "5. Import cost",
      method: [
        `${count(runs)} fresh \`node\` processes per row, the rows taking turns; each process times its own \`import()\`s`,
        "(Node's start-up left out), and the whole process is timed from spawn to exit too. Medians. The dist rows import",
        "the built packages through the default export condition, as an installed app does (the benchmark runs",
        "`tsc -b` first, so `pnpm bench` builds); the source row imports the TypeScript sources through the",
        "`@reword/source` condition, with Node stripping the types."
      ].join(" "),
      parameters: { runs },
      tables: [
        {
          columns: ["imports", "import time", "against ky", "whole process", "over Node alone"],
          rows: ROWS.map((row) => {
            const value = medians.get(row.name) ?? { importMs: Number.NaN, processMs: Number.NaN }
            return [
              row.label,
              row.specifiers.length === 0 ? "-" : ms(value.importMs, 1),
              row.specifiers.length === 0 ? "-" : ratio(value.importMs / ky),
              ms(value.processMs, 1),
              row.specifiers.length === 0 ? "-" : ms(value.processMs - node, 1)
            ]
          })
        }
      ],
      targets: [],
      notes: ["The issue sets no target for import cost; these figures are for comparison."],
      data: ROWS.map((row) => ({
        name: row.name,
        specifiers: row.specifiers.map((specifier) => (specifier.startsWith("file:") ? "ky" : specifier)),
        flags: row.flags,
        importMs: round(medians.get(row.name)?.importMs ?? Number.NaN, 2),
        processMs: round(medians.get(row.name)?.processMs ?? Number.NaN, 2)
      }))
    }
  }
}
