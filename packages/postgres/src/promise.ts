/**
 * The Promise API: one connection pool, and the token store and rate limiters
 * on it, to give to `createEditor`'s `providerOptions.bitrix24` (and, through
 * `TelegramRateLimiter.shared`, to `providerOptions.telegram`).
 *
 * @example
 * ```ts
 * import { connect } from "@reword/postgres/promise"
 *
 * const db = await connect({ url: process.env.DATABASE_URL ?? "" })
 * const tokenStore = await db.tokenStore({ portal: "https://acme.bitrix24.com", app: "local.abc.def" })
 * const rateLimiter = await db.rateLimiter({ bucket: "standard" })
 * // createEditor({ providers: Bitrix24.provider, providerOptions: { bitrix24: { tokenStore, rateLimiter } } })
 * await db.close()
 * ```
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import type { RateLimiter, TokenStore } from "@reword/bitrix24"
import type { SharedLimiter } from "@reword/core/adapter"
import { type Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import type { SqlClient } from "effect/sql"
import * as PgLimiter from "./PgLimiter.ts"
import * as PgRateLimiter from "./PgRateLimiter.ts"
import * as PgTokenStore from "./PgTokenStore.ts"

/**
 * How to reach PostgreSQL: a URL (`postgres://user:password@host:5432/db`,
 * plain or `Redacted`), and any pool setting of `@effect/sql-pg`
 * (`maxConnections`, at least 2, default 10; `connectTimeout`, `ssl`...).
 *
 * @since 0.1.0
 */
export interface ConnectOptions extends Omit<PgClient.PgPoolConfig, "url"> {
  readonly url: string | Redacted.Redacted<string>
}

/**
 * A connection pool, and what runs on it.
 *
 * @since 0.1.0
 */
export interface Connection {
  /** A token store for one portal and application (`providerOptions.bitrix24.tokenStore`). */
  readonly tokenStore: (options: PgTokenStore.Options) => Promise<TokenStore.Service>
  /** A rate limiter shared by every process using the same table (`providerOptions.bitrix24.rateLimiter`). */
  readonly rateLimiter: (options?: PgRateLimiter.Options) => Promise<RateLimiter.Service>
  /**
   * Rate limits shared by every process using the same table, for any
   * provider: give it to `TelegramRateLimiter.shared` (`providerOptions.telegram.rateLimiter`).
   */
  readonly limiter: (options?: PgLimiter.Options) => Promise<SharedLimiter.Service>
  /** Closes the pool: dispose the editors that use it first. */
  readonly close: () => Promise<void>
}

/**
 * Opens a connection pool (lazily: the first statement connects).
 *
 * @since 0.1.0
 */
export const connect = async (options: ConnectOptions): Promise<Connection> => {
  const { url, ...pool } = options
  const scope = Scope.makeUnsafe()
  const context: Context.Context<SqlClient.SqlClient> = await Effect.runPromise(
    Layer.buildWithScope(PgClient.layer({ ...pool, url: typeof url === "string" ? Redacted.make(url) : url }), scope)
  )
  let closed: Promise<void> | undefined
  return {
    tokenStore: (store) => Effect.runPromise(Effect.provide(PgTokenStore.make(store), context)),
    rateLimiter: (limiter) => Effect.runPromise(Effect.provide(PgRateLimiter.make(limiter), context)),
    limiter: (limiter) => Effect.runPromise(Effect.provide(PgLimiter.make(limiter), context)),
    close: () => {
      closed ??= Effect.runPromise(Scope.close(scope, Exit.void))
      return closed
    }
  }
}
