/**
 * The durable part of `pnpm demo` (`@reword/outbox`): edits submitted to an
 * outbox in a SQLite file, its worker stopped in the middle of delivering them
 * (its calls to the provider abandoned), a new worker started on the same file,
 * every message landing with its newest text, and one message's history as the
 * journal keeps it. On the Acquire sandbox (127.0.0.1), in about two seconds.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import type { SandboxServer } from "@reword/core/sandbox"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Effect, Exit, Layer, Scope } from "effect"

const line = (text = "") => console.log(text)
const MESSAGES = 12
const VERSIONS = 3

/** An outbox on the file, in its own scope (closing it stops its worker, as a process that ends would). */
const openOutbox = (filename: string, sandbox: AcquireSandbox.Sandbox, name: string, slowNetwork: boolean) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    // On a slow network, the n-th call takes 100 + 100 n ms on its way: stopping the worker once
    // the first has landed catches the others in flight.
    let calls = 0
    const slow: typeof globalThis.fetch = (input, init) => {
      const delay = 100 + 100 * calls++
      return new Promise((resolve, reject) => setTimeout(() => fetch(input, init).then(resolve, reject), delay))
    }
    const editor = yield* Effect.orDie(
      Acquire.make(sandbox.settings, {
        retry: { maxAttempts: 1 },
        ...(slowNetwork ? { transport: { fetch: slow } } : {})
      })
    )
    const context = yield* Layer.buildWithScope(sqliteClient({ filename }), scope)
    const outbox = yield* Outbox.makeWith([{ editor, account: sandbox.accountId }], {
      workerId: name,
      // A claim left by a worker that stopped is taken over after the lease; the newest text is
      // sent again after the settle window (short here: it is a demo).
      lease: "600 millis",
      settleWindow: "300 millis",
      pollInterval: "50 millis",
      // No grace for calls in flight when the worker stops: worker-1 stops as a crash would stop it.
      shutdownGrace: 0,
      worker: false
    }).pipe(Effect.provide(context), Scope.provide(scope))
    return {
      outbox,
      startWorker: Effect.forkIn(outbox.runWorker, scope),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** The outbox tour: durable edits across a worker that stops mid-delivery. */
export const outboxTour: Effect.Effect<void, unknown> = Effect.gen(function* () {
  line()
  line("[outbox] durable edits (@reword/outbox): an id map, a journal, and a worker that lands the newest text")
  const directory = mkdtempSync(join(tmpdir(), "reword-demo-outbox-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
  const filename = join(directory, "outbox.db")
  const sandbox = yield* Effect.acquireRelease(
    Effect.promise(() => AcquireSandbox.start()),
    (started) => Effect.promise(() => started.stop())
  )

  const first = yield* openOutbox(filename, sandbox, "worker-1", true)
  const relayed: Array<SandboxServer.RelayedIds> = []
  for (let n = 1; n <= MESSAGES; n++) {
    const ids = yield* Effect.promise(() =>
      sandbox.seedMessage(`message ${n}, as sent`, { externalMessageId: `wa-${n}` })
    )
    relayed.push(ids)
    yield* first.outbox.record({ ids })
  }
  line(`  ${MESSAGES} messages relayed to the acquire sandbox, each recorded in the id map (a SQLite file)`)
  const started = Date.now()
  yield* Effect.forEach(
    relayed.flatMap((ids) =>
      Array.from({ length: VERSIONS }, (_, v) => ({
        id: ids.externalMessageId,
        text: `${ids.externalMessageId} v${v + 1}`
      }))
    ),
    ({ id, text }) => first.outbox.submit({ ids: { externalMessageId: id }, text, source: "agent" }),
    { concurrency: 16, discard: true }
  )
  line(
    `  ${MESSAGES * VERSIONS} edits submitted (${VERSIONS} versions of each), every one stored durably before any call, in ${Date.now() - started} ms`
  )

  yield* first.startWorker
  const newest = (ids: SandboxServer.RelayedIds) => `${ids.externalMessageId} v${VERSIONS}`
  const landed = () => relayed.filter((ids) => sandbox.inspect(ids)?.text === newest(ids)).length
  // Stop the worker as soon as the provider has some of them, the others still on their way.
  for (let tries = 0; tries < 200 && landed() === 0; tries++) yield* Effect.sleep("10 millis")
  yield* first.stop
  line(
    `  worker-1 stopped mid-delivery: ${landed()} of ${MESSAGES} messages show their newest text; its calls in flight were recorded as unknown and handed back`
  )

  const second = yield* openOutbox(filename, sandbox, "worker-2", false)
  yield* second.startWorker
  line("  worker-2 opens the same file: it takes the handed-back messages and sends the newest text again")
  const left = yield* second.outbox.drain({ timeout: "20 seconds" })
  const wrong = relayed.filter((ids) => sandbox.inspect(ids)?.text !== newest(ids))
  line(
    `  ${MESSAGES - wrong.length} of ${MESSAGES} messages show their newest text on the provider (pending ${left.pending}, failed ${left.failed})`
  )

  const shown = relayed[MESSAGES - 1] as SandboxServer.RelayedIds
  const history = yield* second.outbox.history(shown.externalMessageId)
  line(
    `  the journal of ${shown.externalMessageId} (reword history ${shown.externalMessageId} --database <file> prints it too):`
  )
  for (const version of history?.versions ?? []) {
    const attempts = version.attempts.map((attempt) => `${attempt.worker} ${attempt.outcome ?? "in flight"}`)
    line(
      `    v${version.version} "${version.text}" by ${version.source}: ${version.status}${attempts.length === 0 ? "" : ` (attempts: ${attempts.join(", ")})`}`
    )
  }
  yield* second.stop
  if (wrong.length > 0 || left.pending > 0 || left.failed > 0) {
    return yield* Effect.die(new Error(`the outbox left ${wrong.length} messages without their newest text`))
  }
}).pipe(Effect.scoped)
