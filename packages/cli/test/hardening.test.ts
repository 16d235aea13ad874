/**
 * The command against hostile answers, in process (cheap: no child process):
 * provider text with terminal control sequences is escaped on stdout and
 * stderr, plain and `--json` alike (a property over random sequences); a
 * defect is one request's outcome and never another's, never a stack trace,
 * and `--json` stays one valid JSON line per request line; every secret the
 * run learns (a token file, a refresh) is scrubbed, in any encoding; and the
 * package depends on nothing it never uses.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { RewordCommand } from "@reword/cli"
import { Capabilities, EditError, EditedMessage, EditRequest, type MessageEditor } from "@reword/core"
import { ProviderKit, type Secrets } from "@reword/core/adapter"
import { Config, Console, Effect, Exit, Option, Redacted, Stream } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Output from "../src/internal/output.ts"
import { safe } from "../src/internal/terminal.ts"
import * as Tokens from "../src/internal/tokens.ts"

let directory: string
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "reword-cli-hardening-"))
})
afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** Pieces of hostile text: CSI, OSC 52 (clipboard), window titles, 8-bit CSI, C0 and C1 controls, bidi controls. */
const hostilePiece = fc.oneof(
  fc.constantFrom(
    "\u001b[2J",
    "\u001b[31m",
    "\u001b]52;c;cm0gLXJmIH4=\u0007",
    "\u001b]0;pwned\u001b\\",
    "\u009b31m",
    "\u009d0;title\u009c",
    "\r",
    "\n",
    "\u0000",
    "\u007f",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c"
  ),
  fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)),
  fc.string({ maxLength: 8 })
)
const hostileText = fc.array(hostilePiece, { minLength: 1, maxLength: 12 }).map((pieces) => pieces.join(""))

describe("provider text is escaped before it reaches the terminal", () => {
  it("no control or bidi character survives a line, and a JSON line parses back to the same text (property)", () => {
    const output = Output.make({ json: false })
    fc.assert(
      fc.property(hostileText, (text) => {
        const line = output.clean(`error: ${text}`)
        const json = output.clean(JSON.stringify({ text }))
        return !UNSAFE.test(line) && !line.includes("\n") && !UNSAFE.test(json) && JSON.parse(json).text === text
      }),
      { numRuns: 500 }
    )
  })

  it("ordinary text is left as it is, and escaping twice changes nothing more", () => {
    fc.assert(
      fc.property(hostileText, (text) => safe(safe(text)) === safe(text)),
      { numRuns: 200 }
    )
    expect(safe("Meet at 10, not 11. Ça va? 👋")).toBe("Meet at 10, not 11. Ça va? 👋")
    expect(safe("\u001b]52;c;aGk=\u0007")).toBe("\\u001b]52;c;aGk=\\u0007")
  })
})

// --- a provider whose answers are hostile: text with control sequences, and a defect for one request

const capabilities = new Capabilities.Capabilities({
  files: false,
  authorDetails: false,
  chatDetails: false,
  language: false,
  maxMessagesPerCall: 50,
  requiredIds: ["providerMessageId"]
})

const HOSTILE = "\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u009b31mbad\u202e"

/** An editor whose request 2 dies (a bug), request 3 fails with hostile text, and whose updateMany dies as a whole. */
const hostileEditor: MessageEditor.Service = {
  provider: "hostile",
  capabilities,
  update: (input) =>
    Effect.gen(function* () {
      const request = yield* Effect.orDie(EditRequest.decode(input))
      const id = request.ids.providerMessageId
      if (id === "2") return yield* Effect.die(new RangeError("Maximum call stack size exceeded"))
      if (id === "3") {
        return yield* new EditError.EditError({
          provider: "hostile",
          operation: "update",
          reason: new EditError.Rejected({ status: 400, description: `refused: ${HOSTILE}` })
        })
      }
      return new EditedMessage.EditedMessage({
        provider: "hostile",
        ids: request.ids,
        text: `${request.text ?? ""} ${HOSTILE}`,
        files: []
      })
    }),
  updateMany: () => Effect.die(new RangeError("Maximum call stack size exceeded")),
  updateStream: () => Stream.die(new Error("unused"))
}

const hostile = ProviderKit.describe({
  name: "hostile",
  settings: [],
  config: Config.succeed({}),
  make: () => Effect.succeed(hostileEditor)
})

interface Captured {
  readonly exit: Exit.Exit<void, RewordCommand.CommandFailed>
  readonly stdout: string
  readonly stderr: string
}

/** Runs the command in process, capturing what it prints. */
const runInProcess = async (args: ReadonlyArray<string>, options: RewordCommand.Options): Promise<Captured> => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const capture: Console.Console = Object.assign(Object.create(console), {
    log: (...parts: ReadonlyArray<unknown>) => stdout.push(parts.map(String).join(" ")),
    error: (...parts: ReadonlyArray<unknown>) => stderr.push(parts.map(String).join(" "))
  })
  const exit = await Effect.runPromiseExit(
    RewordCommand.runWith(args, options).pipe(
      Effect.provide(RewordCommand.layerNode),
      Effect.provideService(Console.Console, capture)
    )
  )
  return { exit, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
}

const exitCodeOf = (exit: Exit.Exit<void, RewordCommand.CommandFailed>): number =>
  Exit.isSuccess(exit) ? 0 : Option.match(Exit.findErrorOption(exit), { onNone: () => -1, onSome: (e) => e.exitCode })

