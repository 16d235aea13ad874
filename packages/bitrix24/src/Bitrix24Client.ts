/**
 * The low-level, typed client of the imconnector message methods:
 * `imconnector.update.messages` (the point), and `imconnector.send.messages` /
 * `imconnector.delete.messages`, which apps use to create and retire the
 * messages they edit. Each call is one attempt, goes through the portal's rate
 * limiter, and repeats itself after refreshing an expired token (the portal
 * refused the first attempt, so nothing was done twice). Updates and deletes
 * may be wrapped in core's `RetryPolicy.retry`; a send is not idempotent: after
 * a timeout or a dropped connection the portal may have accepted the message,
 * and a repeat would deliver it twice, so never retry `sendMessages` blindly.
 *
 * @since 0.1.0
 */
import { EditError, HttpFailure, HttpTransport, RetryPolicy, type Secrets, Telemetry, Untrusted } from "@reword/core"
import {
  type Array as Arr,
  Clock,
  Context,
  Duration,
  Effect,
  Option,
  Predicate,
  Redacted,
  Result,
  Schema
} from "effect"
import {
  type DeleteItem,
  type MessageItem,
  type MessagesResponse,
  MessagesSuccess,
  type Time
} from "./Bitrix24Schemas.ts"
import { readSuccess, readTime } from "./internal/answers.ts"
import { type Context as ErrorContext, reasonOf, reasonOfCode } from "./internal/errors.ts"
import type { Session } from "./OAuth.ts"
import { BucketFull, type Service as RateLimiterService, waitForReset } from "./RateLimiter.ts"

type Reason = EditError.EditErrorReason

/**
 * The provider name errors carry.
 *
 * @since 0.1.0
 */
export const PROVIDER = "bitrix24"

/**
 * Where messages go: the connector code and the open line.
 *
 * @since 0.1.0
 */
export interface Target {
  readonly connector: string
  readonly line: number
}

/**
 * What to do when a method used up its operating time: wait for the reset
 * (default), or fail at once with `RateLimited` and `retryAfter`.
 *
 * @since 0.1.0
 */
export type OnOperatingLimit = "wait" | "fail"

/**
 * What a client needs.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The portal's base URL (calls go to `<portal>/rest/<method>`). */
  readonly portalUrl: URL
  /** The default connector and line; each call may name others. */
  readonly target: Target
  readonly session: Session
  readonly limiter: RateLimiterService
  readonly transport: HttpTransport.HttpTransport
  readonly onOperatingLimit?: OnOperatingLimit | undefined
  /**
   * The longest a call waits for an operating-time reset (`onOperatingLimit:
   * "wait"`), and for room in the client-side bucket; a longer projected wait
   * fails at once with `RateLimited` and `retryAfter`, as core's retry policy
   * does past its budget. Default: that policy's default `maxElapsed` (60 s);
   * the editor passes its own policy's.
   */
  readonly maxOperatingWait?: Duration.Input | undefined
}

/**
 * The input of a message method: the messages, and optionally another
 * connector or line than the configured ones.
 *
 * @since 0.1.0
 */
export interface MessagesInput<Item> {
  readonly connector?: string | undefined
  readonly line?: number | undefined
  readonly messages: Arr.NonEmptyReadonlyArray<Item>
  /**
   * The server time this call is expected to take, in seconds (the editor's
   * estimate from earlier answers). Counted, with this client's other calls of
   * the method in flight, against the method's operating time: a call that
   * could take it over the limit waits for its reset instead.
   */
  readonly expectedSeconds?: number | undefined
}

/**
 * A successful REST answer: its `result` (not yet read) and `time`.
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly result: unknown
  readonly time: Time | undefined
  readonly response: HttpTransport.HttpResponse
}

/**
 * The client's interface.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly portalUrl: URL
  readonly target: Target
  /** Every secret the client's session knows (live): scrubbed from whatever is kept of an answer. */
  readonly secrets?: Secrets.Secrets | undefined
  /**
   * Calls any REST method with a JSON body (`auth` is added). A name that is
   * not a method (letters, digits, dots and underscores; never `.` or `..`)
   * is an `InvalidRequest`, and nothing is sent.
   */
  readonly call: (
    method: string,
    params: Readonly<Record<string, unknown>>,
    operation?: EditError.Operation
  ) => Effect.Effect<Answer, EditError.EditError>
  /**
   * `imconnector.update.messages`: one result item per message, in order.
   * The portal cannot tell reword that a message id is unknown: an item for a
   * message id it never received (or deleted) comes back as a success and
   * changes nothing. Keep the ids you sent with.
   */
  readonly updateMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
  /**
   * `imconnector.send.messages`: one result item per message, in order. Not
   * idempotent: do not retry it blindly (a repeat after a timeout may deliver
   * the message twice).
   */
  readonly sendMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
  /** `imconnector.delete.messages`: one result item per message, in order. */
  readonly deleteMessages: (input: MessagesInput<DeleteItem>) => Effect.Effect<MessagesResponse, EditError.EditError>
}

