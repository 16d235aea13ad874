import { Effect, Exit, Redacted } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ConnectorEvents as Events } from "../src/connector-events.ts"
import type { Events as Lifecycle } from "../src/index.ts"

/** A form body as Bitrix24 posts it: PHP-style nested keys, brackets percent-encoded. */
const form = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join("&")

const FORM = { "content-type": "application/x-www-form-urlencoded" }
const MEMBER = "a223c6b3710f85df22e9377d6c4f7553"
const TOKEN = "51856fefc120afa4b628cc82d3935cce"

const auth = (token = TOKEN, member = MEMBER) => ({
  "auth[domain]": "some-domain.bitrix24.com",
  "auth[member_id]": member,
  "auth[application_token]": token,
  "auth[access_token]": "s6p6eclrvim6da22ft9ch94ekreb52lv",
  "auth[status]": "L"
})

// The documentation's (2026-03) update, as the wire carries it (FACTS.md's "Wire format").
const update = (fields: Record<string, string> = {}) => ({
  event: "ONIMCONNECTORMESSAGEUPDATE",
  event_handler_id: "557",
  "data[CONNECTOR]": "myconnector",
  "data[LINE]": "107",
  "data[MESSAGES][0][im][chat_id]": "1807",
  "data[MESSAGES][0][im][message_id]": "86501",
  "data[MESSAGES][0][message][id][0]": "ext-msg-005",
  "data[MESSAGES][0][message][text]": "[b]Anna Smith:[/b][br]Meet at 10.",
  "data[MESSAGES][0][chat][id]": "channel-123",
  ts: "1773760030",
  ...auth(),
  ...fields
})

const known = (memberId: string) => Effect.succeed(memberId === MEMBER ? { token: Redacted.make(TOKEN) } : undefined)

const verify = (body: string, headers: Record<string, string> = FORM, method = "POST", connector?: string) =>
  Effect.runSyncExit(Events.verifyConnectorEvent({ method, headers, body }, { expectedToken: known, connector }))

const event = (exit: Exit.Exit<Events.ConnectorEvent, unknown>) => {
  if (Exit.isFailure(exit)) throw new Error(`expected an event, got ${String(exit.cause)}`)
  return exit.value
}

const refusal = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return undefined
  const error = exit.cause.reasons[0]
  return error !== undefined && "error" in error ? (error.error as Lifecycle.EventRefused).reason._tag : "defect"
}

