/**
 * What the reliability tests share: capturing everything reword writes (logs
 * at every level, spans, errors as an app would print them), the secrets a
 * sandbox issued, and reading the sandboxes' request logs.
 */
import { inspect } from "node:util"
import type { AcquireSandbox } from "@reword/acquire/sandbox"
import type { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { EditError } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { Cause, Effect, Logger, References, Tracer } from "effect"

// --- capturing what reword writes

/** Everything reword wrote while an effect ran: log lines, spans, and the errors it answered, as printed. */
export interface Capture {
  readonly logs: Array<string>
  readonly spans: Array<Tracer.NativeSpan>
  readonly printed: Array<string>
}

export const makeCapture = (): Capture => ({ logs: [], spans: [], printed: [] })

const deep = (value: unknown): string => inspect(value, { depth: 20, breakLength: Number.POSITIVE_INFINITY })

/**
 * Runs an effect with a logger that keeps every line at every level (the
 * minimum level lowered to `All`, so reword's debug lines are in), and a
 * tracer that keeps every span.
 */
export const capturing =
  (capture: Capture) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const logger = Logger.make((options) => {
      capture.logs.push(
        `${options.logLevel} ${deep(options.message)}${options.cause.reasons.length > 0 ? ` ${Cause.pretty(options.cause)}` : ""}`
      )
    })
    const tracer = Tracer.make({
      span: (options) => {
        const span = new Tracer.NativeSpan(options)
        capture.spans.push(span)
        return span
      }
    })
    return effect.pipe(
      Effect.withTracer(tracer),
      Effect.provide(Logger.layer([logger])),
      Effect.provideService(References.MinimumLogLevel, "All")
    )
  }

/** Every way an app may print or log an error. */
export const printings = (error: unknown): ReadonlyArray<string> => {
  const forms = [
    error instanceof Error ? error.message : "",
    String(error),
    JSON.stringify(error) ?? "",
    deep(error),
    error instanceof Error ? (error.stack ?? "") : ""
  ]
  if (EditError.isEditError(error)) {
    forms.push(error.reason.message, String(error.reason), JSON.stringify(error.reason), deep(error.reason))
  }
  return forms
}

/** A span as text: its name, attributes, events, links and status (the exit of what it traced, errors included). */
export const spanText = (span: Tracer.NativeSpan): string =>
  `${span.name} ${deep([...span.attributes])} ${deep(span.events)} ${deep(span.links)} ${deep(span.status)}`

/** Everything captured, as texts. */
export const texts = (capture: Capture): ReadonlyArray<string> => [
  ...capture.logs,
  ...capture.spans.map(spanText),
  ...capture.printed
]

/** A secret found in a text, with the secret itself blanked out of the excerpt. */
export interface Leak {
  readonly secret: string
  readonly excerpt: string
}

/** Where any of the secrets appears in the texts. */
export const leaksIn = (
  haystack: ReadonlyArray<string>,
  secrets: ReadonlyArray<{ readonly name: string; readonly value: string }>
): ReadonlyArray<Leak> =>
  haystack.flatMap((text) =>
    secrets
      .filter((secret) => text.includes(secret.value))
      .map((secret) => {
        const at = text.indexOf(secret.value)
        return {
          secret: secret.name,
          excerpt: text.slice(Math.max(0, at - 80), at + secret.value.length + 80).replaceAll(secret.value, "<SECRET>")
        }
      })
  )

// --- the secrets a sandbox issued

export interface Secret {
  readonly name: string
  readonly value: string
}

const parsedJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A token pair as an OAuth server answered it. */
export interface IssuedPair {
  readonly accessToken: string
  readonly refreshToken: string
}

/**
 * A secret by name, refusing what is no secret: an empty value, or one that
 * holds `<redacted>` (what a sandbox's request log shows in a credential's
 * place; looking for it would find reword's own scrubbing).
 */
const secret = (name: string, value: string): Secret => {
  if (value.length === 0 || value.includes(SandboxServer.REDACTED)) {
    throw new Error(`not a ${name}: ${JSON.stringify(value)} (read from a redacted log?)`)
  }
  return { name, value }
}

/**
 * A `fetch` that keeps every token pair the OAuth server answers (the answers
 * of `/oauth/token/`), as they reach the client. The sandbox's request log
 * cannot tell them (it redacts credentials), and the sandbox holds only the
 * pair it issued last: a pair issued by one refresh and used up by the next is
 * known only here.
 */
export const recordingTokenAnswers = (
  inner: typeof globalThis.fetch = fetch
): { readonly fetch: typeof globalThis.fetch; readonly issued: ReadonlyArray<IssuedPair> } => {
  const issued: Array<IssuedPair> = []
  const recorded: typeof globalThis.fetch = async (input, init) => {
    const response = await inner(input, init)
    const url = input instanceof Request ? input.url : String(input)
    if (new URL(url).pathname === OAUTH_PATH) {
      // A body cut short or cut off is the client's to meet: here it holds no pair.
      const answer = parsedJson(
        await response
          .clone()
          .text()
          .catch(() => "")
      )
      if (typeof answer === "object" && answer !== null) {
        const { access_token, refresh_token } = answer as { access_token?: unknown; refresh_token?: unknown }
        if (typeof access_token === "string" && typeof refresh_token === "string") {
          issued.push({ accessToken: access_token, refreshToken: refresh_token })
        }
      }
    }
    return response
  }
  return { fetch: recorded, issued }
}

/**
 * Every secret a Bitrix24 sandbox issued: the client secret, the first pair,
 * the pair it holds now, and the pairs given (those a client received, from
 * {@link recordingTokenAnswers}: every pair but the last is used up by the
 * next refresh, and the sandbox no longer holds it). Taken from the sandbox's
 * state, never from its request log, which shows each credential as
 * `<redacted>`.
 */
export const bitrix24Secrets = (
  sandbox: Bitrix24Sandbox.Sandbox,
  issued: ReadonlyArray<IssuedPair> = []
): ReadonlyArray<Secret> => {
  const pairs = [{ accessToken: sandbox.accessToken, refreshToken: sandbox.refreshToken }, sandbox.tokens(), ...issued]
  const found = new Map<string, string>([[sandbox.clientSecret, "client secret"]])
  for (const pair of pairs) {
    found.set(pair.accessToken, "access token")
    found.set(pair.refreshToken, "refresh token")
  }
  return [...found].map(([value, name]) => secret(name, value))
}

/** The API keys of an Acquire sandbox. */
export const acquireSecrets = (
  sandbox: AcquireSandbox.Sandbox,
  extra: ReadonlyArray<string> = []
): ReadonlyArray<Secret> => [
  secret("API key", sandbox.apiKey),
  secret("read-only API key", sandbox.readOnlyKey),
  ...extra.map((value) => secret("API key", value))
]

// --- request logs

export const BITRIX24_UPDATE_PATH = "/rest/imconnector.update.messages"
export const OAUTH_PATH = "/oauth/token/"
export const ACQUIRE_UPDATE_PATH = "/api/v1/crm/messenger/chat/message/"

/** The ids of the messages a Bitrix24 call carried, in order. */
export const bitrix24MessageIds = (request: SandboxServer.LoggedRequest): ReadonlyArray<string> => {
  const body = parsedJson(request.text) as { MESSAGES?: ReadonlyArray<{ message?: { id?: unknown } }> } | undefined
  return (body?.MESSAGES ?? []).map((item) => String(item.message?.id))
}
