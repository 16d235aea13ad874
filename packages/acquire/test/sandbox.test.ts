/**
 * The sandbox itself: how it starts and stops (Promise, scope, layer), that its
 * answers are Acquire's documented ones, its keys and permissions, unknown ids,
 * the inspection API after real edits through the adapter, and every fault
 * reaching the adapter as the right `EditError` reason, for the next N requests
 * and for a seeded share of them.
 */
import { inspect } from "node:util"
import { assert, describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Acquire, AcquireClient, type AcquireConfig } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { type EditError, type EditRequest, MessageEditor, Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Duration, Effect, Redacted, Result } from "effect"
import {
  documentedDeleteAnswer,
  documentedGetAnswer,
  documentedSendAnswer,
  documentedUpdateAnswer
} from "../src/internal/sandbox/answers.ts"

const { Faults } = AcquireSandbox

interface Raw {
  readonly status: number
  readonly json: unknown
}

/** One raw request to the sandbox's API, with the full-access key unless told. */
const call = async (
  sandbox: AcquireSandbox.Sandbox,
  method: string,
  path: string,
  options: { readonly key?: string | null; readonly body?: unknown } = {}
): Promise<Raw> => {
  const key = options.key === undefined ? sandbox.apiKey : options.key
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(key === null ? {} : { authorization: `Bearer ${key}` })
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
  })
  return { status: response.status, json: await response.json() }
}

/** Follows a path in a JSON value (`undefined` when it is not there). */
const at = (value: unknown, ...path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>(
    (current, key) =>
      typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined,
    value
  )

const sendBody = (caseId: number, text: string) => ({
  channel: "chat",
  message: { type: "message", message: text },
  caseId
})

/** The shape of a JSON value: its keys, recursively (`meta` is free-form). */
const shapeOf = (value: unknown, key?: string): unknown => {
  if (key === "meta") return "object"
  if (Array.isArray(value)) return value.map((entry) => shapeOf(entry))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, shapeOf(entry, name)]))
  }
  return "value"
}

const editorOf = (
  sandbox: AcquireSandbox.Sandbox,
  options: Acquire.Options = {},
  given: Partial<AcquireConfig.SettingsInput> = {}
) => Effect.orDie(Acquire.make({ ...sandbox.settings, ...given }, { retry: { maxAttempts: 1 }, ...options }))

const refused = (url: string) =>
  Effect.promise(() =>
    fetch(url).then(
      () => "answered",
      () => "refused"
    )
  )

