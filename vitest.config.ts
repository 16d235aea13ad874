import { defineConfig } from "vitest/config"

// Tests run against `src` through the `@reword/source` export condition: no build needed.
const conditions = ["@reword/source"]
const resolution = { resolve: { conditions }, ssr: { resolve: { conditions } } }
const packages = ["core", "bitrix24", "acquire", "cli", "outbox"]

export default defineConfig({
  ...resolution,
  test: {
    projects: [
      ...packages.map((name) => ({
        ...resolution,
        test: { name: `@reword/${name}`, root: `packages/${name}`, include: ["test/**/*.test.ts"], testTimeout: 30_000 }
      })),
      { ...resolution, test: { name: "workspace", include: ["test/**/*.test.ts"], testTimeout: 30_000 } }
    ]
  }
})
