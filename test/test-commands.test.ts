/**
 * `pnpm test` and `pnpm test:slow` split the tests between them: every test file runs in exactly one
 * project, the `slow` project holds exactly the slow files (named `*.slow.test.ts`, or listed in
 * vitest.config.ts), and every listed file exists.
 */
import { existsSync, globSync, readFileSync } from "node:fs"
import { join, matchesGlob, relative } from "node:path"
import { fileURLToPath } from "node:url"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import config, { serverVariants, slowListed } from "../vitest.config.ts"
import { FIXED_SEED } from "./setup/fast-check-seed.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

interface Project {
  readonly test: {
    readonly name: string
    readonly root?: string
    readonly include: ReadonlyArray<string>
    readonly exclude: ReadonlyArray<string>
    readonly setupFiles?: ReadonlyArray<string>
  }
}
const projects = (config.test?.projects ?? []) as unknown as ReadonlyArray<Project>

const testFiles = globSync(["packages/*/test/**/*.test.ts", "test/**/*.test.ts"], {
  cwd: root,
  exclude: (name) => name === "node_modules"
})

/** The projects whose include and exclude patterns (relative to their root) take the file. */
const projectsOf = (file: string) =>
  projects
    .filter(({ test }) => {
      const path = relative(join(root, test.root ?? "."), join(root, file))
      if (path.startsWith("..")) return false
      const matches = (patterns: ReadonlyArray<string>) => patterns.some((pattern) => matchesGlob(path, pattern))
      return matches(test.include) && !matches(test.exclude)
    })
    .map(({ test }) => test.name)

describe("pnpm test and pnpm test:slow", () => {
  it("find test files to split", () => {
    expect(testFiles.length).toBeGreaterThan(20)
    expect(projects.some(({ test }) => test.name === "slow")).toBe(true)
  })

  it.each(testFiles)("%s runs in exactly one project, `slow` if and only if it is slow", (file) => {
    const slow = file.endsWith(".slow.test.ts") || slowListed.includes(file)
    // The files that test on every database run once more in `slow-server`, with the PostgreSQL server.
    const taking = projectsOf(file).filter((name) => name !== "slow-server")
    expect(taking).toHaveLength(1)
    expect(taking[0] === "slow").toBe(slow)
    expect(projectsOf(file).includes("slow-server")).toBe(serverVariants.includes(file))
  })

  it.each(slowListed)("the listed slow file %s exists and is not named *.slow.test.ts", (file) => {
    expect(existsSync(join(root, file))).toBe(true)
    expect(file.endsWith(".slow.test.ts")).toBe(false)
  })
})

describe("property tests: fixed seeds in pnpm test, new ones in pnpm test:explore", () => {
  it.each(projects.map(({ test }) => test.name))(
    "project %s replays the fixed seed (its setup file sets it)",
    (name) => {
      const project = projects.find(({ test }) => test.name === name)
      expect(project?.test.setupFiles?.some((file) => file.endsWith("test/setup/fast-check-seed.ts"))).toBe(true)
    }
  )

  it("fast-check runs this very file with the fixed seed, unless exploring", () => {
    const exploring = process.env.REWORD_EXPLORE === "1" || process.env.REWORD_FAST_CHECK_SEED !== undefined
    if (!exploring) expect(fc.readConfigureGlobal().seed).toBe(FIXED_SEED)
    expect(typeof fc.readConfigureGlobal().seed).toBe("number")
  })

  it("pnpm test:explore is a root script", () => {
    const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts as Record<string, string>
    expect(scripts["test:explore"]).toBe("node scripts/explore.ts")
    expect(existsSync(join(root, "scripts/explore.ts"))).toBe(true)
  })
})
