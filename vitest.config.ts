import { defineConfig } from "vitest/config"

// Tests run against `src` through the `@reword/source` export condition: no build needed.
const conditions = ["@reword/source"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      "packages/*",
      {
        resolve: { conditions },
        ssr: { resolve: { conditions } },
        test: { name: "workspace", include: ["test/**/*.test.ts"], testTimeout: 30_000 }
      }
    ],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