describe("starting and stopping", () => {
  it("starts from a Promise with its URL, credentials and environment, and stops", async () => {
    const sandbox = await AcquireSandbox.start()
    try {
      assert.strictEqual(sandbox.provider, "acquire")
      assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(sandbox.baseUrl, `${sandbox.url}/api/v1`)
      assert.strictEqual(sandbox.server.url, sandbox.url)
      assert.match(sandbox.apiKey, /^acq_sandbox_[0-9a-f]{32}$/)
      assert.notStrictEqual(sandbox.readOnlyKey, sandbox.apiKey)
      assert.deepStrictEqual(sandbox.env, {
        REWORD_PROVIDER: "acquire",
        ACQUIRE_ACCOUNT_ID: "sandbox",
        ACQUIRE_API_KEY: sandbox.apiKey,
        ACQUIRE_BASE_URL: sandbox.baseUrl,
        ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
      })
      assert.strictEqual(sandbox.settings.baseUrl, sandbox.baseUrl)
      assert.strictEqual(sandbox.settings.allowInsecureLoopback, true)
      const read = await call(sandbox, "GET", "/crm/objects/case-message/1")
      assert.strictEqual(read.status, 400)
    } finally {
      await sandbox.stop()
    }
    await sandbox.stop()
    assert.strictEqual(await Effect.runPromise(refused(sandbox.baseUrl)), "refused")
  })

  it("takes a port, an account id, keys and a log limit, and refuses unusable ones", async () => {
    const probe = await AcquireSandbox.start()
    const port = probe.server.port
    await probe.stop()
    const sandbox = await AcquireSandbox.start({
      port,
      accountId: "acme",
      apiKey: "my-full-key-123",
      readOnlyKey: "my-read-key-456",
      logLimit: 2
    })
    try {
      assert.strictEqual(sandbox.url, `http://127.0.0.1:${port}`)
      assert.strictEqual(sandbox.env.ACQUIRE_ACCOUNT_ID, "acme")
      assert.strictEqual(sandbox.env.ACQUIRE_API_KEY, "my-full-key-123")
      assert.strictEqual(sandbox.readOnlyKey, "my-read-key-456")
      for (let n = 0; n < 3; n++) await call(sandbox, "GET", `/crm/objects/case-message/${n + 1}`)
      assert.deepStrictEqual(
        sandbox.server.requests.map((request) => request.path),
        ["/api/v1/crm/objects/case-message/2", "/api/v1/crm/objects/case-message/3"]
      )
      await expect(AcquireSandbox.start({ port })).rejects.toThrow()
    } finally {
      await sandbox.stop()
    }
    await expect(AcquireSandbox.start({ accountId: "not an account" })).rejects.toThrow(/not an account id/)
    await expect(AcquireSandbox.start({ apiKey: "has a space" })).rejects.toThrow(/apiKey/)
    await expect(AcquireSandbox.start({ apiKey: "same-key-1", readOnlyKey: "same-key-1" })).rejects.toThrow(/differ/)
  })

  it.live("runs for the life of a scope", () =>
    Effect.gen(function* () {
      const url = yield* Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.scoped()
        assert.strictEqual(yield* refused(sandbox.baseUrl), "answered")
        return sandbox.baseUrl
      }).pipe(Effect.scoped)
      assert.strictEqual(yield* refused(url), "refused")
    })
  )

  it.live("runs as a layer, and an app edits on it through REWORD_PROVIDER and its environment", () =>
    Effect.gen(function* () {
      const url = yield* Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.AcquireSandbox
        const ids = yield* Effect.promise(() => sandbox.seedMessage("Layer before"))
        const edited = yield* Effect.gen(function* () {
          const editor = yield* MessageEditor.MessageEditor
          return yield* editor.update({ ids, text: "Layer after" })
        }).pipe(
          Effect.provide(
            Provider.layer([Acquire.provider], { source: Provider.fromEnv(sandbox.env), retry: { maxAttempts: 1 } })
          )
        )
        assert.strictEqual(edited.text, "Layer after")
        assert.deepStrictEqual(sandbox.inspect(ids), { text: "Layer after", history: ["Layer before", "Layer after"] })
        return sandbox.baseUrl
      }).pipe(Effect.provide(AcquireSandbox.layer({ accountId: "layered" })))
      assert.strictEqual(yield* refused(url), "refused")
    })
  )
})

