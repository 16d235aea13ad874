/**
 * What every provider sandbox shares: a real HTTP server on 127.0.0.1, a
 * request log, and fault injection (for the next N requests or for a seeded
 * share of them). A provider's sandbox brings its routes and its state as a
 * {@link Handler}; this module serves them. Node only (`node:http`), and kept
 * out of the main entry point: import it from `@reword/core/sandbox`.
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { Effect, Redacted, type Scope } from "effect"
import type { EditRequestInput } from "./EditRequest.ts"
import * as Secrets from "./Secrets.ts"
import * as Untrusted from "./Untrusted.ts"

/**
 * One request as a handler sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  /** The raw body. */
  readonly text: string
}

/**
 * A handler's answer: a status, a body (an object is sent as JSON, a string as
 * it is) and headers.
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxAnswer {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * A provider's routes and state.
 *
 * @category models
 * @since 0.1.0
 */
export type Handler = (request: SandboxRequest) => SandboxAnswer | Promise<SandboxAnswer>

/**
 * What can go wrong on purpose.
 *
 * @category models
 * @since 0.1.0
 */
export type Fault =
  | {
      readonly _tag: "Status"
      readonly status: number
      readonly body?: unknown
      readonly headers?: Readonly<Record<string, string>> | undefined
    }
  | { readonly _tag: "Html"; readonly status: number }
  | { readonly _tag: "MalformedJson"; readonly status: number }
  | { readonly _tag: "Empty"; readonly status: number }
  | { readonly _tag: "Truncated" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Hang" }

/**
 * Fault constructors.
 *
 * @category utils
 * @since 0.1.0
 */
export const Faults = {
  /** A status with a body (an object is sent as JSON) and headers. */
  status: (status: number, body?: unknown, headers?: Readonly<Record<string, string>>): Fault => ({
    _tag: "Status",
    status,
    body,
    headers
  }),
  /** A status (429 by default) with `Retry-After` (seconds, or an HTTP date) and a JSON body. */
  retryAfter: (retryAfter: string | number, status = 429, body: unknown = { error: "Too Many Requests" }): Fault => ({
    _tag: "Status",
    status,
    body,
    headers: { "retry-after": String(retryAfter) }
  }),
  /** An HTML page, as proxies answer when overloaded (502 by default). */
  html: (status = 502): Fault => ({ _tag: "Html", status }),
  /** A body that says it is JSON and is not. */
  malformedJson: (status = 200): Fault => ({ _tag: "MalformedJson", status }),
  /** A status with no body at all. */
  empty: (status = 200): Fault => ({ _tag: "Empty", status }),
  /** Half a JSON body, then the connection closes. */
  truncated: (): Fault => ({ _tag: "Truncated" }),
  /** The connection is reset before any answer. */
  reset: (): Fault => ({ _tag: "Reset" }),
  /** No answer, ever (until the server stops). */
  hang: (): Fault => ({ _tag: "Hang" })
} as const

/**
 * When a fault applies: to the next `times` requests, or to a seeded random
 * `share` of requests (0 to 1), optionally only to paths containing `path`.
 *
 * @category models
 * @since 0.1.0
 */
export interface FaultRule {
  readonly fault: Fault
  readonly times?: number | undefined
  readonly share?: number | undefined
  readonly seed?: number | undefined
  readonly path?: string | undefined
}

/**
 * One line of the request log: the request as received, with every credential
 * in it replaced by {@link REDACTED} (see {@link redact}), so that the log can
 * be printed, inspected or kept without holding one.
 *
 * @category models
 * @since 0.1.0
 */
export interface LoggedRequest extends SandboxRequest {
  /** When the answer went out (or the fault was played). */
  readonly at: Date
  /** When the request arrived: from it to `at`, the request was in flight at the server. */
  readonly receivedAt: Date
  /** The status answered (413 for a body over the cap), or `undefined` when the connection was reset, cut or left hanging. */
  readonly status: number | undefined
  /** The fault applied, if any. */
  readonly fault: Fault["_tag"] | undefined
}

/**
 * What a credential reads as in the request log.
 *
 * @category constants
 * @since 0.1.0
 */
export const REDACTED = Secrets.REDACTED

/**
 * The default cap on a request body: 1 MiB.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576

/**
 * Headers whose value is a credential (lower case).
 *
 * @category constants
 * @since 0.1.0
 */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "apikey",
  "x-auth-token",
  "x-access-token"
])

