/**
 * `Handlers.web` behind a real HTTP server: a `node:http` server that turns each request into a Fetch-API
 * `Request` (as Hono's or any Fetch adapter does) and writes back the `Response`. A verified update is
 * stored and answered 200, a repeat 200 as a duplicate, a spoofed one 403, a body past the limit 413
 * whether or not it declares its length, and a Bitrix24 event with a wrong token 403.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningApp, start } from "../../../examples/relay/app.ts"
import { Handlers } from "../src/index.ts"
import { appConfig, postBitrix24Edit, SECRET } from "./support/world.ts"

let telegram: TelegramSandbox.Sandbox
let portals: Bitrix24Portals.Portals
let portal: Bitrix24Portals.Portal
let app: RunningApp
let server: Server
let url: string
let directory: string

/** Serves a Fetch-API handler per path on `node:http`. */
const fetchServer = (routes: Record<string, (request: Request) => Promise<Response>>) =>
  createServer((incoming, outgoing) => {
    const handler = routes[incoming.url ?? ""]
    if (handler === undefined) return void outgoing.writeHead(404).end()
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD"
    const request = new Request(`http://127.0.0.1${incoming.url}`, {
      method: incoming.method ?? "GET",
      headers: Object.entries(incoming.headers).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : value] as [string, string]]
      ),
      ...(hasBody ? { body: Readable.toWeb(incoming) as ReadableStream, duplex: "half" } : {})
    } as RequestInit)
    void handler(request).then(async (response) => {
      outgoing.writeHead(response.status, Object.fromEntries(response.headers.entries()))
      outgoing.end(Buffer.from(await response.arrayBuffer()))
    })
  })

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "reword-relay-web-"))
  telegram = await TelegramSandbox.start()
  portals = await Bitrix24Portals.start()
  portal = portals.add()
  // Stores and answers only: what is tested here is the handler.
  app = await start({ ...appConfig(telegram, portal, join(directory, "relay.db"), "web_"), worker: false })
  server = fetchServer({
    "/telegram": Handlers.web(app.relay, "telegram"),
    "/bitrix24": Handlers.web(app.relay, "bitrix24", { maxBodyBytes: 4096 })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await app?.close()
  await telegram?.stop()
  await portals?.stop()
  rmSync(directory, { recursive: true, force: true })
})

const update = (id: number, secret: string | undefined) =>
  fetch(`${url}/telegram`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret })
    },
    body: JSON.stringify({
      update_id: id,
      edited_message: { message_id: 5, chat: { id: 9, type: "private" }, date: 1, edit_date: 2, text: "Web edit" }
    })
  })

describe("Handlers.web behind a real server", () => {
  it("stores a verified update, answers a repeat as a duplicate, refuses a spoofed one", async () => {
    const first = await update(501, SECRET)
    expect(first.status).toBe(200)
    expect(await first.json()).toMatchObject({ ok: true, accepted: 1, duplicates: 0 })
    const again = await update(501, SECRET)
    expect(await again.json()).toMatchObject({ ok: true, accepted: 0, duplicates: 1 })
    const spoofed = await update(502, "not-the-secret")
    expect(spoofed.status).toBe(403)
    expect(await spoofed.text()).not.toContain(SECRET)
    const rows = await Effect.runPromise(app.relay.journal())
    expect(rows.map((row) => [row.event.eventId, row.kind, row.state])).toEqual([
      ["telegram:bot:501", "MessageEdited", "pending"]
    ])
  })

  it("answers 413 to a body past the limit, with or without its length declared", async () => {
    const big = "x".repeat(10_000)
    const declared = await fetch(`${url}/bitrix24`, { method: "POST", body: big })
    expect(declared.status).toBe(413)
    // Streamed (chunked): no content-length to go by, and a body that never ends once past the limit: the
    // handler answers without reading it to its end (a handler that read it all would never answer).
    const chunks = [new TextEncoder().encode(big.slice(0, 3000)), new TextEncoder().encode(big.slice(3000))]
    const hang = new AbortController()
    const streamed = await fetch(`${url}/bitrix24`, {
      method: "POST",
      body: new ReadableStream({
        pull: async (controller) => {
          const next = chunks.shift()
          if (next !== undefined) return controller.enqueue(next)
          await new Promise((resolve) => hang.signal.addEventListener("abort", resolve))
          controller.close()
        }
      }),
      duplex: "half",
      signal: AbortSignal.timeout(30_000)
    } as RequestInit).finally(() => hang.abort())
    expect(streamed.status).toBe(413)
  })

  it("refuses a Bitrix24 event whose token is wrong, naming no token", async () => {
    const answer = await postBitrix24Edit(url, portal, "f".repeat(32))
    expect(answer.status).toBe(403)
    expect(await answer.text()).not.toContain(portal.applicationToken)
  })
})
