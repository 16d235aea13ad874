import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

/** What a {@link countingServer} saw: sockets open now, the most open at once, and requests answered. */
export interface Counts {
  readonly url: string
  readonly open: () => number
  readonly peak: () => number
  readonly sockets: () => number
  readonly answered: () => number
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) for the life of the scope that
 * counts the sockets open to it (the most ever open at once, and how many were
 * opened in all) and answers each request with JSON after `delayMillis`
 * (a number, or one per request path).
 */
export const countingServer = (options: {
  readonly delayMillis?: number | ((url: string) => number)
  readonly answer?: (url: string, body: string) => unknown
}) =>
  Effect.acquireRelease(
    Effect.callback<Counts & { readonly server: http.Server; readonly timers: Set<NodeJS.Timeout> }>((resume) => {
      let open = 0
      let peak = 0
      let sockets = 0
      let answered = 0
      const timers = new Set<NodeJS.Timeout>()
      const delayOf = (url: string) =>
        typeof options.delayMillis === "function" ? options.delayMillis(url) : (options.delayMillis ?? 0)
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          const timer = setTimeout(
            () => {
              timers.delete(timer)
              answered++
              res.writeHead(200, { "content-type": "application/json" })
              res.end(JSON.stringify(options.answer?.(req.url ?? "/", body) ?? { ok: true }))
            },
            delayOf(req.url ?? "/")
          )
          timers.add(timer)
        })
      })
      server.on("connection", (socket) => {
        open++
        sockets++
        peak = Math.max(peak, open)
        socket.on("close", () => {
          open--
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            open: () => open,
            peak: () => peak,
            sockets: () => sockets,
            answered: () => answered,
            server,
            timers
          })
        )
      })
    }),
    ({ server, timers }) =>
      Effect.callback<void>((resume) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
