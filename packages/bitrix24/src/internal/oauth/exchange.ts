/**
 * The token exchange with Bitrix24's OAuth server: which servers are trusted
 * with the client secret and the refresh token, and the refresh request
 * itself (public through `OAuth`).
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import { BaseUrl, HttpFailure, type HttpTransport, type Secrets } from "@reword/core/adapter"
import { Clock, Effect, Predicate, Redacted } from "effect"
import type { Tokens } from "../../TokenStore.ts"
import { reasonOf } from "../errors.ts"
import { readTokenResponse } from "../schemas.ts"
import { type Reason, withRefreshContext } from "./reasons.ts"

/**
 * Bitrix24's own OAuth servers: the only hosts besides the configured OAuth
 * server that a token answer's `server_endpoint` (or a stored `oauthUrl`) may
 * name, over HTTPS on the default port. `oauth.bitrix.info` is the global
 * server; `oauth.bitrix24.tech` the one Bitrix24 names for its newer and its
 * `.ru` zone portals.
 *
 * @category oauth
 * @since 0.1.0
 */
export const OAUTH_HOSTS: ReadonlyArray<string> = ["oauth.bitrix.info", "oauth.bitrix24.tech"]

/**
 * Whether an OAuth server named by a server (a token answer's
 * `server_endpoint`) or read from the token store may receive the client
 * secret and the refresh token, and the origin to use if so: the configured
 * OAuth server itself; one of {@link OAUTH_HOSTS} over HTTPS, by name, on the
 * default port; or, when the settings allow insecure loopback, a loopback
 * address (local test servers). Anything else (another host, an IP literal,
 * another port, credentials in the URL) is `undefined`.
 *
 * @category oauth
 * @since 0.1.0
 */
export const trustedOAuthUrl = (
  candidate: string,
  options: { readonly configured: URL; readonly allowInsecureLoopback?: boolean | undefined }
): URL | undefined => {
  if (candidate.length > 2_048 || !URL.canParse(candidate)) return undefined
  const url = new URL(candidate)
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined
  if (url.username !== "" || url.password !== "") return undefined
  const origin = new URL(url.origin)
  if (origin.origin === options.configured.origin) return origin
  if (options.allowInsecureLoopback === true && BaseUrl.isLoopback(url.hostname)) return origin
  const host = url.hostname.toLowerCase().replace(/\.$/, "")
  if (url.protocol !== "https:" || url.port !== "" || !OAUTH_HOSTS.includes(host)) return undefined
  return new URL(`https://${host}`)
}

/**
 * The token endpoint of an OAuth server.
 *
 * @category oauth
 * @since 0.1.0
 */
export const tokenUrl = (oauthUrl: URL): URL => new URL("/oauth/token/", oauthUrl.origin)

/**
 * Exchanges a refresh token for a new pair: a form-encoded POST, so that no
 * secret is ever in a URL.
 *
 * @category oauth
 * @since 0.1.0
 */
export const requestTokens = (params: {
  readonly transport: HttpTransport.HttpTransport
  readonly oauthUrl: URL
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  readonly allowInsecureLoopback?: boolean | undefined
  /** The configured OAuth server (default `oauthUrl`): always trusted as a `server_endpoint`. */
  readonly configuredOauthUrl?: URL | undefined
  /** Every secret to scrub from what is kept of the answer (default: the client secret and the refresh token). */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | Secrets.Secrets | undefined
}): Effect.Effect<Tokens, Reason> =>
  Effect.gen(function* () {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      client_id: params.clientId,
      client_secret: Redacted.value(params.clientSecret),
      refresh_token: Redacted.value(params.refreshToken)
    })
    const response = yield* params.transport.send({
      method: "POST",
      url: tokenUrl(params.oauthUrl),
      form,
      headers: { accept: "application/json" },
      secrets: params.secrets ?? [params.clientSecret, params.refreshToken]
    })
    const now = yield* Clock.currentTimeMillis
    // Whenever the answer carries a new pair, the server has rotated: the pair
    // is adopted before anything else is judged (an odd extra field, an odd
    // status), since the old refresh token is dead either way.
    const answer = response.isJson ? readTokenResponse(response.json) : undefined
    if (answer === undefined) {
      const fields = HttpFailure.errorFields(response)
      const hasError = response.isJson && Predicate.hasProperty(response.json, "error")
      if (response.status !== 200 || hasError) {
        return yield* Effect.fail(withRefreshContext(reasonOf(response, fields, now)))
      }
      // A body that may hold a token is never kept on an error.
      return yield* Effect.fail(
        new EditError.MalformedResponse({
          status: response.status,
          description: "the OAuth server's answer to the token refresh has no access_token and refresh_token"
        })
      )
    }
    const expiresAt =
      answer.expires ?? (answer.expires_in === undefined ? undefined : Math.floor(now / 1000) + answer.expires_in)
    const server =
      answer.server_endpoint === undefined
        ? undefined
        : trustedOAuthUrl(answer.server_endpoint, {
            configured: params.configuredOauthUrl ?? params.oauthUrl,
            allowInsecureLoopback: params.allowInsecureLoopback
          })
    if (answer.server_endpoint !== undefined && server === undefined) {
      // Never the value itself: a hostile answer may put anything there.
      yield* Effect.logWarning(
        `Bitrix24: ignored the server_endpoint of a token answer: it is neither the configured OAuth server nor one of Bitrix24's (${OAUTH_HOSTS.join(", ")}) over https`
      )
    }
    const oauthUrl = server?.origin
    return {
      accessToken: Redacted.make(answer.access_token),
      refreshToken: Redacted.make(answer.refresh_token),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(oauthUrl === undefined ? {} : { oauthUrl })
    } satisfies Tokens
  }).pipe(
    // Whatever the answer holds, reading it never escapes as a defect.
    Effect.catchDefect(() =>
      Effect.fail(
        new EditError.MalformedResponse({
          description: "the OAuth server's answer to the token refresh could not be read"
        })
      )
    )
  )
