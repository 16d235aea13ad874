/**
 * The sandbox itself: how it starts and stops (Promise, scope, layer), that its
 * answers are a real portal's (oddities included), OAuth with rotating refresh
 * tokens, access tokens that expire after a set time or on command, incoming
 * webhooks refused, the leaky bucket and the operating-time limit, seeding and
 * the inspection API after real edits through the adapter, and every fault
 * reaching the adapter as the right `EditError` reason, for the next N
 * requests and for a seeded share of them.
 */
import { inspect } from "node:util"
import { afterAll, assert, beforeAll, describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { type EditError, type EditRequest, MessageEditor, Provider } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Duration, Effect, Redacted, Result } from "effect"
import nock from "nock"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

const { Faults } = Bitrix24Sandbox

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1")
})
afterAll(() => {
  nock.disableNetConnect()
})

interface Raw {
  readonly status: number
  readonly json: unknown
}

const UPDATE = "imconnector.update.messages"
const SEND = "imconnector.send.messages"
const DELETE = "imconnector.delete.messages"

/**
 * One raw REST call: a JSON body with the current access token as `auth`,
 * the sandbox's connector and line, and these messages.
 */
const rest = async (
  sandbox: Bitrix24Sandbox.Sandbox,
  method: string,
  messages: ReadonlyArray<unknown> | undefined,
  options: {
    readonly token?: string | null
    readonly body?: Record<string, unknown>
    readonly contentType?: string | null
    readonly path?: string
  } = {}
): Promise<Raw> => {
  const token = options.token === undefined ? sandbox.tokens().accessToken : options.token
  const body = options.body ?? {
    CONNECTOR: sandbox.connector,
    LINE: sandbox.line,
    ...(messages === undefined ? {} : { MESSAGES: messages })
  }
  const response = await fetch(`${sandbox.url}${options.path ?? `/rest/${method}`}`, {
    method: "POST",
    headers: options.contentType === null ? {} : { "content-type": options.contentType ?? "application/json" },
    body: JSON.stringify(token === null ? body : { ...body, auth: token })
  })
  return { status: response.status, json: await response.json() }
}

