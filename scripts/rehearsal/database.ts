/**
 * The rehearsal's database: the PostgreSQL server a URL names, or, when none
 * is named, a throwaway server the rehearsal starts itself from the
 * PostgreSQL installed on the machine (`initdb` and `postgres`: Debian's
 * `postgresql` package, Homebrew's...), in a temporary directory, on a free
 * loopback port, removed when the rehearsal ends.
 *
 * PGlite (PostgreSQL compiled to WASM) is not an option: it serves one session,
 * and the instances need theirs (row locks skipped by other claimers, the
 * refresh lock held by one process while the others wait).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"

export interface Database {
  readonly url: string
  /** How the database was found: `given` (a URL), or `started` (a throwaway server). */
  readonly origin: "given" | "started"
  readonly stop: () => Promise<void>
}

const binDirectories = (): ReadonlyArray<string> => {
  const found: Array<string> = []
  const root = "/usr/lib/postgresql"
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort((a, b) => Number(b) - Number(a)))
      found.push(join(root, version, "bin"))
  }
  return found
}

const findBinary = (name: string): string | undefined => {
  for (const directory of [...binDirectories(), ...(process.env.PATH ?? "").split(":")]) {
    const candidate = join(directory, name)
    if (directory !== "" && existsSync(candidate)) return candidate
  }
  return undefined
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Waits until the server answers a query (bounded: 30 s). */
const waitUntilUp = async (url: string): Promise<void> => {
  const deadline = Date.now() + 30_000
  let last: unknown
  while (Date.now() < deadline) {
    const ok = await Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`SELECT 1`
        return true
      }).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "2 seconds" })),
        Effect.catchCause((cause) =>
          Effect.sync(() => {
            last = cause
            return false
          })
        )
      )
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`the PostgreSQL server did not start: ${String(last)}`)
}

/** Runs a PostgreSQL binary as the current user, or as `postgres` when the current user is root (PostgreSQL refuses root). */
const asServerUser = (binary: string, args: ReadonlyArray<string>) =>
  process.getuid?.() === 0
    ? { command: "runuser", args: ["-u", "postgres", "--", binary, ...args] }
    : { command: binary, args: [...args] }

/** Starts a throwaway server, or answers why it cannot. */
const startServer = async (): Promise<Database> => {
  const initdb = findBinary("initdb")
  const postgres = findBinary("postgres")
  if (initdb === undefined || postgres === undefined) {
    throw new Error(
      "No PostgreSQL server named and none installed: pass --database-url postgres://... (or set REWORD_TEST_POSTGRES_URL), or install PostgreSQL (initdb and postgres on the PATH or in /usr/lib/postgresql/<version>/bin)"
    )
  }
  const directory = mkdtempSync(join(tmpdir(), "reword-rehearsal-pg-"))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    chownSync(directory, uid, gid)
  }
  const data = join(directory, "data")
  const init = asServerUser(initdb, ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
  execFileSync(init.command, init.args, { stdio: "ignore" })
  const port = await freePort()
  const run = asServerUser(postgres, [
    "-D",
    data,
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-k",
    directory,
    "-c",
    "fsync=off",
    "-c",
    "max_connections=100"
  ])
  const server: ChildProcess = spawn(run.command, run.args, { stdio: "ignore" })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()))
      // SIGINT to the postmaster (runuser does not pass signals on): PostgreSQL's fast shutdown.
      let pid = 0
      try {
        pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0])
      } catch {
        // Not written yet: the server is still starting.
      }
      if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, "SIGINT")
      else server.kill("SIGINT")
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
      if (server.exitCode === null) server.kill("SIGKILL")
    }
    rmSync(directory, { recursive: true, force: true })
  }
  try {
    await waitUntilUp(url)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, origin: "started", stop }
}

/** The database named by `url`, or a throwaway server started here. */
export const open = async (url: string | undefined): Promise<Database> => {
  if (url !== undefined && url !== "") {
    await waitUntilUp(url)
    return { url, origin: "given", stop: async () => undefined }
  }
  return startServer()
}
