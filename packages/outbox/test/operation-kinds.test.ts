/**
 * The outbox's operation kinds, each with its rule (issue 21), on a SQLite file and on PostgreSQL (PGlite):
 * an edit is latest-wins (a version superseded by a newer one is never sent) and retried after an unknown
 * outcome; a send (the `newMessage` fallback) is at most once: a send cut short by a worker that stopped is
 * never made again (a dead letter naming why), and a send refused for now (rate limited) is tried again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Capabilities, EditError, EditedMessage, InMemoryEditor, MessageEditor } from "@reword/core"
import { Duration, Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const fast: Outbox.Options = {
  settleWindow: "50 millis",
  pollInterval: "20 millis",
  shutdownGrace: "0 millis",
  retry: { initialDelay: 20, maxDelay: 100, jitter: false }
}

const openIn = (place: Databases.Place, editor: MessageEditor.Service, options: Outbox.Options = {}) =>
  Effect.flatMap(Layer.build(place.client()), (context) =>
    Effect.provide(Outbox.makeWith([{ editor }], { ...fast, ...options, tablePrefix: place.prefix }), context)
  )

/** A provider that cannot edit and sends the fallback with `send`; every call counted. */
const cannotEdit = (send: (n: number) => Effect.Effect<void, EditError.EditErrorReason>) => {
  const calls = { update: 0, send: 0 }
  const editor = MessageEditor.make(
    {
      provider: "cannot-edit",
      capabilities: new Capabilities.Capabilities({
        ...InMemoryEditor.capabilities,
        edit: "none",
        fallbacks: ["fail", "newMessage"]
      }),
      update: (request) =>
        Effect.sync(() => {
          calls.update++
          return new EditedMessage.EditedMessage({ provider: "cannot-edit", ids: request.ids, files: [] })
        }),
      send: (request) =>
        Effect.suspend(() => {
          calls.send++
          return Effect.as(
            send(calls.send),
            new EditedMessage.EditedMessage({
              provider: "cannot-edit",
              ids: { ...request.ids, providerMessageId: `new-${calls.send}` },
              text: request.text,
              files: []
            })
          )
        })
    },
    // The outbox retries itself: each attempt is one call.
    { fallback: { mode: "newMessage", marker: " (edited)" }, retry: { maxAttempts: 1 } }
  )
  return { editor, calls }
}

/** Waits (bounded) until `done` holds. */
const until = (done: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500 && !done(); i++) yield* Effect.sleep("20 millis")
    assert.isTrue(done(), "the condition held within 10 s")
  })