describe("the documented answers", () => {
  it("answers send, update, get and delete in the documented shapes", async () => {
    const sandbox = await AcquireSandbox.start()
    try {
      const kase = sandbox.openCase()
      const sent = await call(sandbox, "POST", "/crm/messenger/chat/add-message?x-user-type=user", {
        body: sendBody(kase.id, "Hey added from the api")
      })
      assert.strictEqual(sent.status, 200)
      assert.deepStrictEqual(shapeOf(sent.json), shapeOf(documentedSendAnswer))
      assert.strictEqual(at(sent.json, "data", "id"), 8288)
      assert.strictEqual(at(sent.json, "data", "caseId"), kase.id)
      assert.strictEqual(at(sent.json, "data", "threadId"), kase.threadId)
      assert.strictEqual(at(sent.json, "data", "contactId"), kase.contactId)
      assert.strictEqual(at(sent.json, "data", "case", "contact", "id"), kase.contactId)
      assert.isNull(at(sent.json, "data", "dateUpdated"))

      const updated = await call(sandbox, "POST", "/crm/messenger/chat/message/8288", {
        body: { message: { type: "message", message: "updating the sent message", translateLangKey: "en" } }
      })
      assert.strictEqual(updated.status, 200)
      assert.deepStrictEqual(shapeOf(updated.json), shapeOf(documentedUpdateAnswer))
      assert.strictEqual(at(updated.json, "data", "message"), "updating the sent message")
      assert.strictEqual(at(updated.json, "data", "case", "id"), kase.id)
      assert.isString(at(updated.json, "data", "dateUpdated"))

      const read = await call(sandbox, "GET", "/crm/objects/case-message/8288")
      assert.strictEqual(read.status, 200)
      assert.deepStrictEqual(shapeOf(read.json), shapeOf(documentedGetAnswer))
      assert.strictEqual(at(read.json, "data", "message"), "updating the sent message")

      const deleted = await call(sandbox, "DELETE", "/crm/objects/case-message/8288")
      assert.deepStrictEqual(deleted, { status: 200, json: documentedDeleteAnswer })
      assert.isUndefined(sandbox.message(8288))
    } finally {
      await sandbox.stop()
    }
  })

  it("answers unknown ids with 400 ERROR_RECORD_NOT_FOUND, as documented, and bad input with ERROR_INVALID_INPUT", async () => {
    const sandbox = await AcquireSandbox.start()
    try {
      const notFound = { status: 400, type: "ERROR_RECORD_NOT_FOUND" }
      const update = { body: { message: { type: "message", message: "x" } } }
      for (const [method, path, options] of [
        ["POST", "/crm/messenger/chat/message/424242", update],
        ["GET", "/crm/objects/case-message/424242", {}],
        ["DELETE", "/crm/objects/case-message/424242", {}],
        ["POST", "/crm/messenger/chat/add-message?x-user-type=user", { body: sendBody(9, "into no case") }]
      ] as const) {
        const answer = await call(sandbox, method, path, options)
        assert.strictEqual(answer.status, 400, `${method} ${path}`)
        assert.deepInclude(answer.json, notFound, `${method} ${path}`)
      }

      const kase = sandbox.openCase()
      const invalid = async (path: string, body: unknown) =>
        at((await call(sandbox, "POST", path, { body })).json, "type")
      assert.strictEqual(
        await invalid("/crm/messenger/chat/add-message", sendBody(kase.id, "x")),
        "ERROR_INVALID_INPUT"
      )
      assert.strictEqual(
        await invalid("/crm/messenger/chat/add-message?x-user-type=user", sendBody(kase.id, "")),
        "ERROR_INVALID_INPUT"
      )
      const ids = await sandbox.seedMessage("kept")
      assert.strictEqual(
        await invalid(`/crm/messenger/chat/message/${ids.providerMessageId}`, {
          message: { type: "fax", message: "x" }
        }),
        "ERROR_INVALID_INPUT"
      )
      sandbox.closeCase(kase.id)
      assert.strictEqual(
        await invalid("/crm/messenger/chat/add-message?x-user-type=user", sendBody(kase.id, "too late")),
        "ERROR_INVALID_INPUT"
      )
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["kept"])
      assert.strictEqual((await call(sandbox, "GET", "/crm/nowhere")).status, 404)
    } finally {
      await sandbox.stop()
    }
  })

  it.live("reaches the adapter as NotFound and InvalidRequest", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const client = yield* Effect.orDie(AcquireClient.make(sandbox.settings))
      const editor = yield* editorOf(sandbox)
      const missing = yield* Effect.flip(editor.update({ ids: { providerMessageId: 424242 }, text: "x" }))
      assert.strictEqual(missing.reason._tag, "NotFound")
      const kase = sandbox.openCase()
      sandbox.closeCase(kase.id)
      const closed = yield* Effect.flip(client.send({ caseId: kase.id, text: "too late" }))
      assert.strictEqual(closed.reason._tag, "InvalidRequest")
      const gone = yield* Effect.flip(client.delete(424242))
      assert.strictEqual(gone.reason._tag, "NotFound")
    })
  )
})

