/** An outbox on a fresh SQLite file, over the given editors, in the current scope. */
import { type Config, Effect, Layer, type Scope } from "effect"
import * as Outbox from "../../src/Outbox.ts"
import type { StorageError } from "../../src/OutboxError.ts"
import * as Databases from "./databases.ts"

export const openOutbox = (
  routes: ReadonlyArray<Outbox.Route>,
  options: Outbox.Options = {}
): Effect.Effect<Outbox.Service, StorageError | Config.ConfigError, Scope.Scope> => {
  const place = Databases.sqliteFile.fresh()
  return Effect.flatMap(Layer.build(place.client()), (context) =>
    Effect.provide(Outbox.makeWith(routes, { pollInterval: "20 millis", ...options }), context)
  )
}