/** A form-encoded token refresh. */
const refresh = async (
  sandbox: Bitrix24Sandbox.Sandbox,
  refreshToken: string,
  client: { readonly id?: string; readonly secret?: string } = {}
): Promise<Raw> => {
  const response = await fetch(`${sandbox.url}/oauth/token/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      client_id: client.id ?? sandbox.clientId,
      client_secret: client.secret ?? sandbox.clientSecret,
      refresh_token: refreshToken
    })
  })
  return { status: response.status, json: await response.json() }
}

/** `MESSAGES[i]`. */
const item = (
  messageId: string,
  text: string | undefined,
  extra: { readonly chat?: Record<string, unknown>; readonly user?: Record<string, unknown> } = {}
) => ({
  user: { id: "ext-user-42", ...extra.user },
  message: { id: messageId, ...(text === undefined ? {} : { text }) },
  chat: { id: "channel-123", ...extra.chat }
})

/** Follows a path in a JSON value (`undefined` when it is not there). */
const at = (value: unknown, ...path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>(
    (current, key) =>
      typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined,
    value
  )

const resultItems = (raw: Raw): ReadonlyArray<unknown> => at(raw.json, "result", "DATA", "RESULT") as Array<unknown>

const edit = (n: number | string, text: string, chat = "chat-1") => ({
  ids: { externalMessageId: `m-${n}`, externalChatId: chat, externalAuthorId: "user-1" },
  text
})

const editorOf = (sandbox: Bitrix24Sandbox.Sandbox, options: Bitrix24.Options = {}) =>
  Effect.orDie(
    Bitrix24.make(sandbox.settings, {
      retry: { maxAttempts: 1 },
      // Long enough for a loaded machine (the hang cases set a short one of their own).
      transport: { timeout: "10 seconds" },
      ...options
    })
  )

const refused = (url: string) =>
  Effect.promise(() =>
    fetch(url).then(
      () => "answered",
      () => "refused"
    )
  )

const promise = <A>(evaluate: () => Promise<A>) => Effect.promise(evaluate)

describe("starting and stopping", () => {
  it("starts from a Promise with its URL, credentials, settings and environment, and stops", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      assert.strictEqual(sandbox.provider, "bitrix24")
      assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(sandbox.restUrl, `${sandbox.url}/rest/`)
      assert.strictEqual(sandbox.server.url, sandbox.url)
      assert.match(sandbox.accessToken, /^[0-9a-f]{32}$/)
      assert.match(sandbox.refreshToken, /^[0-9a-f]{32}$/)
      assert.match(sandbox.clientId, /^local\.[0-9a-f]+\.sandbox$/)
      assert.match(sandbox.clientSecret, /^[0-9a-f]{32}$/)
      assert.strictEqual(sandbox.connector, "reword_sandbox")
      assert.strictEqual(sandbox.line, 1)
      assert.deepStrictEqual(sandbox.env, {
        REWORD_PROVIDER: "bitrix24",
        BITRIX24_PORTAL_URL: sandbox.url,
        BITRIX24_ACCESS_TOKEN: sandbox.accessToken,
        BITRIX24_REFRESH_TOKEN: sandbox.refreshToken,
        BITRIX24_CLIENT_ID: sandbox.clientId,
        BITRIX24_CLIENT_SECRET: sandbox.clientSecret,
        BITRIX24_OAUTH_URL: sandbox.url,
        BITRIX24_CONNECTOR: "reword_sandbox",
        BITRIX24_LINE: "1",
        BITRIX24_ALLOW_INSECURE_LOOPBACK: "true"
      })
      // The environment and the settings object say the same.
      const fromEnv = await Effect.runPromise(Provider.readSettings(Bitrix24.provider, Provider.fromEnv(sandbox.env)))
      assert.strictEqual(fromEnv.portalUrl.href, sandbox.settings.portalUrl.href)
      assert.strictEqual(fromEnv.oauthUrl.href, sandbox.settings.oauthUrl.href)
      assert.strictEqual(Redacted.value(sandbox.settings.accessToken), sandbox.accessToken)
      assert.strictEqual(Redacted.value(sandbox.settings.refreshToken), sandbox.refreshToken)
      assert.strictEqual(Redacted.value(sandbox.settings.clientSecret), sandbox.clientSecret)
      assert.strictEqual(sandbox.settings.connector, "reword_sandbox")
      assert.strictEqual(sandbox.settings.line, 1)
      assert.isTrue(sandbox.settings.allowInsecureLoopback)
      assert.deepStrictEqual(sandbox.tokens(), { accessToken: sandbox.accessToken, refreshToken: sandbox.refreshToken })
      assert.deepStrictEqual(sandbox.lines(), [{ connector: "reword_sandbox", line: 1, active: true }])
      assert.strictEqual((await rest(sandbox, UPDATE, [item("m", "x")])).status, 200)
    } finally {
      await sandbox.stop()
    }
    await sandbox.stop()
    assert.strictEqual(await Effect.runPromise(refused(sandbox.restUrl)), "refused")
  })

  it("takes a port, credentials, a connector and line, and a log limit, and refuses unusable ones", async () => {
    const probe = await Bitrix24Sandbox.start()
    const port = probe.server.port
    await probe.stop()
    const sandbox = await Bitrix24Sandbox.start({
      port,
      accessToken: "my-access-token-1",
      refreshToken: "my-refresh-token-1",
      clientId: "local.65f0c0ffee.12345678",
      clientSecret: "my-client-secret-1",
      connector: "my_connector",
      line: 107,
      logLimit: 2
    })
    try {
      assert.strictEqual(sandbox.url, `http://127.0.0.1:${port}`)
      assert.strictEqual(sandbox.env.BITRIX24_ACCESS_TOKEN, "my-access-token-1")
      assert.strictEqual(sandbox.env.BITRIX24_REFRESH_TOKEN, "my-refresh-token-1")
      assert.strictEqual(sandbox.env.BITRIX24_CLIENT_ID, "local.65f0c0ffee.12345678")
      assert.strictEqual(sandbox.env.BITRIX24_CONNECTOR, "my_connector")
      assert.strictEqual(sandbox.env.BITRIX24_LINE, "107")
      for (let n = 0; n < 3; n++) await rest(sandbox, UPDATE, [item(`m-${n}`, "x")])
      assert.deepStrictEqual(
        sandbox.server.requests.map((request) => request.path),
        ["/rest/imconnector.update.messages", "/rest/imconnector.update.messages"]
      )
      assert.strictEqual(sandbox.calls(UPDATE), 3)
      await expect(Bitrix24Sandbox.start({ port })).rejects.toThrow()
    } finally {
      await sandbox.stop()
    }
    await expect(Bitrix24Sandbox.start({ accessToken: "has a space" })).rejects.toThrow(/accessToken/)
    await expect(Bitrix24Sandbox.start({ refreshToken: "https://acme.bitrix24.com/rest/1/abc/" })).rejects.toThrow(
      /refreshToken/
    )
    await expect(Bitrix24Sandbox.start({ accessToken: "same-token-1", refreshToken: "same-token-1" })).rejects.toThrow(
      /differ/
    )
    await expect(Bitrix24Sandbox.start({ connector: "My.Connector" })).rejects.toThrow(/connector code/)
    await expect(Bitrix24Sandbox.start({ line: 0 })).rejects.toThrow(/line/)
    await expect(Bitrix24Sandbox.start({ bucket: { drainPerSecond: 0, capacity: 5 } })).rejects.toThrow(/drain/)
    await expect(Bitrix24Sandbox.start({ operatingLimit: { limitSeconds: -1 } })).rejects.toThrow(/limitSeconds/)
    await expect(Bitrix24Sandbox.start({ accessTokenTtl: 0 })).rejects.toThrow(/accessTokenTtl/)
  })

  it.live("runs for the life of a scope", () =>
    Effect.gen(function* () {
      const url = yield* Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        assert.strictEqual(yield* refused(sandbox.restUrl), "answered")
        return sandbox.restUrl
      }).pipe(Effect.scoped)
      assert.strictEqual(yield* refused(url), "refused")
    })
  )

  it.live("runs as a layer, and an app edits on it through REWORD_PROVIDER and its environment", () =>
    Effect.gen(function* () {
      const url = yield* Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.Bitrix24Sandbox
        const ids = yield* promise(() => sandbox.seedMessage("Layer before"))
        const edited = yield* Effect.gen(function* () {
          const editor = yield* MessageEditor.MessageEditor
          return yield* editor.update({ ids, text: "Layer after" })
        }).pipe(
          Effect.provide(
            Provider.layer([Bitrix24.provider], { source: Provider.fromEnv(sandbox.env), retry: { maxAttempts: 1 } })
          )
        )
        assert.strictEqual(edited.text, "Layer after")
        assert.deepStrictEqual(sandbox.inspect(ids), { text: "Layer after", history: ["Layer before", "Layer after"] })
        assert.strictEqual(sandbox.connector, "layered")
        return sandbox.restUrl
      }).pipe(Effect.provide(Bitrix24Sandbox.layer({ connector: "layered", line: 3 })))
      assert.strictEqual(yield* refused(url), "refused")
    })
  )
})