/**
 * The client as a service (provided by `Bitrix24MessageEditor.layer`, sharing
 * the editor's tokens and rate limiter).
 *
 * @since 0.1.0
 */
export class Bitrix24Client extends Context.Service<Bitrix24Client, Service>()("@reword/bitrix24/Bitrix24Client") {}

const decodeSuccess = Schema.decodeUnknownEffect(MessagesSuccess)

const ACCEPT_JSON: Readonly<Record<string, string>> = { accept: "application/json" }

/**
 * A REST method name: letters, digits, dots and underscores, with at least one
 * that is not a dot (`.` and `..` would be path segments, not methods).
 */
const isMethodName = (method: string): boolean => /^[A-Za-z0-9_.]+$/.test(method) && /[A-Za-z0-9_]/.test(method)

/** The most refreshes one call may lead to (each after a pair it did not mint itself). */
const MAX_REFRESHES = 3

const isInvalidToken = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code !== undefined && reason.code.toLowerCase() === "invalid_token"

const isExpired = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code !== undefined && reason.code.toLowerCase() === "expired_token"

/** A record's first entries (bounded) under lower-case keys; never throws. */
const lowerKeys = (value: unknown): Record<string, unknown> | undefined => {
  if (!Untrusted.isRecord(value)) return undefined
  const record: Record<string, unknown> = {}
  for (const [key, inner] of Untrusted.entries(value)) {
    const lower = key.toLowerCase()
    if (!(lower in record)) record[lower] = inner
  }
  return record
}

/** The first non-blank text (or number) under one of `keys`, cut to a field's length. */
const firstText = (record: unknown, keys: ReadonlyArray<string>): string | undefined => {
  const text = Untrusted.firstString(record, keys)
  return text === undefined ? undefined : Untrusted.clip(text)
}

/**
 * The code and text of an old-form refusal: HTTP 200 with `result.SUCCESS`
 * false and the code beside it, in whichever of the shapes older servers used
 * (`ERROR_CODE`/`ERROR_MESSAGE`, `ERROR: {CODE, MESSAGE}`, `ERRORS: [{code,
 * message}]` or texts, `error`/`error_description`).
 */
const oldFormFields = (result: unknown): HttpFailure.ErrorFields => {
  const record = lowerKeys(result)
  const error = lowerKeys(record?.error)
  const errors = record?.errors
  const list: ReadonlyArray<unknown> = Array.isArray(errors)
    ? Untrusted.entries(errors, 50).map(([, value]) => value)
    : Predicate.isObject(errors)
      ? Untrusted.entries(errors, 50).map(([key, value]) =>
          Predicate.isString(value) && /^[A-Z_]+$/.test(key) ? { code: key, message: value } : value
        )
      : []
  const entries = list.map((entry) => (Predicate.isString(entry) ? { message: entry } : (lowerKeys(entry) ?? {})))
  const code =
    firstText(record, ["error_code", "code"]) ??
    (Predicate.isString(record?.error) && record.error.trim().length > 0 ? Untrusted.clip(record.error) : undefined) ??
    firstText(error, ["code", "error_code"]) ??
    entries.map((entry) => firstText(entry, ["code", "error_code"])).find(Predicate.isNotUndefined)
  const texts = entries
    .map((entry) => firstText(entry, ["message", "error_message", "text"]))
    .filter(Predicate.isNotUndefined)
  const description =
    firstText(record, ["error_description", "error_message", "message"]) ??
    firstText(error, ["message", "error_message", "description"]) ??
    (texts.length > 0 ? Untrusted.clip(texts.join("; ")) : undefined)
  return {
    ...(code === undefined ? {} : { code }),
    ...(description === undefined ? {} : { description })
  }
}

