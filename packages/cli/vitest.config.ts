import { defineProject } from "vitest/config"

const conditions = ["@reword/source"]

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
