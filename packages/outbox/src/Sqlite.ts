/**
 * The outbox on the embedded default: SQLite through Node's built-in
 * `node:sqlite`, in a file (or `:memory:`), nothing to install.
 *
 * @since 0.1.0
 */
import { statSync } from "node:fs"
import type { MessageEditor } from "@reword/core"
import { type Config, Effect, Layer } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import * as Schema from "./internal/schema.ts"
import * as Outbox from "./Outbox.ts"
import { fromSql, type StorageError } from "./OutboxError.ts"
import * as SqliteClient from "./SqliteClient.ts"

/** A file with something in it (what opening it must not change); a directory is opened, and refused, as before. */
const hasContent = (filename: string): boolean => {
  if (filename === ":memory:" || filename === "") return false
  const stats = statSync(filename, { throwIfNoEntry: false })
  return stats?.isFile() === true && stats.size > 0
}

/**
 * Before a file is opened for writing (which switches it to WAL): it is opened
 * read-only, and one that is not a database (`Corrupt`) or another
 * application's (`Foreign`) is refused with no byte of it changed.
 */
const checkedReadOnly = (options: SqliteClient.Options): Effect.Effect<void, StorageError, Reactivity.Reactivity> =>
  options.readOnly === true || !hasContent(options.filename)
    ? Effect.void
    : Effect.scoped(
        Effect.flatMap(
          Effect.mapError(SqliteClient.make({ ...options, readOnly: true }), (error) =>
            fromSql(error, `opening ${options.filename}`)
          ),
          Schema.checkApplication
        )
      )

/**
 * The SQLite database as an `effect/sql` client layer whose failures are
 * `StorageError`s. A file that exists is checked read-only first: another
 * application's file, or one that is not a database, is refused unchanged.
 * With `readOnly: true` nothing is written (what the journal's tools open).
 *
 * @since 0.1.0
 */
export const sqliteClient = (options: SqliteClient.Options): Layer.Layer<SqlClient.SqlClient, StorageError> =>
  Layer.effect(
    SqlClient.SqlClient,
    Effect.andThen(
      checkedReadOnly(options),
      Effect.mapError(SqliteClient.make(options), (error) => fromSql(error, `opening ${options.filename}`))
    )
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
