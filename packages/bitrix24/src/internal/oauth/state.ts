/**
 * A session's state: the pair in use and where it came from, the secrets it
 * knows, the refresh tokens known dead, and the steps that read and change
 * them (store, adopt, take the configured pair).
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import { Secrets } from "@reword/core/adapter"
import { Clock, type Deferred, Duration, Effect, type Fiber, Option, Redacted, Semaphore } from "effect"
import type { Tokens } from "../../TokenStore.ts"
import * as KeepSaving from "../keepSaving.ts"
import { OAUTH_HOSTS, trustedOAuthUrl } from "./exchange.ts"
import { type Reason, storeFailure, storeUnreadable } from "./reasons.ts"
import type { SessionOptions } from "./session.ts"

const DEFAULT_CLOSE_GRACE = Duration.seconds(5)

/** How often the store is read again while waiting for another process's pair. */
const ROTATION_POLL = Duration.millis(100)
const DEFAULT_ROTATION_GRACE = Duration.seconds(1)

/** Where the pair in use came from. */
export type Origin =
  /** The pair the session started from. */
  | "initial"
  /** The OAuth server gave it to this session, just now or earlier. */
  | "minted"
  /** Another process's pair, read from the shared store. */
  | "adopted"
  /** The configured pair, taken over from a refused stored pair: stored once the portal accepts it. */
  | "configured"

/** The pair in use and what is known of it. */
export interface State {
  tokens: Tokens
  origin: Origin
  /** The pair in `tokens` is not stored yet: store it before using it. */
  unsaved: boolean
  /** The configured pair is in use or was tried already: never switch to it (again). */
  configuredTried: boolean
  inflight: Deferred.Deferred<Tokens, Reason> | undefined
}

/** Everything a session's steps work on. */
export interface SessionState {
  readonly options: SessionOptions
  readonly state: State
  /** One save at a time. */
  readonly saving: Semaphore.Semaphore
  /** `rotationGrace`, in milliseconds. */
  readonly grace: number
  /**
   * Refresh tokens known to be dead: each one this session exchanged, and a
   * stored pair refused in favour of the configured one. A pair read from the
   * store with one of these is never adopted.
   */
  readonly dead: Set<string>
  /**
   * Every secret known: the client secret, the configured pair, and each pair
   * seen since (stored, refreshed, adopted). One set for the session's life,
   * so that whoever holds it scrubs the pairs that come later too.
   */
  readonly known: Secrets.Secrets
  readonly callerTimeout: Duration.Duration | undefined
  readonly closeGrace: Duration.Duration
  /** Keeps trying to store a pair that could not be stored. */
  saver: KeepSaving.Saver
  /** The fiber of the refresh in flight, if any (`close` ends it past its grace). */
  refreshing: Fiber.Fiber<Tokens, Reason> | undefined
  /** Why the store's last load failed, if it did (cleared by a load that works). */
  lastLoadProblem: string | undefined
}

export const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)

/** The state a session starts from. */
export const makeState = (options: SessionOptions): SessionState => {
  const configured = options.configured
  const s: SessionState = {
    options,
    state: {
      tokens: options.tokens,
      origin: "initial",
      unsaved: false,
      configuredTried: configured === undefined || same(configured.refreshToken, options.tokens.refreshToken),
      inflight: undefined
    },
    saving: Semaphore.makeUnsafe(1),
    grace: Duration.toMillis(Duration.fromInputUnsafe(options.rotationGrace ?? DEFAULT_ROTATION_GRACE)),
    dead: new Set<string>(),
    known: Secrets.make([
      options.clientSecret,
      ...(configured === undefined ? [] : [configured.accessToken, configured.refreshToken])
    ]),
    callerTimeout: options.callerTimeout === undefined ? undefined : Duration.fromInputUnsafe(options.callerTimeout),
    closeGrace: Duration.fromInputUnsafe(options.closeGrace ?? DEFAULT_CLOSE_GRACE),
    saver: undefined as unknown as KeepSaving.Saver,
    refreshing: undefined,
    lastLoadProblem: undefined
  }
  s.saver = KeepSaving.make(persist(s), () => s.state.unsaved)
  remember(s, options.tokens)
  return s
}

export const remember = (s: SessionState, tokens: Tokens): void => {
  s.known.addAll([tokens.accessToken, tokens.refreshToken])
}

