/**
 * The application's OAuth session: the current access token, and its refresh
 * when the portal answers `401 expired_token` (never on a timer). However many
 * calls meet the expired token at once, exactly one refresh runs and they all
 * wait for its result. The refresh belongs to the session, not to the call that
 * started it: interrupting a call never interrupts the token request, so the
 * rotated pair is never lost. Refresh tokens rotate, so the new pair goes to the
 * {@link TokenStore} before it is used; if storing fails, the call fails with a
 * clear error and the pair stays in memory: storing it is tried again in the
 * background (a pause doubling from 250 ms to 30 s), before its first use, and
 * when the session closes (the editor's scope: `dispose`). A caller stops
 * waiting for a refresh at the transport's timeout, but the token request goes
 * on (up to 2 minutes): its answer holds the only valid pair, and is used and
 * stored when it comes.
 *
 * @since 0.1.0
 */
import { BaseUrl, EditError, HttpFailure, type HttpTransport, Metrics, Secrets } from "@reword/core"
import { Clock, Deferred, Duration, Effect, Exit, Fiber, Option, Predicate, Redacted, Semaphore } from "effect"
import { readTokenResponse } from "./Bitrix24Schemas.ts"
import { reasonOf } from "./internal/errors.ts"
import * as KeepSaving from "./internal/keepSaving.ts"
import { TokenStoreError, type Service as TokenStoreService, type Tokens } from "./TokenStore.ts"

type Reason = EditError.EditErrorReason

/**
 * What a session needs.
 *
 * @category options
 * @since 0.1.0
 */
export interface SessionOptions {
  /** The pair to start from (the store's, when it holds one). */
  readonly tokens: Tokens
  /**
   * The configured pair, when `tokens` came from the store. After the
   * application was authorized again, the configuration holds a new pair and
   * the store the old one: when the portal or the OAuth server refuses the
   * stored pair and this one is another pair, the session takes this one
   * (and stores it once the portal accepts it).
   */
  readonly configured?: Tokens | undefined
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /**
   * The OAuth server. A token answer's `server_endpoint` (or a stored
   * `oauthUrl`) replaces it only when it is a trusted OAuth server (see
   * {@link trustedOAuthUrl}).
   */
  readonly oauthUrl: URL
  readonly allowInsecureLoopback?: boolean | undefined
  readonly store: TokenStoreService
  readonly transport: HttpTransport.HttpTransport
  /**
   * After `invalid_grant`, how long to watch the store for the pair another
   * process sharing it may be saving (it used the refresh token first).
   * Default 1 s.
   */
  readonly rotationGrace?: Duration.Input | undefined
  /**
   * How long a caller waits for a refresh (default: until it ends). The
   * refresh itself goes on past it (bounded by the transport's timeout): an
   * answer that comes later holds the only valid pair, and is used and stored.
   */
  readonly callerTimeout?: Duration.Input | undefined
  /** On `close`, how long to wait for a refresh still in flight before storing what is held. Default 5 s. */
  readonly closeGrace?: Duration.Input | undefined
}

