/**
 * A session's refresh: exactly one in flight, run in a fiber no caller owns,
 * under the store's cross-process lock when it has one; every caller waits
 * for its result, no longer than `callerTimeout`.
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import { MetricsRecorder } from "@reword/core/adapter"
import { Deferred, Effect, Exit, Option, Redacted } from "effect"
import { TokenStoreError, type Tokens } from "../../TokenStore.ts"
import { requestTokens } from "./exchange.ts"
import { isInvalidGrant, type Reason, refreshPending } from "./reasons.ts"
import {
  adoptStored,
  explainInvalidGrant,
  newerStored,
  oauthUrlNow,
  persist,
  remember,
  type SessionState,
  same,
  takeConfigured,
  use
} from "./state.ts"

/** The access token to use now; stores a refreshed pair first if storing it failed before. */
export const accessToken = (s: SessionState): Effect.Effect<Redacted.Redacted<string>, Reason> =>
  Effect.suspend(() => (s.state.unsaved ? persist(s) : Effect.void)).pipe(Effect.map(() => s.state.tokens.accessToken))

/** Refreshes once for everyone who saw the same `stale` token, and answers the new access token. */
export const refresh = (
  s: SessionState,
  stale: Redacted.Redacted<string>
): Effect.Effect<Redacted.Redacted<string>, Reason> =>
  Effect.uninterruptible(
    Effect.suspend((): Effect.Effect<Deferred.Deferred<Tokens, Reason> | undefined> => {
      if (s.state.inflight !== undefined) return Effect.succeed(s.state.inflight)
      // Someone already refreshed past the token this call used: use theirs.
      if (!same(s.state.tokens.accessToken, stale)) return Effect.succeed(undefined)
      const deferred = Deferred.makeUnsafe<Tokens, Reason>()
      s.state.inflight = deferred
      return Effect.map(Effect.forkDetach(runRefresh(s, deferred)), (fiber) => {
        s.refreshing = fiber
        return deferred
      })
    })
  ).pipe(
    // Every caller, the first included, waits interruptibly, and no longer than `callerTimeout`.
    Effect.flatMap((deferred) =>
      deferred === undefined ? accessToken(s) : Effect.map(awaitRefresh(s, deferred), (tokens) => tokens.accessToken)
    )
  )

const awaitRefresh = (s: SessionState, deferred: Deferred.Deferred<Tokens, Reason>): Effect.Effect<Tokens, Reason> => {
  const callerTimeout = s.callerTimeout
  return callerTimeout === undefined
    ? Deferred.await(deferred)
    : Effect.timeoutOrElse(Deferred.await(deferred), {
        duration: callerTimeout,
        orElse: () => Effect.fail(refreshPending(callerTimeout))
      })
}

/**
 * The refresh itself, run in a fiber of its own that no caller owns: a
 * caller that is interrupted (a timeout, an aborted signal) stops waiting,
 * but the token request goes on, bounded by the transport's timeout, and
 * the pair it brings is adopted and stored. From the moment the OAuth server
 * answers, the old refresh token is dead: the new pair must never be lost.
 * The store is read first: when another process sharing it rotated the pair
 * already, its pair is used, and no refresh burns a used refresh token.
 */
const runRefresh = (s: SessionState, deferred: Deferred.Deferred<Tokens, Reason>): Effect.Effect<Tokens, Reason> =>
  Effect.uninterruptible(
    underRefreshLock(
      s,
      Effect.suspend(() => {
        const current = s.state.tokens
        // A pair not stored yet (storing failed) is this session's newest: the store's is older.
        const reload = s.state.unsaved
          ? Effect.succeed(Option.none<Tokens>())
          : Effect.interruptible(newerStored(s, current.refreshToken))
        return Effect.flatMap(reload, (newer) =>
          Option.isSome(newer)
            ? Effect.succeed(use(s, newer.value, "adopted"))
            : Effect.suspend(() => refreshWith(s, s.state.tokens.refreshToken))
        )
      })
    )
  ).pipe(Effect.onExit(settle(s, deferred)))

const exchange = (s: SessionState, refreshToken: Redacted.Redacted<string>): Effect.Effect<Tokens, Reason> =>
  Effect.flatMap(oauthUrlNow(s), (oauthUrl) =>
    requestTokens({
      transport: s.options.transport,
      oauthUrl,
      configuredOauthUrl: s.options.oauthUrl,
      clientId: s.options.clientId,
      clientSecret: s.options.clientSecret,
      refreshToken,
      allowInsecureLoopback: s.options.allowInsecureLoopback,
      secrets: s.known
    })
  )

/** After `invalid_grant`: another process's stored pair, or the configured pair, or why not. */
const recover =
  (s: SessionState, refreshToken: Redacted.Redacted<string>) =>
  (reason: Reason): Effect.Effect<Tokens, Reason> =>
    isInvalidGrant(reason)
      ? Effect.flatMap(adoptStored(s, refreshToken), (adopted) => {
          const next = Option.orElse(adopted, () => takeConfigured(s))
          return Option.isSome(next) ? Effect.succeed(next.value) : Effect.fail(explainInvalidGrant(s, reason))
        })
      : Effect.fail(reason)

/** Exchanges `refreshToken`, then takes the new pair and stores it (trying again in the background). */
const refreshWith = (s: SessionState, refreshToken: Redacted.Redacted<string>): Effect.Effect<Tokens, Reason> =>
  Effect.interruptible(exchange(s, refreshToken)).pipe(
    Effect.matchEffect({
      onFailure: recover(s, refreshToken),
      onSuccess: (tokens) =>
        Effect.sync(() => {
          s.dead.add(Redacted.value(refreshToken))
          remember(s, tokens)
          s.state.tokens = tokens
          s.state.origin = "minted"
          s.state.unsaved = true
        }).pipe(
          Effect.andThen(persist(s)),
          // The pair lives only here until it is stored: keep trying in the background.
          Effect.tapError(() => s.saver.start),
          Effect.as(tokens)
        )
    })
  )

/**
 * Reload, refresh and save under the store's cross-process lock, when it
 * has one: the reload then sees any pair another process stored, and only
 * one process sharing the store refreshes per expiry.
 */
const underRefreshLock = (s: SessionState, refresh: Effect.Effect<Tokens, Reason>): Effect.Effect<Tokens, Reason> => {
  const withLock = s.options.store.withRefreshLock
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

/** Ends a refresh: clears it as the one in flight, counts its outcome, and hands its result to the waiting callers. */
const settle =
  (s: SessionState, deferred: Deferred.Deferred<Tokens, Reason>) =>
  (exit: Exit.Exit<Tokens, Reason>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (s.state.inflight === deferred) s.state.inflight = undefined
      const settled: Exit.Exit<Tokens, Reason> = Exit.hasInterrupts(exit)
        ? Exit.fail(new EditError.Unavailable({ description: "the token refresh was interrupted" }))
        : exit
      // reword.token.refreshes: refreshed (a new pair), adopted (another process's), configured, or the reason.
      const outcome = Exit.isSuccess(settled)
        ? s.state.origin === "minted"
          ? "refreshed"
          : s.state.origin
        : Option.match(Exit.findErrorOption(settled), {
            onNone: () => "Unavailable",
            onSome: (reason) => reason._tag
          })
      return Effect.andThen(
        MetricsRecorder.recordTokenRefresh("bitrix24", outcome),
        Effect.asVoid(Deferred.done(deferred, settled))
      )
    })