describe("hostile answers through the command", () => {
  const options = { providers: [hostile], env: () => ({ REWORD_PROVIDER: "hostile" }) }

  it("--from --json: one valid JSON line per request line, a defect is its own line's Unexpected, exit 1", async () => {
    const path = join(directory, "hostile.jsonl")
    writeFileSync(
      path,
      [1, 2, 3, 4]
        .map((id) => JSON.stringify({ ids: { providerMessageId: String(id) }, text: `line ${id}` }))
        .join("\n")
    )
    const run = await runInProcess(["update", "--from", path, "--json"], options)
    expect(exitCodeOf(run.exit)).toBe(1)
    const lines = run.stdout.split("\n")
    expect(lines).toHaveLength(4)
    const results = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(results.map((result) => result.line)).toEqual([1, 2, 3, 4])
    expect(results[0]).toMatchObject({ text: `line 1 ${HOSTILE}` })
    expect(results[1]).toMatchObject({ error: { reason: "Unexpected", retryable: false } })
    expect(results[2]).toMatchObject({ error: { reason: "Rejected" } })
    expect(results[3]).toMatchObject({ text: `line 4 ${HOSTILE}` })
    for (const text of [run.stdout, run.stderr]) {
      expect(text).not.toMatch(UNSAFE)
      expect(text).not.toMatch(/\n\s+at /)
    }
    expect(run.stderr).toContain("1 unexpected")
  })

  it("plain output: the edited text and the error are escaped on stdout and stderr", async () => {
    const edited = await runInProcess(["update", "--provider-message-id", "1", "--text", "hi"], options)
    expect(exitCodeOf(edited.exit)).toBe(0)
    expect(edited.stdout).toContain("\\u001b]52;c;")
    const refused = await runInProcess(["update", "--provider-message-id", "3", "--text", "hi"], options)
    expect(exitCodeOf(refused.exit)).toBe(3)
    expect(refused.stderr).toContain("refused: \\u001b]52")
    const died = await runInProcess(["update", "--provider-message-id", "2", "--text", "hi", "--json"], options)
    expect(exitCodeOf(died.exit)).toBe(1)
    expect(JSON.parse(died.stdout)).toMatchObject({ error: { reason: "Unexpected" } })
    for (const run of [edited, refused, died]) {
      expect(`${run.stdout}${run.stderr}`).not.toMatch(UNSAFE)
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /)
    }
  })
})

describe("every secret the run learns is scrubbed", () => {
  it("a token read from the Bitrix24 token file never prints, in any encoding", async () => {
    const sandbox = await Bitrix24Sandbox.start({ bucket: false })
    try {
      const ids = await sandbox.seedMessage("Meet at 11.")
      const file = join(directory, "tokens.json")
      // The file holds the pair in use; the environment an older, different one.
      writeFileSync(file, JSON.stringify({ accessToken: sandbox.accessToken, refreshToken: sandbox.refreshToken }), {
        mode: 0o600
      })
      const env = {
        ...sandbox.env,
        BITRIX24_ACCESS_TOKEN: "0123456789abcdef0123456789abcdef",
        BITRIX24_REFRESH_TOKEN: "fedcba9876543210fedcba9876543210"
      }
      const token = sandbox.accessToken
      const text = `raw ${token} percent ${encodeURIComponent(`/${token}`)} base64 ${Buffer.from(token).toString("base64")}`
      const run = await runInProcess(
        [
          "update",
          "--bitrix24-token-file",
          file,
          "--external-message-id",
          ids.externalMessageId,
          "--external-chat-id",
          ids.externalChatId,
          "--external-author-id",
          ids.externalAuthorId,
          "--text",
          text
        ],
        { env: () => env }
      )
      expect(exitCodeOf(run.exit)).toBe(0)
      expect(sandbox.inspect(ids)?.text).toBe(text)
      expect(run.stdout).toContain("<redacted>")
      expect(`${run.stdout}${run.stderr}`).not.toContain(token)
      expect(`${run.stdout}${run.stderr}`).not.toContain(Buffer.from(token).toString("base64"))
      expect(readFileSync(file, "utf8")).toContain(token)
    } finally {
      await sandbox.stop()
    }
  })

  it("a pair the store loads or saves (a refresh) joins the live set at once", async () => {
    const output = Output.make({ json: false })
    const saved: Array<string> = []
    const store = Tokens.watching(
      {
        load: Effect.succeed(
          Option.some({
            accessToken: Redacted.make("loaded-access-1234"),
            refreshToken: Redacted.make("loaded-refresh-5678")
          })
        ),
        save: (tokens) => Effect.sync(() => saved.push(Redacted.value(tokens.accessToken)))
      },
      output.secrets
    )
    await Effect.runPromise(store.load)
    await Effect.runPromise(
      store.save({
        accessToken: Redacted.make("refreshed/access+9999"),
        refreshToken: Redacted.make("refreshed-refresh-0000")
      })
    )
    expect(saved).toEqual(["refreshed/access+9999"])
    const line = output.clean(
      `a ${encodeURIComponent("refreshed/access+9999")} b ${JSON.stringify("refreshed/access+9999").replaceAll("/", "\\/")} c loaded-access-1234 d loaded-refresh-5678`
    )
    expect(line).toBe(`a <redacted> b "<redacted>" c <redacted> d <redacted>`)
    const secrets: Secrets.Secrets = output.secrets
    expect(secrets.size).toBe(4)
  })
})

describe("dependencies", () => {
  it("the package depends on reword's packages and effect only: no platform package, no Redis client", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      readonly dependencies?: Record<string, string>
      readonly peerDependencies?: Record<string, string>
    }
    expect(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).sort()).toEqual([
      "@reword/acquire",
      "@reword/bitrix24",
      "@reword/core",
      "@reword/outbox",
      "@reword/telegram",
      "@reword/tenants",
      "effect"
    ])
  })
})
