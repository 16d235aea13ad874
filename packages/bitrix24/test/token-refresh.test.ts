import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Bitrix24, TokenStore } from "@reword/bitrix24"
import { Effect, Layer, Option, Redacted, Result } from "effect"
import nock from "nock"
import {
  ACCESS,
  bodyOf,
  fastRetry,
  NEW_ACCESS,
  NEW_REFRESH,
  OAUTH,
  okItem,
  PORTAL,
  REFRESH,
  request,
  SECRET,
  settings,
  success,
  TOKEN_PATH,
  UPDATE_PATH
} from "./support/bitrix24.ts"

// Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
beforeAll(() => {
  if (!nock.isActive()) nock.activate()
})

beforeAll(() => {
  nock.disableNetConnect()
})
afterEach(() => {
  nock.cleanAll()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A portal that accepts only `valid` tokens and says `expired_token` to the others. */
const portalAccepting = (valid: ReadonlySet<string>, events: Array<string>) =>
  nock(PORTAL)
    .post(UPDATE_PATH)
    .reply(async (req: Request) => {
      const body = await bodyOf(req)
      events.push(`call:${body.auth}`)
      return valid.has(body.auth)
        ? [200, success(body.MESSAGES.map((item) => okItem(item)))]
        : [401, { error: "expired_token", error_description: "The access token provided has expired" }]
    })
    .persist()

/** An OAuth server that rotates the pair on each refresh, recording the forms it receives. */
const oauthServer = (
  forms: Array<URLSearchParams>,
  urls: Array<string>,
  answers: ReadonlyArray<Record<string, unknown>>
) =>
  nock(OAUTH)
    .post(TOKEN_PATH)
    .times(answers.length)
    .reply(async (req: Request) => {
      urls.push(req.url)
      forms.push(new URLSearchParams(await req.text()))
      await sleep(30)
      return [200, answers[forms.length - 1]]
    })

const recordingStore = (events: Array<string>, fail: { now: boolean } = { now: false }): TokenStore.Service => {
  const memory = TokenStore.makeMemory()
  return {
    load: memory.load,
    save: (tokens) =>
      Effect.suspend(() => {
        if (fail.now) {
          events.push("save-failed")
          return Effect.fail(new TokenStore.TokenStoreError({ message: "disk full" }))
        }
        events.push(`save:${Redacted.value(tokens.accessToken)}:${Redacted.value(tokens.refreshToken)}`)
        return memory.save(tokens)
      })
  }
}

const rotated = { access_token: NEW_ACCESS, refresh_token: NEW_REFRESH, expires_in: 3600 }

describe("OAuth refresh", () => {
  it.live("refreshes with a form-encoded POST (no secret in the URL), stores the new pair, then repeats the call", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const forms: Array<URLSearchParams> = []
      const urls: Array<string> = []
      portalAccepting(new Set([NEW_ACCESS]), events)
      oauthServer(forms, urls, [rotated])
      const editor = yield* Bitrix24.make(settings(), {
        retry: fastRetry,
        tokenStore: recordingStore(events)
      })
      yield* editor.update(request(1))
      assert.deepStrictEqual(events, [`call:${ACCESS}`, `save:${NEW_ACCESS}:${NEW_REFRESH}`, `call:${NEW_ACCESS}`])
      assert.strictEqual(urls[0], `${OAUTH}${TOKEN_PATH}`)
      const form = forms[0]
      assert.strictEqual(form?.get("grant_type"), "refresh_token")
      assert.strictEqual(form?.get("client_id"), "local.app.0001")
      assert.strictEqual(form?.get("client_secret"), SECRET)
      assert.strictEqual(form?.get("refresh_token"), REFRESH)
    })
  )

  it.live("concurrent calls that meet the expired token share exactly one refresh", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const forms: Array<URLSearchParams> = []
      portalAccepting(new Set([NEW_ACCESS]), events)
      oauthServer(forms, [], [rotated, rotated])
      // One message per call: concurrent update() calls would otherwise share calls; this test is about 6 calls.
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, chunkSize: 1 })
      const edited = yield* Effect.all(
        [1, 2, 3, 4, 5, 6].map((n) => editor.update(request(n))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(edited.length, 6)
      assert.strictEqual(forms.length, 1)
      assert.strictEqual(events.filter((event) => event === `call:${NEW_ACCESS}`).length, 6)
    })
  )

  it.live("uses the rotated refresh token for the next refresh", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const forms: Array<URLSearchParams> = []
      const third = { access_token: "access-token-0003-ffff", refresh_token: "refresh-token-0003-gggg" }
      const valid = new Set([NEW_ACCESS])
      portalAccepting(valid, events)
      oauthServer(forms, [], [rotated, third])
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      yield* editor.update(request(1))
      valid.clear()
      valid.add(third.access_token)
      yield* editor.update(request(2))
      assert.deepStrictEqual(
        forms.map((form) => form.get("refresh_token")),
        [REFRESH, NEW_REFRESH]
      )
    })
  )

  it.live(
    "when storing fails, the call fails clearly, the pair stays in memory and is stored before its first use",
    () =>
      Effect.gen(function* () {
        const events: Array<string> = []
        const forms: Array<URLSearchParams> = []
        const failing = { now: true }
        portalAccepting(new Set([NEW_ACCESS]), events)
        oauthServer(forms, [], [rotated])
        const editor = yield* Bitrix24.make(settings(), {
          retry: { maxAttempts: 1 },
          tokenStore: recordingStore(events, failing)
        })
        const first = yield* Effect.result(editor.update(request(1)))
        assert.isTrue(Result.isFailure(first))
        if (Result.isFailure(first)) {
          assert.strictEqual(first.failure.reason._tag, "Unavailable")
          assert.include(first.failure.message, "could not be stored")
          assert.include(first.failure.message, "kept in memory")
          assert.notInclude(first.failure.message, NEW_ACCESS)
        }
        failing.now = false
        yield* editor.update(request(2))
        assert.deepStrictEqual(events, [
          `call:${ACCESS}`,
          "save-failed",
          `save:${NEW_ACCESS}:${NEW_REFRESH}`,
          `call:${NEW_ACCESS}`
        ])
        assert.strictEqual(forms.length, 1)
      })
  )

  it.live(
    "the token answer's server_endpoint (one of Bitrix24's OAuth servers) becomes the OAuth server for the next refresh",
    () =>
      Effect.gen(function* () {
        const events: Array<string> = []
        const valid = new Set([NEW_ACCESS])
        portalAccepting(valid, events)
        oauthServer([], [], [{ ...rotated, server_endpoint: "https://oauth.bitrix24.tech/rest/" }])
        const other = nock("https://oauth.bitrix24.tech")
          .post(TOKEN_PATH)
          .reply(200, { access_token: "access-token-0003-ffff", refresh_token: "refresh-token-0003-gggg" })
        const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
        yield* editor.update(request(1))
        valid.clear()
        valid.add("access-token-0003-ffff")
        yield* editor.update(request(2))
        assert.isTrue(other.isDone())
      })
  )

  it.live("a pair already in the token store wins over the configured one (it is newer)", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      portalAccepting(new Set(["stored-access-token"]), events)
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } }).pipe(
        Effect.provide(
          TokenStore.layerMemory({
            accessToken: Redacted.make("stored-access-token"),
            refreshToken: Redacted.make("stored-refresh-token")
          })
        )
      )
      yield* editor.update(request(1))
      assert.deepStrictEqual(events, ["call:stored-access-token"])
    })
  )

  it.live("after invalid_grant, adopts a newer pair that another process saved to the shared store", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const store = TokenStore.makeMemory()
      portalAccepting(new Set(["other-process-access"]), events)
      // Another process refreshed first, and saves its pair just as ours is refused: ours is now dead.
      const oauth = nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(async () => {
          await Effect.runPromise(
            store.save({
              accessToken: Redacted.make("other-process-access"),
              refreshToken: Redacted.make("other-process-refresh")
            })
          )
          return [400, { error: "invalid_grant", error_description: "Invalid grant" }]
        })
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
      const edited = yield* editor.update(request(1))
      assert.strictEqual(edited.ids.externalMessageId, "m-1")
      assert.isTrue(oauth.isDone())
      assert.deepStrictEqual(events, [`call:${ACCESS}`, "call:other-process-access"])
    })
  )

  it.live("a caller interrupted during the refresh loses nothing: the rotated pair is still stored and used", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const forms: Array<URLSearchParams> = []
      portalAccepting(new Set([NEW_ACCESS]), events)
      // The OAuth server rotates as soon as the request arrives; its answer comes late.
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(async (req: Request) => {
          forms.push(new URLSearchParams(await req.text()))
          await sleep(150)
          return [200, rotated]
        })
      // The old refresh token is dead from then on.
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(async (req: Request) => {
          forms.push(new URLSearchParams(await req.text()))
          return [400, { error: "invalid_grant", error_description: "Invalid grant" }]
        })
      const editor = yield* Bitrix24.make(settings(), {
        retry: { maxAttempts: 1 },
        tokenStore: recordingStore(events)
      })
      // The caller gives up (an app timeout, an aborted signal) while the token answer is on its way.
      const first = yield* Effect.result(editor.update(request(1)).pipe(Effect.timeout("40 millis")))
      assert.isTrue(Result.isFailure(first))
      // The answer comes 150 ms later and is stored in the background: waited for up to 10 s on a loaded machine.
      const saved = `save:${NEW_ACCESS}:${NEW_REFRESH}`
      for (let n = 0; n < 200 && !events.includes(saved); n++) yield* Effect.sleep("50 millis")
      assert.include(events, saved)
      yield* editor.update(request(2))
      assert.deepStrictEqual(
        forms.map((form) => form.get("refresh_token")),
        [REFRESH]
      )
      assert.deepStrictEqual(events.slice(-1), [`call:${NEW_ACCESS}`])
    })
  )

  it.live("a token answer with odd non-essential fields still gives its new pair, stored and used", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      portalAccepting(new Set([NEW_ACCESS]), events)
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(200, {
          ...rotated,
          user_id: null,
          expires: "soon",
          expires_in: null,
          scope: ["imopenlines"],
          member_id: 42,
          server_endpoint: false,
          client_endpoint: {}
        })
      const editor = yield* Bitrix24.make(settings(), {
        retry: { maxAttempts: 1 },
        tokenStore: recordingStore(events)
      })
      yield* editor.update(request(1))
      assert.deepStrictEqual(events, [`call:${ACCESS}`, `save:${NEW_ACCESS}:${NEW_REFRESH}`, `call:${NEW_ACCESS}`])
    })
  )

  it.live("a token answer carrying a new pair is adopted and stored whatever else it says", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      portalAccepting(new Set([NEW_ACCESS]), events)
      nock(OAUTH)
        .post(TOKEN_PATH)
        .reply(200, { ...rotated, error: "", status: "L" })
      const editor = yield* Bitrix24.make(settings(), {
        retry: { maxAttempts: 1 },
        tokenStore: recordingStore(events)
      })
      yield* editor.update(request(1))
      assert.deepStrictEqual(events, [`call:${ACCESS}`, `save:${NEW_ACCESS}:${NEW_REFRESH}`, `call:${NEW_ACCESS}`])
    })
  )

  it.live("a pair adopted from the shared store whose access token expired too is refreshed, not refused", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const forms: Array<URLSearchParams> = []
      const store = TokenStore.makeMemory()
      // Only the pair that this process's refresh will bring works.
      portalAccepting(new Set([NEW_ACCESS]), events)
      nock(OAUTH)
        .post(TOKEN_PATH)
        .times(2)
        .reply(async (req: Request) => {
          const form = new URLSearchParams(await req.text())
          forms.push(form)
          if (form.get("refresh_token") === "other-process-refresh") return [200, rotated]
          // Another process refreshed first and saves its pair as ours is refused; its access token expired as well.
          await Effect.runPromise(
            store.save({
              accessToken: Redacted.make("other-process-access"),
              refreshToken: Redacted.make("other-process-refresh")
            })
          )
          return [400, { error: "invalid_grant", error_description: "Invalid grant" }]
        })
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
      const edited = yield* editor.update(request(1))
      assert.strictEqual(edited.ids.externalMessageId, "m-1")
      assert.deepStrictEqual(
        forms.map((form) => form.get("refresh_token")),
        [REFRESH, "other-process-refresh"]
      )
      assert.deepStrictEqual(events, [`call:${ACCESS}`, "call:other-process-access", `call:${NEW_ACCESS}`])
      const stored = yield* store.load
      assert.isTrue(Option.isSome(stored) && Redacted.value(stored.value.refreshToken) === NEW_REFRESH)
    })
  )

  describe("a stale token store and a re-authorized configuration", () => {
    const stale: TokenStore.Tokens = {
      accessToken: Redacted.make("stale-stored-access"),
      refreshToken: Redacted.make("stale-stored-refresh")
    }

    /** A portal that knows only the configured (re-authorized) pair's access token. */
    const portal = (events: Array<string>, accepted: ReadonlySet<string>, expired: ReadonlySet<string>) =>
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(async (req: Request) => {
          const body = await bodyOf(req)
          events.push(`call:${body.auth}`)
          if (accepted.has(body.auth)) return [200, success(body.MESSAGES.map((item) => okItem(item)))]
          return expired.has(body.auth)
            ? [401, { error: "expired_token", error_description: "The access token provided has expired" }]
            : [401, { error: "invalid_token", error_description: "The access token provided is invalid" }]
        })
        .persist()

    const storedPair = (store: TokenStore.Service) =>
      Effect.map(store.load, (stored) =>
        Option.isSome(stored)
          ? `${Redacted.value(stored.value.accessToken)}:${Redacted.value(stored.value.refreshToken)}`
          : "none"
      )

    it.live("the stored pair is refused as invalid: the configured pair is used, then stored once it works", () =>
      Effect.gen(function* () {
        const events: Array<string> = []
        portal(events, new Set([ACCESS]), new Set())
        const store = TokenStore.makeMemory(stale)
        const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
        yield* editor.update(request(1))
        assert.deepStrictEqual(events, ["call:stale-stored-access", `call:${ACCESS}`])
        assert.strictEqual(yield* storedPair(store), `${ACCESS}:${REFRESH}`)
        yield* editor.update(request(2))
        assert.deepStrictEqual(events.slice(2), [`call:${ACCESS}`])
      })
    )

    it.live("the stored refresh token is refused (invalid_grant): the configured pair takes over", () =>
      Effect.gen(function* () {
        const events: Array<string> = []
        const forms: Array<URLSearchParams> = []
        portal(events, new Set([NEW_ACCESS]), new Set(["stale-stored-access", ACCESS]))
        nock(OAUTH)
          .post(TOKEN_PATH)
          .times(2)
          .reply(async (req: Request) => {
            const form = new URLSearchParams(await req.text())
            forms.push(form)
            return form.get("refresh_token") === REFRESH
              ? [200, rotated]
              : [400, { error: "invalid_grant", error_description: "Invalid grant" }]
          })
        const store = TokenStore.makeMemory(stale)
        const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
        yield* editor.update(request(1))
        assert.deepStrictEqual(
          forms.map((form) => form.get("refresh_token")),
          ["stale-stored-refresh", REFRESH]
        )
        assert.deepStrictEqual(events, ["call:stale-stored-access", `call:${ACCESS}`, `call:${NEW_ACCESS}`])
        assert.strictEqual(yield* storedPair(store), `${NEW_ACCESS}:${NEW_REFRESH}`)
      })
    )

    it.live("the configured pair is scrubbed from errors even while the stored pair is in use", () =>
      Effect.gen(function* () {
        nock(PORTAL)
          .post(UPDATE_PATH)
          .reply(500, { error: "INTERNAL_SERVER_ERROR", error_description: `odd: ${ACCESS} ${REFRESH}` })
        const store = TokenStore.makeMemory(stale)
        const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
        const error = yield* Effect.flip(editor.update(request(1)))
        const printed = [error.message, JSON.stringify(error.reason)].join(" ")
        assert.notInclude(printed, ACCESS)
        assert.notInclude(printed, REFRESH)
      })
    )

    it.live("when the configured pair is the stored one, a refusal is final and says to authorize again", () =>
      Effect.gen(function* () {
        const events: Array<string> = []
        portal(events, new Set(), new Set())
        const store = TokenStore.makeMemory({
          accessToken: Redacted.make(ACCESS),
          refreshToken: Redacted.make(REFRESH)
        })
        const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 }, tokenStore: store })
        const error = yield* Effect.flip(editor.update(request(1)))
        assert.strictEqual(error.reason._tag, "Unauthorized")
        assert.include(error.message, "authorize the application again")
        assert.deepStrictEqual(events, [`call:${ACCESS}`])
      })
    )
  })

  it.live("never refreshes before a call: a valid token goes straight to the portal", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      portalAccepting(new Set([ACCESS]), events)
      const oauth = nock(OAUTH).post(TOKEN_PATH).reply(200, rotated)
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } })
      yield* editor.update(request(1))
      yield* editor.update(request(2))
      assert.deepStrictEqual(events, [`call:${ACCESS}`, `call:${ACCESS}`])
      assert.isFalse(oauth.isDone())
    })
  )
})

