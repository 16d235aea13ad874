/**
 * The relay as a real process, killed with SIGKILL where it hurts: between
 * storing a Telegram update and answering it (Telegram redelivers: exactly
 * one edit lands), and right after answering a Bitrix24 event (Bitrix24
 * never redelivers: the stored event still lands after a restart).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SECRET, setWebhook, until } from "./support/world.ts"

const root = join(import.meta.dirname, "../../..")
let telegram: TelegramSandbox.Sandbox
let portals: Bitrix24Portals.Portals
let portal: Bitrix24Portals.Portal
let directory: string
let port: number
const children = new Set<ChildProcess>()

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = server.address() as { port: number }
      server.close(() => resolve(free))
    })
  })

/** Starts the example app; resolves once it listens, with its process and what it prints. */
const app = async (env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, ["--conditions=@reword/source", "examples/relay/app.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      ...portal.env,
      BITRIX24_MEMBER_ID: portal.memberId,
      BITRIX24_APPLICATION_TOKEN: portal.applicationToken,
      TELEGRAM_BOT_TOKEN: telegram.botToken,
      TELEGRAM_API_URL: telegram.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_POLL: "false",
      RELAY_DATABASE: join(directory, "relay.db"),
      RELAY_TABLE_PREFIX: "crash_",
      // One worker id across restarts: a restarted app takes back the events it held when it was killed.
      RELAY_WORKER_ID: "crash-worker",
      PORT: String(port),
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.add(child)
  const output: Array<string> = []
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()))
  await until(() => output.join("").includes("relay listening"), 60_000, `the app to listen: ${output.join("")}`)
  return { child, output }
}

const kill = async (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGKILL")
    await exited
  }
  children.delete(child)
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-relay-crash-"))
  telegram = await TelegramSandbox.start({ webhook: { timeoutMs: 20_000, retryBaseMs: 200, retryMaxMs: 1_000 } })
  portals = await Bitrix24Portals.start()
  portal = portals.add()
  port = await freePort()
  await setWebhook(telegram, `http://127.0.0.1:${port}/telegram`)
  portal.bindEvents(`http://127.0.0.1:${port}/bitrix24`)
})

afterAll(async () => {
  for (const child of children) await kill(child)
  await telegram?.stop()
  await portals?.stop()
  rmSync(directory, { recursive: true, force: true })
})

describe("the relay killed with SIGKILL", () => {
  it("between storing a Telegram update and answering it: redelivered, exactly one edit lands", async () => {
    const first = await app()
    const chat = telegram.openChat()
    const sent = telegram.userSends(chat.id, "Table for two")
    const ids = [`tg:${chat.id}`, `tg:${chat.id}:${sent.messageId}`] as const
    await until(() => portal.message(...ids) !== undefined, 60_000, "the message in Bitrix24")
    await kill(first.child)

    const paused = await app({ RELAY_PAUSE_BEFORE_ANSWER_MS: "600000", RELAY_WORKER: "false" })
    telegram.userEdits(chat.id, sent.messageId, "Table for three")
    await until(() => paused.output.join("").includes("stored 1 0"), 60_000, "the update stored")
    await kill(paused.child)

    const restarted = await app()
    await until(() => portal.message(...ids)?.text === "Table for three", 60_000, "the edit in Bitrix24")
    // Telegram's redelivery was answered 200 as a duplicate: the pending update's queue is empty.
    await until(() => telegram.pendingUpdates().length === 0, 60_000, "the redelivery answered")
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(portal.message(...ids)?.history).toEqual(["Table for two", "Table for three"])
    await kill(restarted.child)
  })

  it("right after answering a Bitrix24 event: the stored edit still lands after a restart", async () => {
    const first = await app()
    const chat = telegram.openChat()
    telegram.userSends(chat.id, "Hi")
    await until(() => portal.messages().some((m) => m.chatId === `tg:${chat.id}`), 60_000, "the message in Bitrix24")
    const answer = portal.operatorSends(`tg:${chat.id}`, "Hello!")
    await until(() => (portal.operatorMessage(answer.imMessageId)?.externalIds.length ?? 0) > 0, 60_000, "delivery")
    const messageId = Number(portal.operatorMessage(answer.imMessageId)?.externalIds[0]?.split(":")[2])
    await kill(first.child)

    // Stores and answers, never relays: then killed right after its 200.
    const storing = await app({ RELAY_WORKER: "false" })
    const before = portal.postedEvents().length
    portal.operatorEdits(answer.imMessageId, "Hello! How can I help?")
    await until(() => portal.postedEvents().length > before, 60_000, "the event answered")
    expect(portal.postedEvents().at(-1)?.status).toBe(200)
    await kill(storing.child)
    expect(telegram.message(chat.id, messageId)?.text).toBe("Anna Smith:\nHello!")

    const restarted = await app()
    await until(
      () => telegram.message(chat.id, messageId)?.text === "Anna Smith:\nHello! How can I help?",
      60_000,
      "the edit in Telegram"
    )
    await kill(restarted.child)
  })
})