/**
 * A session's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Session {
  /** The access token to use now; stores a refreshed pair first if storing it failed before. */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, Reason>
  /**
   * Called when the portal said `stale` expired: refreshes once for everyone
   * who saw the same token, and answers the new access token.
   */
  readonly refresh: (stale: Redacted.Redacted<string>) => Effect.Effect<Redacted.Redacted<string>, Reason>
  /**
   * Whether `token` is the access token of a pair the OAuth server gave this
   * session. When the portal says such a token expired right after the
   * refresh, refreshing again would not help; a pair adopted from the store
   * (another process's, possibly an hour old) may be refreshed in its turn.
   */
  readonly minted: (token: Redacted.Redacted<string>) => boolean
  /**
   * The portal refused `refused` as not valid (`invalid_token`): answers the
   * access token to try instead, if there is one (the configured pair, when
   * the refused one came from a stale store), or none.
   */
  readonly replace: (refused: Redacted.Redacted<string>) => Effect.Effect<Option.Option<Redacted.Redacted<string>>>
  /**
   * The portal accepted `token`. A configured pair that took over from a
   * refused stored pair is stored now that it is known to work (a failure to
   * store it is ignored: the configuration still holds it).
   */
  readonly accepted: (token: Redacted.Redacted<string>) => Effect.Effect<void>
  /**
   * Every secret the session knows, live (one set, kept up to date): the
   * client secret, the configured pair, the stored pair and every pair
   * refreshed or adopted since, to scrub from kept answers in every encoding.
   */
  readonly secrets: () => Secrets.Secrets
  /**
   * Ends the session: waits for a refresh in flight (up to `closeGrace`),
   * stops the background tries to store a refreshed pair, and tries once more
   * (within the store's deadline). A pair it still cannot store is lost with
   * this process: the log says so, and that the application must be
   * authorized again.
   */
  readonly close: Effect.Effect<void>
}

/**
 * Bitrix24's own OAuth servers: the only hosts besides the configured OAuth
 * server that a token answer's `server_endpoint` (or a stored `oauthUrl`) may
 * name, over HTTPS on the default port. `oauth.bitrix.info` is the global
 * server; `oauth.bitrix24.tech` the one Bitrix24 names for its newer and its
 * `.ru` zone portals.
 *
 * @category oauth
 * @since 0.1.0
 */
export const OAUTH_HOSTS: ReadonlyArray<string> = ["oauth.bitrix.info", "oauth.bitrix24.tech"]

/**
 * Whether an OAuth server named by a server (a token answer's
 * `server_endpoint`) or read from the token store may receive the client
 * secret and the refresh token, and the origin to use if so: the configured
 * OAuth server itself; one of {@link OAUTH_HOSTS} over HTTPS, by name, on the
 * default port; or, when the settings allow insecure loopback, a loopback
 * address (local test servers). Anything else (another host, an IP literal,
 * another port, credentials in the URL) is `undefined`.
 *
 * @category oauth
 * @since 0.1.0
 */
export const trustedOAuthUrl = (
  candidate: string,
  options: { readonly configured: URL; readonly allowInsecureLoopback?: boolean | undefined }
): URL | undefined => {
  if (candidate.length > 2_048 || !URL.canParse(candidate)) return undefined
  const url = new URL(candidate)
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined
  if (url.username !== "" || url.password !== "") return undefined
  const origin = new URL(url.origin)
  if (origin.origin === options.configured.origin) return origin
  if (options.allowInsecureLoopback === true && BaseUrl.isLoopback(url.hostname)) return origin
  const host = url.hostname.toLowerCase().replace(/\.$/, "")
  if (url.protocol !== "https:" || url.port !== "" || !OAUTH_HOSTS.includes(host)) return undefined
  return new URL(`https://${host}`)
}

/**
 * The token endpoint of an OAuth server.
 *
 * @category oauth
 * @since 0.1.0
 */
export const tokenUrl = (oauthUrl: URL): URL => new URL("/oauth/token/", oauthUrl.origin)

/**
 * Exchanges a refresh token for a new pair: a form-encoded POST, so that no
 * secret is ever in a URL.
 *
 * @category oauth
 * @since 0.1.0
 */
