/**
 * The example relay without a public address: it reads Telegram with `getUpdates` (long polling) instead of a
 * webhook. A customer's message and edit reach Bitrix24; a failing `getUpdates` is retried after a bounded
 * pause (the update is not lost, the bot's token is in no report); aborting stops the loop at once, even in
 * the middle of a long poll.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { poll, type RunningApp, start } from "../../../examples/relay/app.ts"
import { appConfig, until } from "./support/world.ts"

let telegram: TelegramSandbox.Sandbox
let portals: Bitrix24Portals.Portals
let portal: Bitrix24Portals.Portal
let app: RunningApp
let directory: string

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-relay-poll-"))
  telegram = await TelegramSandbox.start()
  portals = await Bitrix24Portals.start()
  portal = portals.add()
  app = await start(appConfig(telegram, portal, join(directory, "relay.db"), "poll_"))
  portal.bindEvents(`${app.url}/bitrix24`)
})

afterAll(async () => {
  await portal?.eventsSettled()
  await app?.close()
  await telegram?.stop()
  await portals?.stop()
  rmSync(directory, { recursive: true, force: true })
})

describe("the example relay reading Telegram with getUpdates", () => {
  it("relays a customer's message and edit, through a failing getUpdates, and stops when aborted", async () => {
    const stop = new AbortController()
    const problems: Array<string> = []
    const polling = poll(app, telegram.url, telegram.settings.botToken, stop.signal, {
      timeoutSeconds: 1,
      maxPauseMs: 200,
      onError: (problem) => problems.push(problem)
    })
    try {
      const chat = telegram.openChat()
      const ids = (messageId: number) => [`tg:${chat.id}`, `tg:${chat.id}:${messageId}`] as const
      const sent = telegram.userSends(chat.id, "Do you deliver on Sundays?")
      await until(() => portal.message(...ids(sent.messageId)) !== undefined, 30_000, "the message in Bitrix24")

      telegram.server.inject({ fault: TelegramSandbox.Faults.serverError(502), times: 2, path: "getUpdates" })
      await until(() => problems.length >= 2, 30_000, "both failed reads")
      telegram.userEdits(chat.id, sent.messageId, "Do you deliver on Saturdays?")
      await until(
        () => portal.message(...ids(sent.messageId))?.text === "Do you deliver on Saturdays?",
        30_000,
        "the edit in Bitrix24"
      )
      expect(problems).toEqual(["getUpdates answered 502: Bad Gateway", "getUpdates answered 502: Bad Gateway"])
      expect(problems.join(" ")).not.toContain(telegram.botToken)
      // Confirmed: nothing is left for getUpdates to give again.
      await until(() => telegram.pendingUpdates().length === 0, 30_000, "the updates confirmed")
    } finally {
      const stopping = Date.now()
      stop.abort()
      await polling
      expect(Date.now() - stopping).toBeLessThan(5_000)
    }
  })
})
