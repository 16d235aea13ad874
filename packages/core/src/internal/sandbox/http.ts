/**
 * The sandbox server's HTTP side: reading a bounded body, refusing one too
 * large, encoding an answer, and playing a fault on a response.
 */
import type * as http from "node:http"
import type { Socket } from "node:net"
import type { Fault } from "../../SandboxServer.ts"

/** The body, or `undefined` when it is longer than `limit` bytes (then reading stops: the rest is never taken in). */
export const readBody = (request: http.IncomingMessage, limit: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > limit) {
      request.pause()
      resolve(undefined)
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        settled = true
        request.off("data", onData)
        request.pause()
        chunks.length = 0
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    }
    request.on("data", onData)
    request.on("end", () => {
      if (!settled) resolve(Buffer.concat(chunks).toString("utf8"))
    })
    request.on("error", (error) => {
      if (!settled) reject(error)
    })
  })

/**
 * Answers 413 and closes the connection once the answer is out (a client that
 * is still sending gets it, then the connection ends; nothing more is read).
 */
export const refuseTooLarge = (response: http.ServerResponse, limit: number) => {
  const socket = response.socket
  response.shouldKeepAlive = false
  response.writeHead(413, { "content-type": "application/json; charset=utf-8", connection: "close" })
  response.end(
    JSON.stringify({
      error: "PAYLOAD_TOO_LARGE",
      error_description: `The request body is larger than the sandbox takes (${limit} bytes)`
    }),
    () => {
      // Let the client read the answer, then cut the connection: the unread rest is dropped with it.
      setTimeout(() => socket?.destroy(), 50).unref()
    }
  )
}

export const encode = (body: unknown): { readonly text: string; readonly type: string } =>
  typeof body === "string"
    ? { text: body, type: "text/plain; charset=utf-8" }
    : { text: body === undefined ? "" : JSON.stringify(body), type: "application/json; charset=utf-8" }

const reset = (socket: Socket) => {
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
  else socket.destroy()
}

/** Plays a fault on a response; answers the status played, or `undefined` when the connection was cut or left open. */
export const play = (fault: Fault, response: http.ServerResponse): number | undefined => {
  switch (fault._tag) {
    case "Status": {
      const { text, type } = encode(fault.body)
      response.writeHead(fault.status, { "content-type": type, ...fault.headers })
      response.end(text)
      return fault.status
    }
    case "Html":
      response.writeHead(fault.status, { "content-type": "text/html" })
      response.end(
        `<html><head><title>${fault.status} Bad Gateway</title></head><body><h1>${fault.status}</h1></body></html>`
      )
      return fault.status
    case "MalformedJson":
      response.writeHead(fault.status, { "content-type": "application/json" })
      response.end(`{"result": {"SUCCESS": tru`)
      return fault.status
    case "Empty":
      response.writeHead(fault.status, { "content-length": "0" })
      response.end()
      return fault.status
    case "Truncated": {
      const full = JSON.stringify({ result: { SUCCESS: true, DATA: { RESULT: [] } }, data: { id: 1 } })
      response.writeHead(200, { "content-type": "application/json", "content-length": String(full.length) })
      response.write(full.slice(0, Math.floor(full.length / 2)))
      setTimeout(() => response.socket?.destroy(), 5)
      return undefined
    }
    case "Reset":
      if (response.socket !== null) reset(response.socket)
      return undefined
    case "Hang":
      return undefined
  }
}
