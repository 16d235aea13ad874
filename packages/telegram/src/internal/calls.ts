/**
 * The Bot API methods reword uses, as calls over checked settings, a
 * transport and a rate limiter: each is one HTTP request (a JSON `POST` to
 * `/bot<token>/<method>`), without retries, that fails with a neutral reason
 * (never an `EditError`: the public client and core's editor each wrap a
 * reason once, with their own operation). Targets and text arrive checked;
 * answers become reasons in `./errors.ts` only.
 *
 * The token is in every URL: each URL is built once here and never leaves
 * this module; the transport scrubs the token (raw, URL-encoded, base64) from
 * everything it keeps or logs, and spans carry the method's name only.
 */
import { EditError, Telemetry } from "@reword/core"
import { type HttpTransport, RetryPolicy, Secrets } from "@reword/core/adapter"
import { Clock, Duration, Effect, Redacted, Result, Schema } from "effect"
import * as TelegramConfig from "../TelegramConfig.ts"
import type * as TelegramRateLimiter from "../TelegramRateLimiter.ts"
import { LimitReached } from "../TelegramRateLimiter.ts"
import { MessageAnswer, type TelegramMessage, TrueAnswer } from "../TelegramSchemas.ts"
import * as Edited from "./edited.ts"
import { isNotModified, malformed, otherMessage, reasonOf } from "./errors.ts"

type Reason = EditError.EditErrorReason

/** Which message: its chat and its id in that chat, and the business connection it belongs to, if any. */
export interface Target {
  readonly chatId: number | string
  readonly messageId: number
  readonly businessConnectionId?: string | undefined
}

/** An inline message (sent in inline mode): its `inline_message_id` alone finds it, with no chat. */
export interface InlineTarget {
  readonly inlineMessageId: string
  readonly businessConnectionId?: string | undefined
}

/** What an edit names: a message in a chat, or an inline message. */
export type EditTarget = Target | InlineTarget

const isInline = (target: EditTarget): target is InlineTarget => "inlineMessageId" in target

/** A message to send. */
export interface Send {
  readonly chatId: number | string
  readonly text: string
  readonly businessConnectionId?: string | undefined
}

/** The calls, each failing with the reason of the answer. */
export interface Calls {
  /** `editMessageText`. */
  readonly editText: (target: EditTarget, text: string) => Effect.Effect<Edited.Edited, Reason>
  /** `editMessageCaption`. */
  readonly editCaption: (target: EditTarget, caption: string) => Effect.Effect<Edited.Edited, Reason>
  /** `sendMessage`. */
  readonly send: (message: Send) => Effect.Effect<TelegramMessage, Reason>
  /** `deleteMessage`. */
  readonly delete: (target: Target) => Effect.Effect<void, Reason>
}

/** What the calls are built from. */
export interface Deps {
  readonly settings: TelegramConfig.Settings
  readonly transport: HttpTransport.HttpTransport
  /** The limiter, or `undefined` when the app turned limits off. */
  readonly limiter: TelegramRateLimiter.Service | undefined
  /** The longest a call waits for the limiter. Default: the retry policy's default budget. */
  readonly maxLimiterWait?: Duration.Input | undefined
}

type Method = "editMessageText" | "editMessageCaption" | "sendMessage" | "deleteMessage"
const METHODS: ReadonlyArray<Method> = ["editMessageText", "editMessageCaption", "sendMessage", "deleteMessage"]

const ACCEPT_JSON: Readonly<Record<string, string>> = { accept: "application/json" }

const spanOptions = { attributes: { "reword.provider": TelegramConfig.name } }
const spans = Object.fromEntries(
  METHODS.map((method) => [method, Telemetry.traced(`TelegramClient.${method}`, spanOptions)])
) as Record<Method, ReturnType<typeof Telemetry.traced>>

const decodeMessageAnswer = Schema.decodeUnknownResult(MessageAnswer)
const decodeTrueAnswer = Schema.decodeUnknownResult(TrueAnswer)

const summary = (issue: Schema.SchemaError): string => {
  const text = issue.message.replace(/\s+/g, " ").trim()
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

/** How a call reads a 2xx answer (the clock is there for an error envelope's `Retry-After` date). */
type Reader<A> = (response: HttpTransport.HttpResponse, now: number) => Result.Result<A, Reason>

const readMessage: Reader<TelegramMessage> = (response, now) => {
  if (!response.isJson) return Result.fail(malformed(response, undefined, now))
  const decoded = decodeMessageAnswer(response.json)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success.result)
    : Result.fail(malformed(response, summary(decoded.failure), now))
}

const readTrue: Reader<void> = (response, now) => {
  if (!response.isJson) return Result.fail(malformed(response, undefined, now))
  const decoded = decodeTrueAnswer(response.json)
  return Result.isSuccess(decoded) ? Result.void : Result.fail(malformed(response, summary(decoded.failure), now))
}

/**
 * The answer of an inline message's edit: `true` (there is no message to
 * answer); Telegram's edit date is not answered, so it is the clock's.
 */
const readInlineEdited =
  (content: { readonly text?: string; readonly caption?: string }): Reader<Edited.Edited> =>
  (response, now) =>
    Result.map(readTrue(response, now), () => ({
      chatId: undefined,
      messageId: undefined,
      ...content,
      editDate: Math.floor(now / 1000),
      modified: true
    }))

