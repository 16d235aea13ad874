/**
 * Measuring a PostgreSQL client from outside: fresh databases on the server,
 * the server's CPU (its backends' time in /proc), and a loopback proxy that
 * counts the statements a client sends (simple queries and extended-protocol
 * executes), the same way for every client library.
 */
import { readdirSync, readFileSync } from "node:fs"
import { connect, createServer, type Server, type Socket } from "node:net"
import pg from "pg"

/** A database URL with another database name. */
export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/** Creates (or re-creates) a database on the server named by `url`; answers its URL. */
export const freshDatabase = async (url: string, name: string): Promise<string> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  return withDatabase(url, name)
}

/** Drops a database made by {@link freshDatabase}. */
export const dropDatabase = async (url: string, name: string): Promise<void> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  } finally {
    await client.end()
  }
}

const TICKS_PER_SECOND = 100

/** CPU seconds used so far by the PostgreSQL processes on this machine (0 where /proc cannot be read). */
export const serverCpuSeconds = (): number => {
  let ticks = 0
  let entries: Array<string> = []
  try {
    entries = readdirSync("/proc")
  } catch {
    return 0
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const close = stat.lastIndexOf(")")
      const name = stat.slice(stat.indexOf("(") + 1, close)
      if (!name.startsWith("postgres")) continue
      const fields = stat.slice(close + 2).split(" ")
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND
}

/** Counts frontend messages of one connection: `Q` (simple query) and `E` (execute) are statements. */
const countingPipe = (from: Socket, to: Socket, onStatement: () => void) => {
  let buffer: Buffer = Buffer.alloc(0)
  let started = false
  from.on("data", (chunk: Buffer) => {
    to.write(chunk)
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    for (;;) {
      if (!started) {
        // The startup packet (and an SSL or GSS request before it) has a length and no type byte.
        if (buffer.length < 8) return
        const length = buffer.readInt32BE(0)
        if (buffer.length < length) return
        const code = buffer.readInt32BE(4)
        buffer = buffer.subarray(length)
        if (code !== 80877103 && code !== 80877104) started = true
        continue
      }
      if (buffer.length < 5) return
      const length = buffer.readInt32BE(1)
      if (buffer.length < length + 1) return
      const type = String.fromCharCode(buffer[0] ?? 0)
      if (type === "Q" || type === "E") onStatement()
      buffer = buffer.subarray(length + 1)
    }
  })
}

/** A proxy in front of the server of `url`; `url` of the proxy, the count so far, and `close`. */
export const statementCounter = async (
  url: string
): Promise<{ readonly url: string; readonly statements: () => number; readonly close: () => Promise<void> }> => {
  const target = new URL(url)
  let statements = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    countingPipe(client, upstream, () => statements++)
    upstream.on("data", (chunk) => client.write(chunk))
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on("close", end).on("error", end)
    upstream.on("close", end).on("error", end)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const proxied = new URL(url)
  proxied.hostname = "127.0.0.1"
  proxied.port = String(port)
  return {
    url: proxied.toString(),
    statements: () => statements,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