describe("Bitrix24's connector message events", () => {
  it("decodes an update from a form body: ids as a list, every scalar a string, the token Redacted", () => {
    const decoded = event(verify(form(update())))
    expect(decoded._tag).toBe("ConnectorMessageUpdate")
    expect(decoded.connector).toBe("myconnector")
    expect(decoded.line).toBe(107)
    expect(decoded.messages).toEqual([
      {
        imChatId: "1807",
        imMessageId: "86501",
        externalIds: ["ext-msg-005"],
        chatId: "channel-123",
        text: "[b]Anna Smith:[/b][br]Meet at 10.",
        userId: undefined,
        userName: undefined
      }
    ])
    expect(String(decoded.applicationToken)).not.toContain(TOKEN)
    const [inbound] = Events.toInbound(decoded)
    expect(inbound).toMatchObject({
      _tag: "MessageEdited",
      provider: "bitrix24",
      account: MEMBER,
      ids: { externalChatId: "channel-123", externalMessageId: "ext-msg-005", providerMessageId: "86501" },
      text: "[b]Anna Smith:[/b][br]Meet at 10.",
      occurredAt: 1773760030000
    })
  })

  it("takes the id as a plain string, and the old DATA key, and JSON", () => {
    const single = update({ "data[MESSAGES][0][message][id]": "ext-msg-006" })
    delete (single as Record<string, string>)["data[MESSAGES][0][message][id][0]"]
    expect(event(verify(form(single))).messages[0]?.externalIds).toEqual(["ext-msg-006"])
    const old = Object.fromEntries(Object.entries(update()).map(([k, v]) => [k.replace("[MESSAGES]", "[DATA]"), v]))
    expect(event(verify(form(old))).messages[0]?.externalIds).toEqual(["ext-msg-005"])
    const json = JSON.stringify({
      event: "ONIMCONNECTORMESSAGEDELETE",
      data: {
        CONNECTOR: "myconnector",
        LINE: 107,
        MESSAGES: [{ im: { chat_id: 1807, message_id: 86501 }, message: { id: "ext-msg-005" }, chat: { id: "c-1" } }]
      },
      auth: { member_id: MEMBER, application_token: TOKEN }
    })
    const deleted = event(verify(json, { "content-type": "application/json" }))
    expect(deleted._tag).toBe("ConnectorMessageDelete")
    expect(Events.toInbound(deleted).map((e) => [e._tag, e.ids.externalMessageId])).toEqual([
      ["MessageDeleted", "ext-msg-005"]
    ])
  })

  it("decodes an add: the operator's message with its im ids, its author", () => {
    const add = {
      event: "ONIMCONNECTORMESSAGEADD",
      "data[CONNECTOR]": "myconnector",
      "data[LINE]": "107",
      "data[MESSAGES][0][im][chat_id]": "1807",
      "data[MESSAGES][0][im][message_id]": "86502",
      "data[MESSAGES][0][message][user_id]": "9",
      "data[MESSAGES][0][message][text]": "Hello",
      "data[MESSAGES][0][user][name]": "Anna",
      "data[MESSAGES][0][user][last_name]": "Smith",
      "data[MESSAGES][0][chat][id]": "tg:42",
      ...auth()
    }
    const [inbound] = Events.toInbound(event(verify(form(add))))
    expect(inbound).toMatchObject({
      _tag: "MessageAdded",
      ids: { externalChatId: "tg:42", externalMessageId: "86502", providerChatId: "1807" },
      author: { id: "9", name: "Anna Smith" },
      text: "Hello"
    })
  })

  it("the same edit posted twice has the same eventId; another text another one", () => {
    const key = (text: string) =>
      Events.toInbound(event(verify(form(update({ "data[MESSAGES][0][message][text]": text })))))[0]?.eventId
    expect(key("A")).toBe(key("A"))
    expect(key("A")).not.toBe(key("B"))
  })

  it("refuses a spoofed token, an unknown portal, another connector, a GET: nothing echoes the token", () => {
    const spoofed = verify(form(update(auth("0".repeat(32)))))
    expect(refusal(spoofed)).toBe("Forbidden")
    expect(refusal(verify(form(update(auth("short")))))).toBe("Forbidden")
    expect(refusal(verify(form(update(auth(TOKEN, "another-portal")))))).toBe("Forbidden")
    expect(refusal(verify(form(update()), FORM, "POST", "other-connector"))).toBe("Forbidden")
    expect(refusal(verify(form(update()), FORM, "GET"))).toBe("WrongMethod")
    for (const exit of [spoofed, verify(form(update(auth(TOKEN, "another-portal"))))]) {
      expect(JSON.stringify(exit)).not.toContain(TOKEN)
      expect(String(exit)).not.toContain("0".repeat(32))
    }
  })

  it("refuses truncated, oversized, too deep and incomplete bodies with a reason", () => {
    const body = form(update())
    expect(refusal(verify(body.slice(0, body.length / 2)))).toBeDefined()
    expect(refusal(verify(`${body}&pad=${"x".repeat(70_000)}`))).toBe("TooLarge")
    expect(refusal(verify(`${body}&a${"[b]".repeat(20)}=1`))).toBe("TooDeep")
    const noText = update()
    delete (noText as Record<string, string>)["data[MESSAGES][0][message][text]"]
    expect(refusal(verify(form(noText)))).toBe("Unsupported")
    expect(refusal(verify(form({ ...update(), event: "ONAPPINSTALL" })))).toBe("Unsupported")
    expect(refusal(verify("%E0%A4%A"))).toBe("Malformed")
  })

  it("compares tokens in constant time whatever their lengths, against a token or its SHA-256", () => {
    const token = Redacted.make(TOKEN)
    expect(Events.tokenMatches(token, { token: Redacted.make(TOKEN) })).toBe(true)
    expect(Events.tokenMatches(Redacted.make("x"), { token })).toBe(false)
    const sha256 = "5e1bc9d1c2ee2e8e7b3f1a5c5b9c0b0b5b1f6f8a1e0d3c2b1a09f8e7d6c5b4a3"
    expect(Events.tokenMatches(token, { sha256 })).toBe(false)
    expect(Events.tokenMatches(token, { sha256: "not hex" })).toBe(false)
    expect(Events.tokenMatches(token, undefined)).toBe(false)
  })

  it("property: any body ends as an event or a typed refusal, never a throw, never carrying the token", () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 12 }),
      fc
        .dictionary(
          fc.oneof(
            fc.constantFrom(...Object.keys(update()), "data[MESSAGES][1][message][id][x]", "__proto__"),
            fc.string({ maxLength: 12 })
          ),
          fc.string({ maxLength: 20 })
        )
        .map((fields) => form({ ...update(), ...fields }))
    )
    fc.assert(
      fc.property(bodies, fc.constantFrom("application/json", FORM["content-type"], ""), (body, type) => {
        const exit = verify(body, { "content-type": type })
        if (Exit.isFailure(exit)) {
          expect(refusal(exit)).not.toBe("defect")
          expect(JSON.stringify(exit.cause)).not.toContain(TOKEN)
        }
      }),
      { numRuns: 300 }
    )
  })
})
