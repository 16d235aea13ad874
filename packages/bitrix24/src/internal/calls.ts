/**
 * The REST calls over checked settings, a session, a rate limiter and a
 * transport: each fails with a neutral reason (never an `EditError`: the
 * public client and core's editor each wrap a reason once, with their own
 * operation). Answers become reasons in `./errors.ts` only, and are read in
 * `./answers.ts`. Each call is one attempt through the portal's rate limiter,
 * repeated after refreshing an expired token (the portal refused the first
 * attempt, so nothing was done twice).
 */
import { EditError, Telemetry } from "@reword/core"
import { HttpFailure, HttpTransport, OptionCheck, ProviderKit, RetryPolicy } from "@reword/core/adapter"
import { type Config, Duration, Effect, Option, Redacted, Result, Scope } from "effect"
import type { Options as ClientOptions, MessagesInput, OnOperatingLimit, Target } from "../Bitrix24Client.ts"
import type * as Bitrix24Config from "../Bitrix24Config.ts"
import * as RateLimiter from "../RateLimiter.ts"
import * as TokenStore from "../TokenStore.ts"
import { type Answer, readAnswer, readMessages } from "./answers.ts"
import { type Context as ErrorContext, guarded, refusal } from "./errors.ts"
import * as Operating from "./limiter/operating.ts"
import * as OAuth from "./oauth/session.ts"
import type { DeleteItem, MessageItem, MessagesResponse } from "./schemas.ts"
import * as StoreDeadline from "./storeDeadline.ts"

type Reason = EditError.EditErrorReason

/** The calls, each failing with the reason of the answer. */
export interface Calls {
  readonly portalUrl: URL
  readonly target: Target
  readonly session: OAuth.Session
  /** Any REST method with a JSON body (`auth` is added); the name is checked by the caller. */
  readonly call: (method: string, params: Readonly<Record<string, unknown>>) => Effect.Effect<Answer, Reason>
  readonly updateMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, Reason>
  readonly sendMessages: (input: MessagesInput<MessageItem>) => Effect.Effect<MessagesResponse, Reason>
  readonly deleteMessages: (input: MessagesInput<DeleteItem>) => Effect.Effect<MessagesResponse, Reason>
}

/** What the calls are built from. */
export interface Deps {
  readonly portalUrl: URL
  readonly target: Target
  readonly session: OAuth.Session
  readonly limiter: RateLimiter.Service
  readonly transport: HttpTransport.HttpTransport
  readonly onOperatingLimit?: OnOperatingLimit | undefined
  readonly maxOperatingWait?: Duration.Input | undefined
}

const ACCEPT_JSON: Readonly<Record<string, string>> = { accept: "application/json" }

/**
 * How long a token request may wait for its answer, whatever the transport's
 * timeout: its callers stop waiting at that timeout, the request goes on.
 */
const LATE_TOKEN_ANSWER = Duration.minutes(2)

/** The most refreshes one call may lead to (each after a pair it did not mint itself). */
const MAX_REFRESHES = 3

const isInvalidToken = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code !== undefined && reason.code.toLowerCase() === "invalid_token"

const isExpired = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code !== undefined && reason.code.toLowerCase() === "expired_token"