/**
 * Makes a client.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Service => {
  const { portalUrl, target, session, limiter, transport } = options
  const portal = portalUrl.origin
  const onOperatingLimit = options.onOperatingLimit ?? "wait"
  const maxOperatingWait = Duration.fromInputUnsafe(options.maxOperatingWait ?? RetryPolicy.defaults.maxElapsed)
  const queryLimitBackoff = Duration.millis(Math.ceil(1000 / limiter.bucket.drainPerSecond) + 1000)
  const withPermit = limiter.withPermitWithin(portal, maxOperatingWait)
  /** A wait for room in the bucket that would outlast the budget: `RateLimited`, at once. */
  const bucketFull = (full: BucketFull): Reason =>
    new EditError.RateLimited({
      retryAfter: full.retryAfter,
      code: "CLIENT_RATE_LIMIT",
      description: full.cut
        ? `no room in the portal's request budget (the client-side bucket) within ${Duration.format(maxOperatingWait)}; room is expected in ${Duration.format(full.retryAfter)}`
        : `the portal's request budget (the client-side bucket) is taken for the next ${Duration.format(full.retryAfter)} by the calls ahead of this one, longer than this call may wait (${Duration.format(maxOperatingWait)})`
    })
  /** Whatever an answer holds, reading it never escapes as a defect: it is this call's `MalformedResponse`. */
  const guarded = <A>(
    read: () => Effect.Effect<A, Reason>,
    response: HttpTransport.HttpResponse | undefined
  ): Effect.Effect<A, Reason> =>
    Effect.catchDefect(Effect.suspend(read), () =>
      Effect.fail(
        new EditError.MalformedResponse({
          ...(response === undefined ? {} : { status: response.status }),
          description: "the answer could not be read (its shape is beyond what reword reads)"
        })
      )
    )

  const urlOf = (method: string): URL => new URL(`rest/${encodeURIComponent(method)}`, portalUrl)

  /** Per method: the server time this client's calls in flight are expected to take. */
  const inFlight = new Map<string, number>()
  const inFlightOf = (method: string) => inFlight.get(method) ?? 0
  /** Counts a call's expected server time as in flight while it runs. */
  const counted = <A, E>(method: string, seconds: number, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    seconds > 0
      ? Effect.suspend(() => {
          // Counted and its release installed in one synchronous step: nothing can interrupt in between.
          inFlight.set(method, inFlightOf(method) + seconds)
          return Effect.ensuring(
            effect,
            Effect.sync(() => inFlight.set(method, Math.max(0, inFlightOf(method) - seconds)))
          )
        })
      : effect

  const waitForOperating = (method: string, expected = 0): Effect.Effect<void, Reason> =>
    Effect.flatMap(limiter.blockedFor(portal, method, expected > 0 ? inFlightOf(method) + expected : 0), (wait) => {
      if (Duration.isZero(wait)) return Effect.void
      if (onOperatingLimit === "fail" || Duration.isGreaterThan(wait, maxOperatingWait)) {
        return Effect.fail(
          new EditError.RateLimited({
            retryAfter: wait,
            code: "OPERATION_TIME_LIMIT",
            description: `${method} used up its operating time on this portal; it is blocked until the reset, in ${Duration.format(wait)}`
          })
        )
      }
      return waitForReset(wait)
    })

  /**
   * A successful answer (JSON, a status under 300, `result` and no `error`):
   * its `result` and `time`, read without a Schema walk; anything else is
   * judged by {@link interpretOther}.
   */
  const interpret = (method: string, response: HttpTransport.HttpResponse): Effect.Effect<Answer, Reason> => {
    const envelope = response.isJson && response.status < 300 ? lowerKeys(response.json) : undefined
    if (envelope === undefined || !("result" in envelope)) return interpretOther(method, response)
    const code = envelope.error
    if (Predicate.isString(code) && code.length > 0) return interpretOther(method, response)
    const time = readTime(envelope.time)
    const answer: Answer = { result: envelope.result, time, response }
    return time === undefined || (time.operating === undefined && time.operating_reset_at === undefined)
      ? Effect.succeed(answer)
      : Effect.as(limiter.observe(portal, method, time), answer)
  }

  const interpretOther = (method: string, response: HttpTransport.HttpResponse): Effect.Effect<Answer, Reason> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (!response.isJson) {
        if (response.status >= 200 && response.status < 300) {
          return yield* Effect.fail(
            new EditError.MalformedResponse({
              status: response.status,
              description:
                response.text.length === 0 ? "the portal's answer is empty" : "the portal's answer is not JSON",
              ...HttpTransport.optionalBody(response.text)
            })
          )
        }
        // A proxy's page in front of an overloaded portal: the status says it all.
        return yield* Effect.fail(reasonOf(response, HttpFailure.errorFields(response), now))
      }
      const envelope = lowerKeys(response.json)
      const code = envelope === undefined ? undefined : envelope.error
      if (Predicate.isString(code) && code.length > 0) {
        const description = firstText(envelope, ["error_description"])
        const fields = { code, ...(description === undefined ? {} : { description }) }
        const context: ErrorContext = yield* contextOf(method, code, response, now)
        return yield* Effect.fail(reasonOf(response, fields, now, context))
      }
      if (response.status >= 300 || envelope === undefined || !("result" in envelope)) {
        if (response.status >= 300) {
          return yield* Effect.fail(reasonOf(response, HttpFailure.errorFields(response), now))
        }
        return yield* Effect.fail(
          new EditError.MalformedResponse({
            status: response.status,
            description: "the portal's answer has neither result nor error",
            ...HttpTransport.optionalBody(response.text)
          })
        )
      }
      const timeValue = readTime(envelope.time)
      if (timeValue !== undefined) yield* limiter.observe(portal, method, timeValue)
      return { result: envelope.result, time: timeValue, response }
    })

  const contextOf = (
    method: string,
    code: string,
    response: HttpTransport.HttpResponse,
    now: number
  ): Effect.Effect<ErrorContext> => {
    const header = HttpFailure.parseRetryAfter(response.headers.get("retry-after"), now)
    switch (code.toUpperCase()) {
      case "QUERY_LIMIT_EXCEEDED":
        return Effect.as(limiter.saturated(portal), { retryAfter: header ?? queryLimitBackoff })
      case "OPERATION_TIME_LIMIT":
        return Effect.map(limiter.block(portal, method), (blocked) => ({ retryAfter: header ?? blocked }))
      default:
        return Effect.succeed(header === undefined ? {} : { retryAfter: header })
    }
  }

  const attempt = (
    method: string,
    params: Readonly<Record<string, unknown>>,
    token: Redacted.Redacted<string>,
    expected: number
  ): Effect.Effect<Answer, Reason> =>
    Effect.andThen(
      waitForOperating(method, expected),
      // The request holds a place in the portal's bucket until its answer is back.
      counted(
        method,
        expected,
        withPermit(
          Effect.suspend(() =>
            transport.send({
              method: "POST",
              url: urlOf(method),
              headers: ACCEPT_JSON,
              json: { ...params, auth: Redacted.value(token) },
              secrets: session.secrets()
            })
          )
        )
      ).pipe(
        Effect.catchIf(
          (error): error is BucketFull => error instanceof BucketFull,
          (full) => Effect.fail(bucketFull(full))
        ),
        Effect.flatMap((response) => guarded(() => interpret(method, response), response))
      )
    )

  /**
   * One call; after `expired_token`, a refresh (shared) and a repeat. Once a
   * refresh gave a pair the OAuth server minted just now, another
   * `expired_token` is final; a pair adopted from a shared store (another
   * process's, which may have expired as well) is refreshed in its turn.
   */
  const callReason = (
    method: string,
    params: Readonly<Record<string, unknown>>,
    expected = 0
  ): Effect.Effect<Answer, Reason> =>
    Effect.flatMap(session.accessToken, (token) =>
      Effect.matchEffect(attempt(method, params, token, expected), {
        onSuccess: (answer) => Effect.as(session.accepted(token), answer),
        onFailure: (reason) => afterFailure(method, params, expected, token, reason)
      })
    )

  /** The rest of {@link callReason} once an attempt with `first` failed: a replaced pair, refreshes and repeats. */
  const afterFailure = (
    method: string,
    params: Readonly<Record<string, unknown>>,
    expected: number,
    first: Redacted.Redacted<string>,
    firstReason: Reason
  ): Effect.Effect<Answer, Reason> =>
    Effect.gen(function* () {
      let token = first
      let reason = firstReason
      let replaced = false
      for (let refreshes = 0; ; ) {
        let repeat = false
        if (isInvalidToken(reason) && !replaced) {
          // A stale stored pair, and a re-authorized configuration: try the configured pair once.
          replaced = true
          const next = yield* session.replace(token)
          if (Option.isSome(next)) {
            token = next.value
            repeat = true
          }
        }
        if (!repeat) {
          const mayRefresh = refreshes === 0 || (refreshes < MAX_REFRESHES && !session.minted(token))
          if (!isExpired(reason) || !mayRefresh) return yield* Effect.fail(reason)
          refreshes += 1
          token = yield* session.refresh(token)
        }
        const result = yield* Effect.result(attempt(method, params, token, expected))
        if (Result.isSuccess(result)) {
          yield* session.accepted(token)
          return result.success
        }
        reason = result.failure
      }
    })

  const toError =
    (operation: EditError.Operation) =>
    (reason: Reason): EditError.EditError =>
      EditError.make({ provider: PROVIDER, operation, reason })

  const call: Service["call"] = (method, params, operation = "get") =>
    isMethodName(method)
      ? Effect.mapError(callReason(method, params), toError(operation))
      : Effect.fail(
          toError(operation)(
            new EditError.InvalidRequest({
              problems: [
                {
                  path: "method",
                  message:
                    "must be a REST method name: letters, digits, dots and underscores, such as imconnector.register"
                }
              ]
            })
          )
        )

  const messages =
    (method: string, operation: EditError.Operation) =>
    (input: MessagesInput<unknown>): Effect.Effect<MessagesResponse, EditError.EditError> =>
      callReason(
        method,
        {
          CONNECTOR: input.connector ?? target.connector,
          LINE: input.line ?? target.line,
          MESSAGES: input.messages
        },
        Number.isFinite(input.expectedSeconds) && (input.expectedSeconds as number) > 0
          ? (input.expectedSeconds as number)
          : 0
      ).pipe(
        Effect.flatMap((answer) => guarded(() => readMessages(answer, input.messages.length), answer.response)),
        Effect.mapError(toError(operation)),
        Telemetry.traced(`Bitrix24Client.${method}`, {
          attributes: { "bitrix24.method": method, "bitrix24.messages": input.messages.length }
        })
      )

  return Bitrix24Client.of({
    portalUrl,
    target,
    secrets: session.secrets(),
    call,
    updateMessages: messages("imconnector.update.messages", "update"),
    sendMessages: messages("imconnector.send.messages", "send"),
    deleteMessages: messages("imconnector.delete.messages", "delete")
  })
}

