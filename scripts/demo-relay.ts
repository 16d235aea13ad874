/**
 * `pnpm demo relay`: the two-way relay (examples/relay/app.ts) between the
 * Telegram sandbox and a Bitrix24 sandbox portal, on a SQLite file in a
 * temporary directory: a customer writes and edits in Telegram, an operator
 * answers, edits and deletes in Bitrix24, the echo of the relay's own edit
 * is recorded and not relayed back, a spoofed event is refused; then the
 * journal of both directions.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Redacted } from "effect"
import { start } from "../examples/relay/app.ts"

const line = (text = "") => console.log(text)
const SECRET = "demo-webhook-secret_0123456789"

const until = async (what: string, check: () => boolean) => {
  const deadline = Date.now() + 60_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export const relayTour = async () => {
  const directory = mkdtempSync(join(tmpdir(), "reword-demo-relay-"))
  const telegram = await TelegramSandbox.start()
  const portals = await Bitrix24Portals.start()
  const portal = portals.add()
  const app = await start({
    database: join(directory, "relay.db"),
    telegram: { settings: telegram.settings, secretToken: Redacted.make(SECRET) },
    bitrix24: {
      settings: portal.settings,
      memberId: portal.memberId,
      applicationToken: Redacted.make(portal.applicationToken)
    }
  })
  try {
    await fetch(`${telegram.url}/bot${telegram.botToken}/setWebhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: `${app.url}/telegram`, secret_token: SECRET })
    })
    portal.bindEvents(`${app.url}/bitrix24`)
    line(`reword relay demo: Telegram sandbox ${telegram.url} <-> Bitrix24 portal ${portal.url}, relay ${app.url}`)
    const chat = telegram.openChat()
    const chatId = `tg:${chat.id}`
    const sent = telegram.userSends(chat.id, "Hello, is the shop open?")
    const messageId = `tg:${chat.id}:${sent.messageId}`
    await until("the customer's message", () => portal.message(chatId, messageId) !== undefined)
    line(`customer wrote in Telegram      -> Bitrix24 shows "${portal.message(chatId, messageId)?.text}"`)
    portal.setEcho(true)
    telegram.userEdits(chat.id, sent.messageId, "Hello, is the shop open today?")
    await until("the customer's edit", () => portal.message(chatId, messageId)?.text?.endsWith("today?") === true)
    line(`customer edited in Telegram     -> Bitrix24 shows "${portal.message(chatId, messageId)?.text}"`)
    const answer = portal.operatorSends(chatId, "Yes, until [b]8 pm[/b].")
    await until("the delivery", () => (portal.operatorMessage(answer.imMessageId)?.externalIds.length ?? 0) > 0)
    const tgId = Number(portal.operatorMessage(answer.imMessageId)?.externalIds[0]?.split(":")[2])
    line(`operator answered in Bitrix24   -> Telegram shows ${JSON.stringify(telegram.message(chat.id, tgId)?.text)}`)
    line(
      `                                   delivery confirmed with id ${portal.operatorMessage(answer.imMessageId)?.externalIds[0]}`
    )
    portal.operatorEdits(answer.imMessageId, "Yes, until 9 pm.")
    await until("the operator's edit", () => telegram.message(chat.id, tgId)?.text?.endsWith("9 pm.") === true)
    line(`operator edited in Bitrix24     -> Telegram shows ${JSON.stringify(telegram.message(chat.id, tgId)?.text)}`)
    const spoofed = await fetch(`${app.url}/bitrix24`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `event=ONIMCONNECTORMESSAGEUPDATE&auth%5Bmember_id%5D=${portal.memberId}&auth%5Bapplication_token%5D=forged`
    })
    line(`a spoofed Bitrix24 event        -> HTTP ${spoofed.status} ${await spoofed.text()}`)
    portal.operatorDeletes(answer.imMessageId)
    await until("the deletion", () => telegram.message(chat.id, tgId) === undefined)
    line("operator deleted in Bitrix24    -> the Telegram message is gone")
    await Effect.runPromise(app.relay.drain({ timeout: "30 seconds" }))
    line()
    line("The journal of both directions (the relay's inbox):")
    for (const row of await Effect.runPromise(app.relay.journal())) {
      line(`  #${row.seq} ${row.provider.padEnd(8)} ${row.kind.padEnd(15)} ${row.state.padEnd(8)} ${row.outcome ?? ""}`)
    }
  } finally {
    await portal.eventsSettled()
    await app.close()
    await telegram.stop()
    await portals.stop()
    rmSync(directory, { recursive: true, force: true })
  }
}
