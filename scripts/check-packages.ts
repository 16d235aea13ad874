/**
 * `pnpm check:packages`: builds every package, packs it as it would be
 * published, and checks the tarball with publint and `attw --profile esm-only`.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const packages = ["core", "bitrix24", "acquire", "telegram", "cli", "outbox", "postgres", "tenants"]
const run = (command: string, args: ReadonlyArray<string>, cwd = root) =>
  execFileSync(command, args, { cwd, stdio: "inherit" })

run("pnpm", ["run", "build"])
const destination = mkdtempSync(join(tmpdir(), "reword-packs-"))
try {
  for (const name of packages) {
    const directory = join(root, "packages", name)
    run("pnpm", ["exec", "publint", "--strict"], directory)
    run("pnpm", ["pack", "--pack-destination", destination], directory)
  }
  for (const tarball of readdirSync(destination)) {
    run("pnpm", ["exec", "attw", "--profile", "esm-only", join(destination, tarball)])
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
