/**
 * The Bitrix24 token pair in one PostgreSQL row per portal and application,
 * shared by every process of the app:
 *
 * - `save` is a compare-and-swap: it replaces the row only when the row still
 *   holds the refresh token this store last read or wrote (the pair being
 *   replaced), or already holds the pair being saved. A late or stale write
 *   never lands over a newer pair another process stored.
 * - `withRefreshLock` runs the session's reload, refresh and save under a
 *   transaction-scoped advisory lock (`pg_advisory_xact_lock`) taken on a
 *   connection of its own: exactly one process refreshes per expiry, and the
 *   others, once they get the lock, read the pair it stored. When the process
 *   holding the lock dies (even by SIGKILL), PostgreSQL ends its session and
 *   releases the lock; the next process goes on without anyone authorizing
 *   the application again (see the README for the one window no client can
 *   close).
 *
 * @since 0.1.0
 */
import { TokenStore } from "@reword/bitrix24"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { checkName, createTokenTable, DEFAULT_TOKEN_TABLE, describe, sqlState } from "./internal/tables.ts"

/**
 * Where the pair lives, and how long a refresh waits for another process's.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The portal: its URL (`https://acme.bitrix24.com`); only the origin is kept. */
  readonly portal: string | URL
  /** The application: its client id (`BITRIX24_CLIENT_ID`). */
  readonly app: string
  /** The table. Default `reword_bitrix24_tokens` (created when missing). */
  readonly table?: string | undefined
  /**
   * How long a refresh waits for the lock while another process refreshes
   * (its token request is bounded by its own transport timeout). Past it the
   * refresh fails with a retryable `Unavailable` (code `TOKEN_STORE`).
   * Default 60 s.
   */
  readonly lockTimeout?: Duration.Input | undefined
}

/**
 * The default wait for another process's refresh: 60 seconds.
 *
 * @since 0.1.0
 */
export const DEFAULT_LOCK_TIMEOUT: Duration.Duration = Duration.seconds(60)

/**
 * The key a pair is kept under: the portal's origin and the client id.
 *
 * @since 0.1.0
 */
export const keyOf = (options: Pick<Options, "portal" | "app">): { readonly portal: string; readonly app: string } => {
  const portal = typeof options.portal === "string" ? options.portal : options.portal.href
  if (!URL.canParse(portal)) throw new RangeError("portal must be the portal's URL, such as https://acme.bitrix24.com")
  if (typeof options.app !== "string" || options.app.length === 0) {
    throw new RangeError("app must be the application's client id")
  }
  return { portal: new URL(portal).origin, app: options.app }
}

interface Row {
  readonly access_token: string
  readonly refresh_token: string
  readonly expires_at: string | number | null
  readonly oauth_url: string | null
}

const toTokens = (row: Row): TokenStore.Tokens => ({
  accessToken: Redacted.make(row.access_token),
  refreshToken: Redacted.make(row.refresh_token),
  ...(row.expires_at === null ? {} : { expiresAt: Number(row.expires_at) }),
  ...(row.oauth_url === null ? {} : { oauthUrl: row.oauth_url })
})

/** Unix seconds as the bigint column takes them (an odd value is not worth failing a save for). */
const expiresOf = (expiresAt: number | undefined): number | null =>
  expiresAt !== undefined && Number.isFinite(expiresAt) ? Math.floor(expiresAt) : null

const storeError = (what: string) => (error: unknown) =>
  new TokenStore.TokenStoreError({ message: `${what}: ${describe(error)}` })

/**
 * What the store knows of the row: `unknown` before its first read, then the
 * refresh token the row held when this store last read or wrote it (`absent`:
 * no row).
 */
type Seen =
  | { readonly _tag: "unknown" }
  | { readonly _tag: "absent" }
  | { readonly _tag: "seen"; readonly refresh: string }

