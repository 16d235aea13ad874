/**
 * One statement of the Node versions. Working on reword: the Quick start runs on Node 20 and npm and
 * installs Node 24 (the `node` devDependency), on which scripts and tests run and against which pnpm
 * checks engines (`nodeVersion` in pnpm-workspace.yaml). Using a package: what its `engines` field says,
 * and its README says the same.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const at = (path: string) => new URL(`../${path}`, import.meta.url)
const read = (path: string) => readFileSync(at(path), "utf8")
const json = (path: string) => JSON.parse(read(path)) as Record<string, unknown>

const root = json("package.json") as { devDependencies: Record<string, string> }
const workspaceNode = /^nodeVersion: (\S+)$/m.exec(read("pnpm-workspace.yaml"))?.[1]
const packages = readdirSync(at("packages")).filter((name) => existsSync(at(`packages/${name}/package.json`)))
const enginesOf = (name: string) =>
  (json(`packages/${name}/package.json`).engines as { node?: string } | undefined)?.node

/** ">=22.13" -> [22, 13, 0] */
const minimum = (range: string): Array<number> => {
  const match = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range)
  if (match === null) throw new Error(`engines.node is not a ">=x.y.z" range: ${range}`)
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)]
}
const atLeast = (version: ReadonlyArray<number>, floor: ReadonlyArray<number>) => {
  for (const [index, part] of floor.entries()) {
    const have = version[index] ?? 0
    if (have !== part) return have > part
  }
  return true
}

describe("Node versions", () => {
  it("the workspace's Node is the `node` devDependency, and the tests run on it", () => {
    expect(workspaceNode).toBeDefined()
    expect(root.devDependencies.node).toBe(workspaceNode)
    expect(process.versions.node).toBe(workspaceNode)
  })

  it.each(packages)("@reword/%s: engines.node is a floor that the workspace's Node meets", (name) => {
    const range = enginesOf(name)
    expect(range, `packages/${name}/package.json has engines.node`).toBeDefined()
    expect(atLeast((workspaceNode ?? "").split(".").map(Number), minimum(range ?? ""))).toBe(true)
  })

  it.each(packages.filter((name) => existsSync(at(`packages/${name}/README.md`))))(
    "@reword/%s: its README states the same Node version as its engines field",
    (name) => {
      const stated = /Node (\d+(?:\.\d+)*)(?:\+| or later)/.exec(read(`packages/${name}/README.md`))?.[1]
      expect(stated, `packages/${name}/README.md says "Node <version> or later"`).toBeDefined()
      expect(`>=${stated}`).toBe(enginesOf(name))
    }
  )

  it("the root README states the Quick start's Node, the workspace's and each package's floor", () => {
    const readme = read("README.md")
    expect(readme).toContain("Node 20 or later and npm")
    expect(readme).toContain(`Node ${workspaceNode?.split(".").slice(0, 2).join(".")}`)
    for (const name of packages) expect(readme).toContain(`Node ${enginesOf(name)?.slice(2)} or later`)
  })
})