describe("TokenStore", () => {
  const pair: TokenStore.Tokens = {
    accessToken: Redacted.make(NEW_ACCESS),
    refreshToken: Redacted.make(NEW_REFRESH),
    expiresAt: 1773326269,
    oauthUrl: "https://oauth.bitrix.info"
  }

  it.live("the file store keeps a pair across instances, owner-only", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "reword-b24-")))
      const path = join(dir, "nested", "tokens.json")
      assert.isTrue(Option.isNone(yield* TokenStore.makeFile(path).load))
      yield* TokenStore.makeFile(path).save(pair)
      const loaded = yield* TokenStore.makeFile(path).load
      assert.isTrue(Option.isSome(loaded))
      if (Option.isSome(loaded)) {
        assert.strictEqual(Redacted.value(loaded.value.accessToken), NEW_ACCESS)
        assert.strictEqual(Redacted.value(loaded.value.refreshToken), NEW_REFRESH)
        assert.strictEqual(loaded.value.expiresAt, 1773326269)
      }
      const mode = (yield* Effect.promise(() => stat(path))).mode & 0o777
      assert.strictEqual(mode, 0o600)
    })
  )

  it.live("the file store refuses a file it did not write, without echoing its content", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "reword-b24-")))
      const path = join(dir, "tokens.json")
      yield* Effect.promise(() => writeFile(path, `{"accessToken": "${ACCESS}"`))
      const result = yield* Effect.result(TokenStore.makeFile(path).load)
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) {
        assert.include(result.failure.message, path)
        assert.notInclude(result.failure.message, ACCESS)
      }
    })
  )

  it.live("an editor over the file store saves each rotated pair to disk before using it", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "reword-b24-")))
      const path = join(dir, "tokens.json")
      const seenOnDisk: Array<string> = []
      nock(PORTAL).post(UPDATE_PATH).reply(401, { error: "expired_token", error_description: "expired" })
      nock(PORTAL)
        .post(UPDATE_PATH)
        .reply(200, async (req: Request) => {
          seenOnDisk.push(await readFile(path, "utf8"))
          return success((await bodyOf(req)).MESSAGES.map((item) => okItem(item)))
        })
      nock(OAUTH).post(TOKEN_PATH).reply(200, rotated)
      const editor = yield* Bitrix24.make(settings(), { retry: { maxAttempts: 1 } }).pipe(
        Effect.provide(Layer.mergeAll(TokenStore.layerFile(path)))
      )
      yield* editor.update(request(1))
      assert.strictEqual(seenOnDisk.length, 1)
      assert.include(seenOnDisk[0] ?? "", NEW_REFRESH)
    })
  )
})