/**
 * A token store on the `SqlClient` in context (a PostgreSQL client with a
 * pool of at least 2 connections: the refresh lock holds one while the
 * store reads and writes through another). Creates the table when missing.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<TokenStore.Service, TokenStore.TokenStoreError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const { portal, app } = yield* Effect.try({
      try: () => keyOf(options),
      catch: (error) => new TokenStore.TokenStoreError({ message: (error as Error).message })
    })
    const table = yield* Effect.try({
      try: () => checkName(options.table ?? DEFAULT_TOKEN_TABLE, "table"),
      catch: (error) => new TokenStore.TokenStoreError({ message: (error as Error).message })
    })
    const lockTimeoutMs = Math.max(
      1,
      Math.ceil(Duration.toMillis(Duration.fromInputUnsafe(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT)))
    )
    yield* createTokenTable(sql, table).pipe(Effect.mapError(storeError(`could not create the token table ${table}`)))
    const T = sql(table)
    const lockKey = `reword.bitrix24.tokens\n${table}\n${portal}\n${app}`
    let seen: Seen = { _tag: "unknown" }

    const load: TokenStore.Service["load"] = sql<Row>`
      SELECT access_token, refresh_token, expires_at, oauth_url FROM ${T} WHERE portal = ${portal} AND app = ${app}`.pipe(
      Effect.map((rows) => {
        const row = rows[0]
        seen = row === undefined ? { _tag: "absent" } : { _tag: "seen", refresh: row.refresh_token }
        return row === undefined ? Option.none<TokenStore.Tokens>() : Option.some(toTokens(row))
      }),
      Effect.mapError(storeError("could not read the token pair from PostgreSQL"))
    )

    const save: TokenStore.Service["save"] = (tokens) =>
      Effect.suspend(() => {
        const access = Redacted.value(tokens.accessToken)
        const refresh = Redacted.value(tokens.refreshToken)
        const replaces = seen._tag === "seen" ? seen.refresh : null
        return sql<{ readonly version: string | number }>`
          INSERT INTO ${T} AS s (portal, app, access_token, refresh_token, expires_at, oauth_url, version, updated_at)
          VALUES (${portal}, ${app}, ${access}, ${refresh}, ${expiresOf(tokens.expiresAt)}, ${tokens.oauthUrl ?? null}, 1, now())
          ON CONFLICT (portal, app) DO UPDATE SET
            access_token = excluded.access_token,
            refresh_token = excluded.refresh_token,
            expires_at = excluded.expires_at,
            oauth_url = excluded.oauth_url,
            version = s.version + 1,
            updated_at = now()
          WHERE s.refresh_token = ${replaces} OR s.refresh_token = excluded.refresh_token
          RETURNING version`.pipe(
          Effect.mapError(storeError("could not write the token pair to PostgreSQL")),
          Effect.flatMap((rows) => {
            if (rows.length > 0) {
              seen = { _tag: "seen", refresh }
              return Effect.void
            }
            return Effect.fail(
              new TokenStore.TokenStoreError({
                message:
                  seen._tag === "unknown"
                    ? "the token row exists and this store never read it: read it (load) before writing over it"
                    : "another process stored another pair since this one read the row: the pair in the row was kept, not written over"
              })
            )
          })
        )
      })

    /** The most taking the lock may take in all (a connection, the transaction, the lock's own wait). */
    const acquireMs = lockTimeoutMs + 5_000
    const withRefreshLock: NonNullable<TokenStore.Service["withRefreshLock"]> = (refresh) =>
      Effect.scoped(
        Effect.gen(function* () {
          // Bounded and interruptible: the session runs a refresh uninterruptibly, so a database that stops
          // answering (or a pool with no free connection) must not hold it for ever.
          yield* Effect.interruptible(
            Effect.gen(function* () {
              const reserved = yield* sql.reserve.pipe(
                Effect.mapError(storeError("could not open a connection for the refresh lock"))
              )
              const run = (statement: string, params: ReadonlyArray<unknown> = []) =>
                reserved.executeRaw(statement, params)
              // Rolled back when the refresh ends, whatever its outcome; the lock goes with it.
              yield* Effect.addFinalizer(() => Effect.ignore(Effect.timeout(run("ROLLBACK"), acquireMs)))
              yield* run("BEGIN").pipe(Effect.mapError(storeError("could not start the refresh lock's transaction")))
              yield* run("SELECT set_config('lock_timeout', $1, true)", [`${lockTimeoutMs}ms`]).pipe(
                Effect.andThen(run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [lockKey])),
                Effect.mapError((error) =>
                  sqlState(error) === "55P03"
                    ? new TokenStore.TokenStoreError({
                        message: `another process has held the refresh lock for longer than ${lockTimeoutMs} ms`,
                        timedOut: true
                      })
                    : storeError("could not take the refresh lock")(error)
                )
              )
            })
          ).pipe(
            Effect.timeoutOrElse({
              duration: acquireMs,
              orElse: () =>
                Effect.fail(
                  new TokenStore.TokenStoreError({
                    message: `the database did not give the refresh lock within ${acquireMs} ms`,
                    timedOut: true
                  })
                )
            })
          )
          return yield* refresh
        })
      )

    return TokenStore.TokenStore.of({ load, save, withRefreshLock })
  })

/**
 * The store as a `TokenStore` layer, over the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<TokenStore.TokenStore, TokenStore.TokenStoreError, SqlClient.SqlClient> =>
  Layer.effect(TokenStore.TokenStore, make(options))
