/**
 * The sandboxes from the command line: `reword update --sandbox` rehearses an
 * edit end to end on an emulator it starts (and never touches the configured
 * provider), and `reword sandbox` runs emulators in the foreground until
 * SIGINT or SIGTERM, printing the environment that points reword at them.
 */
import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { createServer } from "node:net"
import { describe, expect, it } from "vitest"
import { jsonOf, reword, spawnReword } from "./support/cli.ts"

/** The first line a process prints on stdout. */
const firstLine = (child: ChildProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    let buffered = ""
    let stderr = ""
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk
      const end = buffered.indexOf("\n")
      if (end >= 0) resolve(buffered.slice(0, end))
    })
    child.on("close", (code) => reject(new Error(`exited with ${code} before printing a line\n${stderr}`)))
  })

/** Waits for a process to end, answering its exit code and stderr. */
const ended = async (child: ChildProcess): Promise<{ readonly code: number | null; readonly stderr: string }> => {
  let stderr = ""
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const [code] = (await once(child, "close")) as [number | null]
  return { code, stderr }
}

interface Described {
  readonly provider: string
  readonly url: string
  readonly env: Record<string, string>
  readonly seeded: ReadonlyArray<{ readonly text: string; readonly ids: Record<string, string | number> }>
}

/** A real-looking configuration that must never be used by a rehearsal. */
const realLooking = {
  REWORD_PROVIDER: "acquire",
  ACQUIRE_ACCOUNT_ID: "acme",
  ACQUIRE_API_KEY: "acq_live_this_must_never_be_used_or_printed",
  ACQUIRE_BASE_URL: "http://127.0.0.1:9/api/v1",
  ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
}

