/**
 * Acquire's four messenger endpoints as calls over checked settings and a
 * transport: each is one HTTP request, without retries, that fails with a
 * neutral reason (never an `EditError`: the public client and core's editor
 * each wrap a reason once, with their own operation). Ids and text arrive
 * checked; answers become reasons in `./errors.ts` only.
 */
import type { EditError, HttpTransport } from "@reword/core"
import { Clock, Effect, Redacted, Result, Schema } from "effect"
import * as AcquireConfig from "../AcquireConfig.ts"
import { type AcquireMessage, DeleteAnswer, type Deleted, MessageAnswer, withCaseIds } from "../AcquireSchemas.ts"
import { malformed, nothingDeleted, reasonOf } from "./errors.ts"

type Reason = EditError.EditErrorReason

/** The content of a message, checked: non-blank text. */
export interface Content {
  readonly text: string
  readonly language?: string | undefined
  readonly type?: "message" | "note" | "event" | undefined
}

/** A send, its ids checked. */
export interface Send extends Content {
  readonly caseId: number
  readonly contactId?: number | undefined
  readonly senderType?: "user" | "contact" | undefined
}

/** The calls, each failing with the reason of the answer. */
export interface Calls {
  readonly baseUrl: URL
  readonly update: (messageId: number, content: Content) => Effect.Effect<AcquireMessage, Reason>
  readonly send: (message: Send) => Effect.Effect<AcquireMessage, Reason>
  readonly get: (messageId: number) => Effect.Effect<AcquireMessage, Reason>
  readonly delete: (messageId: number) => Effect.Effect<Deleted, Reason>
}

interface Endpoint {
  readonly method: HttpTransport.HttpRequest["method"]
  readonly path: ReadonlyArray<string | number>
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly json?: unknown
}

const messageBody = (content: Content) => ({
  type: content.type ?? "message",
  message: content.text,
  ...(content.language === undefined ? {} : { translateLangKey: content.language })
})

const decodeWith = <A>(schema: Schema.Decoder<{ readonly data: A }>) => {
  // The decoder is built once; decoding is synchronous.
  const decodeAnswer = Schema.decodeUnknownResult(schema)
  return (response: HttpTransport.HttpResponse, now: number): Effect.Effect<A, Reason> => {
    if (!response.isJson) return Effect.fail(malformed(response, undefined, now))
    const answer = decodeAnswer(response.json)
    return Result.isSuccess(answer)
      ? Effect.succeed(answer.success.data)
      : Effect.fail(malformed(response, answer.failure, now))
  }
}

const decodeMessageAnswer = decodeWith(MessageAnswer)
const decodeDeleteAnswer = decodeWith(DeleteAnswer)
const decodeMessage = (response: HttpTransport.HttpResponse, now: number) =>
  Effect.map(decodeMessageAnswer(response, now), withCaseIds)
const decodeDeleted = (response: HttpTransport.HttpResponse, now: number) =>
  Effect.flatMap(decodeDeleteAnswer(response, now), (deleted) =>
    deleted.deleted > 0 ? Effect.succeed(deleted) : Effect.fail(nothingDeleted(response))
  )

/** The calls over checked settings and a transport. */
export const make = (settings: AcquireConfig.Settings, transport: HttpTransport.HttpTransport): Calls => {
  const { apiKey, apiUrl: baseUrl } = settings
  const headers = { authorization: `Bearer ${Redacted.value(apiKey)}`, accept: "application/json" }

  const urlOf = (endpoint: Endpoint): URL => {
    // Every segment is encoded (ids are digits already): nothing can leave the base URL.
    const url = new URL(endpoint.path.map((segment) => encodeURIComponent(String(segment))).join("/"), baseUrl)
    for (const [key, value] of Object.entries(endpoint.query ?? {})) url.searchParams.set(key, value)
    return url
  }

  const call = <A>(
    operation: EditError.Operation,
    endpoint: Endpoint,
    decode: (response: HttpTransport.HttpResponse, now: number) => Effect.Effect<A, Reason>
  ): Effect.Effect<A, Reason> =>
    Effect.gen(function* () {
      const response = yield* transport.send({
        method: endpoint.method,
        url: urlOf(endpoint),
        headers,
        ...(endpoint.json === undefined ? {} : { json: endpoint.json }),
        secrets: [apiKey]
      })
      const now = yield* Clock.currentTimeMillis
      if (response.status < 200 || response.status > 299) return yield* Effect.fail(reasonOf(response, now))
      return yield* decode(response, now)
    }).pipe(
      Effect.withSpan(
        `AcquireClient.${operation}`,
        { attributes: { "reword.provider": AcquireConfig.name } },
        { captureStackTrace: false }
      )
    )

  return {
    baseUrl,
    update: (messageId, content) =>
      call(
        "update",
        {
          method: "POST",
          path: ["crm", "messenger", "chat", "message", messageId],
          json: { message: messageBody(content) }
        },
        decodeMessage
      ),
    send: (message) =>
      call(
        "send",
        {
          method: "POST",
          path: ["crm", "messenger", "chat", "add-message"],
          query: {
            "x-user-type": message.senderType ?? "user",
            ...(message.contactId === undefined ? {} : { contactId: String(message.contactId) })
          },
          json: { channel: "chat", message: messageBody(message), caseId: message.caseId }
        },
        decodeMessage
      ),
    get: (messageId) =>
      call("get", { method: "GET", path: ["crm", "objects", "case-message", messageId] }, decodeMessage),
    delete: (messageId) =>
      call("delete", { method: "DELETE", path: ["crm", "objects", "case-message", messageId] }, decodeDeleted)
  }
}
