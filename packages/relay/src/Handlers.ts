/**
 * The relay behind common servers, thin over its verify-and-store steps: a
 * `node:http` request listener, and a Web `Request` -> `Response` function
 * for any framework that speaks the Fetch API. Each reads the body (bounded:
 * a larger one is answered 413 without being read to its end), hands
 * method, headers and body to the relay, and writes its answer.
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { InboundEvent } from "@reword/core"
import { Effect } from "effect"
import type * as Relay from "./Relay.ts"

/**
 * Which side a request is from: `telegram` (its webhook) or `bitrix24` (its
 * event handler URL).
 *
 * @since 0.1.0
 */
export type Side = "telegram" | "bitrix24"

/**
 * The largest body a handler reads: 1 MiB.
 *
 * @since 0.1.0
 */
export const MAX_BODY_BYTES = 1_048_576

const tooLarge = { status: 413, body: JSON.stringify({ ok: false, error: "TooLarge", description: "body too large" }) }

const answerOf = (relay: Relay.Service, side: Side, request: InboundEvent.HttpRequest) =>
  Effect.runPromise(side === "telegram" ? relay.telegram(request) : relay.bitrix24(request))

/** Reads a request's body, up to `max` bytes: `undefined` past it. */
const readBody = (request: IncomingMessage, max: number): Promise<Uint8Array | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > max) {
        request.removeAllListeners("data")
        request.resume()
        resolve(undefined)
      } else chunks.push(chunk)
    })
    request.on("end", () => resolve(size > max ? undefined : Buffer.concat(chunks)))
    request.on("error", reject)
  })

/**
 * A handler's options: the largest body read, and a hook run after the
 * relay stored the request's events and before the answer is written (for
 * metrics; its failure does not change the answer).
 *
 * @since 0.1.0
 */
export interface Options {
  readonly maxBodyBytes?: number | undefined
  readonly beforeAnswer?: ((answer: Relay.Answer) => Promise<void> | void) | undefined
}

const hooked = async (options: Options, answer: Relay.Answer) => {
  await Promise.resolve(options.beforeAnswer?.(answer)).catch(() => undefined)
  return answer
}

/**
 * A `node:http` request listener for one side.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http"
 * import { Handlers, type Relay } from "@reword/relay"
 *
 * declare const relay: Relay.Service
 * const telegram = Handlers.node(relay, "telegram")
 * const bitrix24 = Handlers.node(relay, "bitrix24")
 * createServer((request, response) =>
 *   request.url === "/telegram" ? telegram(request, response) : bitrix24(request, response)
 * ).listen(8080)
 * ```
 *
 * @since 0.1.0
 */
export const node =
  (relay: Relay.Service, side: Side, options: Options = {}) =>
  (request: IncomingMessage, response: ServerResponse): Promise<void> =>
    readBody(request, options.maxBodyBytes ?? MAX_BODY_BYTES)
      .then(async (body) => {
        const answer =
          body === undefined
            ? tooLarge
            : await hooked(
                options,
                await answerOf(relay, side, { method: request.method ?? "GET", headers: request.headers, body })
              )
        response.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body)
      })
      .catch(() => {
        if (!response.headersSent) response.writeHead(400, { "content-type": "application/json" })
        response.end(JSON.stringify({ ok: false, error: "Malformed", description: "the request could not be read" }))
      })

/** Reads a Web request's body, up to `max` bytes: `undefined` past it (the rest is not read). */
const readWebBody = async (request: Request, max: number): Promise<Uint8Array | undefined> => {
  if (Number(request.headers.get("content-length") ?? "0") > max) {
    await request.body?.cancel().catch(() => undefined)
    return undefined
  }
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return Buffer.concat(chunks)
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
}

const json = (answer: { readonly status: number; readonly body: string }) =>
  new Response(answer.body, { status: answer.status, headers: { "content-type": "application/json" } })

/**
 * A Web handler for one side: `Request` in, `Response` out (Hono, Bun, Deno, Next.js route handlers, ...).
 * The body is read up to `maxBodyBytes` (413 past it, whether or not it declares its length); a body that
 * cannot be read is answered 400. The promise never rejects.
 *
 * @example
 * ```ts
 * import { Handlers, type Relay } from "@reword/relay"
 *
 * declare const relay: Relay.Service
 * export const POST = Handlers.web(relay, "bitrix24")
 * ```
 *
 * @since 0.1.0
 */
export const web =
  (relay: Relay.Service, side: Side, options: Options = {}) =>
  (request: Request): Promise<Response> =>
    readWebBody(request, options.maxBodyBytes ?? MAX_BODY_BYTES)
      .then(async (body) => {
        if (body === undefined) return json(tooLarge)
        const headers = Object.fromEntries(request.headers.entries())
        return json(await hooked(options, await answerOf(relay, side, { method: request.method, headers, body })))
      })
      .catch(() =>
        json({
          status: 400,
          body: JSON.stringify({ ok: false, error: "Malformed", description: "the request could not be read" })
        })
      )
