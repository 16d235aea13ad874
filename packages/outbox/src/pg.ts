/**
 * The outbox on PostgreSQL, through `@effect/sql-pg` (install it next to
 * `@reword/outbox`). Workers claim deliveries with `FOR UPDATE SKIP LOCKED`.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import type { MessageEditor } from "@reword/core"
import { Effect, Layer } from "effect"
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
 * The outbox on PostgreSQL: `layerPg({ url: Redacted.make(process.env.DATABASE_URL) })`.
 * With an existing `SqlClient`, use `Outbox.layer(options)` instead.
 *
 * @since 0.1.0
 */
export const layerPg = (
  options: Outbox.Options & { readonly connection: ConnectionOptions }
): Layer.Layer<Outbox.Outbox, StorageError, MessageEditor.MessageEditor> =>
  Outbox.layer(options).pipe(
    Layer.provide(
      Layer.effect(
        SqlClient.SqlClient,
        Effect.mapError(PgClient.make(options.connection), (error) => fromSql(error, "connecting to PostgreSQL"))
      ).pipe(Layer.provide(Reactivity.layer))
    )
  )
