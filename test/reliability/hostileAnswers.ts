/**
 * A hostile server on the loopback address, and an editor of each provider
 * pointed at it (plain HTTP to loopback, opted in): whatever the test sets as
 * the next answer is what every request gets, the edit endpoint and the OAuth
 * token endpoint alike. Shared by `hostile-answers.test.ts`,
 * `secrets-echo.test.ts` and the fault matrix's hostile rows.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Acquire } from "@reword/acquire"
import { Bitrix24 } from "@reword/bitrix24"
import type { MessageEditor } from "@reword/core"
import { Effect, Redacted } from "effect"

/** One answer: a status, headers and a body (text or bytes). */
export interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body: string | Uint8Array
}

/** What the hostile server received: each request's method, path and body. */
export interface Received {
  readonly method: string
  readonly path: string
  readonly body: string
}

export interface HostileServer {
  readonly url: string
  /** The answer every request gets from now on; a function sees the request. */
  readonly answer: (next: Answer | ((request: Received) => Answer)) => void
  readonly received: Array<Received>
}

/** A server on 127.0.0.1 for the life of the scope that answers whatever it was told to. */
export const hostileServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<HostileServer & { readonly close: () => Promise<void> }>((resolve) => {
        let next: Answer | ((request: Received) => Answer) = { status: 200, body: "{}" }
        const received: Array<Received> = []
        const server = http.createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const seen = {
              method: request.method ?? "",
              path: new URL(request.url ?? "/", "http://x").pathname,
              body: Buffer.concat(chunks).toString("utf8")
            }
            received.push(seen)
            const answer = typeof next === "function" ? next(seen) : next
            response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers })
            response.end(answer.body)
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resolve({
            url: `http://127.0.0.1:${port}`,
            received,
            answer: (answer) => {
              next = answer
            },
            close: () =>
              new Promise<void>((done) => {
                server.closeAllConnections()
                server.close(() => done())
              })
          })
        })
      })
  ),
  (server) => Effect.promise(() => server.close())
)

/** The credentials the editors hold: what must never come back out of reword. */
export const CREDENTIALS = {
  accessToken: "b24-access-token/0123456789+abcdef==",
  refreshToken: "b24-refresh-token/9876543210+fedcba==",
  clientSecret: "b24-client-secret/Zz9+Yy8/Xx7==",
  apiKey: "acq-api-key/0123456789+ABCDEF=="
} as const

/** The credentials as the reliability suite names them (see `support.ts`). */
export const CREDENTIAL_SECRETS = [
  { name: "access token", value: CREDENTIALS.accessToken },
  { name: "refresh token", value: CREDENTIALS.refreshToken },
  { name: "client secret", value: CREDENTIALS.clientSecret },
  { name: "API key", value: CREDENTIALS.apiKey }
] as const

const FAST = {
  retry: { maxAttempts: 1 },
  transport: { timeout: 5_000 }
} as const

/** A Bitrix24 editor whose portal and OAuth server are the hostile server. */
export const bitrix24Editor = (server: HostileServer): Effect.Effect<MessageEditor.Service> =>
  Effect.orDie(
    Bitrix24.make(
      {
        portalUrl: new URL(`${server.url}/`),
        oauthUrl: new URL(server.url),
        accessToken: Redacted.make(CREDENTIALS.accessToken),
        refreshToken: Redacted.make(CREDENTIALS.refreshToken),
        clientId: "local.hostile",
        clientSecret: Redacted.make(CREDENTIALS.clientSecret),
        connector: "reword_hostile",
        line: 1,
        allowInsecureLoopback: true
      },
      {
        ...FAST,
        rateLimit: { bucket: { drainPerSecond: 1_000, capacity: 1_000 }, operatingFallback: 1 },
        onOperatingLimit: "fail"
      }
    )
  )

/** An Acquire editor whose base URL is the hostile server. */
export const acquireEditor = (server: HostileServer): Effect.Effect<MessageEditor.Service> =>
  Effect.orDie(
    Acquire.make(
      {
        accountId: "hostile",
        apiKey: Redacted.make(CREDENTIALS.apiKey),
        baseUrl: `${server.url}/api/v1`,
        allowInsecureLoopback: true
      },
      { retry: FAST.retry, transport: { timeout: FAST.transport.timeout } }
    )
  )

export const bitrix24Request = (id: string) => ({
  ids: { externalMessageId: id, externalChatId: "c-1", externalAuthorId: "u-1" },
  text: `edited ${id}`
})

export const acquireRequest = (id: number) => ({ ids: { providerMessageId: id }, text: `edited ${id}` })
