/**
 * The relay under 1,000 seeded random edits on both sides, with the Bitrix24 sandbox echoing the relay's own
 * edits (as older self-hosted modules do), and two relay workers on one database (a second app that only
 * processes). When the edits stop: every message shows its newest text on both sides, every echo is
 * recorded as one (none relayed back or mistaken for an operator's edit), nothing failed, the inbox comes
 * to rest (no loop: nothing pending once the edits stop), and each operator's message was sent to
 * Telegram exactly once although two workers took events from the same inbox.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningApp, start } from "../../../examples/relay/app.ts"
import { appConfig, makeWorld, until, type World } from "./support/world.ts"

const SEED = 22
const EDITS = Number(process.env.RELAY_RANDOM_EDITS ?? 1_000)
const CUSTOMER_MESSAGES = 8
const OPERATOR_MESSAGES = 8

/** mulberry32: a small seeded generator, so that a failure replays. */
const random = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

let world: World
let second: RunningApp

beforeAll(async () => {
  world = await makeWorld({ tablePrefix: "random_" })
  // A second worker on the same inbox and outbox: it takes events, never receives them.
  second = await start({
    ...appConfig(world.telegram, world.portal, world.database, "random_"),
    workerId: "second-worker"
  })
})

afterAll(async () => {
  await second?.close()
  await world?.stop()
})

describe("1,000 random edits on both sides, the echo mode on, two workers", () => {
  // About 50 s on an idle 2-core machine (Telegram's webhook delivers one update at a time): generous bounds.
  it("ends with every message's newest text on both sides, echoes recorded, nothing relayed twice", {
    timeout: 600_000
  }, async () => {
    const { telegram, portal } = world
    const next = random(SEED)
    portal.setEcho(true)
    const chat = telegram.openChat()
    const externalChatId = `tg:${chat.id}`

    const customer: Array<{ readonly messageId: number; text: string }> = []
    for (let index = 0; index < CUSTOMER_MESSAGES; index++) {
      const text = `customer ${index} v0`
      customer.push({ messageId: telegram.userSends(chat.id, text).messageId, text })
    }
    await until(
      () => customer.every((message) => portal.message(externalChatId, `tg:${chat.id}:${message.messageId}`)),
      60_000,
      "the customer's messages in Bitrix24"
    )
    const operator: Array<{ readonly imMessageId: number; text: string }> = []
    for (let index = 0; index < OPERATOR_MESSAGES; index++) {
      const text = `operator ${index} v0`
      operator.push({ imMessageId: portal.operatorSends(externalChatId, text).imMessageId, text })
    }
    const telegramIdOf = (imMessageId: number) =>
      Number(portal.operatorMessage(imMessageId)?.externalIds[0]?.split(":")[2] ?? Number.NaN)
    await until(
      () => operator.every((message) => Number.isInteger(telegramIdOf(message.imMessageId))),
      60_000,
      "the operator's messages delivered to Telegram"
    )

    // The edits, in bursts of 25, each on a random side and message. Bitrix24 posts its events in parallel and
    // they carry no order (`ts` is whole seconds, when the event left its queue): two edits of one operator's
    // message posted at the same moment may arrive reversed, and nothing tells which is newer. An operator
    // does not edit one message twice within one round trip: a burst edits each operator's message at most
    // once, and the next burst starts when the portal's events were answered.
    let burst = new Set<number>()
    for (let edit = 1; edit <= EDITS; edit++) {
      const index = Math.floor(next() * Math.max(customer.length, operator.length))
      const side = next() < 0.5 ? "customer" : "operator"
      const message = operator[index % operator.length] as (typeof operator)[number]
      if (side === "operator" && !burst.has(message.imMessageId)) {
        burst.add(message.imMessageId)
        message.text = `operator edit ${edit}`
        portal.operatorEdits(message.imMessageId, message.text)
      } else {
        const mine = customer[index % customer.length] as (typeof customer)[number]
        mine.text = `customer edit ${edit}`
        telegram.userEdits(chat.id, mine.messageId, mine.text)
      }
      if (edit % 25 === 0) {
        await portal.eventsSettled()
        burst = new Set()
      }
    }

    const customerDone = () =>
      customer.every(
        (message) => portal.message(externalChatId, `tg:${chat.id}:${message.messageId}`)?.text === message.text
      )
    const operatorDone = () =>
      operator.every(
        (message) =>
          telegram.message(chat.id, telegramIdOf(message.imMessageId))?.text === `Anna Smith:\n${message.text}`
      )
    await until(() => customerDone() && operatorDone(), 240_000, "every message's newest text on the other side")
    await portal.eventsSettled()
    await until(
      async () => (await Effect.runPromise(world.app.relay.journal("pending"))).length === 0,
      120_000,
      "the inbox done"
    )
    // Both sides still show the newest text (no late echo or stale edit changed one back).
    expect(customerDone() && operatorDone()).toBe(true)
    for (const message of customer) {
      expect(telegram.message(chat.id, message.messageId)?.text).toBe(message.text)
    }
    for (const message of operator) expect(portal.operatorMessage(message.imMessageId)?.text).toContain(message.text)

    const journal = (state: "failed" | "echo" | "ignored") => Effect.runPromise(world.app.relay.journal(state))
    expect(await journal("failed")).toEqual([])
    expect((await journal("echo")).length).toBeGreaterThan(0)
    // An echo missed would be a Bitrix24 edit of a customer's message taken for an operator's edit (ignored:
    // not a message the relay sent to Telegram): there is none.
    const customerIds = new Set(customer.map((message) => `tg:${chat.id}:${message.messageId}`))
    const missed = (await journal("ignored")).filter(
      (row) => row.provider === "bitrix24" && customerIds.has(row.event.ids.externalMessageId)
    )
    expect(missed).toEqual([])
    // Each operator's message was sent to Telegram once: the bot's messages in the chat are exactly these.
    const botMessages = Array.from({ length: chat.nextMessageId }, (_, id) => telegram.message(chat.id, id)).filter(
      (message) => message?.from === "bot"
    )
    expect(botMessages).toHaveLength(OPERATOR_MESSAGES)
    expect(telegram.pendingUpdates()).toEqual([])
    expect(portal.calls("imconnector.send.status.delivery")).toBe(OPERATOR_MESSAGES)
  })
})
