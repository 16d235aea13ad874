import { mkdtemp, readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@reword/bitrix24"
import { Effect, Redacted } from "effect"
import { vi } from "vitest"

/** Every file-system step the store takes, in order. */
const steps: Array<string> = []

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>()
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const path = String(args[0])
      const handle = await real.open(...args)
      const sync = handle.sync.bind(handle)
      handle.sync = async () => {
        steps.push(`sync:${path}`)
        return sync()
      }
      return handle
    },
    rename: async (...args: Parameters<typeof real.rename>) => {
      steps.push(`rename:${String(args[0])}`)
      return real.rename(...args)
    }
  }
})

describe("TokenStore.makeFile durability", () => {
  it.live("flushes the new file to disk before renaming it over the old one, then flushes the directory", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "reword-b24-")))
      const path = join(dir, "tokens.json")
      steps.length = 0
      yield* TokenStore.makeFile(path).save({
        accessToken: Redacted.make("access-token-0002-dddd"),
        refreshToken: Redacted.make("refresh-token-0002-eeee")
      })
      const rename = steps.findIndex((step) => step.startsWith("rename:"))
      assert.isAtLeast(rename, 1)
      const temporary = steps[rename]?.slice("rename:".length) ?? ""
      assert.include(steps.slice(0, rename), `sync:${temporary}`)
      assert.include(steps.slice(rename), `sync:${dirname(path)}`)
      assert.include(yield* Effect.promise(() => readFile(path, "utf8")), "refresh-token-0002-eeee")
    })
  )
})