describe("keys and permissions", () => {
  it.live("answers a missing, wrong or revoked key with 401 ERROR_UNAUTHORIZED (Unauthorized)", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("Hello"))
      const path = `/crm/objects/case-message/${ids.providerMessageId}`
      const missing = yield* Effect.promise(() => call(sandbox, "GET", path, { key: null }))
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(at(missing.json, "type"), "ERROR_UNAUTHORIZED")

      const extra = sandbox.createKey()
      assert.strictEqual((yield* Effect.promise(() => call(sandbox, "GET", path, { key: extra }))).status, 200)
      assert.isTrue(sandbox.revokeKey(extra))
      assert.strictEqual((yield* Effect.promise(() => call(sandbox, "GET", path, { key: extra }))).status, 401)

      const editor = yield* editorOf(sandbox, {}, { apiKey: Redacted.make("wrong-key-123456") })
      const error = yield* Effect.flip(editor.update({ ids, text: "x" }))
      assert.strictEqual(error.reason._tag, "Unauthorized")
      assert.strictEqual(sandbox.inspect(ids)?.text, "Hello")
    })
  )

  it.live("answers a key without permission with 403 ERROR_UNAUTHORIZED_ACCESS (Forbidden), and changes nothing", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("Hello"))
      const readOnly = yield* Effect.orDie(
        AcquireClient.make({ ...sandbox.settings, apiKey: Redacted.make(sandbox.readOnlyKey) })
      )
      assert.strictEqual((yield* readOnly.get(ids.providerMessageId)).message, "Hello")
      const refusedUpdate = yield* Effect.flip(readOnly.update(ids.providerMessageId, { text: "changed" }))
      assert.strictEqual(refusedUpdate.reason._tag, "Forbidden")
      const refusedDelete = yield* Effect.flip(readOnly.delete(ids.providerMessageId))
      assert.strictEqual(refusedDelete.reason._tag, "Forbidden")
      const kase = sandbox.openCase()
      assert.strictEqual((yield* Effect.flip(readOnly.send({ caseId: kase.id, text: "x" }))).reason._tag, "Forbidden")

      const raw = yield* Effect.promise(() =>
        call(sandbox, "GET", `/crm/objects/case-message/${ids.providerMessageId}`, { key: sandbox.createKey("none") })
      )
      assert.strictEqual(raw.status, 403)
      assert.strictEqual(at(raw.json, "type"), "ERROR_UNAUTHORIZED_ACCESS")
      assert.deepStrictEqual(sandbox.inspect(ids), { text: "Hello", history: ["Hello"] })
    })
  )
})

