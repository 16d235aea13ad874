/**
 * `pnpm test` shares a worker between test files (`isolate: false` in vitest.config.ts). Two things a file does
 * would reach the files after it: mocking a module (`vi.mock`: such a file must be listed in `isolatedFiles`, to
 * run in a fresh worker), and intercepting HTTP with nock (which test/setup/nock-at-rest.ts puts at rest before
 * each file: a file that uses nock must turn it on itself, `nock.activate()`, directly or through its support
 * module's `useNock()`). This finds every file that does either without saying so.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { isolatedFiles } from "../vitest.config.ts"

const root = join(import.meta.dirname, "..")
// Built from parts, so that this file does not match itself.
const MOCKS_A_MODULE = new RegExp(["\\bvi\\.mock\\(", "\\bvi\\.doMock\\("].join("|"))
const LOADS_NOCK = new RegExp(["from ", '"nock"'].join(""))
const TURNS_NOCK_ON = new RegExp(["nock\\.activate\\(\\)", "^useNock\\(\\)"].join("|"), "m")

const filesUnder = (directory: string): Array<string> =>
  readdirSync(directory).flatMap((name) => {
    const path = join(directory, name)
    if (name === "node_modules" || name.startsWith(".")) return []
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : []
  })

/** Every test module of the workspace (test files and their support modules), as paths from the root. */
const testModules = (): Array<string> =>
  ["test", ...readdirSync(join(root, "packages")).map((name) => join("packages", name, "test"))]
    .flatMap((directory) => {
      try {
        return filesUnder(join(root, directory))
      } catch {
        return []
      }
    })
    .map((path) => relative(root, path))
    .filter((file) => !file.startsWith("test/setup/"))

const source = (file: string) => readFileSync(join(root, file), "utf8")

describe("test files in shared workers", () => {
  it("every file that mocks a module is listed to run in a fresh worker", () => {
    const mocking = testModules().filter((file) => MOCKS_A_MODULE.test(source(file)))
    expect(mocking.length).toBeGreaterThan(0)
    expect(mocking.filter((file) => !isolatedFiles.includes(file) && !file.endsWith(".slow.test.ts"))).toEqual([])
  })

  it("every test file that loads nock turns it on for itself", () => {
    const using = testModules().filter((file) => file.endsWith(".test.ts") && LOADS_NOCK.test(source(file)))
    expect(using.length).toBeGreaterThan(10)
    expect(using.filter((file) => !TURNS_NOCK_ON.test(source(file)))).toEqual([])
  })

  it("lists only files that exist", () => {
    for (const file of isolatedFiles) expect(statSync(join(root, file)).isFile()).toBe(true)
  })
})
