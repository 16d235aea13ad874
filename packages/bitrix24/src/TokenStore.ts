/**
 * Where the OAuth tokens live between runs. Bitrix24 rotates refresh tokens:
 * every refresh invalidates the previous refresh token, so the new pair is
 * saved here before it is used. The app provides the store; an in-memory one
 * and a file-backed one ship.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { mkdir, open, readFile, rename, rm } from "node:fs/promises"
import { dirname } from "node:path"
import { Context, Effect, Layer, Option, Predicate, Redacted, Schema } from "effect"

/**
 * A token pair, with what the OAuth server said along with it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Tokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  /** When the access token expires, in Unix seconds, where known. */
  readonly expiresAt?: number | undefined
  /** The OAuth server named by the last token answer (`server_endpoint`), where it named one. */
  readonly oauthUrl?: string | undefined
}

/**
 * The store failed to read or write, or did not answer within its deadline
 * (`timedOut`). Its message never contains a token.
 *
 * @category errors
 * @since 0.1.0
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  message: Schema.String,
  timedOut: Schema.optionalKey(Schema.Boolean)
}) {
  /** What to match on: the store did not answer in time, or failed. */
  get reason(): { readonly _tag: "TimedOut" | "Failed" } {
    return { _tag: this.timedOut === true ? "TimedOut" : "Failed" }
  }

  /** What `JSON.stringify(error)` writes: `_tag`, name, message and reason (no stack, never a token). */
  override toJSON(): {
    readonly _tag: "TokenStoreError"
    readonly name: "TokenStoreError"
    readonly message: string
    readonly reason: { readonly _tag: "TimedOut" | "Failed" }
  } {
    return { _tag: "TokenStoreError", name: "TokenStoreError", message: this.message, reason: this.reason }
  }
}

/**
 * The store's interface.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** The last pair saved, if any. */
  readonly load: Effect.Effect<Option.Option<Tokens>, TokenStoreError>
  /** Saves a pair, replacing the previous one. Must be durable when it succeeds. */
  readonly save: (tokens: Tokens) => Effect.Effect<void, TokenStoreError>
  /**
   * Optional: runs a token refresh (read the store again, refresh if no other
   * process did, save the new pair) under a lock held across every process
   * sharing the store, so that exactly one of them refreshes per expiry. A
   * store shared by processes (a database row) provides it; the session keeps
   * its in-process single flight either way. The lock must be released when
   * `refresh` ends, and when the process holding it dies; failing to take it
   * is a `TokenStoreError`.
   */
  readonly withRefreshLock?: <A, E>(refresh: Effect.Effect<A, E>) => Effect.Effect<A, E | TokenStoreError>
}

/**
 * The token store an app provides. When none is provided, the editor keeps
 * the tokens in memory (and a restart falls back to the configured pair).
 *
 * @category services
 * @since 0.1.0
 */
export class TokenStore extends Context.Service<TokenStore, Service>()("@reword/bitrix24/TokenStore") {}

/**
 * A store in memory, optionally holding a first pair.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeMemory = (initial?: Tokens): Service => {
  let current: Option.Option<Tokens> = Option.fromUndefinedOr(initial)
  return TokenStore.of({
    load: Effect.sync(() => current),
    save: (tokens) =>
      Effect.sync(() => {
        current = Option.some(tokens)
      })
  })
}

/**
 * A {@link TokenStore} in memory.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory = (initial?: Tokens): Layer.Layer<TokenStore> =>
  Layer.sync(TokenStore, () => makeMemory(initial))

const StoredTokens = Schema.Struct({
  accessToken: Schema.NonEmptyString,
  refreshToken: Schema.NonEmptyString,
  expiresAt: Schema.optionalKey(Schema.Number),
  oauthUrl: Schema.optionalKey(Schema.String)
})

const decodeStored = Schema.decodeUnknownEffect(Schema.fromJsonString(StoredTokens))

const errorCode = (error: unknown): string =>
  Predicate.hasProperty(error, "code") && Predicate.isString(error.code) ? error.code : "unknown error"

/** Flushes a directory's entries (the rename) to disk, where the platform allows opening a directory. */
const syncDirectory = async (path: string): Promise<void> => {
  const handle = await open(path, "r").catch(() => undefined)
  if (handle === undefined) return
  try {
    await handle.sync()
  } catch {
    // Some platforms and file systems cannot flush a directory: the rename stands.
  } finally {
    await handle.close()
  }
}

