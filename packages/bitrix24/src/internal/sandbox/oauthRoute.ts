/**
 * The sandbox's OAuth server: its token endpoint, which grants
 * `refresh_token` only, with refresh tokens that rotate and work once.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { type Params, parseForm, textOf } from "./params.ts"
import { type Answer, failure, type PortalState, refuse } from "./state.ts"

/** The portal's id, as the OAuth server names it (the documentation's example). */
const MEMBER_ID = "a223c6b3710f85df22e9377d6c4f7553"

/** Answers `/oauth/token/`. */
export const oauth = (s: PortalState, request: SandboxServer.SandboxRequest): Answer => {
  const params: Params = { ...parseForm(request.query.toString()), ...parseForm(request.text) }
  const { tokens } = s.options
  if (params.grant_type !== "refresh_token") {
    return refuse(
      s,
      failure(
        400,
        "invalid_request",
        params.grant_type === undefined ? "grant_type is required" : "the sandbox grants refresh_token only"
      )
    )
  }
  if (params.client_id !== tokens.clientId || params.client_secret !== tokens.clientSecret) {
    return refuse(s, failure(401, "invalid_client", "Invalid client credentials"))
  }
  const refreshToken = textOf(params.refresh_token)
  const at = s.now()
  const pair = refreshToken === undefined ? undefined : tokens.refresh(refreshToken, at)
  if (pair === undefined) return refuse(s, failure(400, "invalid_grant", "Invalid grant"))
  const lifetime = tokens.ttlMillis === undefined ? 3600 : Math.max(1, Math.ceil(tokens.ttlMillis / 1000))
  const url = s.options.url()
  return {
    status: 200,
    body: {
      access_token: pair.accessToken,
      client_endpoint: `${url}/rest/`,
      domain: new URL(url).host,
      expires: Math.floor(at / 1000) + lifetime,
      expires_in: lifetime,
      member_id: s.options.memberId ?? MEMBER_ID,
      refresh_token: pair.refreshToken,
      scope: "imopenlines,imconnector",
      server_endpoint: `${url}/rest/`,
      status: "L",
      user_id: 1
    }
  }
}