describe("the answers, as a real portal gives them", () => {
  it("send: the time envelope, one item per input, user as a number when created and a string after, date as {}, description for url, failed items inside SUCCESS: true", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      const sent = await rest(sandbox, SEND, [
        item("ext-msg-1001", "Good afternoon", {
          chat: { name: "Support Channel", url: "https://example.com/chats/123" },
          user: { name: "Ivan", skip_phone_validate: "Y" }
        }),
        item("ext-msg-1002", undefined),
        item("ext-msg-1003", "Again")
      ])
      assert.strictEqual(sent.status, 200)
      assert.deepStrictEqual(Object.keys(sent.json as object), ["result", "time"])
      assert.deepStrictEqual(Object.keys(at(sent.json, "time") as object), [
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating"
      ])
      assert.match(at(sent.json, "time", "date_start") as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
      assert.isTrue(Number.isInteger(at(sent.json, "time", "operating_reset_at")))
      assert.strictEqual(at(sent.json, "result", "SUCCESS"), true)
      const [first, failed, third] = resultItems(sent)
      assert.deepStrictEqual(first, {
        user: 585,
        message: { id: "ext-msg-1001", date: {}, text: "Good afternoon", files: [] },
        chat: {
          id: "channel-123",
          name: "Support Channel",
          description: "Link to the original post: https://example.com/chats/123"
        },
        extra: { skip_phone_validate: "Y" },
        SUCCESS: true,
        session: { ID: "323", CHAT_ID: "1767" }
      })
      assert.deepStrictEqual(failed, {
        user: "585",
        message: { id: "ext-msg-1002", date: {}, files: [] },
        chat: { id: "channel-123" },
        SUCCESS: false,
        ERRORS: ["Not all required data was transmitted"]
      })
      assert.strictEqual(at(third, "user"), "585")
      assert.strictEqual(at(third, "SUCCESS"), true)
      assert.deepStrictEqual(
        sandbox.users().map((user) => [user.id, user.externalId, user.name]),
        [[585, "ext-user-42", "Ivan"]]
      )
      const stored = sandbox.message("channel-123", "ext-msg-1001")
      assert.strictEqual(stored?.authorId, "ext-user-42")
      assert.strictEqual(stored?.userId, 585)
      assert.deepStrictEqual(stored?.session, { id: 323, chatId: 1767 })
      assert.isUndefined(sandbox.message("channel-123", "ext-msg-1002"))
    } finally {
      await sandbox.stop()
    }
  })

  it("update and delete: an update of a message never sent succeeds and changes nothing; a deleted message is kept, marked", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      await rest(sandbox, SEND, [item("a", "first")])
      const updated = await rest(sandbox, UPDATE, [item("a", "second"), item("never-sent", "ghost"), item("a", "")])
      assert.strictEqual(updated.status, 200)
      assert.deepStrictEqual(
        resultItems(updated).map((entry) => at(entry, "SUCCESS")),
        [true, true, false]
      )
      assert.deepStrictEqual(resultItems(updated)[0], {
        user: "585",
        message: { id: "a", date: {}, text: "second" },
        chat: { id: "channel-123" },
        SUCCESS: true
      })
      assert.deepStrictEqual(sandbox.message("channel-123", "a")?.history, ["first", "second"])
      assert.isUndefined(sandbox.message("channel-123", "never-sent"))

      const deleted = await rest(sandbox, DELETE, [
        { user: { id: "ext-user-42" }, message: { id: "a" }, chat: { id: "channel-123" } }
      ])
      assert.deepStrictEqual(resultItems(deleted), [
        { user: "585", message: { id: "a" }, chat: { id: "channel-123" }, SUCCESS: true }
      ])
      assert.isTrue(sandbox.message("channel-123", "a")?.deleted)
      assert.isUndefined(
        sandbox.inspect({ externalChatId: "channel-123", externalMessageId: "a", externalAuthorId: "x" })
      )
      // Editing a deleted message "succeeds" too, and changes nothing.
      await rest(sandbox, UPDATE, [item("a", "third")])
      assert.deepStrictEqual(sandbox.message("channel-123", "a")?.history, ["first", "second"])
    } finally {
      await sandbox.stop()
    }
  })

  it("reads JSON only with Content-Type: application/json; form data with PHP keys, the query string and a Bearer header work", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      await sandbox.seedMessage("form me", { externalMessageId: "f-1", externalChatId: "c-1", externalAuthorId: "u-1" })
      // The same JSON without the header is read as form data: no auth, no arguments.
      const plain = await rest(sandbox, UPDATE, [item("f-1", "x")], { contentType: "text/plain" })
      assert.deepStrictEqual(plain, {
        status: 401,
        json: { error: "NO_AUTH_FOUND", error_description: "Wrong authorization data" }
      })
      const none = await rest(sandbox, UPDATE, [item("f-1", "x")], { contentType: null })
      assert.strictEqual(none.status, 401)

      const form = new URLSearchParams({
        connector: sandbox.connector,
        Line: String(sandbox.line),
        "MESSAGES[0][USER][ID]": "u-1",
        "MESSAGES[0][Message][ID]": "f-1",
        "MESSAGES[0][Message][TEXT]": "edited by form",
        "MESSAGES[0][chat][id]": "c-1"
      })
      const byForm = await fetch(`${sandbox.restUrl}${UPDATE}.json?auth=${sandbox.accessToken}`, {
        method: "POST",
        body: form
      })
      assert.strictEqual(byForm.status, 200)
      const formAnswer = await byForm.json()
      assert.strictEqual(at(formAnswer, "result", "DATA", "RESULT", 0, "SUCCESS"), true)
      assert.strictEqual(at(formAnswer, "result", "DATA", "RESULT", 0, "message", "text"), "edited by form")

      const byBearer = await fetch(`${sandbox.restUrl}${UPDATE}`, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${sandbox.accessToken}` },
        body: JSON.stringify({
          CONNECTOR: sandbox.connector,
          LINE: sandbox.line,
          MESSAGES: [{ USER: { ID: "u-1" }, MESSAGE: { ID: "f-1", TEXT: "edited by bearer" }, CHAT: { ID: "c-1" } }]
        })
      })
      assert.strictEqual(byBearer.status, 200)
      assert.deepStrictEqual(sandbox.message("c-1", "f-1")?.history, ["form me", "edited by form", "edited by bearer"])
    } finally {
      await sandbox.stop()
    }
  })

  it("answers missing or malformed arguments with 400 ERROR_ARGUMENT and the portal's texts, an unknown method with 404", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      const argument = async (body: Record<string, unknown>) => {
        const answer = await rest(sandbox, UPDATE, undefined, { body })
        assert.strictEqual(answer.status, 400)
        assert.strictEqual(at(answer.json, "error"), "ERROR_ARGUMENT")
        return at(answer.json, "error_description")
      }
      const messages = [item("m", "x")]
      assert.strictEqual(await argument({ LINE: 1, MESSAGES: messages }), "Argument 'CONNECTOR' is null or empty")
      assert.strictEqual(
        await argument({ CONNECTOR: sandbox.connector, MESSAGES: messages }),
        "Argument 'LINE' is null or empty"
      )
      assert.strictEqual(
        await argument({ CONNECTOR: sandbox.connector, LINE: 1, MESSAGES: [] }),
        "Argument 'MESSAGES' is null or empty"
      )
      assert.strictEqual(
        await argument({ CONNECTOR: sandbox.connector, LINE: 1, MESSAGES: "many" }),
        "The value of an argument 'MESSAGES' must be of type array"
      )
      assert.strictEqual(
        await argument({ CONNECTOR: sandbox.connector, LINE: 1, MESSAGES: ["one"] }),
        "The MESSAGES parameter must be an array of messages (arrays)"
      )
      assert.strictEqual(
        await argument({
          CONNECTOR: sandbox.connector,
          LINE: 1,
          MESSAGES: [{ user: { id: "u" }, message: { id: "m" } }]
        }),
        "The incorrect structure of a message inside MESSAGES parameter"
      )
      assert.deepStrictEqual(await rest(sandbox, "imconnector.nothing", [item("m", "x")]), {
        status: 404,
        json: { error: "ERROR_METHOD_NOT_FOUND", error_description: "Method not found!" }
      })
      assert.strictEqual((await fetch(`${sandbox.url}/nowhere`)).status, 404)
      assert.strictEqual(sandbox.errorAnswers("ERROR_ARGUMENT"), 6)
    } finally {
      await sandbox.stop()
    }
  })

  it.live(
    "the adapter reads the sandbox's answers: user as a number or a string, date as {}, a failed item as its own error",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const editor = yield* editorOf(sandbox)
        const sent = yield* editor.client.sendMessages({
          messages: [
            {
              user: { id: "user-1" },
              message: { id: "m-1", text: "one" },
              chat: { id: "chat-1", url: "https://x.test/c" }
            },
            { user: { id: "user-1" }, message: { id: "m-2", text: "two" }, chat: { id: "chat-1" } }
          ]
        })
        assert.deepStrictEqual(
          sent.items.map((entry) => entry.user),
          [585, "585"]
        )
        assert.isNumber(sent.time?.operating)
        const outcomes = yield* editor.updateMany([
          edit(1, "one, edited"),
          { ...edit(2, "x"), text: undefined, files: [] }
        ])
        assert.deepStrictEqual(
          outcomes.map((outcome) => (Result.isSuccess(outcome) ? outcome.success.text : outcome.failure.reason._tag)),
          ["one, edited", "InvalidRequest"]
        )
      })
  )
})

describe("open lines", () => {
  it.live(
    "an inactive or unknown line is 400 NOT_ACTIVE_LINE (NotFound), for the whole call; lines can be added and switched",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const editor = yield* editorOf(sandbox)
        const raw = yield* promise(() =>
          rest(sandbox, UPDATE, undefined, { body: { CONNECTOR: "other", LINE: 1, MESSAGES: [item("m", "x")] } })
        )
        assert.deepStrictEqual(raw, {
          status: 400,
          json: { error: "NOT_ACTIVE_LINE", error_description: "The line with this ID is inactive or does not exist" }
        })
        const unknown = yield* Effect.flip(editor.updateFor({ line: 12 }).update(edit(1, "x")))
        assert.strictEqual(unknown.reason._tag, "NotFound")

        sandbox.addLine(sandbox.connector, 12)
        yield* editor.updateFor({ line: 12 }).update(edit(1, "x"))
        sandbox.setLineActive(sandbox.connector, 12, false)
        const inactive = yield* Effect.flip(editor.updateFor({ line: 12 }).update(edit(1, "x")))
        assert.strictEqual(inactive.reason._tag, "NotFound")
        assert.strictEqual(inactive.reason._tag === "NotFound" ? inactive.reason.code : undefined, "NOT_ACTIVE_LINE")
        sandbox.addLine("second_connector", 5, { active: false })
        assert.deepStrictEqual(sandbox.lines(), [
          { connector: sandbox.connector, line: 1, active: true },
          { connector: sandbox.connector, line: 12, active: false },
          { connector: "second_connector", line: 5, active: false }
        ])
        assert.strictEqual(sandbox.errorAnswers("NOT_ACTIVE_LINE"), 3)
      })
  )

  it.live(
    "oldLineErrors answers as older portals did (HTTP 200, SUCCESS: false), and the adapter still says NotFound",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ oldLineErrors: true })
        const raw = yield* promise(() =>
          rest(sandbox, UPDATE, undefined, { body: { CONNECTOR: "other", LINE: 1, MESSAGES: [item("m", "x")] } })
        )
        assert.strictEqual(raw.status, 200)
        assert.deepStrictEqual(at(raw.json, "result"), {
          SUCCESS: false,
          ERRORS: [
            {
              message: "The line with this ID is inactive or does not exist",
              code: "NOT_ACTIVE_LINE",
              customData: null
            }
          ]
        })
        const editor = yield* editorOf(sandbox)
        const error = yield* Effect.flip(editor.updateFor({ line: 2 }).update(edit(1, "x")))
        assert.strictEqual(error.reason._tag, "NotFound")
      })
  )
})

describe("OAuth", () => {
  it("a refresh answers the documented token answer; refresh tokens rotate and work once (invalid_grant after)", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      const first = await refresh(sandbox, sandbox.refreshToken)
      assert.strictEqual(first.status, 200)
      assert.deepStrictEqual(Object.keys(first.json as object).sort(), [
        "access_token",
        "client_endpoint",
        "domain",
        "expires",
        "expires_in",
        "member_id",
        "refresh_token",
        "scope",
        "server_endpoint",
        "status",
        "user_id"
      ])
      assert.strictEqual(at(first.json, "expires_in"), 3600)
      assert.strictEqual(at(first.json, "client_endpoint"), sandbox.restUrl)
      assert.strictEqual(at(first.json, "server_endpoint"), sandbox.restUrl)
      const pair = { accessToken: at(first.json, "access_token"), refreshToken: at(first.json, "refresh_token") }
      assert.deepStrictEqual(sandbox.tokens(), pair)
      assert.notStrictEqual(pair.refreshToken, sandbox.refreshToken)

      // The used refresh token is refused from now on; the new one works, once.
      assert.deepStrictEqual(await refresh(sandbox, sandbox.refreshToken), {
        status: 400,
        json: { error: "invalid_grant", error_description: "Invalid grant" }
      })
      assert.strictEqual((await refresh(sandbox, pair.refreshToken as string)).status, 200)
      assert.strictEqual((await refresh(sandbox, pair.refreshToken as string)).status, 400)
      assert.strictEqual(sandbox.refreshes(), 2)
      assert.strictEqual(sandbox.errorAnswers("invalid_grant"), 2)

      assert.strictEqual(at((await refresh(sandbox, "x", { secret: "wrong-secret" })).json, "error"), "invalid_client")
      const noGrant = await fetch(`${sandbox.url}/oauth/token/`, { method: "POST", body: new URLSearchParams({}) })
      assert.strictEqual(noGrant.status, 400)
      assert.strictEqual(at(await noGrant.json(), "error"), "invalid_request")

      // An access token keeps working until it expires, refreshed or not.
      assert.strictEqual((await rest(sandbox, UPDATE, [item("m", "x")], { token: sandbox.accessToken })).status, 200)
      assert.deepStrictEqual(await rest(sandbox, UPDATE, [item("m", "x")], { token: "not-a-token-of-this-portal" }), {
        status: 401,
        json: { error: "invalid_token", error_description: "The access token provided is invalid" }
      })
    } finally {
      await sandbox.stop()
    }
  })

  it.live(
    "through the adapter: a refresh on expired_token, stored; an app still holding the used refresh token is locked out",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const ids = yield* promise(() => sandbox.seedMessage("before"))
        const editor = yield* editorOf(sandbox)
        sandbox.expireAccessToken()
        yield* editor.update({ ids, text: "after" })
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.strictEqual(sandbox.errorAnswers("expired_token"), 1)

        // A second app with the starting pair (its refresh token already used) cannot refresh.
        sandbox.expireAccessToken()
        const stale = yield* editorOf(sandbox)
        const error = yield* Effect.flip(stale.update({ ids, text: "never" }))
        assert.strictEqual(error.reason._tag, "Unauthorized")
        assert.strictEqual(error.reason._tag === "Unauthorized" ? error.reason.code : undefined, "invalid_grant")
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["before", "after"])

        // An app with no valid token at all is Unauthorized (invalid_token), and does not refresh.
        const stranger = yield* Effect.orDie(
          Bitrix24.make(
            { ...sandbox.settings, accessToken: Redacted.make("access-of-another-portal") },
            { retry: { maxAttempts: 1 } }
          )
        )
        const foreign = yield* Effect.flip(stranger.update({ ids, text: "never" }))
        assert.strictEqual(foreign.reason._tag === "Unauthorized" ? foreign.reason.code : undefined, "invalid_token")
        assert.strictEqual(sandbox.refreshes(), 1)
      })
  )

  it.live("access tokens expire after accessTokenTtl; the adapter refreshes and carries on", () =>
    Effect.gen(function* () {
      // As long as a token under a second can live (its answer says 1 s), for the first edit on a loaded machine.
      const sandbox = yield* Bitrix24Sandbox.scoped({ accessTokenTtl: "990 millis" })
      const ids = yield* promise(() => sandbox.seedMessage("v1"))
      const editor = yield* editorOf(sandbox)
      yield* editor.update({ ids, text: "v2" })
      assert.strictEqual(sandbox.refreshes(), 0)
      yield* Effect.sleep("1100 millis")
      const raw = yield* promise(() => rest(sandbox, UPDATE, [item("m", "x")], { token: sandbox.accessToken }))
      assert.deepStrictEqual(raw, {
        status: 401,
        json: { error: "expired_token", error_description: "The access token provided has expired" }
      })
      yield* editor.update({ ids, text: "v3" })
      assert.strictEqual(sandbox.refreshes(), 1)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["v1", "v2", "v3"])
      // The token answer says how long the new token lives (at least a second).
      const answer = yield* promise(() => refresh(sandbox, sandbox.tokens().refreshToken))
      assert.strictEqual(at(answer.json, "expires_in"), 1)
    })
  )
})

describe("incoming webhooks", () => {
  it.live("are refused with 403 WRONG_AUTH_TYPE, Application context required (Forbidden, explained)", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      for (const method of [SEND, UPDATE, DELETE]) {
        const raw = yield* promise(() =>
          rest(sandbox, method, [item("m", "x")], { token: null, path: `/rest/1/k2zs3vq0c9mz7ucf/${method}.json` })
        )
        assert.deepStrictEqual(raw, {
          status: 403,
          json: { error: "WRONG_AUTH_TYPE", error_description: "Application context required" }
        })
      }
      // An adapter whose calls were rewritten to a webhook URL hears why.
      const editor = yield* editorOf(sandbox, {
        transport: {
          fetch: (input, init) =>
            fetch(
              String(input instanceof Request ? input.url : input).replace("/rest/", "/rest/1/k2zs3vq0c9mz7ucf/"),
              init
            )
        }
      })
      const error = yield* Effect.flip(editor.update(edit(1, "x")))
      assert.strictEqual(error.reason._tag, "Forbidden")
      assert.include(error.message, "application context")
      assert.strictEqual(sandbox.errorAnswers("WRONG_AUTH_TYPE"), 4)
    })
  )
})

describe("limits", () => {
  it("the leaky bucket: rate and burst configurable, 503 QUERY_LIMIT_EXCEEDED over it, or none at all", async () => {
    // One request drains every 2 s: a loaded machine's delays between the requests below stay far under it.
    const sandbox = await Bitrix24Sandbox.start({ bucket: { drainPerSecond: 0.5, capacity: 3 } })
    try {
      const burst = await Promise.all([1, 2, 3, 4].map((n) => rest(sandbox, UPDATE, [item(`m-${n}`, "x")])))
      assert.deepStrictEqual(burst.map((answer) => answer.status).sort(), [200, 200, 200, 503])
      assert.deepStrictEqual(burst.find((answer) => answer.status === 503)?.json, {
        error: "QUERY_LIMIT_EXCEEDED",
        error_description: "Too many requests"
      })
      assert.strictEqual(sandbox.limitHits(), 1)
      // 0.5/s: 2.4 s later there is room for one more, and not two.
      await new Promise((resolve) => setTimeout(resolve, 2_400))
      const next = [await rest(sandbox, UPDATE, [item("m", "x")]), await rest(sandbox, UPDATE, [item("m", "x")])]
      assert.deepStrictEqual(
        next.map((answer) => answer.status),
        [200, 503]
      )
      assert.strictEqual(sandbox.calls(UPDATE), 6)
    } finally {
      await sandbox.stop()
    }

    const unlimited = await Bitrix24Sandbox.start({ bucket: false })
    const enterprise = await Bitrix24Sandbox.start({ bucket: "enterprise" })
    try {
      const statuses = async (sandbox: Bitrix24Sandbox.Sandbox, count: number) =>
        (await Promise.all(Array.from({ length: count }, () => rest(sandbox, UPDATE, [item("m", "x")])))).map(
          (answer) => answer.status
        )
      assert.isTrue((await statuses(unlimited, 300)).every((status) => status === 200))
      const answered = await statuses(enterprise, 300)
      assert.isAtLeast(answered.filter((status) => status === 200).length, 250)
      assert.strictEqual(answered.filter((status) => status === 503).length, enterprise.limitHits())
      assert.isAbove(enterprise.limitHits(), 0)
    } finally {
      await unlimited.stop()
      await enterprise.stop()
    }
  })

  it.live(
    "the adapter meets QUERY_LIMIT_EXCEEDED as RateLimited when its own bucket is roomier than the portal's",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: { drainPerSecond: 1, capacity: 2 } })
        // One message per call: concurrent update() calls would otherwise share calls; this test is about 3 calls.
        const editor = yield* editorOf(sandbox, {
          chunkSize: 1,
          rateLimit: { bucket: { drainPerSecond: 1000, capacity: 1000 } }
        })
        const outcomes = yield* Effect.forEach([1, 2, 3], (n) => Effect.result(editor.update(edit(n, "x"))), {
          concurrency: "unbounded"
        })
        const limited = outcomes.filter(
          (outcome) => Result.isFailure(outcome) && outcome.failure.reason._tag === "RateLimited"
        )
        assert.strictEqual(limited.length, 1)
        assert.strictEqual(sandbox.limitHits(), 1)
      })
  )

  it("the operating-time limit: time.operating and operating_reset_at, then 429 OPERATION_TIME_LIMIT for that method only", async () => {
    const sandbox = await Bitrix24Sandbox.start({ operatingLimit: { limitSeconds: 1, costPerCall: 0.6 } })
    try {
      const before = Math.floor(Date.now() / 1000)
      const first = await rest(sandbox, UPDATE, [item("m", "x")])
      assert.strictEqual(at(first.json, "time", "operating"), 0.6)
      const resetAt = at(first.json, "time", "operating_reset_at") as number
      assert.isAtLeast(resetAt, before + 600)
      assert.isAtMost(resetAt, before + 601)
      // The call that takes the total over the limit still runs; the next is refused.
      const second = await rest(sandbox, UPDATE, [item("m", "x")])
      assert.strictEqual(at(second.json, "time", "operating"), 1.2)
      assert.strictEqual(at(second.json, "time", "operating_reset_at"), resetAt)
      assert.deepStrictEqual(await rest(sandbox, UPDATE, [item("m", "x")]), {
        status: 429,
        json: { error: "OPERATION_TIME_LIMIT", error_description: "Method is blocked due to operation time limit." }
      })
      assert.deepStrictEqual(sandbox.operating(UPDATE), { operating: 1.2, resetAt, blocked: true })
      // Other methods keep working.
      assert.strictEqual((await rest(sandbox, SEND, [item("m", "x")])).status, 200)
      assert.isFalse(sandbox.operating(SEND).blocked)
      assert.strictEqual(sandbox.errorAnswers("OPERATION_TIME_LIMIT"), 1)
    } finally {
      await sandbox.stop()
    }

    const free = await Bitrix24Sandbox.start({ operatingLimit: false })
    try {
      for (let n = 0; n < 3; n++) assert.strictEqual((await rest(free, UPDATE, [item("m", "x")])).status, 200)
      assert.strictEqual(free.operating(UPDATE).operating, 0.03)
    } finally {
      await free.stop()
    }
  })

  it.live(
    "onOperatingLimit: fail gives RateLimited with retryAfter running to operating_reset_at, without calling again",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({ operatingLimit: { limitSeconds: 1, costPerCall: 0.6 } })
        const editor = yield* editorOf(sandbox, { onOperatingLimit: "fail" })
        yield* editor.update(edit(1, "a"))
        yield* editor.update(edit(2, "b"))
        const resetAt = sandbox.operating(UPDATE).resetAt ?? 0
        const expected = () => resetAt * 1000 - Date.now()
        const seconds = (error: EditError.EditError) =>
          error.reason._tag === "RateLimited" && error.reason.retryAfter !== undefined
            ? Duration.toMillis(error.reason.retryAfter)
            : Number.NaN

        const limited = yield* Effect.flip(editor.update(edit(3, "c")))
        assert.strictEqual(limited.reason._tag, "RateLimited")
        assert.strictEqual(
          limited.reason._tag === "RateLimited" ? limited.reason.code : undefined,
          "OPERATION_TIME_LIMIT"
        )
        assert.approximately(seconds(limited), expected(), 1500)
        assert.strictEqual(sandbox.calls(UPDATE), 3)

        // Blocked client-side now: the next edit fails at once, and never reaches the sandbox.
        const blocked = yield* Effect.flip(editor.update(edit(4, "d")))
        assert.strictEqual(blocked.reason._tag, "RateLimited")
        assert.approximately(seconds(blocked), expected(), 1500)
        assert.strictEqual(sandbox.calls(UPDATE), 3)
      })
  )

  it.live("the limit lifts when the oldest basket drops out, and a waiting adapter goes on then", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped({
        operatingLimit: { limitSeconds: 0.5, windowSeconds: 2, costPerCall: 1 }
      })
      const ids = yield* promise(() => sandbox.seedMessage("v1"))
      const editor = yield* editorOf(sandbox)
      yield* editor.update({ ids, text: "v2" })
      const refusal = yield* Effect.flip(editor.update({ ids, text: "never" }))
      assert.strictEqual(refusal.reason._tag, "RateLimited")
      const resetAt = sandbox.operating(UPDATE).resetAt ?? 0
      // onOperatingLimit: wait (the default): the next edit waits for the reset, then lands.
      yield* editor.update({ ids, text: "v3" })
      assert.isAtLeast(Date.now(), resetAt * 1000 - 50)
      assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["v1", "v2", "v3"])
      assert.strictEqual(sandbox.errorAnswers("OPERATION_TIME_LIMIT"), 1)
    })
  )
})

describe("seeding and inspecting", () => {
  it("shows what a real edit through the adapter did", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    const editor = await createEditor({ providers: Bitrix24.provider, env: sandbox.env, retry: { maxAttempts: 1 } })
    try {
      const ids = await sandbox.seedMessage("See you on Monday.", { externalMessageId: "wa-881" })
      assert.deepStrictEqual(ids, {
        externalMessageId: "wa-881",
        externalChatId: "sandbox-chat",
        externalAuthorId: "sandbox-author"
      })
      assert.deepStrictEqual(sandbox.inspect(ids), { text: "See you on Monday.", history: ["See you on Monday."] })
      const stored = sandbox.message("sandbox-chat", "wa-881")
      assert.strictEqual(stored?.connector, sandbox.connector)
      assert.strictEqual(stored?.line, sandbox.line)
      assert.isUndefined(stored?.editedAt)
      assert.deepStrictEqual(
        sandbox.users().map((user) => user.externalId),
        ["sandbox-author"]
      )

      const edited = await editor.update({ ids, text: "See you on Tuesday." })
      assert.strictEqual(edited.text, "See you on Tuesday.")
      await editor.update({
        ids,
        text: "See you on Wednesday.",
        files: [{ url: "https://cdn.example.com/map.png", name: "map.png" }]
      })
      assert.deepStrictEqual(sandbox.inspect(ids), {
        text: "See you on Wednesday.",
        history: ["See you on Monday.", "See you on Tuesday.", "See you on Wednesday."]
      })
      assert.deepStrictEqual(sandbox.message("sandbox-chat", "wa-881")?.files, [
        { url: "https://cdn.example.com/map.png", name: "map.png" }
      ])
      assert.isNumber(sandbox.message("sandbox-chat", "wa-881")?.editedAt)
      assert.strictEqual(sandbox.server.requests.at(-1)?.path, "/rest/imconnector.update.messages")

      // The inspection is a copy; an unknown message is undefined, and editing it "succeeds" as on a portal.
      const copy = sandbox.inspect(ids)
      await editor.update({ ids, text: "Thursday, then." })
      assert.strictEqual(copy?.text, "See you on Wednesday.")
      const ghost = { ...ids, externalMessageId: "wa-404" }
      assert.strictEqual((await editor.update({ ids: ghost, text: "?" })).text, "?")
      assert.isUndefined(sandbox.inspect(ghost))
      assert.strictEqual(sandbox.messages().length, 1)
    } finally {
      await editor.dispose()
      await sandbox.stop()
    }
  })

  it("makes up ids, takes given ones, ignores a providerMessageId, and refuses a duplicate or an empty text", async () => {
    const sandbox = await Bitrix24Sandbox.start()
    try {
      const first = await sandbox.seedMessage("one")
      const second = await sandbox.seedMessage("two")
      assert.notStrictEqual(first.externalMessageId, second.externalMessageId)
      assert.strictEqual(first.externalChatId, second.externalChatId)
      const given = await sandbox.seedMessage("three", {
        externalMessageId: "tg-5",
        externalChatId: "tg-chat-1",
        externalAuthorId: "tg-user-9",
        providerMessageId: 77
      })
      assert.deepStrictEqual(given, {
        externalMessageId: "tg-5",
        externalChatId: "tg-chat-1",
        externalAuthorId: "tg-user-9"
      })
      assert.strictEqual(sandbox.message("tg-chat-1", "tg-5")?.authorId, "tg-user-9")
      assert.notDeepEqual(
        sandbox.message("tg-chat-1", "tg-5")?.session,
        sandbox.message(first.externalChatId, first.externalMessageId)?.session
      )
      await expect(
        sandbox.seedMessage("again", { externalMessageId: "tg-5", externalChatId: "tg-chat-1" })
      ).rejects.toThrow(/already has message tg-5 in chat tg-chat-1/)
      await expect(sandbox.seedMessage("")).rejects.toThrow(/non-empty/)
      await expect(sandbox.seedMessage("x", { externalChatId: "" })).rejects.toThrow(/externalChatId/)
      // Seeding is not a call: no request, nothing counted against the limits.
      assert.strictEqual(sandbox.server.requests.length, 0)
      assert.strictEqual(sandbox.calls(SEND), 0)
      assert.strictEqual(sandbox.messages().length, 3)
    } finally {
      await sandbox.stop()
    }
  })
})

describe("inspecting by the ids an app has", () => {
  it('takes a request\'s ids (EditRequestInput["ids"]); without both external ids there is no message', async () => {
    expectTypeOf<EditRequest.EditRequestInput["ids"]>().toExtend<Parameters<Bitrix24Sandbox.Sandbox["inspect"]>[0]>()
    const sandbox = await Bitrix24Sandbox.start()
    try {
      await sandbox.seedMessage("Meet at 11.", { externalMessageId: "wa-881", externalChatId: "wa-chat-7" })
      const request: EditRequest.EditRequestInput = {
        ids: { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" },
        text: "Meet at 10."
      }
      assert.strictEqual(sandbox.inspect(request.ids)?.text, "Meet at 11.")
      assert.isUndefined(sandbox.inspect({ externalMessageId: "wa-881" }))
      assert.isUndefined(sandbox.inspect({ providerMessageId: 1 }))
    } finally {
      await sandbox.stop()
    }
  })
})

describe("the request log and request bodies", () => {
  it("keeps no token, client secret or refresh token (REST auth, the OAuth form); a body over the cap is 413", async () => {
    const sandbox = await Bitrix24Sandbox.start({ maxBodyBytes: 8192 })
    const editor = await createEditor({ providers: Bitrix24.provider, env: sandbox.env, retry: { maxAttempts: 2 } })
    try {
      const ids = await sandbox.seedMessage("Meet at 11.")
      await editor.update({ ids, text: "Meet at 10." })
      sandbox.expireAccessToken()
      await editor.update({ ids, text: "Meet at 9." })
      assert.strictEqual(sandbox.refreshes(), 1)
      const credentials = [
        sandbox.accessToken,
        sandbox.refreshToken,
        sandbox.clientSecret,
        sandbox.tokens().accessToken,
        sandbox.tokens().refreshToken
      ]
      const log = `${inspect(sandbox.server.requests, { depth: 10 })}${JSON.stringify(sandbox.server.requests)}${sandbox.server.requests.map((request) => `${request.query} ${request.text}`).join(" ")}`
      for (const credential of credentials) assert.notInclude(log, credential)
      assert.include(log, sandbox.clientId)
      assert.isAbove(sandbox.server.requests.filter((request) => request.path.startsWith("/oauth/")).length, 0)

      const big = await rest(sandbox, UPDATE, [{ message: { id: "x", text: "y".repeat(10_000) } }])
      assert.strictEqual(big.status, 413)
      assert.strictEqual(sandbox.server.requests.at(-1)?.status, 413)
      assert.strictEqual(sandbox.inspect(ids)?.text, "Meet at 9.")
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
      name: "500 INTERNAL_SERVER_ERROR",
      fault: Faults.status(500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal error" }),
      reason: "Unavailable"
    },
    {
      name: "400 ERROR_ARGUMENT",
      fault: Faults.status(400, { error: "ERROR_ARGUMENT", error_description: "Argument 'LINE' is null or empty" }),
      reason: "InvalidRequest"
    },
    {
      name: "503 QUERY_LIMIT_EXCEEDED",
      fault: Faults.status(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" }),
      reason: "RateLimited"
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
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const ids = yield* promise(() => sandbox.seedMessage("before"))
        // Only the hang needs a short timeout: nothing ever answers it, whatever the load.
        const editor = yield* editorOf(sandbox, fault._tag === "Hang" ? { transport: { timeout: "300 millis" } } : {})
        sandbox.server.inject({ fault, times: 1 })
        const error = yield* Effect.flip(editor.update({ ids, text: "after" }))
        assert.strictEqual(error.reason._tag, reason)
        assert.strictEqual(error.provider, "bitrix24")
        assert.strictEqual(sandbox.inspect(ids)?.text, "before")
        assert.strictEqual(sandbox.server.requests.at(-1)?.fault, fault._tag)
        if (name === "429 with Retry-After") {
          const retryAfter = error.reason._tag === "RateLimited" ? error.reason.retryAfter : undefined
          assert.strictEqual(retryAfter === undefined ? undefined : Duration.toSeconds(retryAfter), 7)
        }

        // The next request is answered: sent with the usual timeout (the hang's short one is for the hang only).
        const next = fault._tag === "Hang" ? yield* editorOf(sandbox) : editor
        yield* next.update({ ids, text: "after" })
        assert.deepStrictEqual(sandbox.inspect(ids)?.history, ["before", "after"])
        assert.isUndefined(sandbox.server.requests.at(-1)?.fault)
      })
    )
  }

  it.live(
    "faults reach the OAuth endpoint too: a refresh that meets a reset is Network, and the next refresh works",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped()
        const ids = yield* promise(() => sandbox.seedMessage("before"))
        const editor = yield* editorOf(sandbox)
        sandbox.expireAccessToken()
        sandbox.server.inject({ fault: Faults.reset(), times: 1, path: "/oauth/token/" })
        const error = yield* Effect.flip(editor.update({ ids, text: "after" }))
        assert.strictEqual(error.reason._tag, "Network")
        assert.strictEqual(sandbox.refreshes(), 0)
        yield* editor.update({ ids, text: "after" })
        assert.strictEqual(sandbox.refreshes(), 1)
        assert.strictEqual(sandbox.inspect(ids)?.text, "after")
      })
  )

  it.live("for the next N requests: N edits fail, the next lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const ids = yield* promise(() => sandbox.seedMessage("before"))
      sandbox.server.inject({ fault: Faults.html(503), times: 3 })
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

  const shareCases: ReadonlyArray<{
    readonly fault: ReturnType<typeof Faults.status>
    readonly reason: EditError.EditErrorReason["_tag"]
  }> = [
    { fault: Faults.status(500, { error: "INTERNAL_SERVER_ERROR", error_description: "x" }), reason: "Unavailable" },
    { fault: Faults.malformedJson(), reason: "MalformedResponse" },
    { fault: Faults.reset(), reason: "Network" },
    { fault: Faults.hang(), reason: "Timeout" }
  ]

  for (const { fault, reason } of shareCases) {
    it.live(
      `for a seeded share of requests (${fault._tag}): the same edits fail as ${reason} on every run, and only those`,
      () =>
        Effect.gen(function* () {
          const run = Effect.gen(function* () {
            const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: false })
            const seeded = yield* Effect.forEach(
              Array.from({ length: 24 }, (_, n) => n),
              (n) => promise(() => sandbox.seedMessage(`message ${n}`))
            )
            sandbox.server.inject({ fault, share: 0.25, seed: 7 })
            // Only the hang needs a short timeout; elsewhere a slow machine must not turn answers into timeouts.
            const timeout = fault._tag === "Hang" ? "750 millis" : "10 seconds"
            const editor = yield* editorOf(sandbox, { transport: { timeout } })
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
          const failed = first.tags.filter((tag) => tag === reason).length
          assert.isAbove(failed, 0)
          assert.isBelow(failed, 24)
          assert.strictEqual(first.tags.filter((tag) => tag === "ok").length + failed, 24)
          assert.strictEqual(first.faulted, failed)
          first.tags.forEach((tag, n) => {
            assert.strictEqual(first.texts[n], tag === "ok" ? `edited ${n}` : `message ${n}`)
          })
        })
    )
  }

  it.live("for a seeded share of requests with retries: every edit of updateMany lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const seeded = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, n) => n),
        (n) => promise(() => sandbox.seedMessage(`message ${n}`))
      )
      sandbox.server.inject({ fault: Faults.reset(), share: 0.3, seed: 11, path: "/rest/imconnector.update.messages" })
      const editor = yield* editorOf(sandbox, {
        chunkSize: 1,
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

  it.live("Retry-After is honoured: the retry waits as long as asked, then the edit lands", () =>
    Effect.gen(function* () {
      const sandbox = yield* Bitrix24Sandbox.scoped()
      const ids = yield* promise(() => sandbox.seedMessage("before"))
      sandbox.server.inject({ fault: Faults.retryAfter(1), times: 1 })
      const editor = yield* editorOf(sandbox, { retry: { maxAttempts: 2, initialDelay: "10 millis", jitter: false } })
      yield* editor.update({ ids, text: "after" })
      const [limited, landed] = sandbox.server.requests.slice(-2)
      assert.strictEqual(limited?.status, 429)
      assert.strictEqual(landed?.status, 200)
      assert.isAtLeast((landed?.at.getTime() ?? 0) - (limited?.at.getTime() ?? 0), 950)
      assert.strictEqual(sandbox.inspect(ids)?.text, "after")
    })
  )
})
