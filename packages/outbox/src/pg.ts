/**
 * The outbox on PostgreSQL, through `@effect/sql-pg` (install it next to
 * `@reword/outbox`). Workers claim deliveries with `FOR UPDATE SKIP LOCKED`.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import type { MessageEditor } from "@reword/core"
import { type Config, Effect, Layer } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import * as Outbox from "./Outbox.ts"
import { fromSql, type StorageError } from "./OutboxError.ts"

/**
 * The connection: a URL (`postgres://user@host:5432/db`, as `Redacted`) or its parts.
 *
 * @since 0.1.0
 */
export type ConnectionOptions = PgClient.PgPoolConfig

/**
 * PostgreSQL as an `effect/sql` client layer whose failures are `StorageError`s.
 *
 * @since 0.1.0
 */
export const pgClient = (connection: ConnectionOptions): Layer.Layer<SqlClient.SqlClient, StorageError> =>
  Layer.effect(
    SqlClient.SqlClient,
    Effect.mapError(PgClient.make(connection), (error) => fromSql(error, "connecting to PostgreSQL"))
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The outbox on PostgreSQL, over the `MessageEditor` in context (or the `editors` given):
 * `layerPg({ connection: { url: Redacted.make(process.env.DATABASE_URL ?? "") } })`.
 * With an existing `SqlClient`, use `Outbox.layer(options)` instead.
 *
 * @since 0.1.0
 */
export const layerPg = (
  options: Outbox.Options & { readonly connection: ConnectionOptions }
): Layer.Layer<Outbox.Outbox, StorageError | Config.ConfigError, MessageEditor.MessageEditor> => {
  const { connection, ...outbox } = options
  return Outbox.layer(outbox).pipe(Layer.provide(pgClient(connection)))
}
