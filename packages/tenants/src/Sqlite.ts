/**
 * The registry on the embedded default: SQLite through Node's built-in
 * `node:sqlite` (the outbox's client: the same file may hold both).
 *
 * @since 0.1.0
 */
import { type OutboxError, type SqliteClient, sqliteClient } from "@reword/outbox"
import type { Config, Layer } from "effect"
import { Layer as L } from "effect"
import * as TenantRegistry from "./TenantRegistry.ts"

/**
 * The registry in a SQLite file (or `:memory:`):
 * `layerSqlite({ filename: "reword.db", keys })`.
 *
 * @since 0.1.0
 */
export const layerSqlite = (
  options: TenantRegistry.Options & SqliteClient.Options
): Layer.Layer<TenantRegistry.TenantRegistry, OutboxError.StorageError | Config.ConfigError> => {
  const { filename, readOnly, busyTimeoutMs, synchronous, ...registry } = options
  return TenantRegistry.layer(registry).pipe(
    L.provide(sqliteClient({ filename, readOnly, busyTimeoutMs, synchronous }))
  )
}