/** The OAuth server to ask now: the stored pair's when it is trusted, else the configured one. */
export const oauthUrlNow = (s: SessionState): Effect.Effect<URL> =>
  Effect.suspend(() => {
    const stored = s.state.tokens.oauthUrl
    if (stored === undefined) return Effect.succeed(s.options.oauthUrl)
    const url = trustedOAuthUrl(stored, {
      configured: s.options.oauthUrl,
      allowInsecureLoopback: s.options.allowInsecureLoopback
    })
    if (url !== undefined) return Effect.succeed(url)
    return Effect.as(
      Effect.logWarning(
        `Bitrix24: ignored the OAuth server of the stored token pair: it is neither the configured OAuth server nor one of Bitrix24's (${OAUTH_HOSTS.join(", ")}) over https`
      ),
      s.options.oauthUrl
    )
  })

/** Stores the pair in use when it is not stored yet (one save at a time). */
export const persist = (s: SessionState): Effect.Effect<void, Reason> =>
  s.saving.withPermits(1)(
    Effect.suspend(() => {
      if (!s.state.unsaved) return Effect.void
      const tokens = s.state.tokens
      return s.options.store.save(tokens).pipe(
        Effect.mapError((error) => storeFailure(error.message, error.timedOut === true)),
        Effect.tap(() =>
          Effect.sync(() => {
            if (s.state.tokens === tokens) s.state.unsaved = false
          })
        )
      )
    })
  )

/** Switches to a pair this session did not mint (already stored, or to be stored once it works). */
export const use = (s: SessionState, tokens: Tokens, origin: Exclude<Origin, "minted">): Tokens => {
  remember(s, tokens)
  s.state.tokens = tokens
  s.state.origin = origin
  s.state.unsaved = false
  return tokens
}

/** The store's pair, when it is another live pair than `current` (another process rotated). */
export const newerStored = (
  s: SessionState,
  current: Redacted.Redacted<string>
): Effect.Effect<Option.Option<Tokens>> =>
  s.options.store.load.pipe(
    Effect.tap(() =>
      Effect.sync(() => {
        s.lastLoadProblem = undefined
      })
    ),
    Effect.catch((error) =>
      Effect.sync(() => {
        s.lastLoadProblem = error.message
        return Option.none<Tokens>()
      })
    ),
    Effect.map((stored) =>
      Option.filter(
        stored,
        (pair) => !same(pair.refreshToken, current) && !s.dead.has(Redacted.value(pair.refreshToken))
      )
    )
  )

/**
 * After `invalid_grant`: another process sharing the store may have used
 * the refresh token first, and be saving its new pair right now. Watch the
 * store for a newer pair (for `rotationGrace`), and adopt it.
 */
export const adoptStored = (
  s: SessionState,
  refused: Redacted.Redacted<string>
): Effect.Effect<Option.Option<Tokens>> =>
  Effect.gen(function* () {
    const until = (yield* Clock.currentTimeMillis) + s.grace
    for (;;) {
      const newer = yield* newerStored(s, refused)
      if (Option.isSome(newer)) {
        yield* Effect.logInfo(
          "Bitrix24: the refresh token had already been used by another process sharing the token store; the pair it stored is used instead"
        )
        return Option.some(use(s, newer.value, "adopted"))
      }
      if ((yield* Clock.currentTimeMillis) >= until) return Option.none<Tokens>()
      yield* Effect.sleep(ROTATION_POLL)
    }
  })

/**
 * The stored pair was refused and the configuration holds another one (the
 * application was authorized again since the store was written): use it.
 */
export const takeConfigured = (s: SessionState): Option.Option<Tokens> => {
  const configured = s.options.configured
  if (configured === undefined || s.state.configuredTried) return Option.none()
  s.state.configuredTried = true
  if (same(configured.refreshToken, s.state.tokens.refreshToken)) return Option.none()
  s.dead.add(Redacted.value(s.state.tokens.refreshToken))
  return Option.some(use(s, configured, "configured"))
}

/**
 * What really happened when `invalid_grant` stands: no other process rotated
 * the pair, as far as the store tells; when it could not be read, nobody
 * knows, and "authorize again" may be wrong: retry.
 */
export const explainInvalidGrant = (s: SessionState, reason: Reason): Reason =>
  s.lastLoadProblem !== undefined
    ? storeUnreadable(reason, s.lastLoadProblem)
    : reason._tag === "Unauthorized"
      ? new EditError.Unauthorized({
          ...reason,
          description: `${reason.description ?? "refreshing the access token failed"} (no newer pair appeared in the token store within ${Duration.format(Duration.millis(s.grace))}, so no other process sharing it had just rotated the pair)`
        })
      : reason
