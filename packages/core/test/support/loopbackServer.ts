import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export type Handler = (request: Recorded, response: http.ServerResponse) => void

/** A real HTTP server on 127.0.0.1 (port 0) for the life of the scope, recording every request it gets. */
export const loopbackServer = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly requests: Array<Recorded>; readonly aborted: Array<string> }>(
      (resume) => {
        const requests: Array<Recorded> = []
        const aborted: Array<string> = []
        const server = http.createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (chunk: Buffer) => chunks.push(chunk))
          req.on("end", () => {
            const recorded = {
              method: req.method ?? "",
              url: req.url ?? "",
              headers: req.headers,
              body: Buffer.concat(chunks).toString("utf8")
            }
            requests.push(recorded)
            res.on("close", () => {
              if (!res.writableFinished) aborted.push(recorded.url)
            })
            handler(recorded, res)
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, requests, aborted, server }))
        })
      }
    ),
    (started) =>
      Effect.callback<void>((resume) => {
        const server = (started as unknown as { server: http.Server }).server
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

export const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

/** A port nothing listens on (it was free a moment ago). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = http.createServer()
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
