/**
 * `reword update` as a process against a real Telegram sandbox: an edit by
 * chat id and message id, a caption edit (`--kind caption`), Telegram's
 * documented failures, and the bot token (in every URL path) in no output,
 * debug logs included, raw, URL-encoded or base64.
 */
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { jsonOf, reword } from "./support/cli.ts"

const { Faults } = TelegramSandbox

let sandbox: TelegramSandbox.Sandbox

beforeAll(async () => {
  sandbox = await TelegramSandbox.start()
})

afterAll(async () => {
  await sandbox.stop()
})

afterEach(() => {
  sandbox.server.clearFaults()
})

const everything = (run: { readonly stdout: string; readonly stderr: string }) => `${run.stdout}\n${run.stderr}`

const tokenForms = (token: string): ReadonlyArray<string> => {
  const secret = token.slice(token.indexOf(":") + 1)
  return [
    token,
    secret,
    encodeURIComponent(token),
    Buffer.from(token).toString("base64"),
    Buffer.from(secret).toString("base64")
  ]
}

const idFlags = (ids: TelegramSandbox.SeededIds) => [
  "--provider-chat-id",
  String(ids.providerChatId),
  "--provider-message-id",
  String(ids.providerMessageId)
]

describe("reword update on Telegram", () => {
  it("edits the message by chat id and message id, and a caption with --kind caption", async () => {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const run = await reword(["update", "--json", ...idFlags(ids), "--text", "Meet at 10."], { env: sandbox.env })
    expect(run.code).toBe(0)
    expect(jsonOf(run.stdout)).toMatchObject({
      provider: "telegram",
      ids: { providerChatId: String(ids.providerChatId), providerMessageId: String(ids.providerMessageId) },
      text: "Meet at 10."
    })
    const photo = await sandbox.seedMessage("The venue", {}, { kind: "photo" })
    const caption = await reword(
      ["update", ...idFlags(photo), "--kind", "caption", "--text", "The venue, north side"],
      {
        env: sandbox.env
      }
    )
    expect(caption.code).toBe(0)
    expect(sandbox.inspect(photo)?.text).toBe("The venue, north side")
  })

  it("a missing chat id is a usage problem (exit 2): nothing is sent", async () => {
    const before = sandbox.server.requests.length
    const run = await reword(["update", "--provider-message-id", "1", "--text", "x"], { env: sandbox.env })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("ids.providerChatId")
    expect(sandbox.server.requests.length).toBe(before)
  })

  it("never prints the bot token, whatever fails, debug logs included", async () => {
    const ids = await sandbox.seedMessage("hello")
    const runs = []
    for (const fault of [
      Faults.tooManyRequests(1),
      Faults.blocked(),
      Faults.html(502),
      Faults.status(401, "Unauthorized")
    ]) {
      sandbox.server.inject({ fault, times: 5 })
      runs.push(
        await reword(["update", "--log-level", "debug", ...idFlags(ids), "--text", "hello again"], { env: sandbox.env })
      )
      sandbox.server.clearFaults()
    }
    const wrong = await reword(["update", "--log-level", "debug", ...idFlags(ids), "--text", "x"], {
      env: { ...sandbox.env, TELEGRAM_BOT_TOKEN: "987654:AAthisIsNotTheSandboxToken" }
    })
    expect(runs.map((run) => run.code)).toEqual([3, 3, 3, 3])
    expect(wrong.code).toBe(3)
    expect(everything(runs[3] ?? { stdout: "", stderr: "" })).toContain("<redacted>")
    for (const run of [...runs, wrong]) {
      for (const form of [...tokenForms(sandbox.botToken), ...tokenForms("987654:AAthisIsNotTheSandboxToken")]) {
        expect(everything(run)).not.toContain(form)
      }
    }
  })
})
