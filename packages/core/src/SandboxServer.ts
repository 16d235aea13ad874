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
import type { AddressInfo } from "node:net"
import { Effect, Redacted, type Scope } from "effect"
import { type ActiveRule, activate, faultFor } from "./internal/sandbox/faults.ts"
import { encode, play, readBody, refuseTooLarge } from "./internal/sandbox/http.ts"
import { guard, type Hosted, type HostOptions, once } from "./internal/sandbox/kit.ts"
import { secretsInHeader, secretsInJson } from "./internal/sandbox/secretScan.ts"
import * as Secrets from "./Secrets.ts"

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
  /**
   * The credentials a request carries where the log does not look for them
   * (Telegram's bot token, in the path): each is scrubbed from the logged
   * request, in every common encoding, as the ones found in credential
   * headers and fields are.
   *
   * @since 0.4.0
   */
  readonly credentials?: ((request: SandboxRequest) => Iterable<string>) | undefined
}

/** Every credential a request carries: in its credential headers, its query, and its form or JSON body. */
const credentialsOf = (request: SandboxRequest): Set<string> => {
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
    if (json !== undefined) secretsInJson(json, found, SECRET_FIELDS)
  } else if (text.includes("=")) {
    for (const [key, value] of new URLSearchParams(text)) if (SECRET_FIELDS.has(key.toLowerCase())) found.add(value)
  }
  return found
}

/** The headers as the log keeps them: credential headers read `<scheme> <redacted>`, the others scrubbed. */
const redactHeaders = (
  headers: http.IncomingHttpHeaders,
  scrubAll: (text: string) => string
): http.IncomingHttpHeaders => {
  const clean: http.IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const secret = SECRET_HEADERS.has(name.toLowerCase())
    const cleanOne = (one: string) => {
      if (!secret) return scrubAll(one)
      const space = one.indexOf(" ")
      return space > 0 ? `${one.slice(0, space)} ${REDACTED}` : REDACTED
    }
    clean[name] = (Array.isArray(value) ? value.map(cleanOne) : cleanOne(value)) as never
  }
  return clean
}

/**
 * A request as the log keeps it: credential headers (`Authorization`, API
 * keys, cookies) read `<scheme> <redacted>`, credential fields
 * ({@link SECRET_FIELDS}) of the query, a form body or a JSON body read
 * `<redacted>`, and every credential found (and each of `credentials`, those
 * a provider's requests carry elsewhere) is also scrubbed, in every common
 * encoding (`Secrets.scrub`), from the path, the query, the other headers and
 * the body text.
 *
 * @category utils
 * @since 0.1.0
 */
export const redact = (request: SandboxRequest, credentials: Iterable<string> = []): SandboxRequest => {
  const found = credentialsOf(request)
  for (const credential of credentials) found.add(credential)
  const secrets = Secrets.make([...found].map((secret) => Redacted.make(secret)))
  const scrubAll = (text: string): string => (secrets.size === 0 ? text : secrets.scrub(text))
  const query = new URLSearchParams()
  for (const [key, value] of request.query) {
    query.append(key, SECRET_FIELDS.has(key.toLowerCase()) ? REDACTED : scrubAll(value))
  }
  return {
    method: request.method,
    path: scrubAll(request.path),
    query,
    headers: redactHeaders(request.headers, scrubAll),
    text: scrubAll(request.text)
  }
}

/** What a running server keeps: its log (bounded) and its fault rules. */
interface ServerState {
  readonly handler: Handler
  readonly logLimit: number
  readonly maxBodyBytes: number
  readonly credentials: ((request: SandboxRequest) => Iterable<string>) | undefined
  readonly requests: Array<LoggedRequest>
  rules: Array<ActiveRule>
}

const log = (state: ServerState, request: SandboxRequest, entry: Omit<LoggedRequest, keyof SandboxRequest>) => {
  state.requests.push({ ...redact(request, state.credentials?.(request)), ...entry })
  if (state.requests.length > state.logLimit) state.requests.splice(0, state.requests.length - state.logLimit)
}

/** Answers one request: 413 when its body is too large, a fault when a rule applies, else the handler's answer. */
const handle = async (state: ServerState, incoming: http.IncomingMessage, response: http.ServerResponse) => {
  const url = new URL(incoming.url ?? "/", "http://127.0.0.1")
  const receivedAt = new Date()
  const text = await readBody(incoming, state.maxBodyBytes).catch(() => "")
  const request: SandboxRequest = {
    method: incoming.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    headers: incoming.headers,
    text: text ?? ""
  }
  if (text === undefined) {
    refuseTooLarge(response, state.maxBodyBytes)
    log(state, request, { at: new Date(), receivedAt, status: 413, fault: undefined })
    return
  }
  const fault = faultFor(state.rules, url.pathname)
  if (fault !== undefined) {
    log(state, request, { at: new Date(), receivedAt, status: play(fault, response), fault: fault._tag })
    return
  }
  try {
    const answer = await state.handler(request)
    const { text: body, type } = encode(answer.body)
    response.writeHead(answer.status, { "content-type": type, ...answer.headers })
    response.end(body)
    log(state, request, { at: new Date(), receivedAt, status: answer.status, fault: undefined })
  } catch (error) {
    response.writeHead(500, { "content-type": "application/json" })
    response.end(JSON.stringify({ error: "SANDBOX_ERROR", error_description: String(error) }))
    log(state, request, { at: new Date(), receivedAt, status: 500, fault: undefined })
  }
}

/** The running server as its user sees it: where it is, its log, its fault rules and its stop. */
const serverOf = (server: http.Server, state: ServerState): SandboxServer => {
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: state.requests,
    inject: (rule) => {
      state.rules.push(activate(rule))
    },
    clearFaults: () => {
      state.rules = []
    },
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      })
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
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0)) {
    return Promise.reject(new TypeError("maxBodyBytes must be a whole number of bytes, 0 or more"))
  }
  const state: ServerState = {
    handler,
    logLimit: options.logLimit ?? 10_000,
    maxBodyBytes,
    credentials: options.credentials,
    requests: [],
    rules: []
  }
  const server = http.createServer((incoming, response) => handle(state, incoming, response))
  // As Node does by default: clients such as fetch reuse connections only when they outlive a request or two.
  server.keepAliveTimeout = 5_000
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve(serverOf(server, state)))
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

export * from "./internal/sandbox/kit.ts"

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
