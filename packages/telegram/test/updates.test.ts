import { Redacted, Result } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Updates } from "../src/updates.ts"

const SECRET = "webhook-Secret_0123456789"
const secretToken = Redacted.make(SECRET)
const headers = { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }

const edited = {
  update_id: 901,
  edited_message: {
    message_id: 7,
    from: { id: 5001, is_bot: false, first_name: "Ivan", last_name: "Petrov" },
    chat: { id: 5001, type: "private" },
    date: 1_773_760_000,
    edit_date: 1_773_760_030,
    text: "Meet at 10.",
    entities: [],
    some_future_field: { anything: true }
  }
}

const verify = (body: unknown, given: Record<string, string> = headers, method = "POST") =>
  Updates.verifyUpdate(
    { method, headers: given, body: typeof body === "string" ? body : JSON.stringify(body) },
    {
      secretToken
    }
  )

const reason = (result: Result.Result<unknown, Updates.UpdateRefused>) =>
  Result.isFailure(result) ? result.failure.reason._tag : undefined

describe("Telegram's webhook updates", () => {
  it("decodes edited_message into MessageEdited, its key the update_id, its time the edit_date", () => {
    const update = verify(edited)
    if (Result.isFailure(update)) throw update.failure
    expect(Updates.toInbound(update.success, "6000000001")).toEqual([
      {
        _tag: "MessageEdited",
        provider: "telegram",
        account: "6000000001",
        eventId: "telegram:6000000001:901",
        ids: {
          externalChatId: "tg:5001",
          externalMessageId: "tg:5001:7",
          providerChatId: "5001",
          providerMessageId: "7"
        },
        text: "Meet at 10.",
        occurredAt: 1_773_760_030_000,
        author: { id: "5001", name: "Ivan Petrov" }
      }
    ])
  })

  it("decodes edited_business_message, message and deleted_business_messages; other updates carry nothing", () => {
    const business = {
      update_id: 1,
      edited_business_message: { ...edited.edited_message, business_connection_id: "b1" }
    }
    const ok = (body: unknown) => {
      const update = verify(body)
      if (Result.isFailure(update)) throw update.failure
      return Updates.toInbound(update.success, "bot")
    }
    expect(ok(business).map((e) => e._tag)).toEqual(["MessageEdited"])
    expect(
      ok({ update_id: 2, message: { ...edited.edited_message, edit_date: undefined } }).map((e) => e._tag)
    ).toEqual(["MessageAdded"])
    const deleted = ok({
      update_id: 3,
      deleted_business_messages: {
        business_connection_id: "b1",
        chat: { id: 5001, type: "private" },
        message_ids: [7, 8]
      }
    })
    expect(deleted.map((e) => [e._tag, e.ids.externalMessageId])).toEqual([
      ["MessageDeleted", "tg:5001:7"],
      ["MessageDeleted", "tg:5001:8"]
    ])
    expect(ok({ update_id: 4, callback_query: { id: "x" } })).toEqual([])
  })

  it("refuses a missing or wrong secret, a GET; the refusal never carries the secret", () => {
    const { "x-telegram-bot-api-secret-token": _, ...without } = headers
    expect(reason(verify(edited, without))).toBe("Forbidden")
    const wrong = verify(edited, { ...headers, "x-telegram-bot-api-secret-token": `${SECRET}x` })
    expect(reason(wrong)).toBe("Forbidden")
    // Two different values of the header: ambiguous, refused; the name's case does not matter.
    expect(reason(verify(edited, { ...headers, "X-Telegram-Bot-Api-Secret-Token": "a" }))).toBe("Forbidden")
    expect(reason(verify(edited, { ...without, "X-Telegram-Bot-Api-Secret-Token": SECRET }))).toBeUndefined()
    expect(reason(verify(edited, headers, "GET"))).toBe("WrongMethod")
    expect(JSON.stringify(wrong)).not.toContain(SECRET)
  })

  it("refuses truncated, oversized, too deep and non-update bodies with a reason", () => {
    const text = JSON.stringify(edited)
    expect(reason(verify(text.slice(0, 40)))).toBe("Malformed")
    expect(reason(verify(`${"[".repeat(40)}${"]".repeat(40)}`))).toBe("TooDeep")
    expect(reason(verify({ ...edited, pad: "x".repeat(1_100_000) }))).toBe("TooLarge")
    expect(reason(verify({ edited_message: edited.edited_message }))).toBe("Unsupported")
    expect(reason(verify({ update_id: "901" }))).toBe("Unsupported")
  })

  it("property: any body ends as an update or a typed refusal, never a throw", () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 40 }),
      fc.record({ update_id: fc.integer(), edited_message: fc.anything({ maxDepth: 4 }) }).map((v) => JSON.stringify(v))
    )
    fc.assert(
      fc.property(bodies, (body) => {
        const update = verify(body)
        if (Result.isSuccess(update)) expect(Array.isArray(Updates.toInbound(update.success, "bot"))).toBe(true)
        else expect(update.failure.reason._tag).toMatch(/^(TooDeep|Malformed|Unsupported)$/)
      }),
      { numRuns: 300 }
    )
  })
})
