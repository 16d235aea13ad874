/**
 * `pnpm test:explore`: runs the property tests (every test file of `pnpm test` that uses fast-check)
 * with new seeds, where `pnpm test` replays a fixed one (test/setup/fast-check-seed.ts). Each file
 * prints the seed it drew; a failure prints fast-check's `{ seed, path }`: replay it with
 * `REWORD_FAST_CHECK_SEED=<seed> pnpm vitest run <file>`, then pin the case it found as a test.
 * Extra arguments go to vitest (`pnpm test:explore packages/acquire`).
 */
import { spawnSync } from "node:child_process"
import { globSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

/** The fast property test files: they import fast-check, and `pnpm test` runs them. */
export const propertyFiles = (): ReadonlyArray<string> =>
  globSync(["packages/*/test/**/*.test.ts", "test/**/*.test.ts"], {
    cwd: root,
    exclude: (name) => name === "node_modules"
  })
    .filter((file) => !file.endsWith(".slow.test.ts"))
    .filter((file) => /from "fast-check"/.test(readFileSync(`${root}/${file}`, "utf8")))
    .sort()

if (import.meta.main) {
  const given = process.argv.slice(2)
  const files = given.length > 0 ? given : propertyFiles()
  console.info(`Exploring new seeds in ${files.length} property test file(s).`)
  const run = spawnSync("pnpm", ["exec", "vitest", "run", "--project=!slow", "--silent=false", ...files], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, REWORD_EXPLORE: "1" }
  })
  process.exit(run.status ?? 1)
}
