/**
 * The databases the contract suite runs on: SQLite in memory and in a file,
 * PostgreSQL on PGlite (a real Postgres engine compiled to WASM, served on
 * 127.0.0.1 by the test setup), and a PostgreSQL server when
 * `REWORD_TEST_POSTGRES_URL` names one (CI starts it). Each test gets its own
 * table prefix, so runs never collide.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { type Context, Effect, Exit, Layer, Scope } from "effect"
import type { SqlClient } from "effect/sql"
import type { StorageError } from "../../src/OutboxError.ts"
import { clientOf, type PlaceSpec } from "./clients.ts"

export interface TestDatabase {
  readonly name: string
  /** Survives closing its client (a file or a server): restart tests run on it. */
  readonly durable: boolean
  /** A fresh place for one test: its own file, or its own table prefix. */
  readonly fresh: () => Place
}

export interface Place {
  readonly prefix: string
  /** A client on this place; each call opens a new connection (a new "process"). */
  readonly client: () => Layer.Layer<SqlClient.SqlClient, StorageError>
  /** The SQLite file, when there is one. */
  readonly filename?: string | undefined
  /** What a child process needs to open the same place. */
  readonly spec: PlaceSpec
}

export type { PlaceSpec } from "./clients.ts"
export { clientOf }

export const prefixOf = () => `t${randomBytes(5).toString("hex")}_`

const directories: Array<string> = []

export const sqliteMemory: TestDatabase = {
  name: "SQLite :memory:",
  durable: false,
  fresh: () => {
    const spec = { kind: "sqlite", filename: ":memory:", prefix: "reword_outbox_" } as const
    return { prefix: spec.prefix, spec, client: () => clientOf(spec) }
  }
}

export const sqliteFile: TestDatabase = {
  name: "SQLite file",
  durable: true,
  fresh: () => {
    const directory = mkdtempSync(join(tmpdir(), "reword-outbox-"))
    directories.push(directory)
    const filename = join(directory, "outbox.db")
    const spec = { kind: "sqlite", filename, prefix: "reword_outbox_" } as const
    return { prefix: spec.prefix, spec, filename, client: () => clientOf(spec) }
  }
}

const pgAt = (name: string, url: () => string, maxConnections: number): TestDatabase => ({
  name,
  durable: true,
  fresh: () => {
    const spec = { kind: "pg", url: url(), prefix: prefixOf(), maxConnections } as const
    return { prefix: spec.prefix, spec, client: () => clientOf(spec) }
  }
})

let pglite:
  | {
      readonly db: PGlite
      readonly server: PGLiteSocketServer
      readonly url: string
      readonly scope: Scope.Closeable
      readonly context: Context.Context<SqlClient.SqlClient>
    }
  | undefined

/** Starts PGlite on 127.0.0.1 (once per test file). */
export const startPglite = async (): Promise<void> => {
  if (pglite !== undefined) return
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 })
  await server.start()
  const url = `postgres://postgres@${server.getServerConn()}/postgres`
  // PGlite is one session, and its socket server interleaves the messages of concurrent connections
  // (an unnamed portal of one is lost to another): every test shares one connection.
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(clientOf({ kind: "pg", url, prefix: "", maxConnections: 1 }), scope)
  )
  pglite = { db, server, url, scope, context }
}

export const stopAll = async (): Promise<void> => {
  if (pglite !== undefined) {
    await Effect.runPromise(Scope.close(pglite.scope, Exit.void))
    await pglite.server.stop()
    await pglite.db.close()
    pglite = undefined
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
}

export const pgliteDatabase: TestDatabase = {
  name: "PostgreSQL (PGlite)",
  durable: true,
  fresh: () => {
    const shared = pglite as NonNullable<typeof pglite>
    const spec = { kind: "pg", url: shared.url, prefix: prefixOf(), maxConnections: 1 } as const
    return { prefix: spec.prefix, spec, client: () => Layer.succeedContext(shared.context) }
  }
}

const serverUrl = process.env.REWORD_TEST_POSTGRES_URL
export const pgServer: TestDatabase | undefined =
  serverUrl === undefined || serverUrl === "" ? undefined : pgAt("PostgreSQL server", () => serverUrl, 4)

export const all: ReadonlyArray<TestDatabase> = [
  sqliteMemory,
  sqliteFile,
  pgliteDatabase,
  ...(pgServer ? [pgServer] : [])
]
