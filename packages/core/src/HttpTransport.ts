/**
 * The HTTP transport every adapter shares, on ky. Effect owns retries and
 * timeouts (ky's are off), interruption aborts the request, redirects are never
 * followed (credentials never travel to another host), bodies are read with a
 * size cap, and whatever is kept of a body is scrubbed of the request's secrets.
 *
 * @since 0.1.0
 */
import {
  Data,
  Duration,
  Effect,
  LogLevel,
  Predicate,
  type Redacted,
  References,
  Result,
  Schema,
  SchemaTransformation
} from "effect"
import ky from "ky"
import { MalformedResponse, Network, type Problem, Rejected, Timeout } from "./EditError.ts"
import * as Connections from "./internal/connections.ts"
import * as Check from "./internal/options.ts"
import * as Secrets from "./Secrets.ts"

/**
 * Transport settings, per editor.
 *
 * @category options
 * @since 0.1.0
 */
export interface TransportOptions {
  /**
   * The longest one HTTP request may take: the wait for a connection (see
   * `maxConnectionsPerHost`), the headers and the body. Default 30 s; more
   * than 0 and at most 2^31-1 ms (about 24.8 days); a fraction of a
   * millisecond is rounded up.
   */
  readonly timeout?: Duration.Input | undefined
  /** The largest response body read, an integer of at least 1; a larger one is a `MalformedResponse`. Default 1 MiB. */
  readonly maxResponseBytes?: number | undefined
  /**
   * The most requests in flight to one host (origin) at once, per editor, so
   * per transport: each holds at most one connection, so this caps the
   * sockets open to the host. Requests past it wait their turn, first come
   * first served, and the wait counts in their `timeout`. An integer of at
   * least 1; default 50.
   */
  readonly maxConnectionsPerHost?: number | undefined
  /** A `fetch` to use instead of the global one (proxies, instrumentation, tests). */
  readonly fetch?: typeof globalThis.fetch | undefined
  /** Headers added to every request (a `User-Agent`, a tracing header). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * One HTTP request.
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly url: URL
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** A JSON body. */
  readonly json?: unknown
  /** A form-encoded body (keeps secrets out of URLs). */
  readonly form?: URLSearchParams | undefined
  /**
   * Secrets this request carries: scrubbed, in every common encoding, from any
   * text kept from its answer. A `Secrets` set is read when the answer comes,
   * so secrets added to it meanwhile (a refreshed token) are scrubbed too.
   */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | Secrets.Secrets | undefined
}

/**
 * One HTTP answer, whatever its status. `json` is the parsed body when the body
 * is JSON, and `undefined` otherwise.
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  /** The body as text, capped and scrubbed of the request's secrets. */
  readonly text: string
  readonly json: unknown
  readonly isJson: boolean
}

/**
 * The failures of the transport itself; HTTP statuses are answers, not failures.
 *
 * @category models
 * @since 0.1.0
 */
export type TransportError = Network | Timeout | MalformedResponse | Rejected

/**
 * The most of a body kept on an error, in characters.
 *
 * @category constants
 * @since 0.1.0
 */
export const MAX_KEPT_BODY = 2_048