describe.each([Databases.sqliteFile, Databases.pgliteDatabase])("operation kinds on $name", (database) => {
  it.live("a send cut short by a worker that stopped is never made again: a dead letter naming why", () =>
    Effect.gen(function* () {
      const place = database.fresh()
      // The first send never answers (the worker stops while it is under way); any later one would succeed.
      const provider = cannotEdit((n) => (n === 1 ? Effect.never : Effect.void))
      const first = yield* Scope.make()
      const stopping = yield* openIn(place, provider.editor).pipe(Scope.provide(first))
      yield* stopping.record({ ids: { externalMessageId: "wa-1" } })
      yield* stopping.submit({ ids: { externalMessageId: "wa-1" }, text: "Open 9 to 6" })
      yield* until(() => provider.calls.send === 1)
      yield* Scope.close(first, Exit.void)

      const outbox = yield* openIn(place, provider.editor)
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 1 })
      yield* Effect.sleep("200 millis")
      assert.deepStrictEqual(provider.calls, { update: 0, send: 1 })
      const history = yield* outbox.history("wa-1")
      assert.strictEqual(history?.state, "failed")
      assert.match(
        history?.lastReason ?? "",
        /^Unsupported: .* \(no new message is sent after an attempt whose outcome is unknown: it may have landed\)$/
      )
      assert.deepStrictEqual(
        history?.versions[0]?.attempts.map((a) => a.outcome),
        ["unknown", "permanent"]
      )
      assert.strictEqual(history?.ids.providerMessageId, undefined)
    }).pipe(Effect.scoped)
  )

  it.live("a send refused for now (rate limited: nothing stored) is tried again, and the message sent once", () =>
    Effect.gen(function* () {
      const provider = cannotEdit((n) =>
        n === 1 ? Effect.fail(new EditError.RateLimited({ retryAfter: Duration.millis(20) })) : Effect.void
      )
      const outbox = yield* openIn(database.fresh(), provider.editor)
      yield* outbox.record({ ids: { externalMessageId: "wa-2" } })
      yield* outbox.submit({ ids: { externalMessageId: "wa-2" }, text: "Open 9 to 6" })
      yield* outbox.drain({ timeout: "10 seconds" })
      const history = yield* outbox.history("wa-2")
      assert.strictEqual(history?.lastReason, undefined)
      assert.deepStrictEqual(provider.calls, { update: 0, send: 2 })
      assert.strictEqual(history?.state, "idle")
      assert.strictEqual(history?.ids.providerMessageId, "new-2")
      assert.deepStrictEqual(
        history?.versions[0]?.attempts.map((a) => a.outcome),
        ["retryable", "confirmed"]
      )
    }).pipe(Effect.scoped)
  )

  it.live("an edit superseded by a newer one before delivery is never sent: only the latest goes out", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      store.add("wa-3", "Open 9 to 5")
      const outbox = yield* openIn(database.fresh(), InMemoryEditor.make(store), { worker: false })
      yield* outbox.record({ ids: { externalMessageId: "wa-3" } })
      yield* outbox.submit({ ids: { externalMessageId: "wa-3" }, text: "Open 9 to 6" })
      yield* outbox.submit({ ids: { externalMessageId: "wa-3" }, text: "Open 9 to 7" })
      const latest = yield* outbox.submit({ ids: { externalMessageId: "wa-3" }, text: "Open 9 to 8" })
      const history = yield* outbox.deliver(latest)
      assert.deepStrictEqual(
        store.messages.get("wa-3")?.history.map((v) => v.text),
        ["Open 9 to 5", "Open 9 to 8"]
      )
      assert.deepStrictEqual(
        history?.versions.map((v) => [v.version, v.status, v.attempts.length]),
        [
          [1, "superseded", 0],
          [2, "superseded", 0],
          [3, "confirmed", 1]
        ]
      )
    }).pipe(Effect.scoped)
  )

  it.live("an edit whose outcome is unknown (a timeout) is retried until it lands", () =>
    Effect.gen(function* () {
      let updates = 0
      const texts: Array<string | undefined> = []
      const editor = MessageEditor.make(
        {
          provider: "flaky",
          capabilities: new Capabilities.Capabilities(InMemoryEditor.capabilities),
          update: (request) =>
            Effect.suspend(() => {
              updates++
              texts.push(request.text)
              return updates === 1
                ? Effect.fail(new EditError.Timeout({ after: Duration.millis(100) }))
                : Effect.succeed(new EditedMessage.EditedMessage({ provider: "flaky", ids: request.ids, files: [] }))
            })
        },
        { retry: { maxAttempts: 1 } }
      )
      const outbox = yield* openIn(database.fresh(), editor)
      yield* outbox.record({ ids: { externalMessageId: "wa-4" } })
      yield* outbox.submit({ ids: { externalMessageId: "wa-4" }, text: "Open 9 to 6" })
      assert.deepStrictEqual(yield* outbox.drain({ timeout: "10 seconds" }), { pending: 0, failed: 0 })
      const history = yield* outbox.history("wa-4")
      assert.strictEqual(history?.versions[0]?.status, "confirmed")
      assert.strictEqual(history?.versions[0]?.attempts[0]?.outcome, "unknown")
      assert.isAtLeast(updates, 2)
      assert.deepStrictEqual(new Set(texts), new Set(["Open 9 to 6"]))
    }).pipe(Effect.scoped)
  )
})
