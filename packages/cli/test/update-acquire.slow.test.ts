/**
 * `reword update` as a process against a real Acquire sandbox: a successful
 * edit (read back from the sandbox), the `--json` shapes, bad input (exit 2,
 * nothing sent), provider failures (exit 3), configuration from the
 * environment and from flags, and no secret in any output.
 */
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"

const { Faults } = AcquireSandbox

let sandbox: AcquireSandbox.Sandbox

beforeAll(async () => {
  sandbox = await AcquireSandbox.start()
})

afterAll(async () => {
  await sandbox.stop()
})

afterEach(() => {
  sandbox.server.clearFaults()
})

/** Every output of a run, for secret checks. */
const everything = (run: { readonly stdout: string; readonly stderr: string }) => `${run.stdout}\n${run.stderr}`

describe("reword update on Acquire", () => {
  it("edits the message: the sandbox stores the new text", async () => {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const run = await reword(
      ["update", "--provider-message-id", String(ids.providerMessageId), "--text", "Meet at 10."],
      {
        env: sandbox.env
      }
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout.trim()).toBe(`Updated acquire message ${ids.providerMessageId}: "Meet at 10."`)
    expect(sandbox.inspect(ids)).toEqual({ text: "Meet at 10.", history: ["Meet at 11.", "Meet at 10."] })
  })

  it("--json prints the edited message as one JSON object and nothing else", async () => {
    const ids = await sandbox.seedMessage("Hello")
    const run = await reword(
      ["update", "--json", "--provider-message-id", String(ids.providerMessageId), "--text", 'Hello, "world"\nagain'],
      { env: sandbox.env }
    )
    expect(run.code).toBe(0)
    const json = jsonOf(run.stdout)
    expect(Object.keys(json).sort()).toEqual(["files", "ids", "provider", "text", "updatedAt"])
    expect(json).toMatchObject({
      provider: "acquire",
      ids: { providerMessageId: ids.providerMessageId },
      text: 'Hello, "world"\nagain',
      files: []
    })
    expect(new Date(String(json.updatedAt)).toISOString()).toBe(json.updatedAt)
    expect(sandbox.inspect(ids)?.text).toBe('Hello, "world"\nagain')
  })

  it("--provider picks the provider over REWORD_PROVIDER", async () => {
    const ids = await sandbox.seedMessage("Before")
    const run = await reword(
      ["update", "--provider", "acquire", "--provider-message-id", String(ids.providerMessageId), "--text", "After"],
      { env: { ...sandbox.env, REWORD_PROVIDER: "bitrix24" } }
    )
    expect(run.code).toBe(0)
    expect(sandbox.inspect(ids)?.text).toBe("After")
  })
})