/** Builds the calls. */
export const make = (deps: Deps): Calls => {
  const { portalUrl, target, session, limiter, transport } = deps
  const portal = portalUrl.origin
  const onOperatingLimit = deps.onOperatingLimit ?? "wait"
  const maxOperatingWait = Duration.fromInputUnsafe(deps.maxOperatingWait ?? RetryPolicy.defaults.maxElapsed)
  const queryLimitBackoff = Duration.millis(Math.ceil(1000 / limiter.bucket.drainPerSecond) + 1000)
  const withPermit = limiter.withPermitWithin(portal, maxOperatingWait)
  /** A wait for room in the bucket that would outlast the budget: `RateLimited`, at once. */
  const bucketFull = (full: RateLimiter.BucketFull): Reason =>
    new EditError.RateLimited({
      retryAfter: full.retryAfter,
      code: "CLIENT_RATE_LIMIT",
      description: full.cut
        ? `no room in the portal's request budget (the client-side bucket) within ${Duration.format(maxOperatingWait)}; room is expected in ${Duration.format(full.retryAfter)}`
        : `the portal's request budget (the client-side bucket) is taken for the next ${Duration.format(full.retryAfter)} by the calls ahead of this one, longer than this call may wait (${Duration.format(maxOperatingWait)})`
    })

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
      return Operating.waitForReset(wait)
    })

  /** What the rate limiter knows of a refusal: when the limit it names ends. */
  const contextOf =
    (method: string, response: HttpTransport.HttpResponse) =>
    (code: string, now: number): Effect.Effect<ErrorContext> => {
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

  /** The usual answer, its operating time told to the limiter; anything else is its reason. */
  const interpret = (method: string, response: HttpTransport.HttpResponse): Effect.Effect<Answer, Reason> => {
    const answer = readAnswer(response)
    if (answer === undefined) return refusal(response, contextOf(method, response))
    const time = answer.time
    return time === undefined || (time.operating === undefined && time.operating_reset_at === undefined)
      ? Effect.succeed(answer)
      : Effect.as(limiter.observe(portal, method, time), answer)
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
          (error): error is RateLimiter.BucketFull => error instanceof RateLimiter.BucketFull,
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
  const call = (
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

  /** The rest of {@link call} once an attempt with `first` failed: a replaced pair, refreshes and repeats. */
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

  const messages =
    (method: string) =>
    (input: MessagesInput<unknown>): Effect.Effect<MessagesResponse, Reason> =>
      call(
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
        Telemetry.traced(`Bitrix24Client.${method}`, {
          attributes: { "bitrix24.method": method, "bitrix24.messages": input.messages.length }
        })
      )

  return {
    portalUrl,
    target,
    session,
    call: (method, params) => call(method, params),
    updateMessages: messages("imconnector.update.messages"),
    sendMessages: messages("imconnector.send.messages"),
    deleteMessages: messages("imconnector.delete.messages")
  }
}

/** The options the calls are set up with: the client's (the editor's hold them too). */
export type SetupOptions = ClientOptions

const durationBounds = { minMillis: 0, maxMillis: Operating.WINDOW_MILLIS }

/** `rateLimit`: a preset's name or a bucket, a headroom, and the operating-time budget's durations. */
const rateLimitProblems = (value: unknown): ReadonlyArray<EditError.Problem> => {
  if (typeof value !== "object" || value === null) return [{ path: "", message: "must be an object" }]
  const rateLimit = value as NonNullable<SetupOptions["rateLimit"]>
  const bucket = rateLimit.bucket
  return [
    ...(typeof bucket === "object" && bucket !== null
      ? [
          ...OptionCheck.finite("bucket.drainPerSecond", bucket.drainPerSecond, { min: 0, exclusiveMin: true }),
          ...OptionCheck.integer("bucket.capacity", bucket.capacity, { min: 1 })
        ]
      : OptionCheck.oneOf("bucket", bucket, Object.keys(RateLimiter.presets))),
    ...OptionCheck.integer("headroom", rateLimit.headroom, { min: 0 }),
    ...OptionCheck.duration("operatingLimit", rateLimit.operatingLimit, durationBounds),
    ...OptionCheck.duration("operatingMargin", rateLimit.operatingMargin, durationBounds),
    ...OptionCheck.duration("operatingFallback", rateLimit.operatingFallback, durationBounds)
  ]
}

/**
 * The options only Bitrix24's calls understand, declared once (`tokenStore`:
 * a store of either shape; `tokenStoreTimeout`: a deadline a timer can keep;
 * `onOperatingLimit`; `rateLimit`), decoded once with the editor's or the
 * client's options; {@link setup} takes them as they are.
 */
export const OwnOptions = OptionCheck.struct({
  tokenStore: OptionCheck.field<SetupOptions["tokenStore"]>((value) =>
    isStore(value)
      ? []
      : [
          {
            path: "",
            message:
              "must be a TokenStore service ({ load: Effect, save }) or a Promise-shaped store ({ load(), save(tokens) })"
          }
        ]
  ),
  tokenStoreTimeout: OptionCheck.field<SetupOptions["tokenStoreTimeout"]>((value) => {
    const timeout = StoreDeadline.checkTimeout(value as SetupOptions["tokenStoreTimeout"])
    return timeout === undefined ? [] : [{ path: "", message: timeout.replace(/^tokenStoreTimeout /, "") }]
  }),
  onOperatingLimit: OptionCheck.field<OnOperatingLimit>((value) => OptionCheck.oneOf("", value, ["wait", "fail"])),
  rateLimit: OptionCheck.field<SetupOptions["rateLimit"]>(rateLimitProblems)
})

/** The problems of {@link OwnOptions}, each naming its field (`rateLimit.bucket.capacity`). */
export const optionProblems = (options: SetupOptions): ReadonlyArray<EditError.Problem> => {
  const decoded = OptionCheck.decode(OwnOptions, options)
  return Result.isFailure(decoded) ? decoded.failure : []
}

const isStore = (value: unknown): value is TokenStore.Service | TokenStore.PromiseStore =>
  typeof value === "object" &&
  value !== null &&
  "load" in value &&
  "save" in value &&
  typeof value.save === "function" &&
  (typeof value.load === "function" || Effect.isEffect(value.load))

/**
 * The calls from checked settings and decoded options (see
 * {@link optionProblems}): the token store's pair wins over the
 * configured one (it is newer: refresh tokens rotate), unless the portal or
 * the OAuth server refuses it while the configuration holds another pair (the
 * application was authorized again): then the configured pair takes over, and
 * is stored once it works. Uses the `TokenStore` and `RateLimiter` in context
 * when the options give none.
 */
export const setup = (
  settings: Bitrix24Config.Settings,
  options: SetupOptions
): Effect.Effect<Calls, Config.ConfigError> =>
  Effect.gen(function* () {
    // The options were decoded (optionProblems): the token store's are not checked again.
    const given = options.tokenStore
    const store = StoreDeadline.withDeadline(
      given === undefined
        ? (Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore)) ?? TokenStore.makeMemory())
        : StoreDeadline.fromAny(given),
      options.tokenStoreTimeout ?? StoreDeadline.DEFAULT_TIMEOUT
    )
    const stored = yield* store.load.pipe(
      Effect.mapError((error) => ProviderKit.configError(`Could not read the Bitrix24 token store: ${error.message}`))
    )
    const tokens: TokenStore.Tokens = Option.getOrElse(stored, () => ({
      accessToken: settings.accessToken,
      refreshToken: settings.refreshToken
    }))
    const transport = HttpTransport.make(options.transport)
    // The token request outlives its callers' wait: its answer holds the only valid pair (refresh tokens rotate).
    const oauthTransport = HttpTransport.make({
      ...options.transport,
      timeout: Duration.max(transport.timeout, LATE_TOKEN_ANSWER)
    })
    const session = OAuth.makeSession({
      tokens,
      configured: { accessToken: settings.accessToken, refreshToken: settings.refreshToken },
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      oauthUrl: settings.oauthUrl,
      allowInsecureLoopback: settings.allowInsecureLoopback,
      store,
      transport: oauthTransport,
      callerTimeout: transport.timeout
    })
    // Stores a refreshed pair still held only here when the editor's scope closes (dispose, layer release).
    const scope = yield* Effect.serviceOption(Scope.Scope)
    if (Option.isSome(scope)) yield* Scope.addFinalizer(scope.value, session.close)
    const limiter =
      options.rateLimiter ??
      Option.getOrUndefined(yield* Effect.serviceOption(RateLimiter.RateLimiter)) ??
      (yield* Effect.try({
        try: () => RateLimiter.make(options.rateLimit),
        catch: (error) =>
          ProviderKit.configError(`Invalid rateLimit: ${error instanceof Error ? error.message : String(error)}`)
      }))
    return make({
      portalUrl: settings.portalUrl,
      target: { connector: settings.connector, line: settings.line },
      session,
      limiter,
      transport,
      onOperatingLimit: options.onOperatingLimit,
      maxOperatingWait: options.maxOperatingWait
    })
  })