/**
 * Query, form and JSON fields whose value is a credential (compared in lower
 * case). `client_id` is not one: OAuth sends it in the clear, in URLs.
 *
 * @category constants
 * @since 0.1.0
 */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  "auth",
  "access_token",
  "accesstoken",
  "refresh_token",
  "refreshtoken",
  "client_secret",
  "clientsecret",
  "api_key",
  "apikey",
  "password",
  "secret",
  "token"
])

/**
 * A running sandbox server.
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Every request received, oldest first (the last `logLimit`). */
  readonly requests: ReadonlyArray<LoggedRequest>
  /** Adds a fault rule; rules are tried in the order added. */
  readonly inject: (rule: FaultRule) => void
  /** Removes every fault rule. */
  readonly clearFaults: () => void
  /** Stops the server, cutting open connections (hanging requests included). */
  readonly stop: () => Promise<void>
}

/**
 * Options of a sandbox server.
 *
 * @category options
 * @since 0.1.0
 */
export interface ServerOptions {
  /** The port (0, the default, picks a free one). */
  readonly port?: number | undefined
  /** The most requests kept in the log. Default 10,000. */
  readonly logLimit?: number | undefined
  /**
   * The largest request body taken, in bytes. A larger one (by its
   * `Content-Length`, or as it arrives) is answered `413` with
   * `{ "error": "PAYLOAD_TOO_LARGE" }` and its connection is closed: the rest
   * is never read, so a huge upload cannot grow the sandbox. Default
   * {@link DEFAULT_MAX_BODY_BYTES} (1 MiB).
   */
  readonly maxBodyBytes?: number | undefined
}

/** A small seeded generator (mulberry32), so a "share of requests" is the same share on every run. */
const seededRandom = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface ActiveRule {
  readonly rule: FaultRule
  remaining: number
  readonly random: () => number
}

/** The body, or `undefined` when it is longer than `limit` bytes (then reading stops: the rest is never taken in). */
const readBody = (request: http.IncomingMessage, limit: number): Promise<string | undefined> =>
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
const refuseTooLarge = (response: http.ServerResponse, limit: number) => {
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

/** The values of secret fields in a JSON value (bounded like every walk over untrusted data: `Untrusted`). */
const secretsInJson = (value: unknown, found: Set<string>) => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  let visited = 0
  while (stack.length > 0 && visited < Untrusted.MAX_NODES) {
    const [node, depth] = stack.pop() as readonly [unknown, number]
    visited += 1
    if (node === null || typeof node !== "object" || depth >= Untrusted.MAX_DEPTH) continue
    for (const [key, entry] of Untrusted.entries(node)) {
      if (SECRET_FIELDS.has(key.toLowerCase()) && (typeof entry === "string" || typeof entry === "number")) {
        found.add(String(entry))
      } else if (entry !== null && typeof entry === "object") {
        stack.push([entry, depth + 1])
      }
    }
  }
}

/** A header's credential: the value after its scheme (`Bearer abc` gives `abc`), and the whole value. */
const secretsInHeader = (value: string, found: Set<string>) => {
  found.add(value)
  const space = value.indexOf(" ")
  if (space > 0) {
    const credential = value.slice(space + 1).trim()
    if (credential.length > 0) found.add(credential)
    if (/^basic$/i.test(value.slice(0, space))) {
      const decoded = Buffer.from(credential, "base64").toString("utf8")
      for (const part of [decoded, ...decoded.split(":")]) if (part.length > 0) found.add(part)
    }
  }
}

