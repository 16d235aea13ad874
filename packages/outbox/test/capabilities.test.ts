/**
 * Capabilities through the outbox (issue 21), on SQLite, on PostgreSQL (PGlite), and on a PostgreSQL server in
 * `pnpm test:slow` (each test its own table prefix): Telegram edits by the
 * id map's chat id, connection id and kind; an edit a provider's rules refuse is a dead letter with its
 * reason and no provider call; the newMessage fallback sends once and re-points the id map (a journaled
 * re-point), so that later edits go to the new message.
 */
import { assert, describe, it } from "@effect/vitest"
import { Capabilities, EditError, EditedMessage, InMemoryEditor, MessageEditor } from "@reword/core"
import { Telegram } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { type Config, Effect, Layer, type Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Outbox from "../src/Outbox.ts"
import type { StorageError } from "../src/OutboxError.ts"
import * as Databases from "./support/databases.ts"

beforeAll(() => Databases.startPglite(), 180_000)
afterAll(() => Databases.stopAll())

const DAY = 24 * 3_600_000
const fast: Outbox.Options = {
  settleWindow: "50 millis",
  pollInterval: "20 millis",
  retry: { initialDelay: 20, maxDelay: 100, jitter: false }
}

const open = (
  place: Databases.Place,
  editor: MessageEditor.Service
): Effect.Effect<Outbox.Service, StorageError | Config.ConfigError, Scope.Scope> =>
  Effect.flatMap(Layer.build(place.client()), (context) =>
    Effect.provide(Outbox.makeWith([{ editor, account: "acme" }], { ...fast, tablePrefix: place.prefix }), context)
  )

describe.each(Databases.all)("capabilities through the outbox on $name", (database) => {
  it.live("delivers a Telegram caption edit by the id map's chat id, message id, connection and kind", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped()
      const connection = sandbox.connectBusiness()
      const seeded = yield* Effect.promise(() =>
        sandbox.seedMessage("A photo of the venue", {}, { kind: "photo", businessConnectionId: connection })
      )
      const editor = yield* Telegram.make(sandbox.settings, { retry: { maxAttempts: 1 }, limits: false })
      const outbox = yield* open(database.fresh(), editor)
      yield* outbox.record({
        ids: {
          externalMessageId: "wa-1",
          providerChatId: seeded.providerChatId,
          providerMessageId: seeded.providerMessageId,
          providerConnectionId: connection
        },
        kind: "caption"
      })
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "wa-1" }, text: "The venue, from the north" })
      const history = yield* outbox.deliver(receipt)
      assert.strictEqual(history?.state, "idle")
      assert.deepStrictEqual(history?.ids, {
        externalMessageId: "wa-1",
        providerMessageId: String(seeded.providerMessageId),
        providerChatId: String(seeded.providerChatId),
        providerConnectionId: connection
      })
      assert.strictEqual(history?.kind, "caption")
      assert.strictEqual(sandbox.server.requests.at(-1)?.path, "/bot<redacted>/editMessageCaption")
      assert.deepStrictEqual(sandbox.inspect(seeded)?.history, ["A photo of the venue", "The venue, from the north"])
    })
  )

  it.live("records a capability refusal as a dead letter with its reason, and makes no provider call", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      const sentAt = new Date(Date.now() - 3 * DAY)
      store.add("wa-2", "Open 9 to 5", sentAt)
      const outbox = yield* open(database.fresh(), InMemoryEditor.make(store, { editWindow: "48 hours" }))
      yield* outbox.record({ ids: { externalMessageId: "wa-2" } })
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "wa-2" }, text: "Open 9 to 6", sentAt })
      const history = yield* outbox.deliver(receipt)
      assert.strictEqual(history?.state, "failed")
      assert.match(history?.lastReason ?? "", /^EditWindowClosed: Edit window closed: memory: a message can be edited/)
      assert.deepStrictEqual(
        history?.versions.map((v) => [v.status, v.attempts.map((a) => a.outcome)]),
        [["failed", ["permanent"]]]
      )
      assert.deepStrictEqual(store.calls, { update: 0, send: 0 })
    })
  )

  it.live("the newMessage fallback sends once and re-points the id map; the next edit goes to the new message", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      const sentAt = new Date(Date.now() - 3 * DAY)
      store.add("wa-3", "Open 9 to 5", sentAt)
      const editor = InMemoryEditor.make(store, {
        editWindow: "48 hours",
        fallback: { mode: "newMessage", marker: " (edited)" }
      })
      const outbox = yield* open(database.fresh(), editor)
      yield* outbox.record({ ids: { externalMessageId: "wa-3" } })
      const first = yield* outbox.submit({ ids: { externalMessageId: "wa-3" }, text: "Open 9 to 6", sentAt })
      const superseded = yield* outbox.deliver(first)
      assert.strictEqual(superseded?.state, "idle")
      assert.strictEqual(superseded?.ids.providerMessageId, "wa-3+1")
      assert.strictEqual(superseded?.kind, "text")
      assert.deepStrictEqual(
        superseded?.idChanges.map((c) => [c.field, c.from, c.to, c.source]),
        [
          ["providerMessageId", undefined, "wa-3+1", "newMessage fallback"],
          ["kind", undefined, "text", "newMessage fallback"]
        ]
      )
      assert.deepStrictEqual(store.calls, { update: 0, send: 1 })
      // The next edit (its window counts from the new message) goes to the new message, as an edit.
      const second = yield* outbox.submit({ ids: { externalMessageId: "wa-3" }, text: "Open 9 to 7" })
      const edited = yield* outbox.deliver(second)
      assert.strictEqual(edited?.state, "idle")
      assert.deepStrictEqual(store.calls, { update: 1, send: 1 })
      assert.deepStrictEqual(
        store.messages.get("wa-3+1")?.history.map((v) => v.text),
        ["Open 9 to 6 (edited)", "Open 9 to 7"]
      )
      assert.deepStrictEqual(
        store.messages.get("wa-3")?.history.map((v) => v.text),
        ["Open 9 to 5"]
      )
    })
  )

  it.live("a fallback send whose outcome is unknown is never repeated: a dead letter with its reason", () =>
    Effect.gen(function* () {
      let sends = 0
      const editor = MessageEditor.make(
        {
          provider: "cannot-edit",
          capabilities: new Capabilities.Capabilities({
            ...InMemoryEditor.capabilities,
            edit: "none",
            fallbacks: ["fail", "newMessage"]
          }),
          update: (request) =>
            Effect.succeed(new EditedMessage.EditedMessage({ provider: "cannot-edit", ids: request.ids, files: [] })),
          // The connection is cut after the message went out: whether it was stored is unknown.
          send: () =>
            Effect.suspend(() => {
              sends++
              return Effect.fail(new EditError.Network({ description: "read ECONNRESET" }))
            })
        },
        { fallback: { mode: "newMessage", marker: " (edited)" } }
      )
      const outbox = yield* open(database.fresh(), editor)
      yield* outbox.record({ ids: { externalMessageId: "wa-4" } })
      const receipt = yield* outbox.submit({ ids: { externalMessageId: "wa-4" }, text: "Open 9 to 6" })
      const history = yield* outbox.deliver(receipt)
      assert.strictEqual(history?.state, "failed")
      assert.match(history?.lastReason ?? "", /^Network: sending a new message: .*ECONNRESET.*\(not repeated\)$/)
      yield* Effect.sleep("200 millis")
      assert.strictEqual(sends, 1)
    })
  )
})