describe("seeding and inspecting", () => {
  it("shows what a real edit through the adapter did", async () => {
    const sandbox = await AcquireSandbox.start()
    const editor = await createEditor({ providers: Acquire.provider, env: sandbox.env, retry: { maxAttempts: 1 } })
    try {
      const ids = await sandbox.seedMessage("See you on Monday.", { externalMessageId: "wa-881" })
      assert.deepStrictEqual(ids, {
        externalMessageId: "wa-881",
        externalChatId: "sandbox-chat",
        externalAuthorId: "sandbox-author",
        providerMessageId: 8288
      })
      assert.deepStrictEqual(sandbox.inspect(ids), { text: "See you on Monday.", history: ["See you on Monday."] })

      const edited = await editor.update({ ids, text: "See you on Tuesday.", language: "en" })
      assert.strictEqual(edited.ids.providerMessageId, 8288)
      await editor.update({ ids, text: "See you on Wednesday." })
      assert.deepStrictEqual(sandbox.inspect(ids), {
        text: "See you on Wednesday.",
        history: ["See you on Monday.", "See you on Tuesday.", "See you on Wednesday."]
      })
      const stored = sandbox.message(8288)
      assert.strictEqual(stored?.senderType, "user")
      assert.isString(stored?.dateUpdated)
      assert.strictEqual(sandbox.server.requests.at(-1)?.path, "/api/v1/crm/messenger/chat/message/8288")

      // The inspection is a copy, and an unknown or deleted message is undefined.
      const copy = sandbox.inspect(ids)
      await editor.update({ ids, text: "Thursday, then." })
      assert.strictEqual(copy?.text, "See you on Wednesday.")
      assert.isUndefined(sandbox.inspect({ ...ids, providerMessageId: 1 }))
      assert.isUndefined(sandbox.inspect({ ...ids, providerMessageId: undefined }))
      await call(sandbox, "DELETE", "/crm/objects/case-message/8288")
      assert.isUndefined(sandbox.inspect(ids))
    } finally {
      await editor.dispose()
      await sandbox.stop()
    }
  })

  it("keeps a chat in one active case, opens another when it closes, and takes given ids", async () => {
    const sandbox = await AcquireSandbox.start()
    try {
      const first = await sandbox.seedMessage("one", { externalChatId: "wa-chat-7" })
      const second = await sandbox.seedMessage("two", { externalChatId: "wa-chat-7" })
      const other = await sandbox.seedMessage("three", { externalChatId: "wa-chat-8" })
      const caseOf = (ids: AcquireSandbox.SeededIds) => sandbox.message(ids.providerMessageId)?.caseId
      assert.strictEqual(caseOf(first), caseOf(second))
      assert.notStrictEqual(caseOf(first), caseOf(other))
      assert.notStrictEqual(first.externalMessageId, second.externalMessageId)

      sandbox.closeCase(caseOf(first) as number)
      const later = await sandbox.seedMessage("four", { externalChatId: "wa-chat-7" })
      assert.notStrictEqual(caseOf(later), caseOf(first))
      assert.strictEqual(sandbox.cases.get(caseOf(later) as number)?.status, "active")

      const given = await sandbox.seedMessage("five", { providerMessageId: 9000, externalAuthorId: "wa-user-3" })
      assert.strictEqual(given.providerMessageId, 9000)
      assert.strictEqual(given.externalAuthorId, "wa-user-3")
      assert.strictEqual((await sandbox.seedMessage("six")).providerMessageId, 9001)
      await expect(sandbox.seedMessage("again", { providerMessageId: 9000 })).rejects.toThrow(
        /already has a message 9000/
      )
      await expect(sandbox.seedMessage("bad", { providerMessageId: -1 })).rejects.toThrow(/not an Acquire message id/)
      await expect(sandbox.seedMessage("")).rejects.toThrow(/non-empty/)
      assert.strictEqual(sandbox.message("9000")?.text, "five")
      assert.isUndefined(sandbox.message("../9000"))
    } finally {
      await sandbox.stop()
    }
  })
})

describe("inspecting by the ids an app has", () => {
  it('takes a request\'s ids (EditRequestInput["ids"]): a provider message id as a number or digits', async () => {
    expectTypeOf<EditRequest.EditRequestInput["ids"]>().toExtend<Parameters<AcquireSandbox.Sandbox["inspect"]>[0]>()
    const sandbox = await AcquireSandbox.start()
    try {
      const seeded = await sandbox.seedMessage("Meet at 11.")
      const request: EditRequest.EditRequestInput = {
        ids: { providerMessageId: String(seeded.providerMessageId) },
        text: "Meet at 10."
      }
      assert.strictEqual(sandbox.inspect(request.ids)?.text, "Meet at 11.")
      assert.strictEqual(sandbox.inspect({ providerMessageId: seeded.providerMessageId })?.text, "Meet at 11.")
      assert.isUndefined(sandbox.inspect({ externalMessageId: seeded.externalMessageId }))
      assert.isUndefined(sandbox.inspect({ providerMessageId: "../8288" }))
    } finally {
      await sandbox.stop()
    }
  })
})

