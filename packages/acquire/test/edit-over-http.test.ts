import { assert, describe, it } from "@effect/vitest"
import { Acquire, AcquireClient } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { MessageEditor, Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { ConfigProvider, Effect, Layer, Redacted, Result } from "effect"

const API_KEY = "acq-sandbox-key-7f3a9c"

const settingsFor = (sandbox: AcquireSandbox.Sandbox) => ({
  accountId: "sandbox",
  apiKey: Redacted.make(API_KEY),
  baseUrl: sandbox.baseUrl,
  allowInsecureLoopback: true
})

describe("editing over real HTTP against a local Acquire sandbox", () => {
  it.live("sends a message, edits it, and reads the new text back", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const editor = yield* Acquire.make(settingsFor(sandbox), { retry: { maxAttempts: 1 } })

      const sent = yield* client.send({ caseId: kase.id, text: "Meet at 11." })
      assert.strictEqual(sent.caseId, kase.id)
      assert.strictEqual(sent.threadId, kase.threadId)
      assert.isUndefined(sent.dateUpdated)

      const edited = yield* editor.update({ ids: { providerMessageId: sent.id }, text: "Meet at 10.", language: "en" })
      assert.strictEqual(edited.provider, "acquire")
      assert.strictEqual(edited.ids.providerMessageId, sent.id)
      assert.strictEqual(edited.text, "Meet at 10.")
      assert.instanceOf(edited.updatedAt, Date)

      const read = yield* client.get(sent.id)
      assert.strictEqual(read.message, "Meet at 10.")
      assert.deepStrictEqual(sandbox.messages.get(sent.id)?.history, ["Meet at 11.", "Meet at 10."])
      assert.strictEqual(sandbox.messages.get(sent.id)?.translateLangKey, "en")
      // The key went as a Bearer token (the sandbox answers 200 to API_KEY only); the log keeps no credential.
      assert.strictEqual(sandbox.server.requests.at(-2)?.status, 200)
      assert.strictEqual(sandbox.server.requests.at(-2)?.headers.authorization, "Bearer <redacted>")
    })
  )

  it.live("runs 200 edits through updateMany at most 8 at a time, with every outcome in input order", () =>
    Effect.gen(function* () {
      const concurrency = 8
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const sent = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, n) => n),
        (n) => client.send({ caseId: kase.id, text: `original ${n}` })
      )
      const ids = sent.map((message) => message.id)
      assert.strictEqual(new Set(ids).size, 200)

      // The sandbox holds the edits until 8 are in flight (then a little longer): an editor running fewer
      // at once would leave maxInFlight below 8 (each group released by the timeout), one running more
      // would send its extra requests while the group is held, and exceed 8.
      sandbox.holdRequests({ untilInFlight: concurrency, timeoutMs: 250 })
      const editor = yield* Acquire.make(settingsFor(sandbox), { concurrency, retry: { maxAttempts: 1 } })
      const outcomes = yield* editor.updateMany(
        ids.map((id, n) => ({ ids: { providerMessageId: id, externalMessageId: `ext-${n}` }, text: `edited ${n}` }))
      )
      const maxInFlight = sandbox.maxInFlight()
      sandbox.holdRequests(undefined)

      assert.strictEqual(outcomes.length, 200)
      outcomes.forEach((outcome, n) => {
        assert.isTrue(Result.isSuccess(outcome), `outcome ${n} failed`)
        if (Result.isSuccess(outcome)) {
          assert.strictEqual(outcome.success.ids.providerMessageId, ids[n])
          assert.strictEqual(outcome.success.ids.externalMessageId, `ext-${n}`)
          assert.strictEqual(outcome.success.text, `edited ${n}`)
        }
      })
      assert.strictEqual(maxInFlight, concurrency)

      const reads = yield* Effect.forEach(ids, (id) => client.get(id), { concurrency })
      assert.deepStrictEqual(
        reads.map((message) => message.message),
        ids.map((_, n) => `edited ${n}`)
      )
    })
  )

  it.live("keeps one outcome per request when some edits fail, in input order", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const first = yield* client.send({ caseId: kase.id, text: "one" })
      const second = yield* client.send({ caseId: kase.id, text: "two" })
      yield* client.delete(second.id)

      const editor = yield* Acquire.make(settingsFor(sandbox), { retry: { maxAttempts: 1 } })
      const outcomes = yield* editor.updateMany([
        { ids: { providerMessageId: first.id }, text: "one, edited" },
        { ids: { providerMessageId: second.id }, text: "two, edited" },
        { ids: { providerMessageId: "../admin" }, text: "never sent" },
        { ids: { providerMessageId: first.id }, text: "one, edited twice" }
      ])

      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? outcome.success.text : outcome.failure.reason._tag)),
        ["one, edited", "NotFound", "InvalidRequest", "one, edited twice"]
      )
      assert.strictEqual((yield* client.get(first.id)).message, "one, edited twice")
      assert.isFalse(sandbox.server.requests.some((request) => request.path.includes("admin")))
    })
  )

  it.live("reads its settings from environment variables through core's provider selection", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const env = {
        REWORD_PROVIDER: "acquire",
        ACQUIRE_ACCOUNT_ID: "sandbox",
        ACQUIRE_API_KEY: API_KEY,
        ACQUIRE_BASE_URL: sandbox.baseUrl,
        ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
      }
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const sent = yield* client.send({ caseId: kase.id, text: "before" })

      const edited = yield* Effect.gen(function* () {
        const editor = yield* MessageEditor.MessageEditor
        return yield* editor.update({ ids: { providerMessageId: String(sent.id) }, text: "after" })
      }).pipe(
        Effect.provide(Provider.layer([Acquire.provider], { source: Provider.fromEnv(env), retry: { maxAttempts: 1 } }))
      )
      assert.strictEqual(edited.ids.providerMessageId, sent.id)
      assert.strictEqual((yield* client.get(sent.id)).message, "after")
    })
  )

  it.live("works from the Promise API with a settings object", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const sent = yield* client.send({ caseId: kase.id, text: "promise before" })

      const settled = yield* Effect.promise(async () => {
        const editor = await createEditor({
          providers: Acquire.provider,
          settings: {
            acquire: { accountId: "sandbox", apiKey: API_KEY, baseUrl: sandbox.baseUrl, allowInsecureLoopback: true }
          },
          retry: { maxAttempts: 1 }
        })
        try {
          const edited = await editor.update({ ids: { providerMessageId: sent.id }, text: "promise after" })
          const many = await editor.updateMany([
            { ids: { providerMessageId: sent.id }, text: "promise after, again" },
            { ids: { providerMessageId: 999_999 }, text: "nobody" }
          ])
          return { edited, many }
        } finally {
          await editor.dispose()
        }
      })
      assert.strictEqual(settled.edited.text, "promise after")
      assert.deepStrictEqual(
        settled.many.map((entry) => entry.status),
        ["fulfilled", "rejected"]
      )
      const rejected = settled.many[1]
      assert.strictEqual(rejected?.status === "rejected" ? rejected.reason.reason._tag : undefined, "NotFound")
      assert.strictEqual((yield* client.get(sent.id)).message, "promise after, again")
    })
  )

  it.live("is refused by the sandbox with a wrong key, as Unauthorized", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const editor = yield* Acquire.make(
        { ...settingsFor(sandbox), apiKey: Redacted.make("wrong-key-123456") },
        { retry: { maxAttempts: 1 } }
      )
      const error = yield* Effect.flip(editor.update({ ids: { providerMessageId: 1 }, text: "x" }))
      assert.strictEqual(error.reason._tag, "Unauthorized")
      assert.strictEqual(error.operation, "update")
      assert.isFalse(error.isRetryable)
    })
  )

  it.live("builds the editor layer from the environment", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped({ apiKey: API_KEY })
      const kase = sandbox.openCase()
      const client = yield* AcquireClient.make(settingsFor(sandbox))
      const sent = yield* client.send({ caseId: kase.id, text: "layer before" })
      const layer = Acquire.layerConfig({ retry: { maxAttempts: 1 } }).pipe(
        Layer.provide(
          ConfigProvider.layer(
            ConfigProvider.fromEnv({
              env: {
                ACQUIRE_ACCOUNT_ID: "sandbox",
                ACQUIRE_API_KEY: API_KEY,
                ACQUIRE_BASE_URL: sandbox.baseUrl,
                ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
              }
            })
          )
        )
      )
      yield* Effect.gen(function* () {
        const editor = yield* MessageEditor.MessageEditor
        yield* editor.update({ ids: { providerMessageId: sent.id }, text: "layer after" })
      }).pipe(Effect.provide(layer))
      assert.strictEqual((yield* client.get(sent.id)).message, "layer after")
    })
  )
})
