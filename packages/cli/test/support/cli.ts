/**
 * Runs the `reword` command as a real process: Node (the one running the
 * tests) on `src/bin.ts` with the `@reword/source` condition, with only the
 * environment a test gives it (plus PATH), so that nothing from the developer's
 * environment leaks into a run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const BIN = fileURLToPath(new URL("../../src/bin.ts", import.meta.url))

export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  readonly stdin?: string | undefined
  readonly timeoutMs?: number | undefined
}

const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  NO_COLOR: "1",
  // Node's compile cache (test/setup/compile-cache.ts): code, not configuration; nothing of the developer's.
  ...(process.env.NODE_COMPILE_CACHE === undefined ? {} : { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE })
})

const childEnv = (env: RunOptions["env"]): Record<string, string> => {
  const merged: Record<string, string> = baseEnv()
  for (const [name, value] of Object.entries(env ?? {})) if (value !== undefined) merged[name] = value
  return merged
}

/** Starts the command; the caller owns the process. */
export const spawnReword = (args: ReadonlyArray<string>, options: RunOptions = {}): ChildProcess =>
  spawn(process.execPath, ["--conditions=@reword/source", BIN, ...args], {
    env: childEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"]
  })

/** Runs the command to its end. */
export const reword = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawnReword(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    // A command starts in under a second on an idle machine; a loaded 2-core one can take tens of seconds.
    const timeoutMs = options.timeoutMs ?? 90_000
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`reword ${args.join(" ")} did not end within ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin?.end(options.stdin ?? "")
  })

/** The JSON lines of an output. */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>)

/** The one JSON object of an output (fails when stdout holds anything else). */
export const jsonOf = (text: string): Record<string, unknown> => {
  const lines = jsonLines(text)
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got ${lines.length}:\n${text}`)
  return lines[0] as Record<string, unknown>
}
