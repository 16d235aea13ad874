import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

// Tests run against `src` through the `@reword/source` export condition: no build needed.
const conditions = ["@reword/source"]
const resolution = { resolve: { conditions }, ssr: { resolve: { conditions } } }
const packages = ["core", "bitrix24", "acquire", "telegram", "cli", "outbox", "postgres", "tenants", "relay"]
// A test's own waits are bounded; this bounds the whole test, generously: a test of a few seconds on an idle
// machine takes ten times as long on a loaded 2-core one (several test runs, a CPU-burning process beside them).
const testTimeout = 120_000
// The same for hooks (a sandbox or a database started before a file's tests); PGlite's start is given 180 s where
// a file starts it (about 3 s on an idle machine, over 60 s with a CPU burner and other test runs beside it).
const hookTimeout = 120_000
/** Property tests replay a fixed seed unless `pnpm test:explore` asks for new ones (see the file). */
const setupFiles = ["fast-check-seed", "compile-cache", "nock-at-rest"].map((name) =>
  fileURLToPath(new URL(`./test/setup/${name}.ts`, import.meta.url))
)

/**
 * Slow tests run in real time for more than about 5 s each, or start processes of their own (the `reword`
 * command, `pnpm demo`, workers killed with SIGKILL), or need a PostgreSQL server or a browser. `pnpm test` (every project but `slow`) leaves
 * them out, so that it stays under 3 minutes on a 2-core machine; `pnpm test:slow` (the `slow` project) runs
 * exactly them; CI runs both. A slow test is a file named `*.slow.test.ts`. The few files listed here were
 * slow before that rule, keep their name, and are slow all the same.
 */
const slowByName = "**/*.slow.test.ts"
export const slowListed = [
  // 300 updates against a portal enforcing Bitrix24's real default limit (2/s after a burst of 50),
  // unscaled on purpose: at least (300 - 50) / 2 = 125 s. The scaled limits run in edit-over-http.test.ts.
  "packages/bitrix24/test/burst.test.ts"
]

/**
 * Files that mock a module (`vi.mock`) run each in a fresh worker, in the `isolated` project: with workers
 * shared between files, a module an earlier file loaded stays unmocked. (nock, which intercepts every request
 * of its process once loaded, is put at rest before each file: test/setup/nock-at-rest.ts.)
 * test/isolation.test.ts checks both.
 */
export const isolatedFiles = ["packages/bitrix24/test/token-store.test.ts"]

/**
 * The files that test on every database, the PostgreSQL server among them when `REWORD_TEST_POSTGRES_URL`
 * names one (CI). `pnpm test` runs them on the embedded ones only (SQLite, PGlite: the server's variants are
 * left out, `REWORD_TEST_POSTGRES_URL` blanked); `pnpm test:slow` runs them again with the server
 * (the `slow-server` project). test/server-variants.test.ts checks that every such file is listed.
 */
export const serverVariants = [
  "packages/outbox/test/bad-database.test.ts",
  "packages/outbox/test/capabilities.test.ts",
  "packages/outbox/test/contract.test.ts",
  "packages/outbox/test/due-on-database-clock.test.ts",
  "packages/outbox/test/journal-series.test.ts",
  "packages/outbox/test/keep-text-false.test.ts",
  "packages/outbox/test/migration.test.ts",
  "packages/outbox/test/one-submit-judged-alone.test.ts",
  "packages/outbox/test/readme-examples.test.ts",
  "packages/outbox/test/submit-many.test.ts",
  "packages/outbox/test/tenants.test.ts",
  "packages/postgres/test/limiter.test.ts",
  "packages/postgres/test/rate-limiter.test.ts",
  "packages/postgres/test/readme-examples.test.ts",
  "packages/postgres/test/token-store.test.ts",
  "packages/tenants/test/refresh-lock.test.ts",
  "packages/relay/test/inbox.test.ts",
  "packages/tenants/test/registry.test.ts"
]

/** What `pnpm test` sets: no PostgreSQL server (its variants run in `pnpm test:slow`). */
const embeddedOnly = { REWORD_TEST_POSTGRES_URL: "" }

/** The files of one package that run in another project (slow, isolated), relative to its root. */
const elsewhereUnder = (root: string) => [
  slowByName,
  ...[...slowListed, ...isolatedFiles].filter((file) => file.startsWith(root)).map((file) => file.slice(root.length))
]

export default defineConfig({
  ...resolution,
  test: {
    // A green run prints nothing but the results: what passing tests log (warnings they provoke on purpose)
    // is shown only for the tests that fail, where it helps.
    silent: "passed-only",
    // A worker runs many files, each on the modules the earlier ones loaded (effect's, PGlite's): `pnpm test`
    // took 225 s on a quiet 2-core machine with a fresh worker per file (425 s of CPU, a quarter of it loading
    // modules again), 121 s without. A file that changes what a later file would see (the environment) puts
    // it back; nock is put at rest before each file, and a file that mocks a module gets a fresh worker.
    isolate: false,
    // At least four test files at a time: vitest's default (one fewer than the cores) is a single worker on
    // a 2-core machine, where much of a file's time waits on sockets, sandboxes and timers. Two workers kept
    // about 1.1 cores busy (319 s for `pnpm test`, 293 s of it in the files); four took 241 s on the same
    // machine, with another session's tests beside them. `pnpm test:slow` runs one file at a time.
    maxWorkers: Math.max(4, availableParallelism()),
    projects: [
      ...packages.map((name) => ({
        ...resolution,
        test: {
          name: `@reword/${name}`,
          root: `packages/${name}`,
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...elsewhereUnder(`packages/${name}/`)],
          env: embeddedOnly,
          setupFiles,
          testTimeout,
          hookTimeout
        }
      })),
      {
        ...resolution,
        test: {
          name: "workspace",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...elsewhereUnder("")],
          env: embeddedOnly,
          setupFiles,
          testTimeout,
          hookTimeout
        }
      },
      {
        ...resolution,
        test: {
          name: "isolated",
          include: isolatedFiles,
          exclude: [...configDefaults.exclude],
          isolate: true,
          env: embeddedOnly,
          setupFiles,
          testTimeout,
          hookTimeout
        }
      },
      {
        ...resolution,
        test: {
          // The files above that test on every database, again, with the PostgreSQL server (and the rest).
          name: "slow-server",
          include: serverVariants,
          exclude: [...configDefaults.exclude],
          isolate: true,
          setupFiles,
          testTimeout,
          hookTimeout
        }
      },
      {
        ...resolution,
        test: {
          name: "slow",
          // Files of real time and processes: a fresh worker each costs little beside them.
          isolate: true,
          include: [
            ...packages.map((name) => `packages/${name}/test/${slowByName}`),
            `test/${slowByName}`,
            ...slowListed
          ],
          exclude: [...configDefaults.exclude],
          setupFiles,
          testTimeout,
          hookTimeout
        }
      }
    ]
  }
})
