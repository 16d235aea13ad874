/**
 * A sandbox's settings written to a config file, as a new user does: its
 * `settings` hold `Redacted` secrets, which a file receives as
 * `"<redacted>"`; read back, that text is refused as a credential wherever
 * settings are read (the environment, a settings object, settings in code),
 * with a configuration error that says why, before anything is sent. The
 * sandbox's `plainSettings()` is what to write instead: its fake credentials
 * as they are, read back, edit a message on the sandbox.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Provider } from "@reword/core"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const providers = [Bitrix24.provider, Acquire.provider]
let acquire: AcquireSandbox.Sandbox
let bitrix24: Bitrix24Sandbox.Sandbox
let directory: string

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-settings-file-"))
  ;[acquire, bitrix24] = await Promise.all([AcquireSandbox.start(), Bitrix24Sandbox.start()])
})

afterAll(async () => {
  await Promise.all([acquire?.stop(), bitrix24?.stop()])
  rmSync(directory, { recursive: true, force: true })
})

/** Writes settings to a JSON file and reads them back, as an app's config file. */
const throughFile = (name: string, settings: unknown): Provider.SettingsObject => {
  const path = join(directory, name)
  writeFileSync(path, JSON.stringify(settings, null, 2))
  return JSON.parse(readFileSync(path, "utf8")) as Provider.SettingsObject
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error
  )

describe("a sandbox's Redacted settings written to a file", () => {
  it('hold "<redacted>", refused as a credential with a ConfigurationError that says why (Acquire)', async () => {
    const settings = throughFile("acquire.json", { provider: "acquire", acquire: acquire.settings })
    expect((settings.acquire as Record<string, unknown>).apiKey).toBe("<redacted>")
    const error = await rejection(createEditor({ providers, settings }))
    expect(error).toBeInstanceOf(ConfigurationError)
    const message = (error as Error).message
    expect(message).toContain('ACQUIRE_API_KEY (acquire.apiKey in the settings object) is "<redacted>"')
    expect(message).toContain("how a hidden secret prints")
    expect(message).toContain("sandbox.plainSettings()")
    expect(acquire.server.requests.length).toBe(0)
  })

  it('hold "<redacted>" for each Bitrix24 secret: the first is named', async () => {
    const settings = throughFile("bitrix24.json", { provider: "bitrix24", bitrix24: bitrix24.settings })
    const error = await rejection(createEditor({ providers, settings }))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain(
      'BITRIX24_ACCESS_TOKEN (bitrix24.accessToken in the settings object) is "<redacted>"'
    )
  })

  it("are refused from the environment too, and Effect's labelled rendering with them", async () => {
    const env = { ...acquire.env, ACQUIRE_API_KEY: "<redacted:ACQUIRE_API_KEY>" }
    const error = await rejection(createEditor({ providers, env }))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('ACQUIRE_API_KEY is "<redacted>"')
  })

  it('are refused in code: an adapter\'s make with a Redacted "<redacted>"', async () => {
    const made = Acquire.make({ ...acquire.settings, apiKey: Redacted.make("<redacted>") }).pipe(
      Effect.scoped,
      Effect.flip,
      Effect.runPromise
    )
    const error = await made
    expect(error._tag).toBe("ConfigError")
    expect(error.message).toContain('the setting apiKey is "<redacted>"')
    expect(Provider.isRedactedRendering(" <Redacted> ")).toBe(true)
    expect(Provider.isRedactedRendering("redacted-but-real-key")).toBe(false)
  })
})

describe("sandbox.plainSettings()", () => {
  it("writes Acquire's fake credentials as they are: read back, they edit a message on the sandbox", async () => {
    const settings = throughFile("acquire-plain.json", acquire.plainSettings())
    expect(settings).toEqual({
      provider: "acquire",
      acquire: {
        accountId: acquire.accountId,
        apiKey: acquire.apiKey,
        baseUrl: acquire.baseUrl,
        allowInsecureLoopback: "true"
      }
    })
    const ids = await acquire.seedMessage("Meet at 11.")
    const editor = await createEditor({ providers, settings })
    try {
      const edited = await editor.update({ ids, text: "Meet at 10." })
      expect(edited.text).toBe("Meet at 10.")
      expect(acquire.inspect(ids)?.text).toBe("Meet at 10.")
    } finally {
      await editor.dispose()
    }
  })

  it("writes Bitrix24's too: read back, they edit a message on the sandbox", async () => {
    const settings = throughFile("bitrix24-plain.json", bitrix24.plainSettings())
    const plain = settings.bitrix24 as Record<string, string>
    expect(plain.accessToken).toBe(bitrix24.accessToken)
    expect(plain.clientSecret).toBe(bitrix24.clientSecret)
    expect(Object.values(plain).every((value) => typeof value === "string")).toBe(true)
    const ids = await bitrix24.seedMessage("Meet at 11.")
    const editor = await createEditor({ providers, settings })
    try {
      await editor.update({ ids, text: "Meet at 10." })
      expect(bitrix24.inspect(ids)?.text).toBe("Meet at 10.")
    } finally {
      await editor.dispose()
    }
  })
})
