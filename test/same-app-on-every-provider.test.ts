/**
 * The contract of the port across every provider: the same app code, chosen
 * by configuration alone (`REWORD_PROVIDER` and that provider's settings), on
 * the in-memory provider and on the local sandboxes of Bitrix24, Acquire and
 * Telegram over real HTTP, through Effect layers and through the Promise API.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { type EditRequest, InMemoryEditor, MessageEditor, Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import type { SandboxServer } from "@reword/core/sandbox"
import { Telegram } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Result } from "effect"
import nock from "nock"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => nock.enableNetConnect("127.0.0.1"))
afterAll(() => nock.disableNetConnect())

type Ids = EditRequest.EditRequestInput["ids"]

/** The app: provider-neutral. It fixes a typo, makes an edit with the ids lost, and reports what happened. */
const app = (ids: Ids) =>
  Effect.gen(function* () {
    const editor = yield* MessageEditor.MessageEditor
    const edited = yield* editor.update({ ids, text: "See you on Tuesday." })
    const outcomes = yield* editor.updateMany([
      { ids, text: "See you on Tuesday at 10." },
      { ids: {}, text: "lost ids" }
    ])
    return {
      provider: editor.provider,
      confirmed: edited.text,
      outcomes: outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag))
    }
  })

const THREE_DAYS = 3 * 24 * 3_600_000

/**
 * The app with the capability rules: a late fix of a message sent three days ago by someone else, once as
 * an edit, once with the newMessage fallback. Provider-neutral, as the app above.
 */
const lateFix = (ids: Ids) =>
  Effect.gen(function* () {
    const editor = yield* MessageEditor.MessageEditor
    const request = { ids, text: "Open 9 to 6", sentAt: new Date(Date.now() - THREE_DAYS), sentBy: "other" as const }
    const late = yield* Effect.result(editor.update(request))
    const fallback = yield* Effect.result(
      editor.update({ ...request, fallback: { mode: "newMessage", marker: " (edited)" } })
    )
    const outcome = (
      result: Result.Result<{ readonly supersedes?: unknown }, { readonly reason: { _tag: string } }>
    ) =>
      Result.isFailure(result)
        ? result.failure.reason._tag
        : result.success.supersedes === undefined
          ? "ok"
          : "superseded"
    return {
      provider: editor.provider,
      windows: editor.capabilities.editWindows.length,
      late: outcome(late),
      fallback: outcome(fallback)
    }
  })

/** A provider under test: its environment, a message relayed to it, and how to read the message back. */
interface Subject {
  readonly env: Readonly<Record<string, string>>
  readonly ids: Ids
  readonly history: () => ReadonlyArray<string | undefined> | undefined
}

const fromSandbox = (sandbox: SandboxServer.ProviderSandbox, ids: Ids): Subject => ({
  env: sandbox.env,
  ids,
  history: () => sandbox.inspect(ids)?.history
})