describe("bad input: exit 2, a clear message, nothing sent", () => {
  const expectNothingSent = async (args: ReadonlyArray<string>, env: Record<string, string> = sandbox.env) => {
    const before = sandbox.server.requests.length
    const run = await reword(["update", ...args], { env })
    expect(sandbox.server.requests.length).toBe(before)
    expect(run.code).toBe(2)
    return run
  }

  it("a request without text nor files", async () => {
    const run = await expectNothingSent(["--provider-message-id", "8288"])
    expect(run.stdout).toBe("")
    expect(run.stderr).toContain("error: acquire.update: Invalid request: text: text or files are required")
    expect(run.stderr).toContain("hint: fix the request and run the command again; nothing was sent")
  })

  it("a request without the id the provider needs, or with an id that cannot be Acquire's", async () => {
    const missing = await expectNothingSent(["--external-message-id", "m-1", "--text", "Hi"])
    expect(missing.stderr).toContain("ids.providerMessageId: is required by this provider")
    const wrong = await expectNothingSent(["--provider-message-id", "12/../../admin", "--text", "Hi"])
    expect(wrong.stderr).toContain("must be Acquire's own message id")
  })

  it("a file URL that is not http(s), as JSON", async () => {
    const run = await expectNothingSent(["--json", "--provider-message-id", "1", "--file", "ftp://files.example/a.pdf"])
    expect(jsonOf(run.stdout)).toEqual({
      error: {
        provider: "acquire",
        operation: "update",
        reason: "InvalidRequest",
        message: "acquire.update: Invalid request: files.0.url: must be an absolute http(s) URL",
        retryable: false,
        problems: [{ path: "files.0.url", message: "must be an absolute http(s) URL" }]
      }
    })
  })

  it("command-line usage: an unknown flag, a missing value, --from with request flags", async () => {
    const unknown = await expectNothingSent(["--provider-message-id", "1", "--text", "x", "--txet", "y"])
    expect(unknown.stdout).toBe("")
    expect(unknown.stderr).toContain("error: Unrecognized flag: --txet")
    expect(unknown.stderr).toContain("hint: run `reword update --help` to see every option")

    const missingValue = await expectNothingSent(["--provider-message-id", "1", "--text"])
    expect(missingValue.stderr).toContain("error: Missing value for flag --text")

    const mixed = await expectNothingSent(["--from", "fixes.jsonl", "--text", "x", "--json"])
    expect(jsonOf(mixed.stdout)).toMatchObject({ error: { reason: "Usage", retryable: false } })
    expect(mixed.stderr).toContain("--from cannot be combined with --text")
  })

  it("a usage error with --json is one JSON error on stdout", async () => {
    const run = await expectNothingSent(["--json", "--provider", "nope", "--text", "x"])
    expect(jsonOf(run.stdout)).toMatchObject({
      error: { provider: null, operation: "update", reason: "Usage", retryable: false }
    })
    expect(String((jsonOf(run.stdout).error as { message: string }).message)).toContain('"nope"')
  })

  it("configuration: a missing setting is named, an unknown provider lists the known ones", async () => {
    const { ACQUIRE_API_KEY: _key, ...withoutKey } = sandbox.env
    const missing = await expectNothingSent(["--provider-message-id", "1", "--text", "x", "--json"], withoutKey)
    expect(jsonOf(missing.stdout)).toEqual({
      error: {
        provider: "acquire",
        operation: "update",
        reason: "Configuration",
        message: expect.stringContaining("ACQUIRE_API_KEY"),
        retryable: false
      }
    })
    expect(missing.stderr).toContain("hint: set the missing or wrong settings")

    const unknown = await expectNothingSent(["--provider-message-id", "1", "--text", "x"], {
      ...sandbox.env,
      REWORD_PROVIDER: "zendesk"
    })
    expect(unknown.stderr).toContain(
      'Unknown provider "zendesk" in REWORD_PROVIDER: the known providers are bitrix24, acquire'
    )

    const none = await expectNothingSent(["--provider-message-id", "1", "--text", "x"], {})
    expect(none.stderr).toContain("Missing setting REWORD_PROVIDER")
  })
})

