/**
 * Every known secret (the configured pair and client secret, the stored pair,
 * every refreshed pair) is kept out of what reword produces, in whichever
 * encoding a server echoes it (issue 10, item 2).
 */
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@reword/bitrix24"
import type { EditError } from "@reword/core"
import { Cause, Effect, Redacted } from "effect"
import { okItem, request, SECRET, success, TOKEN_PATH } from "./support/bitrix24.ts"
import { editorOn, type Handler, json } from "./support/fakeServer.ts"

/** Secrets with characters that every encoding changes. */
const STORED_ACCESS = "stored/access+token=0003&x"
const STORED_REFRESH = "stored/refresh+token=0003&y"
const MINTED_ACCESS = "minted/access+token=0004&z"
const MINTED_REFRESH = "minted/refresh+token=0004&w"

const encodings = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2),
  JSON.stringify(secret).slice(1, -1).replaceAll("/", "\\/"),
  [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
  Buffer.from(secret).toString("base64").replace(/=+$/, "")
]

/** Everything an app may print of an error. */
const printed = (error: EditError.EditError): string =>
  [
    error.message,
    String(error),
    JSON.stringify(error),
    error.stack ?? "",
    inspect(error, { depth: 10 }),
    Cause.pretty(Cause.fail(error))
  ].join("\n")

const assertClean = (error: EditError.EditError, secrets: ReadonlyArray<string>) => {
  const text = printed(error)
  for (const secret of secrets) {
    for (const form of encodings(secret)) assert.notInclude(text, form, `a form of a secret leaked: ${form}`)
  }
}

const storeWith = (access: string, refresh: string) =>
  TokenStore.makeMemory({ accessToken: Redacted.make(access), refreshToken: Redacted.make(refresh) })

describe("secrets in every encoding (item 2)", () => {
  it.live(
    "an OAuth server echoing the refresh form (form-encoded) leaks neither the client secret nor the refresh token",
    () =>
      Effect.gen(function* () {
        const handler: Handler = (seen) =>
          seen.url.pathname === TOKEN_PATH
            ? json(400, { error: "invalid_request", error_description: `could not read the form: ${seen.text}` })
            : json(401, { error: "expired_token", error_description: "The access token provided has expired" })
        const editor = yield* editorOn(handler, { tokenStore: storeWith(STORED_ACCESS, STORED_REFRESH) })
        const error = yield* Effect.flip(editor.update(request(1)))
        assertClean(error, [SECRET, STORED_REFRESH, STORED_ACCESS])
      })
  )

  it.live("an OAuth server redirecting to a Location that carries the form leaks nothing", () =>
    Effect.gen(function* () {
      const handler: Handler = (seen) =>
        seen.url.pathname === TOKEN_PATH
          ? new Response(null, { status: 302, headers: { location: `https://elsewhere.test/?${seen.text}` } })
          : json(401, { error: "expired_token", error_description: "expired" })
      const editor = yield* editorOn(handler, { tokenStore: storeWith(STORED_ACCESS, STORED_REFRESH) })
      const error = yield* Effect.flip(editor.update(request(1)))
      assertClean(error, [SECRET, STORED_REFRESH])
    })
  )

  it.live("a portal echoing the stored pair \\u-escaped, with escaped slashes or percent-encoded leaks nothing", () =>
    Effect.gen(function* () {
      for (const form of encodings(STORED_ACCESS).slice(1)) {
        const body = `{"error":"ERROR_ARGUMENT","error_description":"bad auth ${form.replaceAll('"', "")} and ${encodings(STORED_REFRESH)[3]}"}`
        const editor = yield* editorOn(() => json(400, body), { tokenStore: storeWith(STORED_ACCESS, STORED_REFRESH) })
        const error = yield* Effect.flip(editor.update(request(1)))
        assertClean(error, [STORED_ACCESS, STORED_REFRESH])
      }
    })
  )

  it.live("every refreshed pair is scrubbed, not only the current one", () =>
    Effect.gen(function* () {
      let refreshes = 0
      const accepted = new Set<string>()
      let echoFirstPair = false
      const handler: Handler = (seen) => {
        if (seen.url.pathname === TOKEN_PATH) {
          refreshes += 1
          accepted.clear()
          accepted.add(`${MINTED_ACCESS}-${refreshes}`)
          return json(200, {
            access_token: `${MINTED_ACCESS}-${refreshes}`,
            refresh_token: `${MINTED_REFRESH}-${refreshes}`
          })
        }
        const body = JSON.parse(seen.text) as { auth: string; MESSAGES: Array<Parameters<typeof okItem>[0]> }
        if (!accepted.has(body.auth)) return json(401, { error: "expired_token", error_description: "expired" })
        if (!echoFirstPair) return json(200, success(body.MESSAGES.map((item) => okItem(item))))
        // The portal echoes the first minted pair (no longer the current one), JSON-escaped with \/.
        const echoed = JSON.stringify(`${MINTED_ACCESS}-1 ${MINTED_REFRESH}-1`).slice(1, -1).replaceAll("/", "\\/")
        return json(400, `{"error":"ERROR_ARGUMENT","error_description":"${echoed}"}`)
      }
      const editor = yield* editorOn(handler)
      yield* editor.update(request(1))
      assert.strictEqual(refreshes, 1)
      // Pair 1 expires: the next call refreshes to pair 2, and the portal then echoes pair 1.
      accepted.clear()
      echoFirstPair = true
      const error = yield* Effect.flip(editor.update(request(2)))
      assert.strictEqual(refreshes, 2)
      assertClean(error, [`${MINTED_ACCESS}-1`, `${MINTED_REFRESH}-1`, `${MINTED_ACCESS}-2`, SECRET])
    })
  )
})
