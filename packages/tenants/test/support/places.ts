/**
 * Where the tenant tests store their registry: a SQLite file of their own, or
 * PostgreSQL (PGlite on 127.0.0.1 in `pnpm test`; the server of
 * `REWORD_TEST_POSTGRES_URL` too when set) under a table prefix of their own.
 * The outbox's harness, not a second one.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import type { OutboxError } from "@reword/outbox"
import { Effect, type Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import {
  pgliteDatabase,
  pgServer,
  sqliteFile,
  startPglite,
  stopAll,
  type TestDatabase
} from "../../../outbox/test/support/databases.ts"

export { startPglite, stopAll }

export interface Place {
  readonly name: string
  /** The table prefix (unique to this test). */
  readonly prefix: string
  readonly client: () => Layer.Layer<SqlClient.SqlClient, OutboxError.StorageError>
  readonly filename?: string | undefined
}

/** A fresh place on a test database, with a prefix of this package's own. */
export const placeOn = (database: TestDatabase): Place => {
  const place = database.fresh()
  const prefix = place.filename === undefined ? `htenants_${place.prefix}` : "reword_"
  return { name: database.name, prefix, client: place.client, filename: place.filename }
}

export const databases: ReadonlyArray<TestDatabase> = [sqliteFile, pgliteDatabase, ...(pgServer ? [pgServer] : [])]

/** Every way a secret may be written: raw, URL-encoded, base64, base64url, hex. */
export const encodings = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString("base64").replace(/=+$/, ""),
  Buffer.from(secret).toString("base64url"),
  Buffer.from(secret).toString("hex")
]

/** The secrets found in a SQLite file and its companions (WAL, journal), in any encoding. */
export const secretsInFiles = (filename: string, secrets: ReadonlyArray<string>): ReadonlyArray<string> => {
  const directory = dirname(filename)
  const base = filename.slice(directory.length + 1)
  const bytes = readdirSync(directory)
    .filter((name) => name.startsWith(base))
    .map((name) => readFileSync(join(directory, name)).toString("latin1"))
    .join("\n")
  return secrets.filter((secret) => encodings(secret).some((form) => bytes.includes(form)))
}

/** The secrets found in every column of every row of the tables under `prefix`, as PostgreSQL prints them. */
export const secretsInTables = (
  prefix: string,
  secrets: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string>, unknown, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
      WHERE table_name LIKE ${`${prefix}%`}`
    let text = ""
    for (const { name } of tables) {
      const rows = yield* sql<{ row: string }>`SELECT t::text AS row FROM ${sql(name)} t`
      text += rows.map((row) => row.row).join("\n")
    }
    return secrets.filter((secret) => encodings(secret).some((form) => text.includes(form)))
  })

export const redacted = Redacted.make