describe("the request log and request bodies", () => {
  it("keeps no API key, whatever the request; a body over the cap is 413", async () => {
    const sandbox = await AcquireSandbox.start({ maxBodyBytes: 4096 })
    const editor = await createEditor({ providers: Acquire.provider, env: sandbox.env, retry: { maxAttempts: 1 } })
    try {
      const ids = await sandbox.seedMessage("Meet at 11.")
      await editor.update({ ids, text: `Meet at 10. (key: ${sandbox.apiKey})` })
      await call(sandbox, "GET", `/crm/objects/case-message/${ids.providerMessageId}`, { key: sandbox.readOnlyKey })
      const log = `${inspect(sandbox.server.requests, { depth: 10 })}${JSON.stringify(sandbox.server.requests)}`
      assert.notInclude(log, sandbox.apiKey)
      assert.notInclude(log, sandbox.readOnlyKey)
      assert.include(log, "Bearer <redacted>")
      // The message itself holds what was sent: the log is what is redacted.
      assert.include(sandbox.inspect(ids)?.text, sandbox.apiKey)

      const big = await call(sandbox, "POST", `/crm/messenger/chat/message/${ids.providerMessageId}`, {
        body: { message: { type: "message", message: "x".repeat(5000) } }
      })
      assert.strictEqual(big.status, 413)
      assert.strictEqual(sandbox.server.requests.at(-1)?.status, 413)
      assert.notStrictEqual(sandbox.inspect(ids)?.text, "x".repeat(5000))
    } finally {
      await editor.dispose()
      await sandbox.stop()
    }
  })
})

