/**
 * The Telegram sandbox against the facts sheet's list of what an emulator
 * must reproduce, one test per item (webhook delivery: sandbox-updates.test.ts),
 * by raw HTTP: what the real Bot API answers, the sandbox answers.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect } from "effect"

const started: Array<TelegramSandbox.Sandbox> = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.stop()))
})

const start = async (options?: TelegramSandbox.Options) => {
  const sandbox = await TelegramSandbox.start(options)
  started.push(sandbox)
  return sandbox
}

interface Reply {
  readonly status: number
  readonly headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: raw Bot API answers, read field by field as a client would
  readonly body: { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: any }
}

/** Calls a method as a client would: JSON by default, or a form, or a GET query string. */
const api = async (
  sandbox: TelegramSandbox.Sandbox,
  method: string,
  params: Record<string, unknown> = {},
  via: "json" | "form" | "query" = "json",
  token: string = sandbox.botToken
): Promise<Reply> => {
  const base = `${sandbox.url}/bot${token}/${method}`
  const encoded = new URLSearchParams(
    Object.entries(params).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)])
  )
  const response =
    via === "query"
      ? await fetch(`${base}?${encoded}`)
      : await fetch(base, {
          method: "POST",
          headers: { "content-type": via === "json" ? "application/json" : "application/x-www-form-urlencoded" },
          body: via === "json" ? JSON.stringify(params) : encoded.toString()
        })
  return { status: response.status, headers: response.headers, body: await response.json() }
}

const HOUR = 3600 * 1000

