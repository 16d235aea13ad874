/**
 * Building the packages' `dist`, for the benchmarks that import reword as an
 * installed app does (through the default export condition): what
 * `pnpm build` does for the packages they import, once per run.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
let built: Promise<void> | undefined

/** `tsc -b packages/core packages/bitrix24 packages/acquire` (incremental: quick when up to date). */
export const buildPackages = (log: (line: string) => void): Promise<void> => {
  if (built === undefined) {
    log("  building the packages' dist (tsc -b packages/core packages/bitrix24 packages/acquire)")
    built = promisify(execFile)(
      fileURLToPath(new URL("../../node_modules/.bin/tsc", import.meta.url)),
      ["-b", "packages/core", "packages/bitrix24", "packages/acquire"],
      { cwd: ROOT }
    ).then(() => undefined)
  }
  return built
}
