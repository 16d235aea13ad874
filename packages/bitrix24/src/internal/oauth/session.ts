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
import type { HttpTransport, Secrets } from "@reword/core/adapter"
import { Deferred, type Duration, Effect, Fiber, Option, type Redacted } from "effect"
import type { Service as TokenStoreService, Tokens } from "../../TokenStore.ts"
import type { Reason } from "./reasons.ts"
import { accessToken, refresh } from "./refresh.ts"
import { makeState, persist, type SessionState, same, takeConfigured } from "./state.ts"

export { OAUTH_HOSTS, requestTokens, tokenUrl, trustedOAuthUrl } from "./exchange.ts"

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
   * session, still within the lifetime the server gave it. When the portal
   * says such a token expired right after the refresh, refreshing again would
   * not help; a pair adopted from the store (another process's, possibly an
   * hour old), or a minted one that outlived its `expires_in` before it was
   * used (a slow machine, a long retry), may be refreshed in its turn.
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
 * Starts a session.
 *
 * @category constructors
 * @since 0.1.0
 */
/** Whether a pair's access token is past the expiry time the OAuth server gave it (where it gave one). */
const outlived = (tokens: { readonly expiresAt?: number | undefined }): boolean =>
  tokens.expiresAt !== undefined && Date.now() >= tokens.expiresAt * 1000

export const makeSession = (options: SessionOptions): Session => {
  const s = makeState(options)
  return {
    accessToken: accessToken(s),
    refresh: (stale) => refresh(s, stale),
    minted: (token) =>
      s.state.origin === "minted" && same(token, s.state.tokens.accessToken) && !outlived(s.state.tokens),
    replace: (refused) => replace(s, refused),
    accepted: (token) => accepted(s, token),
    secrets: () => s.known,
    close: close(s)
  }
}

const close = (s: SessionState): Effect.Effect<void> =>
  Effect.gen(function* () {
    const inflight = s.state.inflight
    if (inflight !== undefined) {
      // Its answer may hold the only valid pair: give it a moment, then store what is held.
      yield* Effect.ignore(Effect.timeout(Deferred.await(inflight), s.closeGrace))
      // Past the grace, the token request is abandoned: nothing outlives the session.
      const fiber = s.refreshing
      if (s.state.inflight === inflight && fiber !== undefined) yield* Fiber.interrupt(fiber)
    }
    yield* s.saver.stop
    if (!s.state.unsaved) return
    const stored = yield* Effect.result(persist(s))
    if (stored._tag === "Success") {
      yield* Effect.logInfo("Bitrix24: the refreshed token pair was stored as the session closed")
    } else {
      yield* Effect.logError(
        "Bitrix24: the refreshed token pair could not be stored before this process stopped, and it was the only valid one (refresh tokens rotate): the processes sharing the token store will be refused, and the application must be authorized again"
      )
    }
  })

const replace = (
  s: SessionState,
  refused: Redacted.Redacted<string>
): Effect.Effect<Option.Option<Redacted.Redacted<string>>> =>
  Effect.sync(() => {
    // Someone moved past the refused token already: use theirs.
    if (!same(refused, s.state.tokens.accessToken)) return Option.some(s.state.tokens.accessToken)
    return Option.map(takeConfigured(s), (tokens) => tokens.accessToken)
  })

const accepted = (s: SessionState, token: Redacted.Redacted<string>): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (s.state.origin !== "configured" || !same(token, s.state.tokens.accessToken)) return Effect.void
    const tokens = s.state.tokens
    s.state.origin = "initial"
    // In turn with any other save, and only if no newer pair took its place meanwhile.
    return s.saving.withPermits(1)(
      Effect.suspend(() => (s.state.tokens === tokens ? Effect.ignore(s.options.store.save(tokens)) : Effect.void))
    )
  })
