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
 * The store failed to read or write. Its message never contains a token.
 *
 * @since 0.1.0
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  message: Schema.String
}) {}

/**
 * The store's interface.
 *
 * @since 0.1.0
 */
export interface Service {
  /** The last pair saved, if any. */
  readonly load: Effect.Effect<Option.Option<Tokens>, TokenStoreError>
  /** Saves a pair, replacing the previous one. Must be durable when it succeeds. */
  readonly save: (tokens: Tokens) => Effect.Effect<void, TokenStoreError>
}

/**
 * The token store an app provides. When none is provided, the editor keeps
 * the tokens in memory (and a restart falls back to the configured pair).
 *
 * @since 0.1.0
 */
export class TokenStore extends Context.Service<TokenStore, Service>()("@reword/bitrix24/TokenStore") {}

/**
 * A store in memory, optionally holding a first pair.
 *
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
 * @since 0.1.0
 */
export const layerFile = (path: string): Layer.Layer<TokenStore> => Layer.sync(TokenStore, () => makeFile(path))
