/**
 * The promise of the port: the same app code runs unchanged on either provider,
 * chosen only by configuration. One scenario, two configurations, real HTTP to
 * the local sandboxes of both providers.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Acquire, AcquireClient } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { MessageEditor, Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Effect, Redacted, Result } from "effect"
import nock from "nock"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

const API_KEY = "acquire-key-for-the-scenario"
const ACCESS = "bitrix-access-for-the-scenario"
const REFRESH = "bitrix-refresh-for-the-scenario"
const SECRET = "bitrix-client-secret-for-the-scenario"

beforeAll(() => nock.enableNetConnect("127.0.0.1"))
afterAll(() => nock.disableNetConnect())

/** The ids an app keeps for every message it relayed: all of them, whatever the provider. */
interface Relayed {
  readonly externalMessageId: string
  readonly externalChatId: string
  readonly externalAuthorId: string
  readonly providerMessageId: number | undefined
}

/** The app: provider-neutral. It fixes a typo, then tries an edit it cannot make, and reports what happened. */
const app = (relayed: Relayed) =>
  Effect.gen(function* () {
    const editor = yield* MessageEditor.MessageEditor
    const ids = clean(relayed)
    const edited = yield* editor.update({ ids, text: "See you on Tuesday." })
    const withPicture = editor.capabilities.files
      ? {
          text: "See you on Tuesday (map attached).",
          files: [{ url: "https://cdn.example.com/map.png", name: "map.png" }]
        }
      : { text: "See you on Tuesday (map: https://cdn.example.com/map.png)." }
    const outcomes = yield* editor.updateMany([
      { ids, ...withPicture },
      { ids: {}, text: "lost ids" }
    ])
    return {
      provider: editor.provider,
      confirmed: edited.text,
      outcomes: outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag))
    }
  })

const clean = <A extends object>(ids: A): A =>
  Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined)) as A

const providers = [Bitrix24.provider, Acquire.provider]

describe("the same app code on both providers", () => {
  it.live("edits a relayed message on Bitrix24 and on Acquire, chosen by REWORD_PROVIDER alone", () =>
    Effect.gen(function* () {
      const portal = yield* Bitrix24Sandbox.scoped({
        accessToken: ACCESS,
        refreshToken: REFRESH,
        clientId: "local.scenario.app",
        clientSecret: SECRET,
        connector: "reword_test",
        line: 7
      })
      const acquire = yield* AcquireSandbox.scoped({ apiKey: API_KEY })

      const environments = {
        bitrix24: {
          REWORD_PROVIDER: "bitrix24",
          BITRIX24_PORTAL_URL: portal.url,
          BITRIX24_ACCESS_TOKEN: ACCESS,
          BITRIX24_REFRESH_TOKEN: REFRESH,
          BITRIX24_CLIENT_ID: "local.scenario.app",
          BITRIX24_CLIENT_SECRET: SECRET,
          BITRIX24_OAUTH_URL: portal.url,
          BITRIX24_CONNECTOR: "reword_test",
          BITRIX24_LINE: "7",
          BITRIX24_ALLOW_INSECURE_LOOPBACK: "true"
        },
        acquire: {
          REWORD_PROVIDER: "acquire",
          ACQUIRE_ACCOUNT_ID: "scenario",
          ACQUIRE_API_KEY: API_KEY,
          ACQUIRE_BASE_URL: acquire.baseUrl,
          ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
        }
      }

      // Relaying: the message is sent to each provider, and the app keeps every id it gets.
      const bitrix = yield* Bitrix24.make(
        yield* Provider.readSettings(Bitrix24.provider, Provider.fromEnv(environments.bitrix24))
      )
      yield* bitrix.client.sendMessages({
        messages: [
          {
            user: { id: "wa-user-3" },
            message: { id: "wa-881", text: "See you on Monday." },
            chat: { id: "wa-chat-7" }
          }
        ]
      })
      const acquireClient = yield* AcquireClient.make({
        ...(yield* Provider.readSettings(Acquire.provider, Provider.fromEnv(environments.acquire)))
      })
      const sentToAcquire = yield* acquireClient.send({ caseId: acquire.openCase().id, text: "See you on Monday." })
      const relayed: Relayed = {
        externalMessageId: "wa-881",
        externalChatId: "wa-chat-7",
        externalAuthorId: "wa-user-3",
        providerMessageId: sentToAcquire.id
      }

      const runs = []
      for (const env of [environments.bitrix24, environments.acquire]) {
        runs.push(
          yield* app(relayed).pipe(
            Effect.provide(Provider.layer(providers, { source: Provider.fromEnv(env), retry: { maxAttempts: 1 } }))
          )
        )
      }

      assert.deepStrictEqual(runs, [
        { provider: "bitrix24", confirmed: "See you on Tuesday.", outcomes: ["ok", "InvalidRequest"] },
        { provider: "acquire", confirmed: "See you on Tuesday.", outcomes: ["ok", "InvalidRequest"] }
      ])
      assert.deepStrictEqual(portal.message("wa-chat-7", "wa-881")?.history, [
        "See you on Monday.",
        "See you on Tuesday.",
        "See you on Tuesday (map attached)."
      ])
      assert.deepStrictEqual(acquire.messages.get(sentToAcquire.id)?.history, [
        "See you on Monday.",
        "See you on Tuesday.",
        "See you on Tuesday (map: https://cdn.example.com/map.png)."
      ])
    })
  )

  it.live("the Promise API takes the same configuration, and transport options reach the adapter", () =>
    Effect.gen(function* () {
      const acquire = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const seen: Array<string> = []
      const editor = yield* Effect.promise(() =>
        createEditor({
          providers,
          settings: {
            provider: "acquire",
            acquire: { accountId: "scenario", apiKey: API_KEY, baseUrl: acquire.baseUrl, allowInsecureLoopback: true }
          },
          transport: {
            fetch: (input, init) => {
              seen.push(input instanceof Request ? input.url : String(input))
              return fetch(input, init)
            }
          }
        })
      )
      const caseId = acquire.openCase().id
      const client = yield* AcquireClient.make({
        accountId: "scenario",
        apiKey: Redacted.make(API_KEY),
        baseUrl: acquire.baseUrl,
        allowInsecureLoopback: true
      })
      const sent = yield* client.send({ caseId, text: "Helo" })
      const edited = yield* Effect.promise(() => editor.update({ ids: { providerMessageId: sent.id }, text: "Hello" }))
      yield* Effect.promise(() => editor.dispose())
      assert.strictEqual(edited.text, "Hello")
      assert.strictEqual(acquire.messages.get(sent.id)?.text, "Hello")
      assert.deepStrictEqual(seen, [`${acquire.baseUrl}/crm/messenger/chat/message/${sent.id}`])
    })
  )
})
