/**
 * reword across processes on PostgreSQL: the Bitrix24 token pair in one row
 * per portal and application (compare-and-swap saves, one refresh per expiry
 * under a lock), and the portal's request budget in one row per portal,
 * shared by every instance of an app.
 *
 * @since 0.1.0
 */

/**
 * The error of the package's setup, with its reason classes.
 *
 * @since 0.2.0
 */
export * as PgError from "./PgError.ts"
/**
 * Rate limits shared by every process, for any provider (core's
 * `SharedLimiter` in PostgreSQL): Telegram's bot, chat and group limits.
 *
 * @since 0.4.0
 */
export * as PgLimiter from "./PgLimiter.ts"
/**
 * The Bitrix24 rate limit shared through PostgreSQL.
 *
 * @since 0.1.0
 */
export * as PgRateLimiter from "./PgRateLimiter.ts"
/**
 * The Bitrix24 token pair in PostgreSQL.
 *
 * @since 0.1.0
 */
export * as PgTokenStore from "./PgTokenStore.ts"
