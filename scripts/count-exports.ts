/**
 * `node --conditions=@reword/source scripts/count-exports.ts`: the runtime names each entry point of each
 * package exports, as an app importing it sees them. A namespace export (`export * as Outbox`) counts its
 * members, since each is a name an app can reach; a plain export counts one. Types are not counted (they
 * have no runtime name). Prints one line per entry point, `@reword/core 57`, then the total.
 *
 * `test/public-surface.test.ts` runs it and pins the limits of issue #19.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

const root = new URL("..", import.meta.url).pathname

/** One entry point of a package: its public specifier and the source file it resolves to. */
export interface EntryPoint {
  readonly specifier: string
  readonly source: string
}

interface Manifest {
  readonly name: string
  readonly exports?: Readonly<Record<string, unknown>>
}

const sourceOf = (target: unknown): string | undefined => {
  if (typeof target !== "object" || target === null) return undefined
  const source = (target as Record<string, unknown>)["@reword/source"]
  return typeof source === "string" ? source : undefined
}

/** Every entry point of every package under `packages/`, from its `exports` map (`@reword/source` condition). */
export const entryPoints = (): ReadonlyArray<EntryPoint> =>
  readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const directory = join(root, "packages", entry.name)
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as Manifest
      return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => {
        const source = sourceOf(target)
        if (source === undefined) return []
        const specifier = subpath === "." ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, "")}`
        return [{ specifier, source: join(directory, source) }]
      })
    })
    .sort((a, b) => a.specifier.localeCompare(b.specifier))

const isNamespace = (value: unknown): value is Record<string, unknown> =>
  Object.prototype.toString.call(value) === "[object Module]"

/** The runtime names of a loaded module: a namespace export counts its members, anything else one. */
export const countNames = (module: Record<string, unknown>): number =>
  Object.values(module).reduce<number>((sum, value) => sum + (isNamespace(value) ? Object.keys(value).length : 1), 0)

/** The runtime names of every entry point, by specifier. */
export const countAll = async (): Promise<ReadonlyArray<{ readonly specifier: string; readonly names: number }>> => {
  const counts: Array<{ readonly specifier: string; readonly names: number }> = []
  for (const entry of entryPoints()) {
    const module = (await import(pathToFileURL(entry.source).href)) as Record<string, unknown>
    counts.push({ specifier: entry.specifier, names: countNames(module) })
  }
  return counts
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const counts = await countAll()
  for (const { specifier, names } of counts) console.log(`${specifier} ${names}`)
  console.log(`total ${counts.reduce((sum, { names }) => sum + names, 0)}`)
}