/**
 * The default of `timeout`: the longest one HTTP request may take.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_TIMEOUT: Duration.Duration = Duration.seconds(30)
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * The default of `maxConnectionsPerHost` (the AWS SDK for JavaScript's `maxSockets` default).
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_MAX_CONNECTIONS_PER_HOST = 50

const checkHeaders = (headers: unknown): ReadonlyArray<Problem> => {
  if (headers === null || typeof headers !== "object")
    return [{ path: "", message: "must be an object of header values" }]
  const problems: Array<Problem> = []
  for (const [name, value] of Object.entries(headers)) {
    try {
      new Headers([[name, value]])
      if (typeof value !== "string") throw new TypeError("not a string")
    } catch {
      // The value is never repeated: it may be a credential.
      problems.push({ path: name, message: "must be a valid header name with a string value (no line breaks or NUL)" })
    }
  }
  return problems
}

const fields = {
  timeout: Check.option<Duration.Input>((value) => Check.duration("", value, { minMillis: 0, exclusiveMin: true })),
  maxResponseBytes: Check.option<number>((value) => Check.integer("", value, { min: 1 })),
  maxConnectionsPerHost: Check.option<number>((value) => Check.integer("", value, { min: 1 })),
  fetch: Check.option<typeof globalThis.fetch>((value) => Check.func("", value)),
  headers: Check.option<Readonly<Record<string, string>>>(checkHeaders)
} satisfies { readonly [K in keyof Required<TransportOptions>]: Schema.Top }

/**
 * The transport options, declared once: each field with its check. What
 * `createEditor`, `Provider` and every adapter decode `transport` with, once.
 *
 * @category options
 * @since 0.3.0
 */
export const TransportOptionsSchema = Check.options(fields, "must be an object of transport options")

/**
 * Transport options decoded: every default filled in. A transport built from
 * them checks nothing again.
 *
 * @category options
 * @since 0.3.0
 */
export class DecodedTransportOptions extends Data.Class<{
  readonly timeout: Duration.Duration
  readonly maxResponseBytes: number
  readonly maxConnectionsPerHost: number
  readonly fetch?: typeof globalThis.fetch | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}> {}

/** Decoded options from valid ones, with their defaults. */
const fromValid = (valid: TransportOptions): DecodedTransportOptions =>
  new DecodedTransportOptions({
    timeout: valid.timeout === undefined ? DEFAULT_TIMEOUT : Duration.fromInputUnsafe(valid.timeout),
    maxResponseBytes: valid.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxConnectionsPerHost: valid.maxConnectionsPerHost ?? DEFAULT_MAX_CONNECTIONS_PER_HOST,
    ...(valid.fetch === undefined ? {} : { fetch: valid.fetch }),
    ...(valid.headers === undefined ? {} : { headers: valid.headers })
  })

/**
 * Transport options decoded, with their defaults, in one pass: the
 * `transport` field of `OptionCheck.EditorOptionsSchema`.
 *
 * @category options
 * @since 0.3.0
 */
export const DecodedFromOptions = TransportOptionsSchema.pipe(
  Schema.decodeTo(
    Schema.instanceOf(DecodedTransportOptions),
    SchemaTransformation.transform<DecodedTransportOptions, typeof TransportOptionsSchema.Type>({
      decode: fromValid,
      encode: (decoded) => decoded
    })
  )
)

/**
 * Decodes transport options once, with their defaults: every problem is named
 * by its path under `prefix` (`transport.timeout`). Decoded options are
 * answered as they are.
 *
 * @category options
 * @since 0.3.0
 */
export const decode = (
  options: TransportOptions | undefined,
  prefix = "transport"
): Result.Result<DecodedTransportOptions, ReadonlyArray<Problem>> =>
  options instanceof DecodedTransportOptions
    ? Result.succeed(options)
    : Check.decode(DecodedFromOptions, options ?? {}, prefix)

/**
 * The problems of transport options, each naming its field under `prefix`
 * (`transport.timeout`); none when they are usable (see {@link decode}).
 *
 * @category utils
 * @since 0.1.0
 */
export const validate = (options: TransportOptions | undefined, prefix = "transport"): ReadonlyArray<Problem> =>
  options === undefined ? [] : Check.problemsOf(decode(options, prefix))

/**
 * Sends requests.
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpTransport {
  readonly send: (request: HttpRequest) => Effect.Effect<HttpResponse, TransportError>
  readonly timeout: Duration.Duration
}

/**
 * Replaces every occurrence of the secrets in a text with `<redacted>`, in
 * every common encoding (see `Secrets.scrub`).
 *
 * @category utils
 * @since 0.1.0
 */
export const scrub = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string>> | Secrets.Secrets = []): string =>
  Secrets.scrub(text, secrets)