export const requestTokens = (params: {
  readonly transport: HttpTransport.HttpTransport
  readonly oauthUrl: URL
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  readonly allowInsecureLoopback?: boolean | undefined
  /** The configured OAuth server (default `oauthUrl`): always trusted as a `server_endpoint`. */
  readonly configuredOauthUrl?: URL | undefined
  /** Every secret to scrub from what is kept of the answer (default: the client secret and the refresh token). */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | Secrets.Secrets | undefined
}): Effect.Effect<Tokens, Reason> =>
  Effect.gen(function* () {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      client_id: params.clientId,
      client_secret: Redacted.value(params.clientSecret),
      refresh_token: Redacted.value(params.refreshToken)
    })
    const response = yield* params.transport.send({
      method: "POST",
      url: tokenUrl(params.oauthUrl),
      form,
      headers: { accept: "application/json" },
      secrets: params.secrets ?? [params.clientSecret, params.refreshToken]
    })
    const now = yield* Clock.currentTimeMillis
    // Whenever the answer carries a new pair, the server has rotated: the pair
    // is adopted before anything else is judged (an odd extra field, an odd
    // status), since the old refresh token is dead either way.
    const answer = response.isJson ? readTokenResponse(response.json) : undefined
    if (answer === undefined) {
      const fields = HttpFailure.errorFields(response)
      const hasError = response.isJson && Predicate.hasProperty(response.json, "error")
      if (response.status !== 200 || hasError) {
        return yield* Effect.fail(withRefreshContext(reasonOf(response, fields, now)))
      }
      // A body that may hold a token is never kept on an error.
      return yield* Effect.fail(
        new EditError.MalformedResponse({
          status: response.status,
          description: "the OAuth server's answer to the token refresh has no access_token and refresh_token"
        })
      )
    }
    const expiresAt =
      answer.expires ?? (answer.expires_in === undefined ? undefined : Math.floor(now / 1000) + answer.expires_in)
    const server =
      answer.server_endpoint === undefined
        ? undefined
        : trustedOAuthUrl(answer.server_endpoint, {
            configured: params.configuredOauthUrl ?? params.oauthUrl,
            allowInsecureLoopback: params.allowInsecureLoopback
          })
    if (answer.server_endpoint !== undefined && server === undefined) {
      // Never the value itself: a hostile answer may put anything there.
      yield* Effect.logWarning(
        `Bitrix24: ignored the server_endpoint of a token answer: it is neither the configured OAuth server nor one of Bitrix24's (${OAUTH_HOSTS.join(", ")}) over https`
      )
    }
    const oauthUrl = server?.origin
    return {
      accessToken: Redacted.make(answer.access_token),
      refreshToken: Redacted.make(answer.refresh_token),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(oauthUrl === undefined ? {} : { oauthUrl })
    } satisfies Tokens
  }).pipe(
    // Whatever the answer holds, reading it never escapes as a defect.
    Effect.catchDefect(() =>
      Effect.fail(
        new EditError.MalformedResponse({
          description: "the OAuth server's answer to the token refresh could not be read"
        })
      )
    )
  )

const withRefreshContext = (reason: Reason): Reason => {
  if (!("description" in reason) || reason._tag === "Network") return reason
  const description = `refreshing the access token failed${reason.description === undefined ? "" : `: ${reason.description}`}`
  switch (reason._tag) {
    case "Unauthorized":
      return new EditError.Unauthorized({ ...reason, description })
    case "Forbidden":
      return new EditError.Forbidden({ ...reason, description })
    case "Rejected":
      return new EditError.Rejected({ ...reason, description })
    case "Unavailable":
      return new EditError.Unavailable({ ...reason, description })
    default:
      return reason
  }
}

const isInvalidGrant = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code?.toLowerCase() === "invalid_grant"

const storeFailure = (message: string, timedOut: boolean): Reason =>
  new EditError.Unavailable({
    code: "TOKEN_STORE",
    description: timedOut
      ? `the token store did not answer in time (${message}); the refreshed tokens are kept in memory, and storing them is tried again in the background and before their first use`
      : `the refreshed tokens could not be stored (${message}); they are kept in memory, and storing them is tried again in the background and before their first use`
  })

/**
 * A refresh still waiting for the OAuth server's answer when its caller stops
 * waiting: the attempt's `Timeout` (retryable), as for any request without an
 * answer in time. The answer is still awaited, and the pair it brings is used
 * and stored when it comes.
 */
const refreshPending = (waited: Duration.Duration): Reason => new EditError.Timeout({ after: waited })