/**
 * A store in one JSON file, written atomically and durably: a temporary file,
 * flushed to disk, renamed over the old one, then the directory flushed, so
 * that a save that succeeded survives a crash or a power loss. Owner-only
 * permissions (0600). A missing file is an empty store.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeFile = (path: string): Service =>
  TokenStore.of({
    load: Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) => error
    }).pipe(
      Effect.map(Option.some),
      Effect.catch((error) =>
        errorCode(error) === "ENOENT"
          ? Effect.succeed(Option.none<string>())
          : Effect.fail(new TokenStoreError({ message: `could not read the token file ${path} (${errorCode(error)})` }))
      ),
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.succeed(Option.none<Tokens>()),
          onSome: (text) =>
            decodeStored(text).pipe(
              Effect.mapError(
                () =>
                  new TokenStoreError({
                    message: `the token file ${path} is not a token pair written by reword; fix or delete it`
                  })
              ),
              Effect.map((stored) =>
                Option.some<Tokens>({
                  accessToken: Redacted.make(stored.accessToken),
                  refreshToken: Redacted.make(stored.refreshToken),
                  ...(stored.expiresAt === undefined ? {} : { expiresAt: stored.expiresAt }),
                  ...(stored.oauthUrl === undefined ? {} : { oauthUrl: stored.oauthUrl })
                })
              )
            )
        })
      )
    ),
    save: (tokens) =>
      Effect.tryPromise({
        try: async () => {
          const text = JSON.stringify({
            accessToken: Redacted.value(tokens.accessToken),
            refreshToken: Redacted.value(tokens.refreshToken),
            ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
            ...(tokens.oauthUrl === undefined ? {} : { oauthUrl: tokens.oauthUrl })
          })
          await mkdir(dirname(path), { recursive: true })
          const temporary = `${path}.${randomUUID()}.tmp`
          try {
            const handle = await open(temporary, "w", 0o600)
            try {
              await handle.writeFile(text, "utf8")
              await handle.sync()
            } finally {
              await handle.close()
            }
            await rename(temporary, path)
            await syncDirectory(dirname(path))
          } catch (error) {
            await rm(temporary, { force: true }).catch(() => undefined)
            throw error
          }
        },
        catch: (error) =>
          new TokenStoreError({ message: `could not write the token file ${path} (${errorCode(error)})` })
      })
  })

/**
 * A {@link TokenStore} in one JSON file.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFile = (path: string): Layer.Layer<TokenStore> => Layer.sync(TokenStore, () => makeFile(path))

/**
 * A token pair as plain values, for a {@link PromiseStore}: what it saves is
 * what it must load back.
 *
 * @category models
 * @since 0.1.0
 */
export interface PlainTokens {
  readonly accessToken: string
  readonly refreshToken: string
  /** When the access token expires, in Unix seconds, where known. */
  readonly expiresAt?: number | undefined
  /** The OAuth server named by the last token answer, where it named one. */
  readonly oauthUrl?: string | undefined
}

/**
 * A token store with Promise methods and plain strings, for apps not written
 * with Effect (a database row, a secrets manager). `save` gets a signal that
 * is aborted when the store's deadline passes: a store that can cancel its
 * write should, so that a late write never lands over a newer pair.
 *
 * @category models
 * @since 0.1.0
 */
export interface PromiseStore {
  /** The last pair saved, or `undefined` when there is none. */
  readonly load: () => Promise<PlainTokens | undefined>
  /** Saves a pair, replacing the previous one. Must be durable when it resolves. */
  readonly save: (tokens: PlainTokens, options: { readonly signal: AbortSignal }) => Promise<void>
}

const isNonEmpty = (value: unknown): value is string => typeof value === "string" && value.length > 0

/** A thrown value, named without its text (which may hold anything, tokens included). */
const describeThrown = (error: unknown): string => {
  const name = error instanceof Error ? error.name : typeof error
  return `${name}${errorCode(error) === "unknown error" ? "" : ` ${errorCode(error)}`}`
}

/**
 * Adapts a {@link PromiseStore} to a {@link Service}. A `load` that answers
 * something other than a pair of non-empty strings (with an optional finite
 * `expiresAt` and a string `oauthUrl`) fails, as does a call that rejects or
 * throws; the error never repeats the store's own text.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@reword/bitrix24"
 *
 * let row: TokenStore.PlainTokens | undefined
 * const store = TokenStore.fromPromise({
 *   load: async () => row,
 *   save: async (tokens) => {
 *     row = tokens
 *   }
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromPromise = (store: PromiseStore): Service =>
  TokenStore.of({
    load: Effect.tryPromise({
      try: () => Promise.resolve().then(() => store.load()),
      catch: (error) => new TokenStoreError({ message: `the token store's load failed (${describeThrown(error)})` })
    }).pipe(
      Effect.flatMap((value) => {
        if (value === undefined || value === null) return Effect.succeed(Option.none<Tokens>())
        const record: Record<string, unknown> = Predicate.isObject(value) ? (value as Record<string, unknown>) : {}
        const expiresAt = record.expiresAt
        const oauthUrl = record.oauthUrl
        if (
          !isNonEmpty(record.accessToken) ||
          !isNonEmpty(record.refreshToken) ||
          (expiresAt !== undefined && expiresAt !== null && !Number.isFinite(expiresAt)) ||
          (oauthUrl !== undefined && oauthUrl !== null && typeof oauthUrl !== "string")
        ) {
          return Effect.fail(
            new TokenStoreError({
              message:
                "the token store's load answered something that is not a token pair (accessToken and refreshToken as non-empty strings)"
            })
          )
        }
        return Effect.succeed(
          Option.some<Tokens>({
            accessToken: Redacted.make(record.accessToken),
            refreshToken: Redacted.make(record.refreshToken),
            ...(typeof expiresAt === "number" ? { expiresAt } : {}),
            ...(typeof oauthUrl === "string" ? { oauthUrl } : {})
          })
        )
      })
    ),
    save: (tokens) =>
      Effect.tryPromise({
        try: (signal) =>
          Promise.resolve().then(() =>
            store.save(
              {
                accessToken: Redacted.value(tokens.accessToken),
                refreshToken: Redacted.value(tokens.refreshToken),
                ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
                ...(tokens.oauthUrl === undefined ? {} : { oauthUrl: tokens.oauthUrl })
              },
              { signal }
            )
          ),
        catch: (error) => new TokenStoreError({ message: `the token store's save failed (${describeThrown(error)})` })
      })
  })