/** The answer of an edit: read directly when it is the usual one, else through the Schema; matched to the target. */
const readEdited = (
  target: EditTarget,
  content: { readonly text?: string; readonly caption?: string }
): Reader<Edited.Edited> => (isInline(target) ? readInlineEdited(content) : readChatEdited(target))

const readChatEdited =
  (target: Target): Reader<Edited.Edited> =>
  (response, now) => {
    const fast = response.isJson ? Edited.read(response.json) : undefined
    const edited =
      fast === undefined ? Result.map(readMessage(response, now), Edited.fromMessage) : Result.succeed(fast)
    return Result.flatMap(edited, (read) =>
      read.messageId === target.messageId && (typeof target.chatId !== "number" || read.chatId === target.chatId)
        ? Result.succeed(read)
        : Result.fail(
            otherMessage(
              response,
              { chatId: String(target.chatId), messageId: target.messageId },
              { chatId: String(read.chatId), messageId: read.messageId ?? 0 }
            )
          )
    )
  }

/** The calls over checked settings, a transport and a limiter. */
export const make = (deps: Deps): Calls => {
  const { settings, transport, limiter } = deps
  const token = Redacted.value(settings.botToken)
  const prefix = settings.testEnvironment ? "test/" : ""
  // Built once; `./` so that the token's colon is never read as a URL scheme.
  const urls = Object.fromEntries(
    METHODS.map((method) => [method, new URL(`./bot${token}/${prefix}${method}`, settings.serverUrl)])
  ) as Record<Method, URL>
  // The token, and its secret part alone (what follows the bot id): scrubbed in every encoding.
  const secrets = Secrets.make([settings.botToken, Redacted.make(token.slice(token.indexOf(":") + 1))])
  const maxWait = Duration.fromInputUnsafe(deps.maxLimiterWait ?? RetryPolicy.defaults.maxElapsed)

  const limited = <A>(chatId: number | string, effect: Effect.Effect<A, Reason>): Effect.Effect<A, Reason> =>
    limiter === undefined
      ? effect
      : limiter
          .withPermit(
            chatId,
            maxWait
          )(effect)
          .pipe(
            Effect.catchIf(
              (error): error is LimitReached => error instanceof LimitReached,
              (full) =>
                Effect.fail(
                  new EditError.RateLimited({
                    retryAfter: full.retryAfter,
                    code: "CLIENT_RATE_LIMIT",
                    description: `the bot's rate limits (the client-side limiter) leave no room for this chat within ${Duration.format(maxWait)}; room is expected in ${Duration.format(full.retryAfter)}`
                  })
                )
            ),
            Effect.tapError((reason) =>
              reason._tag === "RateLimited" && reason.code === "FLOOD_WAIT" && reason.retryAfter !== undefined
                ? limiter.pause(chatId, reason.retryAfter)
                : Effect.void
            )
          )

  const call = <A>(
    method: Method,
    chatId: number | string,
    json: Readonly<Record<string, unknown>>,
    reader: Reader<A>,
    onError?: (response: HttpTransport.HttpResponse) => A | undefined
  ): Effect.Effect<A, Reason> =>
    spans[method](
      limited(
        chatId,
        Effect.flatMap(
          Effect.suspend(() =>
            transport.send({ method: "POST", url: urls[method], headers: ACCEPT_JSON, json, secrets })
          ),
          (response) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              if (response.status >= 200 && response.status <= 299) return Effect.fromResult(reader(response, now))
              const instead = onError?.(response)
              return instead === undefined ? Effect.fail(reasonOf(response, now)) : Effect.succeed(instead)
            })
        )
      )
    )

  const targetJson = (target: EditTarget) => ({
    ...(target.businessConnectionId === undefined ? {} : { business_connection_id: target.businessConnectionId }),
    ...(isInline(target)
      ? { inline_message_id: target.inlineMessageId }
      : { chat_id: target.chatId, message_id: target.messageId })
  })

  /** `message is not modified`: the edit's goal is reached; what the message is was not answered. */
  const notModified =
    (target: EditTarget, content: { readonly text?: string; readonly caption?: string }) =>
    (response: HttpTransport.HttpResponse): Edited.Edited | undefined =>
      isNotModified(response)
        ? {
            chatId: !isInline(target) && typeof target.chatId === "number" ? target.chatId : undefined,
            messageId: isInline(target) ? undefined : target.messageId,
            ...content,
            modified: false
          }
        : undefined

  /** The key an edit counts on in the limiter: its chat, or (with no chat) its inline message. */
  const limitKey = (target: EditTarget): string | number =>
    isInline(target) ? `inline:${target.inlineMessageId}` : target.chatId

  return {
    editText: (target, text) =>
      call(
        "editMessageText",
        limitKey(target),
        { ...targetJson(target), text },
        readEdited(target, { text }),
        notModified(target, { text })
      ),
    editCaption: (target, caption) =>
      call(
        "editMessageCaption",
        limitKey(target),
        { ...targetJson(target), caption },
        readEdited(target, { caption }),
        notModified(target, { caption })
      ),
    send: (message) =>
      call(
        "sendMessage",
        message.chatId,
        {
          ...(message.businessConnectionId === undefined
            ? {}
            : { business_connection_id: message.businessConnectionId }),
          chat_id: message.chatId,
          text: message.text
        },
        readMessage
      ),
    delete: (target) => call("deleteMessage", target.chatId, targetJson(target), readTrue)
  }
}