/** `invalid_grant`, while the store could not be read to find the pair another process may have stored. */
const storeUnreadable = (reason: Reason, problem: string): Reason =>
  new EditError.Unavailable({
    code: "TOKEN_STORE",
    description: `the OAuth server refused the refresh token (invalid_grant), and the token store could not be read (${problem}) to find the pair another process sharing it may have stored: whether the application must be authorized again is not known yet; retry once the store answers${"code" in reason && reason.code !== undefined ? ` (OAuth code ${reason.code})` : ""}`
  })

const DEFAULT_CLOSE_GRACE = Duration.seconds(5)

/** How often the store is read again while waiting for another process's pair. */
const ROTATION_POLL = Duration.millis(100)
const DEFAULT_ROTATION_GRACE = Duration.seconds(1)

/** Where the pair in use came from. */
type Origin =
  /** The pair the session started from. */
  | "initial"
  /** The OAuth server gave it to this session, just now or earlier. */
  | "minted"
  /** Another process's pair, read from the shared store. */
  | "adopted"
  /** The configured pair, taken over from a refused stored pair: stored once the portal accepts it. */
  | "configured"

interface State {
  tokens: Tokens
  origin: Origin
  /** The pair in `tokens` is not stored yet: store it before using it. */
  unsaved: boolean
  /** The configured pair is in use or was tried already: never switch to it (again). */
  configuredTried: boolean
  inflight: Deferred.Deferred<Tokens, Reason> | undefined
}

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)