describe("provider failures: exit 3", () => {
  it("an id Acquire does not have is NotFound", async () => {
    const run = await reword(["update", "--provider-message-id", "987654321", "--text", "x"], { env: sandbox.env })
    expect(run.code).toBe(3)
    expect(run.stdout).toBe("")
    expect(run.stderr).toContain("error: acquire.update: Not found")
    expect(run.stderr).toContain("hint: check the message's ids")
  })

  it("a refused key is Unauthorized, with the re-authentication hint, as JSON too", async () => {
    const ids = await sandbox.seedMessage("Unchanged")
    sandbox.server.inject({ fault: Faults.status(401, { error: "ERROR_UNAUTHORIZED" }), times: 10 })
    const run = await reword(
      ["update", "--json", "--provider-message-id", String(ids.providerMessageId), "--text", "x"],
      {
        env: sandbox.env
      }
    )
    expect(run.code).toBe(3)
    expect(jsonOf(run.stdout)).toMatchObject({
      error: { provider: "acquire", operation: "update", reason: "Unauthorized", retryable: false, status: 401 }
    })
    expect(run.stderr).toContain("hint: re-authenticate")
    expect(run.stderr).toContain("ACQUIRE_API_KEY")
    expect(sandbox.inspect(ids)?.text).toBe("Unchanged")
  })

  it("a key without permission is Forbidden (Acquire's own 403)", async () => {
    const ids = await sandbox.seedMessage("Unchanged")
    const run = await reword(["update", "--provider-message-id", String(ids.providerMessageId), "--text", "x"], {
      env: { ...sandbox.env, ACQUIRE_API_KEY: sandbox.readOnlyKey }
    })
    expect(run.code).toBe(3)
    expect(run.stderr).toContain("Forbidden")
    expect(everything(run)).not.toContain(sandbox.readOnlyKey)
  })

  it("a provider that does not support files is Unsupported: bad input, exit 2, nothing sent", async () => {
    const before = sandbox.server.requests.length
    const run = await reword(
      ["update", "--provider-message-id", "1", "--file", "https://cdn.example.com/a.pdf#a.pdf"],
      {
        env: sandbox.env
      }
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("Unsupported (files)")
    expect(sandbox.server.requests.length).toBe(before)
  })
})

describe("settings from flags, and secrets", () => {
  const flagsOf = (env: AcquireSandbox.Environment, apiKey: string) => [
    "--provider",
    "acquire",
    "--acquire-account-id",
    env.ACQUIRE_ACCOUNT_ID,
    "--acquire-api-key",
    apiKey,
    "--acquire-base-url",
    env.ACQUIRE_BASE_URL,
    "--acquire-allow-insecure-loopback",
    "true"
  ]

  it("every setting can be a flag, and a flag wins over its variable", async () => {
    const ids = await sandbox.seedMessage("From flags")
    const run = await reword(
      [
        "update",
        ...flagsOf(sandbox.env, sandbox.apiKey),
        "--provider-message-id",
        String(ids.providerMessageId),
        "--text",
        "Edited with flags"
      ],
      // The environment points elsewhere: the flags must win.
      {
        env: {
          REWORD_PROVIDER: "bitrix24",
          ACQUIRE_API_KEY: "acq_wrong_key_0000",
          ACQUIRE_BASE_URL: "https://x.invalid"
        }
      }
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(sandbox.inspect(ids)?.text).toBe("Edited with flags")
    expect(everything(run)).not.toContain(sandbox.apiKey)
  })

  it("no output holds the key, from the environment or a flag, even refused, even with debug logs", async () => {
    const ids = await sandbox.seedMessage("Secret test")
    const wrongKey = "acq_sandbox_this_key_was_revoked_1234"
    const runs = await Promise.all([
      reword(
        ["update", "--log-level", "debug", "--provider-message-id", String(ids.providerMessageId), "--text", "ok"],
        {
          env: sandbox.env
        }
      ),
      reword(
        [
          "update",
          "--json",
          "--log-level",
          "debug",
          ...flagsOf(sandbox.env, wrongKey),
          "--provider-message-id",
          String(ids.providerMessageId),
          "--text",
          "refused"
        ],
        { env: {} }
      ),
      // A key pasted into the wrong setting is not printed either.
      reword(["update", "--provider-message-id", "1", "--text", "x"], {
        env: { ...sandbox.env, ACQUIRE_ACCOUNT_ID: sandbox.apiKey }
      })
    ])
    expect(runs.map((run) => run.code)).toEqual([0, 3, 2])
    for (const run of runs) {
      expect(everything(run)).not.toContain(sandbox.apiKey)
      expect(everything(run)).not.toContain(wrongKey)
    }
    expect(jsonOf(runs[1]?.stdout ?? "")).toMatchObject({ error: { reason: "Unauthorized" } })
    expect(runs[2]?.stderr).toContain('"<redacted>" is not an account id')
  })

  it("a secret's value prints as <redacted> wherever it would appear, even in a message's own text", async () => {
    const ids = await sandbox.seedMessage("Oops")
    const run = await reword(
      ["update", "--json", "--provider-message-id", String(ids.providerMessageId), "--text", `key: ${sandbox.apiKey}`],
      { env: sandbox.env }
    )
    expect(run.code).toBe(0)
    expect(jsonOf(run.stdout)).toMatchObject({ text: "key: <redacted>" })
    expect(everything(run)).not.toContain(sandbox.apiKey)
  })
})
