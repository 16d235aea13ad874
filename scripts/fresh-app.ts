/**
 * `pnpm check:fresh-app`: what a new user gets from the packed packages. Builds
 * and packs every package, installs the tarballs into a fresh npm app together
 * with Node 22.16.0 (the `node@22.16.0` npm package: the lowest Node the outbox
 * supports: `node:sqlite`'s `StatementSync.columns()` and `DatabaseSync.isTransaction`, which
 * `@effect/sql-sqlite-node` uses, arrived in 22.16), and runs there, on that Node, the root README's Promise example
 * against the Acquire sandbox and the outbox README's SQLite example.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const packages = ["core", "bitrix24", "acquire", "telegram", "cli", "outbox", "postgres", "tenants"]
const NODE = "22.16.0"
const effectVersion = (
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>
  }
).devDependencies.effect

const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })

/** The TypeScript block of a README that contains `marker`. */
const example = (readme: string, marker: string): string => {
  const found = [...readFileSync(join(root, readme), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .find((code) => code.includes(marker))
  if (found === undefined) throw new Error(`${readme} has no TypeScript example with ${marker}`)
  return found
}

/** Starts the Acquire sandbox, points the environment at it, runs the example, then says what reached the sandbox. */
const RUNNER = `import { AcquireSandbox } from "@reword/acquire/sandbox"
const sandbox = await AcquireSandbox.start({ apiKey: "acq-fresh-app-key" })
await sandbox.seedMessage("Meet at 11.")
Object.assign(process.env, {
  REWORD_PROVIDER: "acquire",
  ACQUIRE_ACCOUNT_ID: "acme",
  ACQUIRE_API_KEY: "acq-fresh-app-key",
  ACQUIRE_BASE_URL: sandbox.baseUrl,
  ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
})
try {
  await import(new URL(process.argv[2], import.meta.url).href)
} finally {
  const paths = sandbox.server.requests.map((request) => request.method + " " + request.path)
  console.log("sandbox requests: " + JSON.stringify(paths))
  await sandbox.stop()
}
`

const app = mkdtempSync(join(tmpdir(), "reword-fresh-app-"))
try {
  run("pnpm", ["run", "build"], root)
  const packs = join(app, "packs")
  mkdirSync(packs)
  for (const name of packages) run("pnpm", ["pack", "--pack-destination", packs], join(root, "packages", name))
  const tarballs = readdirSync(packs).map((file) => join(packs, file))
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }))
  run("npm", ["install", "--no-audit", "--no-fund", `node@${NODE}`, `effect@${effectVersion}`, ...tarballs], app)
  const node = join(app, "node_modules", ".bin", "node")
  const version = run(node, ["--version"], app).trim()
  if (version !== `v${NODE}`) throw new Error(`the app's Node is ${version}, not v${NODE}`)
  writeFileSync(join(app, "runner.mjs"), RUNNER)
  writeFileSync(join(app, "promise-example.ts"), example("README.md", "createEditor"))
  writeFileSync(join(app, "outbox-example.ts"), example("packages/outbox/README.md", 'database: ":memory:" })\ntry'))
  const flags = ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"]
  const promise = run(node, [...flags, "runner.mjs", "./promise-example.ts"], app)
  if (!promise.includes("POST /api/v1/crm/messenger/chat/message/1842")) {
    throw new Error(`the root README's Promise example did not reach the sandbox: ${promise}`)
  }
  const outbox = run(node, [...flags, "runner.mjs", "./outbox-example.ts"], app)
  if (!outbox.startsWith("1 0 0")) throw new Error(`the outbox README's example printed ${outbox}`)
  console.log(`A fresh npm app on Node ${version}: the Promise example edited through the Acquire sandbox;`)
  console.log(`the outbox's SQLite example printed "${outbox.split("\n")[0]}".`)
} finally {
  rmSync(app, { recursive: true, force: true })
}