const RELAYED = { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" }

describe("the same app code on every provider", () => {
  it.live("edits on memory, Bitrix24, Acquire and Telegram, chosen by configuration alone", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      store.add("wa-881", "See you on Monday.")
      const providers = [InMemoryEditor.providerFor(store), Bitrix24.provider, Acquire.provider, Telegram.provider]
      const bitrix = yield* Bitrix24Sandbox.scoped()
      const acquire = yield* AcquireSandbox.scoped()
      const telegram = yield* TelegramSandbox.scoped()
      const relayed = async (sandbox: SandboxServer.ProviderSandbox) =>
        fromSandbox(sandbox, await sandbox.seedMessage("See you on Monday.", RELAYED))
      const subjects: ReadonlyArray<Subject> = [
        {
          env: { REWORD_PROVIDER: "memory" },
          ids: RELAYED,
          history: () => store.messages.get("wa-881")?.history.map((version) => version.text)
        },
        yield* Effect.promise(() => relayed(bitrix)),
        yield* Effect.promise(() => relayed(acquire)),
        yield* Effect.promise(() => relayed(telegram))
      ]
      const runs = []
      for (const subject of subjects) {
        runs.push(
          yield* app(subject.ids).pipe(
            Effect.provide(
              Provider.layer(providers, {
                source: Provider.fromEnv(subject.env),
                retry: { maxAttempts: 1 },
                providerOptions: { telegram: { limits: false } }
              })
            )
          )
        )
      }
      assert.deepStrictEqual(
        runs,
        ["memory", "bitrix24", "acquire", "telegram"].map((provider) => ({
          provider,
          confirmed: "See you on Tuesday.",
          outcomes: ["ok", "InvalidRequest"]
        }))
      )
      for (const subject of subjects) {
        assert.deepStrictEqual(subject.history(), [
          "See you on Monday.",
          "See you on Tuesday.",
          "See you on Tuesday at 10."
        ])
      }
    })
  )

  it.live("holds every provider's declared rules before any call, and falls back only where it can send", () =>
    Effect.gen(function* () {
      const store = InMemoryEditor.makeStore()
      const providers = [InMemoryEditor.providerFor(store), Bitrix24.provider, Acquire.provider, Telegram.provider]
      const bitrix = yield* Bitrix24Sandbox.scoped()
      const acquire = yield* AcquireSandbox.scoped()
      const telegram = yield* TelegramSandbox.scoped()
      const connection = telegram.connectBusiness()
      const seed = (sandbox: SandboxServer.ProviderSandbox) =>
        Effect.promise(() => sandbox.seedMessage("Open 9 to 5", RELAYED))
      store.add("wa-881", "Open 9 to 5", new Date(Date.now() - THREE_DAYS))
      const business = yield* Effect.promise(() =>
        telegram.seedMessage("Open 9 to 5", RELAYED, {
          from: "user",
          businessConnectionId: connection,
          agoMs: THREE_DAYS
        })
      )
      const subjects = [
        { env: { REWORD_PROVIDER: "memory" }, ids: RELAYED as Ids, calls: () => store.calls.update + store.calls.send },
        { env: bitrix.env, ids: yield* seed(bitrix), calls: () => bitrix.server.requests.length },
        { env: acquire.env, ids: yield* seed(acquire), calls: () => acquire.server.requests.length },
        {
          env: telegram.env,
          ids: { ...business, providerConnectionId: connection },
          calls: () => telegram.server.requests.length
        }
      ]
      const runs = []
      for (const subject of subjects) {
        const before = subject.calls()
        const run = yield* lateFix(subject.ids).pipe(
          Effect.provide(
            Provider.layer(providers, {
              source: Provider.fromEnv(subject.env),
              retry: { maxAttempts: 1 },
              providerOptions: { telegram: { limits: false }, memory: { editWindow: "48 hours" } }
            })
          )
        )
        runs.push({ ...run, calls: subject.calls() - before })
      }
      assert.deepStrictEqual(runs, [
        // A window is declared (the in-memory provider's option): refused before any call; the fallback sends once.
        { provider: "memory", windows: 1, late: "EditWindowClosed", fallback: "superseded", calls: 1 },
        // No window stated: the late edit goes through; newMessage is refused before any call (they cannot send).
        { provider: "bitrix24", windows: 0, late: "ok", fallback: "InvalidRequest", calls: 1 },
        { provider: "acquire", windows: 0, late: "ok", fallback: "InvalidRequest", calls: 1 },
        // Telegram's 48 hours for a business message its owner wrote: refused before any call; sendMessage once.
        { provider: "telegram", windows: 1, late: "EditWindowClosed", fallback: "superseded", calls: 1 }
      ])
    })
  )

  it.live("the Promise API takes the same configuration for Telegram", () =>
    Effect.gen(function* () {
      const telegram = yield* TelegramSandbox.scoped()
      const ids = yield* Effect.promise(() => telegram.seedMessage("Helo", RELAYED))
      const editor = yield* Effect.promise(() =>
        createEditor({
          providers: [Bitrix24.provider, Acquire.provider, Telegram.provider],
          settings: telegram.plainSettings()
        })
      )
      const edited = yield* Effect.promise(() => editor.update({ ids, text: "Hello" }))
      yield* Effect.promise(() => editor.dispose())
      assert.strictEqual(edited.provider, "telegram")
      assert.deepStrictEqual(telegram.inspect(ids)?.history, ["Helo", "Hello"])
    })
  )
})