/**
 * A body cut to {@link MAX_KEPT_BODY} characters, for errors.
 *
 * @category utils
 * @since 0.1.0
 */
export const keptBody = (text: string): string | undefined =>
  text.length === 0 ? undefined : text.length > MAX_KEPT_BODY ? `${text.slice(0, MAX_KEPT_BODY)}…` : text

class BodyTooLarge extends Error {}
class TimedOut extends Error {}

const readCapped = async (response: Response, maxBytes: number): Promise<string> => {
  if (response.body === null) return ""
  const reader = response.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw new BodyTooLarge()
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

const NETWORK_CODES: Record<string, string> = {
  ECONNRESET: "the connection was reset",
  ECONNREFUSED: "the connection was refused",
  ENOTFOUND: "the host name could not be resolved",
  EAI_AGAIN: "the host name could not be resolved (temporary DNS failure)",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  UND_ERR_SOCKET: "the connection was closed unexpectedly",
  EPIPE: "the connection was closed while sending"
}

/** The first error code in a chain of causes (ky wraps fetch's error, which wraps the socket's). */
const findCode = (error: unknown, depth = 0): string | undefined => {
  if (depth > 5 || !Predicate.isObject(error)) return undefined
  if (
    Predicate.hasProperty(error, "code") &&
    Predicate.isString(error.code) &&
    Object.hasOwn(NETWORK_CODES, error.code)
  ) {
    return error.code
  }
  if (Predicate.hasProperty(error, "errors") && Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const code = findCode(inner, depth + 1)
      if (code !== undefined) return code
    }
  }
  return Predicate.hasProperty(error, "cause") ? findCode(error.cause, depth + 1) : undefined
}

const describeNetworkFailure = (error: unknown): string => {
  const code = findCode(error)
  if (code !== undefined) return `${NETWORK_CODES[code]} (${code})`
  const messages: Array<string> = []
  for (let current: unknown = error; current instanceof Error && messages.length < 3; current = current.cause) {
    messages.push(current.message)
  }
  if (messages.includes("terminated")) return "the connection closed before the whole answer arrived"
  return messages.length === 0 ? String(error) : messages.join(": ")
}

