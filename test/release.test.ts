/**
 * Releasing from a clone: every package builds before it is packed (a
 * `prepack`, so `pnpm pack` never makes a tarball without `dist/`), and
 * Changesets bumps the packages and, through them, the ranges their
 * dependents are published with: `changeset version` runs on a temporary
 * copy of the workspace's manifests, and `pnpm pack` there shows the ranges
 * a user installs.
 */
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = new URL("..", import.meta.url).pathname
const packages = readdirSync(join(root, "packages"))
const manifest = (directory: string, name: string) =>
  JSON.parse(readFileSync(join(directory, "packages", name, "package.json"), "utf8")) as {
    name: string
    version: string
    scripts?: Record<string, string>
    dependencies?: Record<string, string>
    exports: Record<string, unknown>
  }

/** pnpm as the tests were started with it (`pnpm test`), or the one on PATH; its output in the error when it fails. */
const pnpm = (args: ReadonlyArray<string>, cwd: string): string => {
  const execPath = process.env.npm_execpath
  const [command, prefix] =
    execPath !== undefined && /pnpm/.test(execPath) && /\.c?js$/.test(execPath)
      ? [process.execPath, [execPath]]
      : ["pnpm", []]
  try {
    return execFileSync(command, [...prefix, ...args], { cwd, encoding: "utf8", stdio: "pipe" })
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string }
    throw new Error(`pnpm ${args.join(" ")} failed:\n${output.stdout ?? ""}${output.stderr ?? ""}`)
  }
}

const copies: Array<string> = []
afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true })
})

describe("packing", () => {
  it("every package builds before it is packed (prepack), the same build as `build`", () => {
    expect(packages.length).toBeGreaterThanOrEqual(6)
    for (const name of packages) {
      const pkg = manifest(root, name)
      expect(pkg.scripts?.prepack, name).toBe(pkg.scripts?.build)
      expect(pkg.scripts?.build, name).toBe("tsc -b")
      expect(JSON.stringify(pkg.exports), name).toContain("./dist/")
    }
    const rootScripts = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts
    expect(rootScripts["pack:all"]).toContain("--pack-destination")
    expect(readFileSync(join(root, ".gitignore"), "utf8")).toMatch(/^dist-packages\/$/m)
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain("npm install ./dist-packages/*.tgz")
  })
})

describe("changeset version", () => {
  it("bumps a package, patches its dependents, and their packed ranges follow", () => {
    const copy = mkdtempSync(join(tmpdir(), "reword-changesets-"))
    copies.push(copy)
    cpSync(join(root, "pnpm-workspace.yaml"), join(copy, "pnpm-workspace.yaml"))
    writeFileSync(join(copy, "package.json"), JSON.stringify({ name: "reword-release-copy", private: true }))
    mkdirSync(join(copy, ".changeset"))
    cpSync(join(root, ".changeset", "config.json"), join(copy, ".changeset", "config.json"))
    for (const name of packages) {
      const pkg = manifest(root, name)
      // The manifests with their workspace dependencies alone: packing here checks versions and ranges, not the
      // build, and installing links the packages to each other without fetching anything.
      const dependencies = Object.fromEntries(
        Object.entries(pkg.dependencies ?? {}).filter(([dependency]) => dependency.startsWith("@reword/"))
      )
      const copied = { name: pkg.name, version: pkg.version, type: "module", exports: pkg.exports, dependencies }
      mkdirSync(join(copy, "packages", name), { recursive: true })
      writeFileSync(join(copy, "packages", name, "package.json"), JSON.stringify(copied, null, 2))
    }
    writeFileSync(join(copy, ".changeset", "core-feature.md"), '---\n"@reword/core": minor\n---\n\nA new feature.\n')
    const before = Object.fromEntries(packages.map((name) => [name, manifest(copy, name).version]))

    execFileSync(process.execPath, [join(root, "node_modules", "@changesets", "cli", "bin.js"), "version"], {
      cwd: copy,
      stdio: "pipe"
    })

    const after = Object.fromEntries(packages.map((name) => [name, manifest(copy, name).version]))
    const bump = (version: string | undefined, part: "minor" | "patch") => {
      const [major, minor, patch] = (version ?? "").split(".").map(Number)
      return part === "minor" ? `${major}.${(minor ?? 0) + 1}.0` : `${major}.${minor}.${(patch ?? 0) + 1}`
    }
    expect(after.core).toBe(bump(before.core, "minor"))
    for (const name of packages.filter((name) => manifest(copy, name).dependencies?.["@reword/core"] !== undefined)) {
      expect(after[name], name).toBe(bump(before[name], "patch"))
    }
    expect(readFileSync(join(copy, "packages", "core", "CHANGELOG.md"), "utf8")).toContain("A new feature.")
    expect(readdirSync(join(copy, ".changeset"))).toEqual(["config.json"])

    pnpm(["install", "--offline", "--ignore-scripts"], copy)
    pnpm(["pack", "--pack-destination", copy], join(copy, "packages", "cli"))
    const tarball = readdirSync(copy).find((file) => file.endsWith(".tgz")) ?? ""
    expect(tarball).toBe(`reword-cli-${after.cli}.tgz`)
    const packed = JSON.parse(
      execFileSync("tar", ["-xzOf", join(copy, tarball), "package/package.json"], { encoding: "utf8" })
    ) as { dependencies: Record<string, string> }
    expect(packed.dependencies["@reword/core"]).toBe(`^${after.core}`)
    expect(packed.dependencies["@reword/outbox"]).toBe(`^${after.outbox}`)
  }, 60_000)
})
