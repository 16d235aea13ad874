/**
 * `pnpm test` runs the database tests on the embedded databases only (SQLite, PGlite); their PostgreSQL
 * server variants run in `pnpm test:slow`'s `slow-server` project, which takes the files `serverVariants`
 * lists (vitest.config.ts). A file that tests on the server but is missing from the list would never meet the
 * server: this finds every such file.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { serverVariants } from "../vitest.config.ts"

const root = join(import.meta.dirname, "..")
/** What a test file uses when it tests on the server (directly or through the outbox's test databases). */
const SERVER_MARKERS =
  /\b(Databases\.all|Databases\.server\b|pgServer|REWORD_TEST_POSTGRES_URL|describe\.each\(databases\))|^import \{[^}]*\bserverUrl\b/m

const fastTestFiles = (): Array<string> =>
  readdirSync(join(root, "packages")).flatMap((name) => {
    const directory = join("packages", name, "test")
    let files: Array<string>
    try {
      files = readdirSync(join(root, directory))
    } catch {
      return []
    }
    return files
      .filter((file) => file.endsWith(".test.ts") && !file.endsWith(".slow.test.ts"))
      .map((file) => join(directory, file))
  })

describe("the PostgreSQL server's variants", () => {
  it("every test file of pnpm test that can test on the server is listed, to run on it in pnpm test:slow", () => {
    const testing = fastTestFiles().filter((file) => SERVER_MARKERS.test(readFileSync(join(root, file), "utf8")))
    expect(testing.length).toBeGreaterThan(5)
    expect(testing.filter((file) => !serverVariants.includes(file))).toEqual([])
  })

  it("lists only files that exist and are not slow already", () => {
    const fast = fastTestFiles()
    expect(serverVariants.filter((file) => !fast.includes(file))).toEqual([])
  })

  it("pnpm test leaves the server out", () => {
    expect(process.env.REWORD_TEST_POSTGRES_URL ?? "").toBe("")
  })
})
