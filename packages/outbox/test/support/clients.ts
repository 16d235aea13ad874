/** A database client from a plain description, so that a child process can open the same place. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { fromSql, type StorageError } from "../../src/OutboxError.ts"
import { sqliteClient } from "../../src/Sqlite.ts"

export type PlaceSpec =
  | { readonly kind: "sqlite"; readonly filename: string; readonly prefix: string }
  | { readonly kind: "pg"; readonly url: string; readonly prefix: string; readonly maxConnections: number }

export const clientOf = (spec: PlaceSpec): Layer.Layer<SqlClient.SqlClient, StorageError> =>
  spec.kind === "sqlite"
    ? sqliteClient({ filename: spec.filename })
    : Layer.effect(
        SqlClient.SqlClient,
        Effect.mapError(PgClient.make({ url: Redacted.make(spec.url), maxConnections: spec.maxConnections }), (e) =>
          fromSql(e, "connecting")
        )
      ).pipe(Layer.provide(Reactivity.layer))