/**
 * A request as the log keeps it: credential headers (`Authorization`, API
 * keys, cookies) read `<scheme> <redacted>`, credential fields
 * ({@link SECRET_FIELDS}) of the query, a form body or a JSON body read
 * `<redacted>`, and every credential found is also scrubbed, in every common
 * encoding (`Secrets.scrub`), from the path, the query, the other headers and
 * the body text.
 *
 * @category utils
 * @since 0.1.0
 */
export const redact = (request: SandboxRequest): SandboxRequest => {
  const found = new Set<string>()
  for (const [name, value] of Object.entries(request.headers)) {
    if (!SECRET_HEADERS.has(name.toLowerCase()) || value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) secretsInHeader(one, found)
  }
  for (const [key, value] of request.query) if (SECRET_FIELDS.has(key.toLowerCase())) found.add(value)
  const text = request.text
  const trimmed = text.trimStart()
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const json = jsonOf(request)
    if (json !== undefined) secretsInJson(json, found)
  } else if (text.includes("=")) {
    for (const [key, value] of new URLSearchParams(text)) if (SECRET_FIELDS.has(key.toLowerCase())) found.add(value)
  }
  const secrets = Secrets.make([...found].map((secret) => Redacted.make(secret)))
  const scrubAll = (text: string): string => (secrets.size === 0 ? text : secrets.scrub(text))
  const headers: http.IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    const secret = SECRET_HEADERS.has(name.toLowerCase())
    const clean = (one: string) => {
      if (!secret) return scrubAll(one)
      const space = one.indexOf(" ")
      return space > 0 ? `${one.slice(0, space)} ${REDACTED}` : REDACTED
    }
    headers[name] = (Array.isArray(value) ? value.map(clean) : clean(value)) as never
  }
  const query = new URLSearchParams()
  for (const [key, value] of request.query) {
    query.append(key, SECRET_FIELDS.has(key.toLowerCase()) ? REDACTED : scrubAll(value))
  }
  return {
    method: request.method,
    path: scrubAll(request.path),
    query,
    headers,
    text: scrubAll(text)
  }
}

const encode = (body: unknown): { readonly text: string; readonly type: string } =>
  typeof body === "string"
    ? { text: body, type: "text/plain; charset=utf-8" }
    : { text: body === undefined ? "" : JSON.stringify(body), type: "application/json; charset=utf-8" }

const reset = (socket: Socket) => {
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
  else socket.destroy()
}