/**
 * Starts a session.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeSession = (options: SessionOptions): Session => {
  const configured = options.configured
  const state: State = {
    tokens: options.tokens,
    origin: "initial",
    unsaved: false,
    configuredTried: configured === undefined || same(configured.refreshToken, options.tokens.refreshToken),
    inflight: undefined
  }
  const saving = Semaphore.makeUnsafe(1)
  const grace = Duration.toMillis(Duration.fromInputUnsafe(options.rotationGrace ?? DEFAULT_ROTATION_GRACE))
  /**
   * Refresh tokens known to be dead: each one this session exchanged, and a
   * stored pair refused in favour of the configured one. A pair read from the
   * store with one of these is never adopted.
   */
  const dead = new Set<string>()

  /**
   * Every secret known: the client secret, the configured pair, and each pair
   * seen since (stored, refreshed, adopted). One set for the session's life,
   * so that whoever holds it scrubs the pairs that come later too.
   */
  const known = Secrets.make([
    options.clientSecret,
    ...(configured === undefined ? [] : [configured.accessToken, configured.refreshToken])
  ])
  const remember = (tokens: Tokens): void => {
    known.addAll([tokens.accessToken, tokens.refreshToken])
  }
  remember(options.tokens)

  const trusted = (candidate: string | undefined): URL | undefined =>
    candidate === undefined
      ? undefined
      : trustedOAuthUrl(candidate, {
          configured: options.oauthUrl,
          allowInsecureLoopback: options.allowInsecureLoopback
        })

  const oauthUrlNow: Effect.Effect<URL> = Effect.suspend(() => {
    const stored = state.tokens.oauthUrl
    if (stored === undefined) return Effect.succeed(options.oauthUrl)
    const url = trusted(stored)
    if (url !== undefined) return Effect.succeed(url)
    return Effect.as(
      Effect.logWarning(
        `Bitrix24: ignored the OAuth server of the stored token pair: it is neither the configured OAuth server nor one of Bitrix24's (${OAUTH_HOSTS.join(", ")}) over https`
      ),
      options.oauthUrl
    )
  })

  const persist: Effect.Effect<void, Reason> = saving.withPermits(1)(
    Effect.suspend(() => {
      if (!state.unsaved) return Effect.void
      const tokens = state.tokens
      return options.store.save(tokens).pipe(
        Effect.mapError((error) => storeFailure(error.message, error.timedOut === true)),
        Effect.tap(() =>
          Effect.sync(() => {
            if (state.tokens === tokens) state.unsaved = false
          })
        )
      )
    })
  )

  const saver = KeepSaving.make(persist, () => state.unsaved)
  /** The fiber of the refresh in flight, if any (`close` ends it past its grace). */
  let refreshing: Fiber.Fiber<Tokens, Reason> | undefined
  const callerTimeout =
    options.callerTimeout === undefined ? undefined : Duration.fromInputUnsafe(options.callerTimeout)
  const closeGrace = Duration.fromInputUnsafe(options.closeGrace ?? DEFAULT_CLOSE_GRACE)

  const accessToken: Effect.Effect<Redacted.Redacted<string>, Reason> = Effect.suspend(() =>
    state.unsaved ? persist : Effect.void
  ).pipe(Effect.map(() => state.tokens.accessToken))

  /** Switches to a pair this session did not mint (already stored, or to be stored once it works). */
  const use = (tokens: Tokens, origin: Exclude<Origin, "minted">): Tokens => {
    remember(tokens)
    state.tokens = tokens
    state.origin = origin
    state.unsaved = false
    return tokens
  }

  /** Why the store's last load failed, if it did (cleared by a load that works). */
  let lastLoadProblem: string | undefined
  /** The store's pair, when it is another live pair than `current` (another process rotated). */
  const newerStored = (current: Redacted.Redacted<string>): Effect.Effect<Option.Option<Tokens>> =>
    options.store.load.pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          lastLoadProblem = undefined
        })
      ),
      Effect.catch((error) =>
        Effect.sync(() => {
          lastLoadProblem = error.message
          return Option.none<Tokens>()
        })
      ),
      Effect.map((stored) =>
        Option.filter(
          stored,
          (pair) => !same(pair.refreshToken, current) && !dead.has(Redacted.value(pair.refreshToken))
        )
      )
    )

  /**
   * After `invalid_grant`: another process sharing the store may have used
   * the refresh token first, and be saving its new pair right now. Watch the
   * store for a newer pair (for `rotationGrace`), and adopt it.
   */
  const adoptStored = (refused: Redacted.Redacted<string>): Effect.Effect<Option.Option<Tokens>> =>
    Effect.gen(function* () {
      const until = (yield* Clock.currentTimeMillis) + grace
      for (;;) {
        const newer = yield* newerStored(refused)
        if (Option.isSome(newer)) {
          yield* Effect.logInfo(
            "Bitrix24: the refresh token had already been used by another process sharing the token store; the pair it stored is used instead"
          )
          return Option.some(use(newer.value, "adopted"))
        }
        if ((yield* Clock.currentTimeMillis) >= until) return Option.none<Tokens>()
        yield* Effect.sleep(ROTATION_POLL)
      }
    })

  /**
   * The stored pair was refused and the configuration holds another one (the
   * application was authorized again since the store was written): use it.
   */
  const takeConfigured = (): Option.Option<Tokens> => {
    if (configured === undefined || state.configuredTried) return Option.none()
    state.configuredTried = true
    if (same(configured.refreshToken, state.tokens.refreshToken)) return Option.none()
    dead.add(Redacted.value(state.tokens.refreshToken))
    return Option.some(use(configured, "configured"))
  }

  /**
   * What really happened when `invalid_grant` stands: no other process rotated
   * the pair, as far as the store tells; when it could not be read, nobody
   * knows, and "authorize again" may be wrong: retry.
   */
  const explainInvalidGrant = (reason: Reason): Reason =>
    lastLoadProblem !== undefined
      ? storeUnreadable(reason, lastLoadProblem)
      : reason._tag === "Unauthorized"
        ? new EditError.Unauthorized({
            ...reason,
            description: `${reason.description ?? "refreshing the access token failed"} (no newer pair appeared in the token store within ${Duration.format(Duration.millis(grace))}, so no other process sharing it had just rotated the pair)`
          })
        : reason

  /**
   * The refresh itself, run in a fiber of its own that no caller owns: a
   * caller that is interrupted (a timeout, an aborted signal) stops waiting,
   * but the token request goes on, bounded by the transport's timeout, and
   * the pair it brings is adopted and stored. From the moment the OAuth server
   * answers, the old refresh token is dead: the new pair must never be lost.
   * The store is read first: when another process sharing it rotated the pair
   * already, its pair is used, and no refresh burns a used refresh token.
   */
  const runRefresh = (deferred: Deferred.Deferred<Tokens, Reason>): Effect.Effect<Tokens, Reason> => {
    const exchange = (refreshToken: Redacted.Redacted<string>) =>
      Effect.flatMap(oauthUrlNow, (oauthUrl) =>
        requestTokens({
          transport: options.transport,
          oauthUrl,
          configuredOauthUrl: options.oauthUrl,
          clientId: options.clientId,
          clientSecret: options.clientSecret,
          refreshToken,
          allowInsecureLoopback: options.allowInsecureLoopback,
          secrets: secrets()
        })
      )
    const recover =
      (refreshToken: Redacted.Redacted<string>) =>
      (reason: Reason): Effect.Effect<Tokens, Reason> =>
        isInvalidGrant(reason)
          ? Effect.flatMap(adoptStored(refreshToken), (adopted) => {
              const next = Option.orElse(adopted, takeConfigured)
              return Option.isSome(next) ? Effect.succeed(next.value) : Effect.fail(explainInvalidGrant(reason))
            })
          : Effect.fail(reason)
    const refreshWith = (refreshToken: Redacted.Redacted<string>): Effect.Effect<Tokens, Reason> =>
      Effect.interruptible(exchange(refreshToken)).pipe(
        Effect.matchEffect({
          onFailure: recover(refreshToken),
          onSuccess: (tokens) =>
            Effect.sync(() => {
              dead.add(Redacted.value(refreshToken))
              remember(tokens)
              state.tokens = tokens
              state.origin = "minted"
              state.unsaved = true
            }).pipe(
              Effect.andThen(persist),
              // The pair lives only here until it is stored: keep trying in the background.
              Effect.tapError(() => saver.start),
              Effect.as(tokens)
            )
        })
      )
    return Effect.uninterruptible(
      underRefreshLock(
        Effect.suspend(() => {
          const current = state.tokens
          // A pair not stored yet (storing failed) is this session's newest: the store's is older.
          const reload = state.unsaved
            ? Effect.succeed(Option.none<Tokens>())
            : Effect.interruptible(newerStored(current.refreshToken))
          return Effect.flatMap(reload, (newer) =>
            Option.isSome(newer)
              ? Effect.succeed(use(newer.value, "adopted"))
              : Effect.suspend(() => refreshWith(state.tokens.refreshToken))
          )
        })
      )
    ).pipe(Effect.onExit(settle(deferred)))
  }

  /**
   * Reload, refresh and save under the store's cross-process lock, when it
   * has one: the reload then sees any pair another process stored, and only
   * one process sharing the store refreshes per expiry.
   */
  const underRefreshLock = (refresh: Effect.Effect<Tokens, Reason>): Effect.Effect<Tokens, Reason> => {
    const withLock = options.store.withRefreshLock
    if (withLock === undefined) return refresh
    return withLock(refresh).pipe(
      Effect.mapError((error) =>
        error instanceof TokenStoreError
          ? new EditError.Unavailable({
              code: "TOKEN_STORE",
              description: `the token store's refresh lock could not be taken (${error.message}); nothing was refreshed`
            })
          : error
      )
    )
  }

  const settle =
    (deferred: Deferred.Deferred<Tokens, Reason>) =>
    (exit: Exit.Exit<Tokens, Reason>): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (state.inflight === deferred) state.inflight = undefined
        const settled: Exit.Exit<Tokens, Reason> = Exit.hasInterrupts(exit)
          ? Exit.fail(new EditError.Unavailable({ description: "the token refresh was interrupted" }))
          : exit
        // reword.token.refreshes: refreshed (a new pair), adopted (another process's), configured, or the reason.
        const outcome = Exit.isSuccess(settled)
          ? state.origin === "minted"
            ? "refreshed"
            : state.origin
          : Option.match(Exit.findErrorOption(settled), {
              onNone: () => "Unavailable",
              onSome: (reason) => reason._tag
            })
        return Effect.andThen(
          Metrics.recordTokenRefresh("bitrix24", outcome),
          Effect.asVoid(Deferred.done(deferred, settled))
        )
      })

  const refresh = (stale: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>, Reason> =>
    Effect.uninterruptible(
      Effect.suspend((): Effect.Effect<Deferred.Deferred<Tokens, Reason> | undefined> => {
        if (state.inflight !== undefined) return Effect.succeed(state.inflight)
        // Someone already refreshed past the token this call used: use theirs.
        if (!same(state.tokens.accessToken, stale)) return Effect.succeed(undefined)
        const deferred = Deferred.makeUnsafe<Tokens, Reason>()
        state.inflight = deferred
        return Effect.map(Effect.forkDetach(runRefresh(deferred)), (fiber) => {
          refreshing = fiber
          return deferred
        })
      })
    ).pipe(
      // Every caller, the first included, waits interruptibly, and no longer than `callerTimeout`.
      Effect.flatMap((deferred) =>
        deferred === undefined ? accessToken : Effect.map(awaitRefresh(deferred), (tokens) => tokens.accessToken)
      )
    )

  const awaitRefresh = (deferred: Deferred.Deferred<Tokens, Reason>): Effect.Effect<Tokens, Reason> =>
    callerTimeout === undefined
      ? Deferred.await(deferred)
      : Effect.timeoutOrElse(Deferred.await(deferred), {
          duration: callerTimeout,
          orElse: () => Effect.fail(refreshPending(callerTimeout))
        })

  const close: Effect.Effect<void> = Effect.gen(function* () {
    const inflight = state.inflight
    if (inflight !== undefined) {
      // Its answer may hold the only valid pair: give it a moment, then store what is held.
      yield* Effect.ignore(Effect.timeout(Deferred.await(inflight), closeGrace))
      // Past the grace, the token request is abandoned: nothing outlives the session.
      const fiber = refreshing
      if (state.inflight === inflight && fiber !== undefined) yield* Fiber.interrupt(fiber)
    }
    yield* saver.stop
    if (!state.unsaved) return
    const stored = yield* Effect.result(persist)
    if (stored._tag === "Success") {
      yield* Effect.logInfo("Bitrix24: the refreshed token pair was stored as the session closed")
    } else {
      yield* Effect.logError(
        "Bitrix24: the refreshed token pair could not be stored before this process stopped, and it was the only valid one (refresh tokens rotate): the processes sharing the token store will be refused, and the application must be authorized again"
      )
    }
  })

  const replace = (refused: Redacted.Redacted<string>): Effect.Effect<Option.Option<Redacted.Redacted<string>>> =>
    Effect.sync(() => {
      // Someone moved past the refused token already: use theirs.
      if (!same(refused, state.tokens.accessToken)) return Option.some(state.tokens.accessToken)
      return Option.map(takeConfigured(), (tokens) => tokens.accessToken)
    })

  const accepted = (token: Redacted.Redacted<string>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (state.origin !== "configured" || !same(token, state.tokens.accessToken)) return Effect.void
      const tokens = state.tokens
      state.origin = "initial"
      // In turn with any other save, and only if no newer pair took its place meanwhile.
      return saving.withPermits(1)(
        Effect.suspend(() => (state.tokens === tokens ? Effect.ignore(options.store.save(tokens)) : Effect.void))
      )
    })

  const minted = (token: Redacted.Redacted<string>): boolean =>
    state.origin === "minted" && same(token, state.tokens.accessToken)

  function secrets(): Secrets.Secrets {
    return known
  }

  return { accessToken, refresh, minted, replace, accepted, secrets, close }
}
