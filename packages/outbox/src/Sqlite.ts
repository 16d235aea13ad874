/**
 * The outbox on the embedded default: SQLite through Node's built-in
 * `node:sqlite`, in a file (or `:memory:`), nothing to install.
 *
 * @since 0.1.0
 */
import type { MessageEditor } from "@reword/core"
import { type Config, Effect, Layer } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import * as Outbox from "./Outbox.ts"
import { fromSql, type StorageError } from "./OutboxError.ts"
import * as SqliteClient from "./SqliteClient.ts"

/**
 * The SQLite database as an `effect/sql` client layer whose failures are `StorageError`s.
 *
 * @since 0.1.0
 */
export const sqliteClient = (options: SqliteClient.Options): Layer.Layer<SqlClient.SqlClient, StorageError> =>
  Layer.effect(
    SqlClient.SqlClient,
    Effect.mapError(SqliteClient.make(options), (error) => fromSql(error, `opening ${options.filename}`))
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The outbox in a SQLite file, over the `MessageEditor` in context (or the
 * `editors` given): `layerSqlite({ filename: "reword.db" })`.
 *
 * @since 0.1.0
 */
export const layerSqlite = (
  options: Outbox.Options & SqliteClient.Options
): Layer.Layer<Outbox.Outbox, StorageError | Config.ConfigError, MessageEditor.MessageEditor> => {
  const { filename, readOnly, busyTimeoutMs, synchronous, ...outbox } = options
  return Outbox.layer(outbox).pipe(Layer.provide(sqliteClient({ filename, readOnly, busyTimeoutMs, synchronous })))
}
