/**
 * A TCP proxy on 127.0.0.1 in front of a database: `cut()` closes every connection and refuses new
 * ones (the database went away: a restart, a failover, a network partition), `restore()` listens on the
 * same port again. What the client sees is a real outage: refused connections and reset sockets.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net"

export interface Cuttable {
  /** The database's URL, through the proxy. */
  readonly url: string
  readonly cut: () => Promise<void>
  readonly restore: () => Promise<void>
  readonly close: () => Promise<void>
}

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : port)
    })
  })

/** A proxy to the host and port of `target` (a `postgres://` URL). */
export const cuttable = async (target: string): Promise<Cuttable> => {
  const upstream = new URL(target)
  const sockets = new Set<Socket>()
  const make = () =>
    createServer((client) => {
      const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) })
      for (const socket of [client, server]) {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => {
          client.destroy()
          server.destroy()
        })
      }
      client.pipe(server).pipe(client)
    })
  let server = make()
  const port = await listen(server, 0)
  const url = new URL(target)
  url.host = `127.0.0.1:${port}`
  const cut = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    url: url.toString(),
    cut,
    restore: async () => {
      server = make()
      await listen(server, port)
    },
    close: async () => {
      if (server.listening) await cut()
    }
  }
}