describe("the Telegram sandbox reproduces the Bot API", () => {
  it("routes /bot<token>/<method> by POST, GET, JSON, form or query, any case, with an optional /test/", async () => {
    const sandbox = await start()
    const chat = sandbox.openChat()
    const json = await api(sandbox, "sendMessage", { chat_id: chat.id, text: "json" })
    const form = await api(sandbox, "SENDMESSAGE", { chat_id: chat.id, text: "form" }, "form")
    const query = await api(sandbox, "sendmessage", { chat_id: chat.id, text: "query" }, "query")
    const test = await api(sandbox, "test/getMe")
    assert.deepStrictEqual(
      [json, form, query, test].map((reply) => reply.status),
      [200, 200, 200, 200]
    )
    assert.deepStrictEqual(
      [json, form, query].map((reply) => reply.body.result.message_id),
      [1, 2, 3]
    )
    assert.strictEqual(test.body.result.username, "reword_sandbox_bot")
  })

  it("answers 401 for an unknown token, and 404 for a malformed one or an unknown method", async () => {
    const sandbox = await start()
    const unknown = await api(sandbox, "getMe", {}, "json", "12345:AAnotTheSandboxToken")
    const malformed = await api(sandbox, "getMe", {}, "json", "not-a-token")
    const method = await api(sandbox, "frobnicate")
    sandbox.revokeToken(sandbox.botToken)
    const revoked = await api(sandbox, "getMe")
    assert.deepStrictEqual(unknown.body, { ok: false, error_code: 401, description: "Unauthorized" })
    assert.strictEqual(revoked.status, 401)
    assert.deepStrictEqual(
      [malformed, method].map((reply) => [reply.status, reply.body.description]),
      [
        [404, "Not Found"],
        [404, "Not Found"]
      ]
    )
  })

  it("answers {ok, result} with 200, errors with the status error_code, and a 429 with Retry-After", async () => {
    const sandbox = await start({ limits: { perChatPerSecond: 1 } })
    const chat = sandbox.openChat()
    const first = await api(sandbox, "sendMessage", { chat_id: chat.id, text: "one" })
    const limited = await api(sandbox, "sendMessage", { chat_id: chat.id, text: "two" })
    const missing = await api(sandbox, "sendMessage", { chat_id: 1, text: "nobody" })
    assert.strictEqual(first.status, 200)
    assert.isTrue(first.body.ok)
    assert.strictEqual(missing.status, missing.body.error_code)
    assert.deepStrictEqual(missing.body, { ok: false, error_code: 400, description: "Bad Request: chat not found" })
    assert.strictEqual(limited.status, 429)
    assert.deepStrictEqual(limited.body, {
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 }
    })
    assert.strictEqual(limited.headers.get("retry-after"), "1")
    assert.strictEqual(sandbox.refusedByLimits(), 1)
  })

  it("keys messages by chat and id (ids increase per chat), with date, edit_date, entities, keyboard and sender", async () => {
    const sandbox = await start()
    const a = sandbox.openChat()
    const b = sandbox.openChat("supergroup")
    const inA = await api(sandbox, "sendMessage", {
      chat_id: a.id,
      text: "bold",
      entities: [{ type: "bold", offset: 0, length: 4 }],
      reply_markup: { inline_keyboard: [[{ text: "Open", url: "https://example.com" }]] }
    })
    const inB = await api(sandbox, "sendMessage", { chat_id: b.id, text: "hello" })
    const again = await api(sandbox, "sendMessage", { chat_id: a.id, text: "second" })
    assert.deepStrictEqual(
      [inA.body.result.message_id, inB.body.result.message_id, again.body.result.message_id],
      [1, 1, 2]
    )
    assert.isTrue(inA.body.result.from.is_bot)
    assert.strictEqual(inB.body.result.chat.type, "supergroup")
    assert.isBelow(b.id, -1_000_000_000_000)
    assert.deepStrictEqual(inA.body.result.entities, [{ type: "bold", offset: 0, length: 4 }])
    assert.deepStrictEqual(inA.body.result.reply_markup.inline_keyboard[0][0].text, "Open")
    assert.closeTo(inA.body.result.date, Math.floor(sandbox.now() / 1000), 2)
    assert.isUndefined(inA.body.result.edit_date)
    const user = sandbox.userSends(a.id, "from a person")
    assert.strictEqual(user.from, "user")
    assert.strictEqual(sandbox.message(a.id, 3)?.text, "from a person")
    const inline = sandbox.seedInlineMessage("inline text")
    const editedInline = await api(sandbox, "editMessageText", { inline_message_id: inline, text: "inline, edited" })
    assert.deepStrictEqual(editedInline.body, { ok: true, result: true })
    assert.strictEqual(sandbox.inlineMessage(inline)?.text, "inline, edited")
  })

  it("edits: unchanged content is 'message is not modified'; success sets edit_date and answers the Message", async () => {
    const sandbox = await start()
    const ids = await sandbox.seedMessage("Meet at 11.")
    const target = { chat_id: ids.providerChatId, message_id: ids.providerMessageId }
    sandbox.advanceClock(90_000)
    const edited = await api(sandbox, "editMessageText", { ...target, text: "Meet at 10." })
    const unchanged = await api(sandbox, "editMessageText", { ...target, text: "Meet at 10." })
    const formatted = await api(sandbox, "editMessageText", {
      ...target,
      text: "Meet at 10.",
      entities: [{ type: "bold", offset: 0, length: 4 }]
    })
    assert.strictEqual(edited.status, 200)
    assert.strictEqual(edited.body.result.text, "Meet at 10.")
    assert.strictEqual(edited.body.result.edit_date - edited.body.result.date, 90)
    assert.strictEqual(
      unchanged.body.description,
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
    )
    // The comparison covers formatting: the same words in bold are a change.
    assert.strictEqual(formatted.status, 200)
  })

  it("edits: unknown ids, a user's message, a reply-keyboard message and a media message are refused as Telegram does", async () => {
    const sandbox = await start()
    const mine = await sandbox.seedMessage("mine")
    const chat = mine.providerChatId
    const users = await sandbox.seedMessage("theirs", { providerChatId: chat }, { from: "user" })
    const keyboard = await sandbox.seedMessage("pick one", { providerChatId: chat }, { keyboard: "reply" })
    const photo = await sandbox.seedMessage("a caption", { providerChatId: chat }, { kind: "photo" })
    const edit = (messageId: unknown, text = "new") =>
      api(sandbox, "editMessageText", { chat_id: chat, message_id: messageId, text })
    const answers = await Promise.all([
      edit(999),
      edit(0),
      edit(-3),
      edit(users.providerMessageId),
      edit(keyboard.providerMessageId),
      edit(photo.providerMessageId),
      api(sandbox, "editMessageText", { chat_id: 777, message_id: 1, text: "x" })
    ])
    assert.deepStrictEqual(
      answers.map((reply) => reply.body.description),
      [
        "Bad Request: message to edit not found",
        "Bad Request: message to edit not found",
        "Bad Request: message to edit not found",
        "Bad Request: message can't be edited",
        "Bad Request: message can't be edited",
        "Bad Request: there is no text in the message to edit",
        "Bad Request: chat not found"
      ]
    )
  })

  it("edits: lengths are counted after parsing (1-4096 for a text, 0-1024 for a caption)", async () => {
    const sandbox = await start()
    const text = await sandbox.seedMessage("short")
    const photo = await sandbox.seedMessage("a caption", {}, { kind: "photo" })
    const t = { chat_id: text.providerChatId, message_id: text.providerMessageId }
    const p = { chat_id: photo.providerChatId, message_id: photo.providerMessageId }
    const answers = await Promise.all([
      api(sandbox, "editMessageText", { ...t, text: "" }),
      api(sandbox, "editMessageText", { ...t, text: "   " }),
      api(sandbox, "editMessageText", { ...t, text: "x".repeat(4097) }),
      api(sandbox, "editMessageText", { ...t, text: "x".repeat(40_000) }),
      api(sandbox, "editMessageCaption", { ...p, caption: "x".repeat(1025) }),
      api(sandbox, "editMessageText", { ...t, text: `<b>${"x".repeat(4096)}</b>`, parse_mode: "HTML" }),
      api(sandbox, "editMessageText", { ...t, text: "<b broken", parse_mode: "HTML" })
    ])
    assert.deepStrictEqual(
      answers.map((reply) => reply.body.description ?? "ok"),
      [
        "Bad Request: message text is empty",
        "Bad Request: message text is empty",
        "Bad Request: MESSAGE_TOO_LONG",
        "Bad Request: text is too long",
        "Bad Request: message caption is too long",
        "ok",
        "Bad Request: can't parse entities: unclosed start tag"
      ]
    )
    const emptied = await api(sandbox, "editMessageCaption", { ...p, caption: "" })
    assert.strictEqual(emptied.status, 200)
    assert.isUndefined(emptied.body.result.caption)
  })

  it("edits: a text edit without reply_markup drops the inline keyboard; sending it again keeps it", async () => {
    const sandbox = await start()
    const ids = await sandbox.seedMessage("with buttons", {}, { keyboard: "inline" })
    const target = { chat_id: ids.providerChatId, message_id: ids.providerMessageId }
    const markup = { inline_keyboard: [[{ text: "Open", callback_data: "open" }]] }
    const kept = await api(sandbox, "editMessageText", { ...target, text: "still with buttons", reply_markup: markup })
    assert.deepStrictEqual(kept.body.result.reply_markup, markup)
    const dropped = await api(sandbox, "editMessageText", { ...target, text: "no buttons now" })
    assert.isUndefined(dropped.body.result.reply_markup)
    assert.strictEqual(sandbox.message(ids.providerChatId, ids.providerMessageId)?.keyboard, undefined)
  })

  it("injects the documented failures: 429, 403, chat not found, migration, 5xx as JSON and as HTML, resets, hangs, 409", async () => {
    const sandbox = await start()
    const ids = await sandbox.seedMessage("x")
    const edit = () =>
      fetch(`${sandbox.url}/bot${sandbox.botToken}/editMessageText`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: ids.providerChatId, message_id: ids.providerMessageId, text: "y" }),
        signal: AbortSignal.timeout(500)
      }).then(
        async (response) => {
          const text = await response.text()
          const description = text.startsWith("{") ? JSON.parse(text).description : text.slice(0, 40)
          return `${response.status} ${description}`
        },
        (error: Error) => error.name
      )
    const { Faults } = TelegramSandbox
    const faults = [
      Faults.tooManyRequests(3),
      Faults.blocked(),
      Faults.chatNotFound(),
      Faults.migrated(-1009),
      Faults.serverError(502),
      Faults.html(502),
      Faults.conflict(),
      Faults.reset(),
      Faults.hang()
    ]
    for (const fault of faults) sandbox.server.inject({ fault, times: 1 })
    const outcomes: Array<string> = []
    for (const _ of faults) outcomes.push(await edit())
    assert.deepStrictEqual(outcomes.slice(0, 7), [
      "429 Too Many Requests: retry after 3",
      "403 Forbidden: bot was blocked by the user",
      "400 Bad Request: chat not found",
      "400 Bad Request: group chat was upgraded to a supergroup chat",
      "502 Bad Gateway",
      "502 <html><head><title>502 Bad Gateway</titl",
      "409 Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    ])
    assert.strictEqual(outcomes[7], "TypeError")
    assert.strictEqual(outcomes[8], "TimeoutError")
    // Stateful versions: a blocked bot, an upgraded group.
    sandbox.blockBot(ids.providerChatId)
    const blocked = await api(sandbox, "sendMessage", { chat_id: ids.providerChatId, text: "hi" })
    assert.strictEqual(blocked.body.description, "Forbidden: bot was blocked by the user")
    const group = sandbox.openChat("group")
    const supergroup = sandbox.migrateChat(group.id)
    const moved = await api(sandbox, "sendMessage", { chat_id: group.id, text: "hi" })
    assert.deepStrictEqual(moved.body.parameters, { migrate_to_chat_id: supergroup.id })
  })

  it("deletes within 48 hours of sending only; a deleted message is gone", async () => {
    const sandbox = await start()
    const fresh = await sandbox.seedMessage("fresh")
    const old = await sandbox.seedMessage("old", {}, { agoMs: 48 * HOUR + 1_000 })
    const del = (ids: TelegramSandbox.SeededIds) =>
      api(sandbox, "deleteMessage", { chat_id: ids.providerChatId, message_id: ids.providerMessageId })
    assert.deepStrictEqual((await del(fresh)).body, { ok: true, result: true })
    assert.strictEqual((await del(old)).body.description, "Bad Request: message can't be deleted")
    assert.strictEqual((await del(fresh)).body.description, "Bad Request: message to delete not found")
    assert.isUndefined(sandbox.inspect(fresh))
  })

  it("keeps a clock the test moves: edit dates, and 48 hours for a business message the bot did not send", async () => {
    const sandbox = await start()
    const connection = sandbox.connectBusiness()
    const ids = await sandbox.seedMessage("from the shop", {}, { from: "user", businessConnectionId: connection })
    const edit = (text: string) =>
      api(sandbox, "editMessageText", {
        chat_id: ids.providerChatId,
        message_id: ids.providerMessageId,
        business_connection_id: connection,
        text
      })
    sandbox.advanceClock(47 * HOUR)
    const within = await edit("still editable")
    assert.strictEqual(within.status, 200)
    assert.strictEqual(within.body.result.edit_date - within.body.result.date, 47 * 3600)
    sandbox.advanceClock(2 * HOUR)
    assert.strictEqual((await edit("too late")).body.description, "Bad Request: message can't be edited")
    // The bot's own business messages have no window.
    const own = await sandbox.seedMessage("from the bot", {}, { businessConnectionId: connection, agoMs: 72 * HOUR })
    const late = await api(sandbox, "editMessageText", {
      chat_id: own.providerChatId,
      message_id: own.providerMessageId,
      business_connection_id: connection,
      text: "edited late"
    })
    assert.strictEqual(late.status, 200)
  })

  it("keeps an update queue read by getUpdates with offsets; the bot's own messages make no update", async () => {
    const sandbox = await start()
    const chat = sandbox.openChat()
    await api(sandbox, "sendMessage", { chat_id: chat.id, text: "from the bot" })
    const user = sandbox.userSends(chat.id, "hello bot")
    sandbox.userEdits(chat.id, user.messageId, "hello bot!")
    // An edit that changes nothing visible is an update too.
    sandbox.userEdits(chat.id, user.messageId, "hello bot!")
    const all = await api(sandbox, "getUpdates")
    const kinds = all.body.result.map((update: Record<string, unknown>) => Object.keys(update).sort().join(","))
    assert.deepStrictEqual(kinds, ["message,update_id", "edited_message,update_id", "edited_message,update_id"])
    const [first, second, third] = all.body.result.map((update: { update_id: number }) => update.update_id)
    assert.deepStrictEqual([second - first, third - second], [1, 1])
    assert.strictEqual(all.body.result[1].edited_message.text, "hello bot!")
    assert.isNumber(all.body.result[1].edited_message.edit_date)
    // Confirming: offset = last + 1 forgets what came before; a negative offset keeps the last ones.
    const rest = await api(sandbox, "getUpdates", { offset: second })
    assert.strictEqual(rest.body.result.length, 2)
    sandbox.userSends(chat.id, "more")
    const last = await api(sandbox, "getUpdates", { offset: -1 })
    assert.strictEqual(last.body.result.length, 1)
    assert.strictEqual(sandbox.pendingUpdates().length, 1)
  })

  it("answers 409 to a second long poll, and to getUpdates while a webhook is set; drops updates after 24 hours", async () => {
    const sandbox = await start()
    const chat = sandbox.openChat()
    const waiting = api(sandbox, "getUpdates", { timeout: 5 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const second = api(sandbox, "getUpdates", { timeout: 1 })
    const first = await waiting
    assert.strictEqual(first.status, 409)
    assert.strictEqual(
      first.body.description,
      "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )
    sandbox.userSends(chat.id, "wakes the poll")
    assert.strictEqual((await second).body.result.length, 1)
    await api(sandbox, "setWebhook", { url: "http://127.0.0.1:9/hook" })
    const refused = await api(sandbox, "getUpdates")
    assert.strictEqual(
      refused.body.description,
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )
    await api(sandbox, "deleteWebhook")
    sandbox.advanceClock(24 * HOUR + 1_000)
    assert.deepStrictEqual((await api(sandbox, "getUpdates")).body.result, [])
  })
})

describe("the Telegram sandbox's contract details", () => {
  it.live("stops with a long poll waiting, and answers it", () =>
    Effect.gen(function* () {
      const sandbox = yield* Effect.promise(() => TelegramSandbox.start())
      const poll = api(sandbox, "getUpdates", { timeout: 30 }).then(
        (reply) => reply.status,
        () => "cut"
      )
      yield* Effect.sleep("50 millis")
      yield* Effect.promise(() => sandbox.stop())
      const outcome = yield* Effect.promise(() => poll)
      assert.include([200, "cut"], outcome)
    })
  )

  it("refuses a bad token or bad seed ids", async () => {
    const refusal = await TelegramSandbox.start({ botToken: "nope" }).then(
      () => undefined,
      (error: unknown) => error
    )
    assert.instanceOf(refusal, TypeError)
    const sandbox = await start()
    const bad = await sandbox.seedMessage("x", { providerMessageId: -1 }).catch((error: unknown) => error)
    assert.instanceOf(bad, TypeError)
  })
})
