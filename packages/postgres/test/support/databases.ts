/**
 * The PostgreSQL engines the tests run on, from the outbox's harness (not a
 * second one): PGlite (a real Postgres compiled to WASM, served on 127.0.0.1,
 * one session shared by every test of a file) in `pnpm test`, and the server
 * `REWORD_TEST_POSTGRES_URL` names (CI starts one).
 *
 * PGlite is a single session: every connection to it shares one backend, so
 * a lock one "process" takes is its neighbour's too. Whatever needs two
 * sessions (the refresh lock, several processes) runs on the server only.
 */
import {
  pgliteDatabase,
  pgServer,
  prefixOf,
  startPglite,
  stopAll,
  type TestDatabase
} from "../../../outbox/test/support/databases.ts"

export { startPglite, stopAll, type TestDatabase }

/** A fresh table prefix (`t<hex>_`), so that runs never collide. */
export const prefixOfTables: () => string = prefixOf

/** Every engine: PGlite, and the server when one is named. */
export const all: ReadonlyArray<TestDatabase> = [pgliteDatabase, ...(pgServer === undefined ? [] : [pgServer])]

/** The server, when `REWORD_TEST_POSTGRES_URL` names one. */
export const server: TestDatabase | undefined = pgServer

/** The server's URL, when one is named. */
export const serverUrl: string | undefined =
  process.env.REWORD_TEST_POSTGRES_URL === "" ? undefined : process.env.REWORD_TEST_POSTGRES_URL