describe("faults reach the adapter as the right reason", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly fault: ReturnType<typeof Faults.status>
    readonly reason: EditError.EditErrorReason["_tag"]
  }> = [
    {
      name: "a status with a documented code",
      fault: Faults.status(400, { status: 400, type: "ERROR_DUPLICATE_RECORD_FOUND", message: "Already exists" }),
      reason: "Rejected"
    },
    {
      name: "503 (maintenance)",
      fault: Faults.status(503, { message: "Down for maintenance" }),
      reason: "Unavailable"
    },
    { name: "429 with Retry-After", fault: Faults.retryAfter(7), reason: "RateLimited" },
    { name: "an HTML page", fault: Faults.html(502), reason: "Unavailable" },
    { name: "malformed JSON", fault: Faults.malformedJson(), reason: "MalformedResponse" },
    { name: "an empty 200", fault: Faults.empty(), reason: "MalformedResponse" },
    { name: "a truncated body", fault: Faults.truncated(), reason: "Network" },
    { name: "a reset connection", fault: Faults.reset(), reason: "Network" },
    { name: "a hang", fault: Faults.hang(), reason: "Timeout" }
  ]

  for (const { name, fault, reason } of cases) {
    it.live(`${name}: ${reason}, for the next request only`, () =>
      Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.scoped()
        const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
        // Only the hang needs a short timeout; elsewhere a slow machine must not turn answers into timeouts.
        const editor = yield* editorOf(sandbox, {
          transport: { timeout: fault._tag === "Hang" ? "300 millis" : "10 seconds" }
        })
        sandbox.server.inject({ fault, times: 1 })
        const error = yield* Effect.flip(editor.update({ ids, text: "after" }))
        assert.strictEqual(error.reason._tag, reason)
        assert.strictEqual(error.provider, "acquire")
        assert.strictEqual(sandbox.inspect(ids)?.text, "before")
        assert.strictEqual(sandbox.server.requests.at(-1)?.fault, fault._tag)

        yield* editor.update({ ids, text: "after" })
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["before", "after"])
        assert.isUndefined(sandbox.server.requests.at(-1)?.fault)
      })
    )
  }

  it.live("Retry-After is honoured: the retry waits as long as asked, then the edit lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      sandbox.server.inject({ fault: Faults.retryAfter(1), times: 1 })
      const editor = yield* editorOf(sandbox, { retry: { maxAttempts: 2, initialDelay: "10 millis", jitter: false } })
      yield* editor.update({ ids, text: "after" })
      const [limited, landed] = sandbox.server.requests.slice(-2)
      assert.strictEqual(limited?.status, 429)
      assert.strictEqual(landed?.status, 200)
      assert.isAtLeast((landed?.at.getTime() ?? 0) - (limited?.at.getTime() ?? 0), 950)
      assert.strictEqual(sandbox.inspect(ids)?.text, "after")

      // When the wait would exceed the budget, the error comes back at once with its Retry-After.
      sandbox.server.inject({ fault: Faults.retryAfter(30), times: 1 })
      const impatient = yield* editorOf(sandbox, { retry: { maxAttempts: 3, maxElapsed: "1 second" } })
      const error = yield* Effect.flip(impatient.update({ ids, text: "never" }))
      assert.strictEqual(error.reason._tag, "RateLimited")
      const retryAfter = error.reason._tag === "RateLimited" ? error.reason.retryAfter : undefined
      assert.strictEqual(retryAfter === undefined ? undefined : Duration.toSeconds(retryAfter), 30)
      assert.strictEqual(sandbox.server.requests.at(-1)?.fault, "Status")
      assert.strictEqual(sandbox.inspect(ids)?.text, "after")
    })
  )

  it.live("for the next N requests: N edits fail, the next lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
      sandbox.server.inject({ fault: Faults.status(500, { status: 500, type: "ERROR_SERVER_ERROR" }), times: 3 })
      const editor = yield* editorOf(sandbox)
      const outcomes = yield* Effect.forEach([1, 2, 3, 4], (n) =>
        Effect.result(editor.update({ ids, text: `attempt ${n}` }))
      )
      assert.deepStrictEqual(
        outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag)),
        ["Unavailable", "Unavailable", "Unavailable", "ok"]
      )
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["before", "attempt 4"])
    })
  )

  it.live("for a seeded share of requests: the same requests fail on every run, and only those", () =>
    Effect.gen(function* () {
      const run = Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.scoped()
        const seeded = yield* Effect.forEach(
          Array.from({ length: 40 }, (_, n) => n),
          (n) => Effect.promise(() => sandbox.seedMessage(`message ${n}`))
        )
        sandbox.server.inject({ fault: Faults.status(503, { message: "maintenance" }), share: 0.25, seed: 7 })
        const editor = yield* editorOf(sandbox)
        const outcomes = yield* Effect.forEach(seeded, (ids, n) =>
          Effect.result(editor.update({ ids, text: `edited ${n}` }))
        )
        const tags = outcomes.map((outcome) => (Result.isSuccess(outcome) ? "ok" : outcome.failure.reason._tag))
        const texts = seeded.map((ids) => sandbox.inspect(ids)?.text)
        const faulted = sandbox.server.requests.filter((request) => request.fault !== undefined).length
        return { tags, texts, faulted }
      }).pipe(Effect.scoped)

      const first = yield* run
      const second = yield* run
      assert.deepStrictEqual(first, second)
      const failed = first.tags.filter((tag) => tag === "Unavailable").length
      assert.isAbove(failed, 0)
      assert.isBelow(failed, 40)
      assert.strictEqual(first.tags.filter((tag) => tag === "ok").length + failed, 40)
      assert.strictEqual(first.faulted, failed)
      first.tags.forEach((tag, n) => {
        assert.strictEqual(first.texts[n], tag === "ok" ? `edited ${n}` : `message ${n}`)
      })
    })
  )

  it.live("for a seeded share of requests with retries: every edit of updateMany lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* AcquireSandbox.scoped()
      const seeded = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, n) => n),
        (n) => Effect.promise(() => sandbox.seedMessage(`message ${n}`))
      )
      sandbox.server.inject({ fault: Faults.reset(), share: 0.3, seed: 11, path: "/chat/message/" })
      const editor = yield* editorOf(sandbox, {
        retry: { maxAttempts: 8, initialDelay: "1 millis", maxDelay: "5 millis" }
      })
      const outcomes = yield* editor.updateMany(seeded.map((ids, n) => ({ ids, text: `edited ${n}` })))
      assert.isTrue(outcomes.every(Result.isSuccess))
      seeded.forEach((ids, n) => {
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, [`message ${n}`, `edited ${n}`])
      })
      assert.isAbove(sandbox.server.requests.filter((request) => request.fault === "Reset").length, 0)
    })
  )
})
