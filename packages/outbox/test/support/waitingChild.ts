/**
 * A worker process that only waits, for the CPU test of worker-waits.slow.test.ts: it opens the outbox on the
 * SQLite file named in argv with its default options, submits two messages, holds the delivery of one for ever
 * and marks the other claimed by a dead worker whose lease runs; once the held delivery has started, it measures
 * its own CPU time over `windowMs` and prints it as JSON. Nothing else runs in this process (no test runner),
 * so the figure is the waiting worker's.
 */
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as Outbox from "../../src/Outbox.ts"
import { clientOf, type PlaceSpec } from "./clients.ts"
import * as ScriptedEditor from "./scriptedEditor.ts"

interface Args {
  readonly spec: PlaceSpec
  readonly windowMs: number
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args

const program = Effect.gen(function* () {
  const context = yield* Layer.build(clientOf(args.spec))
  const held = ScriptedEditor.make()
  held.delayMs = 600_000
  const routes = [{ editor: held.editor }]
  const app = yield* Effect.provide(Outbox.makeWith(routes, { tablePrefix: args.spec.prefix, worker: false }), context)
  for (const id of ["held-1", "dead-1"]) {
    yield* app.record({ ids: { externalMessageId: id } })
    yield* app.submit({ ids: { externalMessageId: id }, text: `${id} v1` })
  }
  const sql = yield* Effect.provide(SqlClient.SqlClient, context)
  yield* sql`UPDATE ${sql(`${args.spec.prefix}messages`)} SET claimed_by = 'gone', claimed_until = ${Date.now() + 300_000}
    WHERE external_message_id = 'dead-1'`
  yield* Effect.provide(Outbox.makeWith(routes, { tablePrefix: args.spec.prefix, shutdownGrace: "10 millis" }), context)
  for (let n = 0; n < 1_000 && held.calls === 0; n++) yield* Effect.sleep("20 millis")
  if (held.calls !== 1) return yield* Effect.die(new Error(`the held delivery did not start (${held.calls} calls)`))
  // Start-up's own work (module loading, JIT, the first statements) settles first.
  yield* Effect.sleep("1 second")
  const before = process.cpuUsage()
  yield* Effect.sleep(args.windowMs)
  const used = process.cpuUsage(before)
  process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, calls: held.calls })}\n`)
}).pipe(Effect.scoped)

await Effect.runPromise(program)
process.exit(0)
