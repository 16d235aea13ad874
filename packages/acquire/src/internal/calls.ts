/**
 * Acquire's four messenger endpoints as calls over checked settings and a
 * transport: each is one HTTP request, without retries, that fails with a
 * neutral reason (never an `EditError`: the public client and core's editor
 * each wrap a reason once, with their own operation). Ids and text arrive
 * checked; answers become reasons in `./errors.ts` only.
 */
import { type EditError, Telemetry } from "@reword/core"
import { type HttpTransport, Secrets } from "@reword/core/adapter"
import { Clock, Effect, Redacted, Result, Schema } from "effect"
import * as AcquireConfig from "../AcquireConfig.ts"
import type { AcquireMessage, Deleted } from "../AcquireSchemas.ts"
import { DeleteAnswer, MessageAnswer, withCaseIds } from "./answers.ts"
import * as Edited from "./edited.ts"
import { malformed, nothingDeleted, otherMessage, reasonOf } from "./errors.ts"

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
  /**
   * The same request as `update`, for the editor: it answers only the fields
   * an edit reads (see `./edited.ts`), read without decoding the whole message.
   */
  readonly edit: (messageId: number, content: Content) => Effect.Effect<Edited.Edited, Reason>
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

/** `POST /crm/messenger/chat/message/{messageId}`: what `update` and `edit` both send (they read its answer apart). */
const updateEndpoint = (messageId: number, content: Content): Endpoint => ({
  method: "POST",
  path: ["crm", "messenger", "chat", "message", messageId],
  json: { message: messageBody(content) }
})

type Decode<A> = (response: HttpTransport.HttpResponse, now: number) => Effect.Effect<A, Reason>

const decodeWith = <A>(schema: Schema.Decoder<{ readonly data: A }>): Decode<A> => {
  // The decoder is built once; decoding is synchronous.
  const decodeAnswer = Schema.decodeUnknownResult(schema)
  return (response, now) => {
    if (!response.isJson) return Effect.fail(malformed(response, undefined, now))
    const answer = decodeAnswer(response.json)
    return Result.isSuccess(answer)
      ? Effect.succeed(answer.success.data)
      : Effect.fail(malformed(response, answer.failure, now))
  }
}

const decodeMessageAnswer = decodeWith(MessageAnswer)
const decodeDeleteAnswer = decodeWith(DeleteAnswer)
const decodeMessage: Decode<AcquireMessage> = (response, now) =>
  Effect.map(decodeMessageAnswer(response, now), withCaseIds)
const decodeDeleted: Decode<Deleted> = (response, now) =>
  Effect.flatMap(decodeDeleteAnswer(response, now), (deleted) =>
    deleted.deleted > 0 ? Effect.succeed(deleted) : Effect.fail(nothingDeleted(response))
  )

/**
 * How a call reads a 2xx answer: `fast` reads the usual answer directly, in the
 * same turn (`undefined` when it cannot), and `decode` judges every other one
 * with the Schemas (and the clock, for a `Retry-After` date in an error it finds).
 */
interface Reader<A> {
  readonly fast?: ((response: HttpTransport.HttpResponse) => A | undefined) | undefined
  readonly decode: Decode<A>
}

const messageReader: Reader<AcquireMessage> = { decode: decodeMessage }
const deletedReader: Reader<Deleted> = { decode: decodeDeleted }
const editedReader: Reader<Edited.Edited> = {
  fast: (response) => (response.isJson ? Edited.read(response.json) : undefined),
  decode: (response, now) =>
    Effect.map(decodeMessageAnswer(response, now), (message) => ({
      id: message.id,
      message: message.message,
      dateUpdated: message.dateUpdated
    }))
}

/**
 * A reader of an answer about one message (`update`, `edit`, `get`): an answer
 * that names another message than the one asked about is `MalformedResponse`,
 * never a success reported for another message (as on Bitrix24).
 */
const aboutMessage = <A extends { readonly id: number }>(reader: Reader<A>, messageId: number): Reader<A> => {
  const checked = (response: HttpTransport.HttpResponse, read: A): Result.Result<A, Reason> =>
    read.id === messageId ? Result.succeed(read) : Result.fail(otherMessage(response, messageId, read.id))
  return {
    fast:
      reader.fast === undefined
        ? undefined
        : (response) => {
            const read = reader.fast?.(response)
            // Another id: the slow path (`decode`) gives the reason.
            return read === undefined || read.id !== messageId ? undefined : read
          },
    decode: (response, now) =>
      Effect.flatMap(reader.decode(response, now), (read) => Effect.fromResult(checked(response, read)))
  }
}

const spanOptions = { attributes: { "reword.provider": AcquireConfig.name } }

/** The calls over checked settings and a transport. */
export const make = (settings: AcquireConfig.Settings, transport: HttpTransport.HttpTransport): Calls => {
  const { apiKey, apiUrl: baseUrl } = settings
  const headers = { authorization: `Bearer ${Redacted.value(apiKey)}`, accept: "application/json" }
  // Built once: the key's encodings are worked out here, not on every request.
  const secrets = Secrets.make([apiKey])

  const urlOf = (endpoint: Endpoint): URL => {
    // Every segment is encoded (ids are digits already): nothing can leave the base URL.
    const url = new URL(endpoint.path.map((segment) => encodeURIComponent(String(segment))).join("/"), baseUrl)
    for (const [key, value] of Object.entries(endpoint.query ?? {})) url.searchParams.set(key, value)
    return url
  }

  // One span per call, only when the app installed a tracer (`Telemetry.traced`).
  const spans = {
    update: Telemetry.traced("AcquireClient.update", spanOptions),
    send: Telemetry.traced("AcquireClient.send", spanOptions),
    get: Telemetry.traced("AcquireClient.get", spanOptions),
    delete: Telemetry.traced("AcquireClient.delete", spanOptions)
  } as const

  const call = <A>(operation: keyof typeof spans, endpoint: Endpoint, reader: Reader<A>): Effect.Effect<A, Reason> =>
    spans[operation](
      Effect.flatMap(
        Effect.suspend(() =>
          transport.send({
            method: endpoint.method,
            url: urlOf(endpoint),
            headers,
            ...(endpoint.json === undefined ? {} : { json: endpoint.json }),
            secrets
          })
        ),
        (response) => {
          if (response.status >= 200 && response.status <= 299) {
            const read = reader.fast?.(response)
            if (read !== undefined) return Effect.succeed(read)
          }
          // Every other answer: the clock is read only here, for a `Retry-After` date.
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            response.status < 200 || response.status > 299
              ? Effect.fail(reasonOf(response, now))
              : reader.decode(response, now)
          )
        }
      )
    )

  return {
    baseUrl,
    update: (messageId, content) =>
      call("update", updateEndpoint(messageId, content), aboutMessage(messageReader, messageId)),
    edit: (messageId, content) =>
      call("update", updateEndpoint(messageId, content), aboutMessage(editedReader, messageId)),
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
        messageReader
      ),
    get: (messageId) =>
      call(
        "get",
        { method: "GET", path: ["crm", "objects", "case-message", messageId] },
        aboutMessage(messageReader, messageId)
      ),
    delete: (messageId) =>
      call("delete", { method: "DELETE", path: ["crm", "objects", "case-message", messageId] }, deletedReader)
  }
}
