/**
 * A portal and an OAuth server as a `fetch` function (the transport's `fetch`
 * option): no socket, no nock, each answer computed from the request.
 */
import { Bitrix24 } from "@reword/bitrix24"
import { Effect } from "effect"
import { type RequestBody, settings } from "./bitrix24.ts"

export interface Seen {
  readonly url: URL
  readonly method: string
  readonly text: string
}

export type Handler = (request: Seen) => Response | Promise<Response>

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers }
  })

/** A `fetch` answering with `handler`, recording every request in `seen`. */
export const fakeFetch = (handler: Handler, seen: Array<Seen> = []): typeof globalThis.fetch =>
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    const entry: Seen = { url: new URL(request.url), method: request.method, text: await request.text() }
    seen.push(entry)
    return handler(entry)
  }) as typeof globalThis.fetch

export const bodyJson = (seen: Seen): RequestBody => JSON.parse(seen.text) as RequestBody

export const formOf = (seen: Seen): URLSearchParams => new URLSearchParams(seen.text)

/** An editor on the fake servers, no retries unless asked. */
export const editorOn = (handler: Handler, options: Bitrix24.Options = {}, seen: Array<Seen> = []) =>
  Bitrix24.make(settings(), {
    retry: { maxAttempts: 1 },
    ...options,
    transport: { ...options.transport, fetch: fakeFetch(handler, seen) }
  }).pipe(Effect.orDie)