/**
 * Reads the `result` of a message method: the old refusal form (HTTP 200,
 * `SUCCESS: false`) becomes the call's reason; otherwise one item per message.
 */
const readMessages = (answer: Answer, expected: number): Effect.Effect<MessagesResponse, Reason> => {
  const { result, response } = answer
  // The usual answer, read without a Schema walk; Schema judges every other.
  const items = readSuccess(result, expected)
  if (items !== undefined) return Effect.succeed({ items, time: answer.time })
  const success = lowerKeys(result)?.success
  if (success === false) {
    const fields = oldFormFields(result)
    return Effect.fail(
      reasonOfCode({ status: response.status, ...fields, ...HttpTransport.optionalBody(response.text) })
    )
  }
  return decodeSuccess(result, { onExcessProperty: "ignore" }).pipe(
    Effect.mapError(
      (error) =>
        new EditError.MalformedResponse({
          status: response.status,
          description: `the portal's result is not the documented { SUCCESS, DATA: { RESULT } } (${error.message})`,
          ...HttpTransport.optionalBody(response.text)
        })
    ),
    Effect.flatMap((decoded) =>
      decoded.DATA.RESULT.length === expected
        ? Effect.succeed({ items: decoded.DATA.RESULT, time: answer.time })
        : Effect.fail(
            new EditError.MalformedResponse({
              status: response.status,
              description: `the portal answered ${decoded.DATA.RESULT.length} result items for ${expected} messages`,
              ...HttpTransport.optionalBody(response.text)
            })
          )
    )
  )
}
