/**
 * The client secret and the refresh token go only to the configured OAuth
 * server or one of Bitrix24's own, whatever a token answer or the token store
 * names (issue 10, item 3).
 */
import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@reword/bitrix24"
import { Effect, Option, Redacted } from "effect"
import fc from "fast-check"
import * as OAuth from "../src/internal/oauth/session.ts"
import { OAUTH, okItem, request, SECRET, success, TOKEN_PATH } from "./support/bitrix24.ts"
import { bodyJson, editorOn, type Handler, json, type Seen } from "./support/fakeServer.ts"

/**
 * A portal that takes only the access token the OAuth server issued last, and
 * an OAuth server (anywhere) that rotates the pair, its answer naming `endpoint`.
 */
const rotating = (endpoint: string | undefined): Handler => {
  let issued = 0
  return (seen) => {
    if (seen.url.pathname === TOKEN_PATH) {
      issued += 1
      return json(200, {
        access_token: `access-token-10${issued}-aaaa`,
        refresh_token: `refresh-token-10${issued}-bbbb`,
        ...(endpoint === undefined ? {} : { server_endpoint: endpoint })
      })
    }
    const body = bodyJson(seen)
    return body.auth === `access-token-10${issued}-aaaa`
      ? json(200, success(body.MESSAGES.map((item) => okItem(item))))
      : json(401, { error: "expired_token", error_description: "expired" })
  }
}

/** Two refreshes: the first answer names `endpoint`; answers where the second went, and what the store holds. */
const secondRefresh = (endpoint: string, store = TokenStore.makeMemory()) =>
  Effect.gen(function* () {
    const seen: Array<Seen> = []
    const handler = rotating(endpoint)
    const editor = yield* editorOn(handler, { tokenStore: store }, seen)
    yield* editor.update(request(1))
    // The portal says the new access token expired: a second refresh.
    const expiring: Handler = (request) =>
      request.url.pathname === TOKEN_PATH || seen.filter((s) => s.url.pathname === TOKEN_PATH).length >= 2
        ? handler(request)
        : json(401, { error: "expired_token", error_description: "expired" })
    const editor2 = yield* editorOn(expiring, { tokenStore: store }, seen)
    yield* editor2.update(request(2))
    const tokenRequests = seen.filter((s) => s.url.pathname === TOKEN_PATH)
    return { second: tokenRequests[1], stored: yield* store.load }
  })

const FOREIGN = [
  "https://evil.example/rest/",
  "https://203.0.113.7/rest/",
  "https://[2001:db8::1]/rest/",
  "https://oauth.bitrix.info:8443/rest/",
  "http://oauth.bitrix.info/rest/",
  "https://user:pass@oauth.bitrix.info/rest/",
  "https://oauth.bitrix.info.evil.example/rest/",
  "https://evil-oauth.bitrix.info.example/rest/",
  "http://127.0.0.1:9/rest/",
  "javascript:alert(1)",
  "not a url"
]

describe("the OAuth server (item 3)", () => {
  it.live.each(FOREIGN)("a server_endpoint %s is ignored: the next refresh goes to the configured server", (endpoint) =>
    Effect.gen(function* () {
      const { second, stored } = yield* secondRefresh(endpoint)
      assert.strictEqual(second?.url.origin, OAUTH)
      assert.strictEqual(Option.getOrUndefined(stored)?.oauthUrl, undefined)
    })
  )

  it.live.each([
    "https://oauth.bitrix.info/rest/",
    "https://oauth.bitrix24.tech/rest/",
    "https://OAUTH.BITRIX24.TECH./rest/"
  ])("a server_endpoint of Bitrix24's own (%s) is used for the next refresh", (endpoint) =>
    Effect.gen(function* () {
      const { second } = yield* secondRefresh(endpoint)
      assert.strictEqual(second?.url.hostname, new URL(endpoint).hostname.toLowerCase().replace(/\.$/, ""))
      assert.strictEqual(second?.url.protocol, "https:")
    })
  )

  it.live("a stored oauthUrl outside the allowlist is ignored: the client secret goes to the configured server", () =>
    Effect.gen(function* () {
      const store = TokenStore.makeMemory({
        accessToken: Redacted.make("stored-access-token"),
        refreshToken: Redacted.make("stored-refresh-token"),
        oauthUrl: "https://evil.example"
      })
      const seen: Array<Seen> = []
      const handler = rotating(undefined)
      const editor = yield* editorOn(handler, { tokenStore: store }, seen)
      yield* editor.update(request(1))
      const tokenRequests = seen.filter((s) => s.url.pathname === TOKEN_PATH)
      assert.strictEqual(tokenRequests.length, 1)
      assert.strictEqual(tokenRequests[0]?.url.origin, OAUTH)
      assert.isFalse(seen.some((s) => s.url.hostname === "evil.example"))
    })
  )

  it("trustedOAuthUrl: loopback only when the settings allow insecure loopback", () => {
    const configured = new URL("https://oauth.bitrix.info")
    assert.isUndefined(OAuth.trustedOAuthUrl("http://127.0.0.1:8080/rest/", { configured }))
    assert.strictEqual(
      OAuth.trustedOAuthUrl("http://127.0.0.1:8080/rest/", { configured, allowInsecureLoopback: true })?.origin,
      "http://127.0.0.1:8080"
    )
    assert.strictEqual(
      OAuth.trustedOAuthUrl("https://oauth.example.test:4443/x", {
        configured: new URL("https://oauth.example.test:4443")
      })?.origin,
      "https://oauth.example.test:4443"
    )
  })

  it("property: no URL outside the configured server, Bitrix24's hosts and opted-in loopback is ever trusted", () => {
    const configured = new URL(OAUTH)
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.boolean(), (url, loopback) => {
        const trusted = OAuth.trustedOAuthUrl(url, { configured, allowInsecureLoopback: loopback })
        if (trusted === undefined) return
        const ok =
          trusted.origin === configured.origin ||
          (trusted.protocol === "https:" && trusted.port === "" && OAuth.OAUTH_HOSTS.includes(trusted.hostname)) ||
          (loopback && ["127.0.0.1", "localhost", "[::1]"].includes(trusted.hostname))
        assert.isTrue(ok, url)
      }),
      { numRuns: 500 }
    )
  })

  it("the client secret never appears in the warning about an ignored server", () => {
    assert.notInclude(OAuth.OAUTH_HOSTS.join(","), SECRET)
  })
})
