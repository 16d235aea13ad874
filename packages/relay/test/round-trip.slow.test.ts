import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeWorld, postBitrix24Edit, SECRET, until, type World } from "./support/world.ts"

let world: World

beforeAll(async () => {
  world = await makeWorld()
})
afterAll(async () => {
  await world?.stop()
})

const journal = () => Effect.runPromise(world.app.relay.journal())

describe("the relay between the Telegram sandbox and a Bitrix24 portal", () => {
  it("carries a conversation both ways: messages, edits, the delivery status, a deletion", async () => {
    const { telegram, portal } = world
    const chat = telegram.openChat()
    const externalChatId = `tg:${chat.id}`

    // A customer writes, then edits: the copy in the open line follows.
    const sent = telegram.userSends(chat.id, "Hello, is the shop open?")
    const externalMessageId = `tg:${chat.id}:${sent.messageId}`
    await until(
      () => portal.message(externalChatId, externalMessageId) !== undefined,
      30_000,
      "the message in Bitrix24"
    )
    telegram.userEdits(chat.id, sent.messageId, "Hello, is the shop open today?")
    await until(
      () => portal.message(externalChatId, externalMessageId)?.text === "Hello, is the shop open today?",
      30_000,
      "the edit in Bitrix24"
    )

    // The operator answers: the answer reaches Telegram, and its delivery is confirmed with its id.
    const answer = portal.operatorSends(externalChatId, "Yes, until [b]8 pm[/b].")
    await until(() => (portal.operatorMessage(answer.imMessageId)?.externalIds.length ?? 0) > 0, 30_000, "delivery")
    const [telegramId] = portal.operatorMessage(answer.imMessageId)?.externalIds ?? []
    const messageId = Number(telegramId?.split(":")[2])
    expect(telegramId).toBe(`tg:${chat.id}:${messageId}`)
    expect(telegram.message(chat.id, messageId)?.text).toBe("Anna Smith:\nYes, until 8 pm.")
    expect(portal.calls("imconnector.send.status.delivery")).toBe(1)

    // The operator edits: Telegram follows; then deletes: the message is gone.
    portal.operatorEdits(answer.imMessageId, "Yes, until 9 pm.")
    await until(
      () => telegram.message(chat.id, messageId)?.text === "Anna Smith:\nYes, until 9 pm.",
      30_000,
      "the edit in Telegram"
    )
    portal.operatorDeletes(answer.imMessageId)
    await until(() => telegram.message(chat.id, messageId) === undefined, 30_000, "the deletion in Telegram")
    await until(async () => (await journal()).every((row) => row.state !== "pending"), 30_000, "the journal settled")

    const rows = await journal()
    expect(rows.map((row) => [row.provider, row.kind, row.state])).toEqual([
      ["telegram", "MessageAdded", "relayed"],
      ["telegram", "MessageEdited", "relayed"],
      ["bitrix24", "MessageAdded", "relayed"],
      ["bitrix24", "MessageEdited", "relayed"],
      ["bitrix24", "MessageDeleted", "relayed"]
    ])
  })

  it("records an echo of its own edit and does not relay it back", async () => {
    const { telegram, portal } = world
    portal.setEcho(true)
    try {
      const chat = telegram.openChat()
      const sent = telegram.userSends(chat.id, "Order 1")
      const ids = [`tg:${chat.id}`, `tg:${chat.id}:${sent.messageId}`] as const
      await until(() => portal.message(...ids) !== undefined, 30_000, "the message in Bitrix24")
      telegram.userEdits(chat.id, sent.messageId, "Order 12")
      await until(async () => (await journal()).some((row) => row.state === "echo"), 30_000, "the echo")
      const echo = (await journal()).find((row) => row.state === "echo")
      expect(echo?.event).toMatchObject({ provider: "bitrix24", _tag: "MessageEdited", text: "Order 12" })
      expect(portal.message(...ids)?.history).toEqual(["Order 1", "Order 12"])
      expect((await journal()).filter((row) => row.state === "failed")).toEqual([])
    } finally {
      portal.setEcho(false)
    }
  })

  it("refuses spoofed events on both routes, and answers a duplicate 200 without a second edit", async () => {
    const { app, portal } = world
    const bitrix24 = (token: string) => postBitrix24Edit(app.url, portal, token)
    const spoofed = await bitrix24("0".repeat(32))
    expect(spoofed.status).toBe(403)
    expect(await spoofed.text()).not.toContain(portal.applicationToken)
    const update = (secret: string | undefined, id: number) =>
      fetch(`${app.url}/telegram`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret })
        },
        body: JSON.stringify({
          update_id: id,
          edited_message: { message_id: 1, chat: { id: 1, type: "private" }, date: 1, text: "x" }
        })
      })
    expect((await update(undefined, 77)).status).toBe(403)
    expect((await update("wrong", 77)).status).toBe(403)
    const first = await update(SECRET, 77)
    const again = await update(SECRET, 77)
    expect([first.status, again.status]).toEqual([200, 200])
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 1 })
    expect((await journal()).filter((row) => row.event.eventId === "telegram:bot:77")).toHaveLength(1)
  })
})
