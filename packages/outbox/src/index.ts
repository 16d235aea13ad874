/**
 * `@reword/outbox`: durable edits for reword.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Outbox from "./Outbox.ts"
/** @since 0.1.0 */
export * as OutboxError from "./OutboxError.ts"
/** @since 0.1.0 */
export { layerSqlite, sqliteClient } from "./Sqlite.ts"
/** @since 0.1.0 */
export * as SqliteClient from "./SqliteClient.ts"