/** Plays a fault on a response; answers the status played, or `undefined` when the connection was cut or left open. */
const play = (fault: Fault, response: http.ServerResponse): number | undefined => {
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

/**
 * Starts a sandbox server on 127.0.0.1 that answers with the handler, unless a
 * fault rule applies.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (handler: Handler, options: ServerOptions = {}): Promise<SandboxServer> => {
  const logLimit = options.logLimit ?? 10_000
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0)) {
    return Promise.reject(new TypeError("maxBodyBytes must be a whole number of bytes, 0 or more"))
  }
  const requests: Array<LoggedRequest> = []
  let rules: Array<ActiveRule> = []

  const faultFor = (path: string): Fault | undefined => {
    for (const active of rules) {
      const { rule } = active
      if (rule.path !== undefined && !path.includes(rule.path)) continue
      if (rule.times !== undefined) {
        if (active.remaining <= 0) continue
        active.remaining -= 1
        return rule.fault
      }
      if (rule.share !== undefined && active.random() < rule.share) return rule.fault
    }
    return undefined
  }

  const log = (request: SandboxRequest, entry: Omit<LoggedRequest, keyof SandboxRequest>) => {
    requests.push({ ...redact(request), ...entry })
    if (requests.length > logLimit) requests.splice(0, requests.length - logLimit)
  }

  const server = http.createServer(async (incoming, response) => {
    const url = new URL(incoming.url ?? "/", "http://127.0.0.1")
    const receivedAt = new Date()
    const text = await readBody(incoming, maxBodyBytes).catch(() => "")
    const request: SandboxRequest = {
      method: incoming.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      text: text ?? ""
    }
    if (text === undefined) {
      refuseTooLarge(response, maxBodyBytes)
      log(request, { at: new Date(), receivedAt, status: 413, fault: undefined })
      return
    }
    const fault = faultFor(url.pathname)
    if (fault !== undefined) {
      log(request, { at: new Date(), receivedAt, status: play(fault, response), fault: fault._tag })
      return
    }
    try {
      const answer = await handler(request)
      const { text: body, type } = encode(answer.body)
      response.writeHead(answer.status, { "content-type": type, ...answer.headers })
      response.end(body)
      log(request, { at: new Date(), receivedAt, status: answer.status, fault: undefined })
    } catch (error) {
      response.writeHead(500, { "content-type": "application/json" })
      response.end(JSON.stringify({ error: "SANDBOX_ERROR", error_description: String(error) }))
      log(request, { at: new Date(), receivedAt, status: 500, fault: undefined })
    }
  })
  // As Node does by default: clients such as fetch reuse connections only when they outlive a request or two.
  server.keepAliveTimeout = 5_000

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        inject: (rule) => {
          rules.push({ rule, remaining: rule.times ?? 0, random: seededRandom(rule.seed ?? 1) })
        },
        clearFaults: () => {
          rules = []
        },
        stop: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}

/**
 * Runs a sandbox server for the life of a scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const scoped = (handler: Handler, options?: ServerOptions): Effect.Effect<SandboxServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(handler, options)),
    (server) => Effect.promise(() => server.stop())
  )

/**
 * A provider sandbox's `scoped` from its `start`: started when the scope
 * opens, stopped when it closes.
 *
 * @category utils
 * @since 0.1.0
 */
export const scopedFrom =
  <Options, Sandbox extends { readonly stop: () => Promise<void> }>(start: (options?: Options) => Promise<Sandbox>) =>
  (options?: Options): Effect.Effect<Sandbox, never, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.promise(() => start(options)),
      (sandbox) => Effect.promise(() => sandbox.stop())
    )

/**
 * Reads a JSON body, or `undefined` when it is not JSON.
 *
 * @category utils
 * @since 0.1.0
 */
export const jsonOf = (request: SandboxRequest): unknown => {
  try {
    return JSON.parse(request.text)
  } catch {
    return undefined
  }
}

/**
 * The ids an app keeps for a message it relayed.
 *
 * @category models
 * @since 0.1.0
 */
export interface RelayedIds {
  readonly externalMessageId: string
  readonly externalChatId: string
  readonly externalAuthorId: string
  readonly providerMessageId?: number | undefined
}

/**
 * The ids {@link ProviderSandbox.inspect} takes: the ids of a request
 * (`EditRequestInput["ids"]`), so that an app reads back a message by the ids
 * it edited it with; each sandbox uses those its provider needs.
 *
 * @category models
 * @since 0.1.0
 */
export type InspectIds = EditRequestInput["ids"]

/**
 * A stored message as a sandbox holds it: its text now and every version, oldest first.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoredMessage {
  readonly text: string | undefined
  readonly history: ReadonlyArray<string | undefined>
}

/**
 * What every provider sandbox offers, whatever the provider: where it is, how
 * to point reword at it, a way to create a message to edit, and a way to read
 * what is stored.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProviderSandbox {
  /** The provider it stands in for (`bitrix24`, `acquire`). */
  readonly provider: string
  readonly url: string
  /** The environment that points reword at this sandbox, `REWORD_PROVIDER` included. */
  readonly env: Readonly<Record<string, string>>
  /** The server: request log and fault injection. */
  readonly server: SandboxServer
  /**
   * Creates a message as if an app had relayed it, and answers the ids the app
   * would keep. Ids not given are made up (the provider's own id is always the
   * sandbox's, unless given).
   */
  readonly seedMessage: (text: string, ids?: Partial<RelayedIds>) => Promise<RelayedIds>
  /**
   * Reads a stored message by the ids an app has (those of a request, or those
   * {@link ProviderSandbox.seedMessage} answered), or `undefined` when the
   * sandbox has no such message (or the ids lack what the provider needs).
   */
  readonly inspect: (ids: InspectIds) => StoredMessage | undefined
  readonly stop: () => Promise<void>
}

