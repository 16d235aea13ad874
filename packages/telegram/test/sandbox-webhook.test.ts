/**
 * The sandbox's webhook delivery, against a real HTTP receiver on 127.0.0.1:
 * the secret header, one update at a time per chat, redelivery of the same
 * update after a non-2xx answer or a timeout (with a backoff that doubles),
 * `Retry-After`, and `getWebhookInfo`.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { TelegramSandbox } from "@reword/telegram/sandbox"

interface Received {
  readonly updateId: number
  readonly chatId: number
  readonly secret: string | undefined
  readonly at: number
}

type Respond = (received: Received, response: http.ServerResponse) => void

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

/** A webhook receiver: records each delivery and answers as `respond` says (200 by default). */
const receiver = async (respond: Respond = (_, response) => response.end("ok")) => {
  const received: Array<Received> = []
  const server = http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const update = JSON.parse(Buffer.concat(chunks).toString("utf8"))
      const message = update.message ?? update.edited_message
      const entry = {
        updateId: update.update_id,
        chatId: message.chat.id,
        secret: request.headers["x-telegram-bot-api-secret-token"] as string | undefined,
        at: Date.now()
      }
      received.push(entry)
      respond(entry, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

const sandboxWith = async (timing: TelegramSandbox.WebhookTiming = {}) => {
  const sandbox = await TelegramSandbox.start({
    webhook: { timeoutMs: 400, retryBaseMs: 40, retryMaxMs: 160, ...timing }
  })
  cleanups.push(() => sandbox.stop())
  return sandbox
}

const setWebhook = (sandbox: TelegramSandbox.Sandbox, params: Record<string, unknown>) =>
  fetch(`${sandbox.url}/bot${sandbox.botToken}/setWebhook`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params)
  }).then((response) => response.json())

/** Waits (bounded) until `done` holds. */
const until = async (done: () => boolean, what: string, limitMs = 10_000): Promise<void> => {
  const deadline = Date.now() + limitMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe("the Telegram sandbox's webhook", () => {
  it("delivers each update once, as JSON with the secret header, and confirms it on a 2xx", async () => {
    const sandbox = await sandboxWith()
    const hook = await receiver()
    const chat = sandbox.openChat()
    assert.deepStrictEqual(await setWebhook(sandbox, { url: hook.url, secret_token: "s3cr3t_token-1" }), {
      ok: true,
      result: true
    })
    const sent = sandbox.userSends(chat.id, "hello")
    sandbox.userEdits(chat.id, sent.messageId, "hello!")
    await until(() => hook.received.length === 2 && sandbox.pendingUpdates().length === 0, "two deliveries")
    assert.deepStrictEqual(
      hook.received.map((entry) => entry.secret),
      ["s3cr3t_token-1", "s3cr3t_token-1"]
    )
    assert.strictEqual(hook.received[1]?.updateId, (hook.received[0]?.updateId ?? 0) + 1)
    const bad = await setWebhook(sandbox, { url: hook.url, secret_token: "has spaces" })
    assert.strictEqual(bad.description, "Bad Request: secret token contains unallowed characters")
  })

  it("delivers one update at a time per chat; other chats go on meanwhile", async () => {
    const sandbox = await sandboxWith({ timeoutMs: 5_000 })
    const held: Array<http.ServerResponse> = []
    const a = sandbox.openChat()
    const b = sandbox.openChat()
    const hook = await receiver((entry, response) => {
      if (entry.chatId === a.id && held.length === 0) held.push(response)
      else response.end("ok")
    })
    await setWebhook(sandbox, { url: hook.url })
    sandbox.userSends(a.id, "a1")
    sandbox.userSends(a.id, "a2")
    sandbox.userSends(b.id, "b1")
    await until(() => hook.received.some((entry) => entry.chatId === b.id), "chat b's update")
    await new Promise((resolve) => setTimeout(resolve, 200))
    // a2 waits for a1's answer.
    assert.deepStrictEqual(hook.received.filter((entry) => entry.chatId === a.id).length, 1)
    held[0]?.end("ok")
    await until(() => hook.received.filter((entry) => entry.chatId === a.id).length === 2, "a2")
    await until(() => sandbox.pendingUpdates().length === 0, "every update confirmed")
    assert.deepStrictEqual(
      sandbox.deliveries.map((delivery) => delivery.outcome),
      [200, 200, 200]
    )
  })

  it("redelivers the same update after a non-2xx answer and after a timeout, the pause doubling", async () => {
    const sandbox = await sandboxWith({ timeoutMs: 200, retryBaseMs: 60, retryMaxMs: 1_000 })
    let calls = 0
    const hook = await receiver((_, response) => {
      calls += 1
      if (calls === 1) response.writeHead(500).end()
      else if (calls === 2) response.writeHead(503).end()
      else if (calls === 3)
        return // no answer: a timeout
      else response.end("ok")
    })
    const chat = sandbox.openChat()
    await setWebhook(sandbox, { url: hook.url })
    sandbox.userSends(chat.id, "retry me")
    await until(() => sandbox.pendingUpdates().length === 0, "the update to be confirmed").catch((error) => {
      throw new Error(`${error}: ${JSON.stringify({ deliveries: sandbox.deliveries, received: hook.received, calls })}`)
    })
    assert.deepStrictEqual(
      sandbox.deliveries.map((delivery) => delivery.outcome),
      [500, 503, "timeout", 200]
    )
    assert.strictEqual(new Set(hook.received.map((entry) => entry.updateId)).size, 1)
    const gaps = hook.received.slice(1).map((entry, index) => entry.at - (hook.received[index]?.at ?? 0))
    // The first retry at once; then after 60 ms; then after the 200 ms timeout and 120 ms (lower bounds only).
    assert.isAtLeast(gaps[1] ?? 0, 55)
    assert.isAtLeast(gaps[2] ?? 0, 300)
    const info = await fetch(`${sandbox.url}/bot${sandbox.botToken}/getWebhookInfo`).then((r) => r.json())
    assert.strictEqual(info.result.url, hook.url)
    assert.strictEqual(info.result.pending_update_count, 0)
    assert.strictEqual(info.result.last_error_message, "Connection timed out")
  })

  it("waits as long as the answer's Retry-After says before redelivering", async () => {
    const sandbox = await sandboxWith({ retryBaseMs: 10 })
    let calls = 0
    const hook = await receiver((_, response) => {
      calls += 1
      if (calls <= 2) response.writeHead(429, { "retry-after": "1" }).end()
      else response.end("ok")
    })
    const chat = sandbox.openChat()
    await setWebhook(sandbox, { url: hook.url })
    sandbox.userSends(chat.id, "slow down")
    await until(() => sandbox.pendingUpdates().length === 0, "the update to be confirmed")
    const gap = (hook.received[2]?.at ?? 0) - (hook.received[1]?.at ?? 0)
    assert.isAtLeast(gap, 950)
  })
})