/**
 * Makes a transport. Options that make no sense throw `InvalidOptions` (a
 * `RangeError`) naming each field; options decoded by {@link decode} are not
 * checked again.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: TransportOptions = {}): HttpTransport => {
  // Options decoded at the edge come as they are: nothing is checked twice.
  const decoded = Check.getOrThrow(decode(options, ""))
  const timeout = decoded.timeout
  const maxBytes = decoded.maxResponseBytes
  const maxConnections = decoded.maxConnectionsPerHost
  const connections = Connections.make(maxConnections)
  const client = ky.create({
    retry: 0,
    timeout: false,
    throwHttpErrors: false,
    redirect: "manual",
    fetch: decoded.fetch ?? Connections.pooledFetch(maxConnections),
    ...(decoded.headers === undefined ? {} : { headers: decoded.headers })
  })

  // Node fires a timer of a fraction of a millisecond after 1 ms anyway.
  const timeoutMillis = Math.ceil(Duration.toMillis(timeout))

  const exchange = async (request: HttpRequest, signal: AbortSignal) => {
    const response = await client(request.url, {
      method: request.method,
      signal,
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.json === undefined ? {} : { json: request.json }),
      ...(request.form === undefined ? {} : { body: request.form })
    })
    const raw = await readCapped(response, maxBytes)
    return { response, raw }
  }

  const send = (request: HttpRequest): Effect.Effect<HttpResponse, TransportError> =>
    Effect.tryPromise({
      // Declaring `signal` makes Effect abort the request on interruption. The
      // timeout is a second signal on the same request: a timer of its own
      // costs far less per call than racing a sleeping fiber, and it bounds the
      // body as well as the headers.
      try: async (signal) => {
        // A controller of our own, released as soon as the answer is read:
        // `AbortSignal.timeout` and `AbortSignal.any` would keep every request's
        // signal and timer alive for the whole timeout.
        const controller = new AbortController()
        // A plain object as the abort reason: an Error would capture a stack on every request.
        const timedOut = { timedOut: true }
        const timer = setTimeout(() => controller.abort(timedOut), timeoutMillis)
        const onAbort = () => controller.abort(signal.reason)
        signal.addEventListener("abort", onAbort, { once: true })
        try {
          // Waiting for a connection is part of the request's time.
          const origin = request.url.origin
          if (!connections.tryAcquire(origin)) await connections.acquire(origin, controller.signal)
          try {
            return await exchange(request, controller.signal)
          } finally {
            connections.release(origin)
          }
        } catch (error) {
          throw controller.signal.aborted && controller.signal.reason === timedOut ? new TimedOut() : error
        } finally {
          clearTimeout(timer)
          signal.removeEventListener("abort", onAbort)
        }
      },
      catch: (error): TransportError =>
        error instanceof TimedOut
          ? new Timeout({ after: timeout })
          : error instanceof BodyTooLarge
            ? new MalformedResponse({ description: `the answer is larger than ${maxBytes} bytes` })
            : new Network({ description: Secrets.scrub(describeNetworkFailure(error), request.secrets) })
    }).pipe(
      Effect.tap(({ response }) => logAnswered(request, response.status)),
      Effect.flatMap(({ response, raw }) => {
        // Scrubbed before parsing, in every encoding: the parsed JSON's strings hold no secret either.
        const secrets = Secrets.from(request.secrets)
        const text = secrets.scrub(raw)
        if (response.status >= 300 && response.status < 400) {
          const location = secrets.scrub(response.headers.get("location") ?? "(no location)")
          return Effect.fail(
            new Rejected({
              status: response.status,
              code: "REDIRECT",
              description: `the provider redirected to ${location}; reword never follows redirects with credentials, so check the base URL`
            })
          )
        }
        return Effect.succeed(toResponse(response, text))
      })
    )

  return { send, timeout }
}

/**
 * One debug line per answer: origin and path only (never a query string, a
 * header or a body), the path scrubbed of the request's secrets (Telegram's
 * bot token travels in it). Built only when debug lines are logged: the
 * scrub is not paid on every call for a line nobody keeps.
 */
const logAnswered = (request: HttpRequest, status: number): Effect.Effect<void> =>
  Effect.withFiber((fiber) =>
    LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
      ? Effect.void
      : Effect.logDebug(
          `${request.method} ${request.url.origin}${Secrets.scrub(request.url.pathname, request.secrets)} answered ${status}`
        )
  )

const toResponse = (response: Response, text: string): HttpResponse => {
  const trimmed = text.trim()
  if (trimmed.length > 0 && (trimmed.startsWith("{") || trimmed.startsWith("["))) {
    try {
      return { status: response.status, headers: response.headers, text, json: JSON.parse(trimmed), isJson: true }
    } catch {
      // Not JSON after all (truncated, or a proxy's page): the caller judges by status.
    }
  }
  return { status: response.status, headers: response.headers, text, json: undefined, isJson: false }
}

/**
 * Fails with `MalformedResponse` when an answer's body is not JSON.
 *
 * @category utils
 * @since 0.1.0
 */
export const requireJson = (response: HttpResponse): Effect.Effect<unknown, MalformedResponse> =>
  response.isJson
    ? Effect.succeed(response.json)
    : Effect.fail(
        new MalformedResponse({
          status: response.status,
          description: response.text.length === 0 ? "the answer has an empty body" : "the answer is not JSON",
          ...optionalBody(response.text)
        })
      )

/**
 * `{ body }` with the capped body, or nothing when the body is empty.
 *
 * @category utils
 * @since 0.1.0
 */
export const optionalBody = (text: string): { readonly body?: string } => {
  const body = keptBody(text)
  return body === undefined ? {} : { body }
}