/**
 * The ids {@link ProviderSandbox.seedMessage} makes up for those not given:
 * `sandbox-message-<n>` (n counts the sandbox's seeds from 1), `sandbox-chat`
 * and `sandbox-author`.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const SEED_DEFAULTS = {
  externalMessageIdPrefix: "sandbox-message-",
  externalChatId: "sandbox-chat",
  externalAuthorId: "sandbox-author"
} as const

/**
 * The external ids of a seeded message, with what a sandbox seeds.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export type ExternalIds = Omit<RelayedIds, "providerMessageId">

/**
 * A sandbox's seeding rules, once for every provider: the text must be a
 * non-empty string, each id given a non-empty string, and the ids not given
 * are made up ({@link SEED_DEFAULTS}). Each call counts one seed; it throws a
 * `TypeError` (a rejected `seedMessage`) on bad input.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const makeSeeder = (): ((text: unknown, ids?: Partial<RelayedIds>) => ExternalIds) => {
  let seeded = 0
  return (text, ids = {}) => {
    if (typeof text !== "string" || text.length === 0) throw new TypeError("text must be a non-empty string")
    for (const name of ["externalMessageId", "externalChatId", "externalAuthorId"] as const) {
      const value: unknown = ids[name]
      if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
        throw new TypeError(`${name} must be a non-empty string`)
      }
    }
    seeded += 1
    return {
      externalMessageId: ids.externalMessageId ?? `${SEED_DEFAULTS.externalMessageIdPrefix}${seeded}`,
      externalChatId: ids.externalChatId ?? SEED_DEFAULTS.externalChatId,
      externalAuthorId: ids.externalAuthorId ?? SEED_DEFAULTS.externalAuthorId
    }
  }
}

/**
 * A handler whose exceptions become the provider's own error answer (its 500,
 * in its own shape), so that a bug in an emulator reads as the provider
 * failing, never as a connection cut.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const guard =
  (handler: Handler, internalError: (message: string) => SandboxAnswer): Handler =>
  async (request) => {
    try {
      return await handler(request)
    } catch (error) {
      return internalError(`Internal server error: ${String(error)}`)
    }
  }

/**
 * A stop that runs once: every call answers the same promise.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const once = (stop: () => Promise<void>): (() => Promise<void>) => {
  let stopping: Promise<void> | undefined
  return () => {
    stopping ??= stop()
    return stopping
  }
}

/**
 * How a provider's emulator is served: the server's options, the provider's
 * own 500, and what to do before the server stops.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export interface HostOptions extends ServerOptions {
  /** The provider's own answer when its emulator throws. */
  readonly internalError: (message: string) => SandboxAnswer
  /** Runs once, just before the server stops (to let held requests go, say). */
  readonly beforeStop?: (() => void) | undefined
}

/**
 * A provider's emulator served: the server, and its stop (runs once).
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export interface Hosted {
  readonly server: SandboxServer
  readonly stop: () => Promise<void>
}

/**
 * Serves a provider's emulator on 127.0.0.1, the way every sandbox does: its
 * exceptions guarded into the provider's own 500 ({@link guard}), and a stop
 * that runs once ({@link once}). A sandbox's `start` builds its state and
 * handler, calls this, and answers its {@link ProviderSandbox}.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const host = async (handler: Handler, options: HostOptions): Promise<Hosted> => {
  const { internalError, beforeStop, ...serverOptions } = options
  const server = await start(guard(handler, internalError), serverOptions)
  return {
    server,
    stop: once(() => {
      beforeStop?.()
      return server.stop()
    })
  }
}
