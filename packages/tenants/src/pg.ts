/**
 * The registry on PostgreSQL, through `@effect/sql-pg` (install it next to
 * `@reword/tenants`).
 *
 * @since 0.1.0
 */
import type { OutboxError } from "@reword/outbox"
import { type ConnectionOptions, pgClient } from "@reword/outbox/pg"
import { type Config, Layer } from "effect"
import * as TenantRegistry from "./TenantRegistry.ts"

/**
 * The registry on PostgreSQL:
 * `layerPg({ connection: { url: Redacted.make(process.env.DATABASE_URL ?? "") }, keys })`.
 *
 * @since 0.1.0
 */
export const layerPg = (
  options: TenantRegistry.Options & { readonly connection: ConnectionOptions }
): Layer.Layer<TenantRegistry.TenantRegistry, OutboxError.StorageError | Config.ConfigError> => {
  const { connection, ...registry } = options
  return TenantRegistry.layer(registry).pipe(Layer.provide(pgClient(connection)))
}