describe("reword update --sandbox", () => {
  it("rehearses on the Acquire emulator: seeded at the ids, edited, before and after printed", async () => {
    const run = await reword(["update", "--sandbox", "--provider-message-id", "8291", "--text", "Meet at 10."], {
      env: realLooking
    })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split("\n")
    expect(lines[0]).toMatch(
      /^sandbox: rehearsing on a local acquire emulator at http:\/\/127\.0\.0\.1:\d+; nothing leaves this machine$/
    )
    expect(lines.slice(1)).toEqual([
      'sandbox: before: "(sandbox) the message as it was first sent" (1 version)',
      'Updated acquire message 8291: "Meet at 10."',
      'sandbox: after: "Meet at 10." (2 versions)'
    ])
    expect(run.stdout).not.toContain(realLooking.ACQUIRE_API_KEY)
  })

  it("--json adds what the emulator stored to the usual object", async () => {
    const run = await reword(
      ["update", "--sandbox", "--json", "--provider", "acquire", "--provider-message-id", "77", "--text", "Fixed"],
      { env: {} }
    )
    expect(run.code).toBe(0)
    const json = jsonOf(run.stdout)
    expect(json).toMatchObject({
      provider: "acquire",
      ids: { providerMessageId: 77 },
      text: "Fixed",
      sandbox: {
        provider: "acquire",
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        ids: { providerMessageId: 77 },
        before: { text: "(sandbox) the message as it was first sent" },
        after: { text: "Fixed", history: ["(sandbox) the message as it was first sent", "Fixed"] }
      }
    })
  })

  it("rehearses failures too, with the real run's exit codes", async () => {
    const invalid = await reword([
      "update",
      "--sandbox",
      "--json",
      "--provider",
      "acquire",
      "--provider-message-id",
      "5"
    ])
    expect(invalid.code).toBe(2)
    expect(jsonOf(invalid.stdout)).toMatchObject({
      error: { reason: "InvalidRequest" },
      sandbox: { before: { text: "(sandbox) the message as it was first sent" } }
    })

    const unsupported = await reword([
      "update",
      "--sandbox",
      "--provider",
      "acquire",
      "--provider-message-id",
      "5",
      "--file",
      "https://cdn.example.com/a.pdf"
    ])
    expect(unsupported.code).toBe(2)
    expect(unsupported.stdout).toContain('sandbox: after: "(sandbox) the message as it was first sent" (1 version)')
  })

  it("--sandbox with --from seeds and edits every line", async () => {
    const lines = [
      JSON.stringify({ ids: { providerMessageId: 10 }, text: "ten" }),
      "nope",
      JSON.stringify({ ids: { providerMessageId: 11 }, text: "eleven" })
    ]
    const run = await reword(["update", "--sandbox", "--provider", "acquire", "--from", "-", "--json"], {
      stdin: `${lines.join("\n")}\n`
    })
    expect(run.code).toBe(2)
    const results = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(results).toMatchObject([
      { line: 1, text: "ten", sandbox: { after: { text: "ten" } } },
      { line: 2, error: { reason: "InvalidRequest" } },
      { line: 3, text: "eleven", sandbox: { after: { text: "eleven" } } }
    ])
  })

  it("rehearses on the Bitrix24 emulator, files included", async () => {
    const run = await reword(
      [
        "update",
        "--sandbox",
        "--json",
        "--provider",
        "bitrix24",
        "--external-message-id",
        "wa-881",
        "--external-chat-id",
        "wa-chat-7",
        "--external-author-id",
        "wa-user-3",
        "--text",
        "Sorry, Tuesday.",
        "--file",
        "https://cdn.example.com/f/81#menu.pdf"
      ],
      { env: { BITRIX24_ACCESS_TOKEN: "live-token-never-used", BITRIX24_PORTAL_URL: "https://acme.bitrix24.com" } }
    )
    expect(run.code).toBe(0)
    expect(jsonOf(run.stdout)).toMatchObject({
      provider: "bitrix24",
      ids: { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" },
      text: "Sorry, Tuesday.",
      files: [{ url: "https://cdn.example.com/f/81", name: "menu.pdf" }],
      sandbox: {
        provider: "bitrix24",
        before: { text: "(sandbox) the message as it was first sent" },
        after: { text: "Sorry, Tuesday." }
      }
    })
    expect(run.stdout + run.stderr).not.toContain("live-token-never-used")
  })

  it("needs a provider that has a sandbox", async () => {
    const none = await reword(["update", "--sandbox", "--provider-message-id", "1", "--text", "x"])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("--sandbox needs a provider")
  })
})

describe("reword sandbox", () => {
  it("runs the Acquire emulator until SIGTERM; reword update works against its environment", async () => {
    const child = spawnReword(["sandbox", "acquire", "--json", "--seed", "Meet at 11."])
    const done = ended(child)
    try {
      const described = JSON.parse(await firstLine(child)) as { readonly sandboxes: ReadonlyArray<Described> }
      expect(described.sandboxes).toHaveLength(1)
      const [sandbox] = described.sandboxes
      expect(sandbox?.provider).toBe("acquire")
      expect(sandbox?.env.REWORD_PROVIDER).toBe("acquire")
      expect(sandbox?.env.ACQUIRE_BASE_URL).toBe(`${sandbox?.url}/api/v1`)
      const seeded = sandbox?.seeded[0]
      expect(seeded?.text).toBe("Meet at 11.")
      const update = await reword(
        ["update", "--json", "--provider-message-id", String(seeded?.ids.providerMessageId), "--text", "Meet at 10."],
        { env: sandbox?.env }
      )
      expect(update.code).toBe(0)
      expect(jsonOf(update.stdout)).toMatchObject({ text: "Meet at 10." })
    } finally {
      child.kill("SIGTERM")
    }
    const { code, stderr } = await done
    expect(code).toBe(130)
    expect(stderr).toContain("stopped the acquire sandbox")
  })

  it("runs every emulator by default; each one's environment works", async () => {
    const child = spawnReword(["sandbox", "--json", "--seed", "Hello"])
    const done = ended(child)
    try {
      const { sandboxes } = JSON.parse(await firstLine(child)) as { readonly sandboxes: ReadonlyArray<Described> }
      expect(sandboxes.map((sandbox) => sandbox.provider)).toEqual(["bitrix24", "acquire", "telegram"])
      const runs = await Promise.all(
        sandboxes.map((sandbox) => {
          const ids = sandbox.seeded[0]?.ids ?? {}
          const flags = Object.entries(ids).flatMap(([key, value]) => [
            `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`,
            String(value)
          ])
          return reword(["update", "--json", ...flags, "--text", `Hello from ${sandbox.provider}`], {
            env: sandbox.env
          })
        })
      )
      expect(runs.map((run) => run.code)).toEqual([0, 0, 0])
      expect(runs.map((run) => jsonOf(run.stdout).text)).toEqual([
        "Hello from bitrix24",
        "Hello from acquire",
        "Hello from telegram"
      ])
    } finally {
      child.kill("SIGINT")
    }
    const { code, stderr } = await done
    expect(code).toBe(130)
    expect(stderr).toContain("stopped the bitrix24 sandbox")
    expect(stderr).toContain("stopped the acquire sandbox")
    expect(stderr).toContain("stopped the telegram sandbox")
  })

  it("prints the URL and the export lines, and stops on SIGINT", async () => {
    const child = spawnReword(["sandbox", "acquire", "--seed", "It's 11."])
    const done = ended(child)
    let stdout = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stdout.includes("Press Ctrl-C to stop.")) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
      child.on("close", () => reject(new Error("ended early")))
    })
    child.kill("SIGINT")
    const { code, stderr } = await done
    expect(code).toBe(130)
    expect(stderr).toContain("stopped the acquire sandbox")
    expect(stdout).toMatch(/^acquire sandbox listening at http:\/\/127\.0\.0\.1:\d+ \(a local emulator/)
    for (const name of [
      "REWORD_PROVIDER=acquire",
      "ACQUIRE_ACCOUNT_ID=",
      "ACQUIRE_API_KEY=acq_sandbox_",
      "ACQUIRE_BASE_URL=http://127.0.0.1:",
      "ACQUIRE_ALLOW_INSECURE_LOOPBACK=true"
    ]) {
      expect(stdout).toContain(`  export ${name}`)
    }
    expect(stdout).toMatch(
      /reword update --provider acquire --provider-message-id \d+ .* --text 'It'\\''s 11\. \(edited\)'/
    )
  })

  it("a port that is taken is bad input (exit 2)", async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const address = blocker.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    try {
      const run = await reword(["sandbox", "acquire", "--port", String(port)])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("error: Could not start the acquire sandbox")
    } finally {
      blocker.close()
    }
  })
})
