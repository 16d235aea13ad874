/**
 * Bitrix24's error table: each code the portal or its OAuth server sends,
 * the neutral reason it becomes and what the adapter does about it. The
 * README's error table is this table; `codes` is exported so a test can walk
 * every row.
 */
import { EditError } from "@reword/core"
import type { Duration } from "effect"

type Reason = EditError.EditErrorReason

/** What the portal (or the OAuth server) said about a failure. */
export type Detail = EditError.Detail

/** What the caller knows beyond the answer: when a rate limit ends. */
export interface Context {
  readonly retryAfter?: Duration.Duration | undefined
}

/** Where a code comes from. */
export type Source = "portal" | "oauth"

/** One row of the error table. */
export interface Row {
  readonly source: Source
  /** The HTTP status the server usually sends with it. */
  readonly status: number
  /** The neutral reason it becomes. */
  readonly reason: EditError.ReasonTag
  /** What the adapter does about it, for the README. */
  readonly note: string
  readonly make: (detail: Detail, context: Context) => Reason
}

export const compact = (detail: Detail): Detail => ({
  ...(detail.status === undefined ? {} : { status: detail.status }),
  ...(detail.code === undefined ? {} : { code: detail.code }),
  ...(detail.description === undefined ? {} : { description: detail.description }),
  ...(detail.body === undefined ? {} : { body: detail.body })
})

/** The portal's own text, followed by what it means for this adapter. */
const explained = (detail: Detail, explanation: string): Detail =>
  compact({
    ...detail,
    description:
      detail.description === undefined || detail.description.length === 0
        ? explanation
        : `${detail.description}. ${explanation}`
  })

const unauthorized =
  (explanation: string) =>
  (detail: Detail): Reason =>
    new EditError.Unauthorized(explained(detail, explanation))
const forbidden =
  (explanation: string) =>
  (detail: Detail): Reason =>
    new EditError.Forbidden(explained(detail, explanation))
const notFound =
  (explanation: string) =>
  (detail: Detail): Reason =>
    new EditError.NotFound(explained(detail, explanation))
const rejected =
  (explanation: string) =>
  (detail: Detail): Reason =>
    new EditError.Rejected(explained(detail, explanation))
const unavailable =
  (explanation: string) =>
  (detail: Detail, context: Context): Reason =>
    new EditError.Unavailable({
      ...explained(detail, explanation),
      ...(context.retryAfter === undefined ? {} : { retryAfter: context.retryAfter })
    })
const rateLimited =
  (explanation: string) =>
  (detail: Detail, context: Context): Reason =>
    new EditError.RateLimited({
      ...explained(detail, explanation),
      ...(context.retryAfter === undefined ? {} : { retryAfter: context.retryAfter })
    })
const invalid =
  (path: string, explanation: string) =>
  (detail: Detail): Reason =>
    new EditError.InvalidRequest({
      problems: [{ path, message: detail.description ?? explanation }],
      ...explained(detail, explanation)
    })

/**
 * Why imconnector refuses an incoming webhook: said at configuration time and
 * again when the portal answers `WRONG_AUTH_TYPE`.
 */
export const WEBHOOK_EXPLANATION =
  "imconnector methods work only in an application context: use the OAuth access token of an installed Bitrix24 application (local or Marketplace), not an incoming-webhook URL or code"

/**
 * Every documented code. Codes are matched exactly first, then
 * case-insensitively (the OAuth server and the portal disagree on case).
 */
export const codes: Readonly<Record<string, Row>> = {
  // --- authentication (portal)
  expired_token: {
    source: "portal",
    status: 401,
    reason: "Unauthorized",
    note: "refreshes the tokens once (single flight) and repeats the call once; Unauthorized only if the freshly refreshed token is refused too (a pair adopted from a shared store is refreshed in its turn)",
    make: unauthorized("the access token expired and refreshing it did not help")
  },
  invalid_token: {
    source: "portal",
    status: 401,
    reason: "Unauthorized",
    note: "the access token is not valid for this portal: authorize the application again",
    make: unauthorized("the access token is not valid for this portal; authorize the application again")
  },
  NO_AUTH_FOUND: {
    source: "portal",
    status: 401,
    reason: "Unauthorized",
    note: "no usable credentials in the call",
    make: unauthorized("the portal found no valid authorization in the call")
  },
  WRONG_AUTH_TYPE: {
    source: "portal",
    status: 403,
    reason: "Forbidden",
    note: "explains that imconnector needs an application's OAuth token, not an incoming webhook",
    make: forbidden(WEBHOOK_EXPLANATION)
  },
  insufficient_scope: {
    source: "portal",
    status: 403,
    reason: "Forbidden",
    note: "the application lacks the `imopenlines` scope",
    make: forbidden("the application needs the imopenlines scope; add it to the application and reinstall it")
  },
  ACCESS_DENIED: {
    source: "portal",
    status: 403,
    reason: "Forbidden",
    note: "REST is not available on this plan",
    make: forbidden("the portal's plan does not allow REST calls")
  },
  INVALID_CREDENTIALS: {
    source: "portal",
    status: 403,
    reason: "Forbidden",
    note: "the token's user lacks the permission",
    make: forbidden("the user the token belongs to lacks the permission for this method")
  },
  user_access_error: {
    source: "portal",
    status: 403,
    reason: "Forbidden",
    note: "the administrator restricted the application to other users",
    make: forbidden("the portal administrator restricted the application to other users")
  },
  PORTAL_DELETED: {
    source: "portal",
    status: 403,
    reason: "NotFound",
    note: "the portal was deleted (or its public part closed)",
    make: notFound("the portal was deleted, or its public part is closed")
  },
  // --- the request
  ERROR_ARGUMENT: {
    source: "portal",
    status: 400,
    reason: "InvalidRequest",
    note: "the portal's text becomes the problem",
    make: invalid("(request)", "the portal refused an argument")
  },
  INVALID_REQUEST: {
    source: "portal",
    status: 400,
    reason: "Rejected",
    note: "the portal requires HTTPS",
    make: rejected("the portal requires HTTPS; check BITRIX24_PORTAL_URL")
  },
  ERROR_BATCH_LENGTH_EXCEEDED: {
    source: "portal",
    status: 400,
    reason: "InvalidRequest",
    note: "the call is too large: lower `chunkSize`",
    make: invalid("MESSAGES", "the call is too large for the portal; lower chunkSize")
  },
  ERROR_BATCH_METHOD_NOT_ALLOWED: {
    source: "portal",
    status: 405,
    reason: "Rejected",
    note: "the method may not run inside `batch`",
    make: rejected("the method is not allowed inside batch")
  },
  ERROR_METHOD_NOT_FOUND: {
    source: "portal",
    status: 404,
    reason: "Rejected",
    note: "the portal has no such method (Open Lines missing, or a typo in a custom call)",
    make: rejected("the portal has no such method; is the Open Lines (imconnector) module available?")
  },
  // --- Open Lines and the connector
  NOT_ACTIVE_LINE: {
    source: "portal",
    status: 400,
    reason: "NotFound",
    note: "the open line is inactive or does not exist (check BITRIX24_LINE, activate the connector on it)",
    make: notFound(
      "the open line is inactive or does not exist; check BITRIX24_LINE and activate the connector on that line"
    )
  },
  IMCONNECTOR_NO_CORRECT_PROVIDER: {
    source: "portal",
    status: 400,
    reason: "NotFound",
    note: "no registered connector with this code (check BITRIX24_CONNECTOR, imconnector.register)",
    make: notFound(
      "the portal has no working connector with this code; check BITRIX24_CONNECTOR and imconnector.register"
    )
  },
  IMCONNECTOR_COULD_NOT_GET_PROVIDER_OBJECT: {
    source: "portal",
    status: 400,
    reason: "NotFound",
    note: "the connector could not be loaded for this line",
    make: notFound(
      "the portal could not load the connector; check BITRIX24_CONNECTOR and that it is active on the line"
    )
  },
  IMCONNECTOR_NOT_SPECIFIED_CORRECT_CONNECTOR: {
    source: "portal",
    status: 400,
    reason: "InvalidRequest",
    note: "CONNECTOR is missing or malformed",
    make: invalid("CONNECTOR", "the connector code is missing or not valid")
  },
  // --- limits
  QUERY_LIMIT_EXCEEDED: {
    source: "portal",
    status: 503,
    reason: "RateLimited",
    note: "retryable; the client-side bucket is marked full so the following calls slow down",
    make: rateLimited("the portal's request-rate limit was exceeded")
  },
  OVERLOAD_LIMIT: {
    source: "portal",
    status: 503,
    reason: "RateLimited",
    note: "retryable; the portal blocked REST for overload (a lasting block needs Bitrix24 support)",
    make: rateLimited("the portal blocked REST calls for overload; if it lasts, contact Bitrix24 support")
  },
  OPERATION_TIME_LIMIT: {
    source: "portal",
    status: 429,
    reason: "RateLimited",
    note: "`retryAfter` runs to `operating_reset_at`; the method stays blocked client-side until then",
    make: rateLimited("the method used up its operating time; it is blocked until operating_reset_at")
  },
  // --- the server
  INTERNAL_SERVER_ERROR: {
    source: "portal",
    status: 500,
    reason: "Unavailable",
    note: "retryable",
    make: unavailable("the portal failed internally")
  },
  ERROR_UNEXPECTED_ANSWER: {
    source: "portal",
    status: 500,
    reason: "Unavailable",
    note: "retryable",
    make: unavailable("the portal answered unexpectedly")
  },
  // --- the OAuth server (token refresh)
  invalid_grant: {
    source: "oauth",
    status: 400,
    reason: "Unauthorized",
    note: "the refresh token expired, was revoked or already used: authorize the application again",
    make: unauthorized(
      "the refresh token was refused: it expired, was revoked, or was already used by another refresh; authorize the application again"
    )
  },
  invalid_client: {
    source: "oauth",
    status: 401,
    reason: "Unauthorized",
    note: "wrong client id/secret, or the application is not installed",
    make: unauthorized("check BITRIX24_CLIENT_ID and BITRIX24_CLIENT_SECRET, and that the application is installed")
  },
  invalid_request: {
    source: "oauth",
    status: 400,
    reason: "Rejected",
    note: "the refresh request was malformed",
    make: rejected("the OAuth server refused the refresh request")
  },
  invalid_scope: {
    source: "oauth",
    status: 400,
    reason: "Forbidden",
    note: "the application's scopes do not cover the request",
    make: forbidden("the application's scopes do not allow this")
  },
  PAYMENT_REQUIRED: {
    source: "oauth",
    status: 402,
    reason: "Forbidden",
    note: "the application's paid or trial period ended",
    make: forbidden("the application's trial or paid period ended; no tokens until it is renewed")
  }
}

// Maps: a code from an answer finds the table's own rows only (`valueOf` is an unknown code, never Object.prototype's).
const exactCodes: ReadonlyMap<string, Row> = new Map(Object.entries(codes))
const lowerCaseCodes: ReadonlyMap<string, Row> = new Map(
  Object.entries(codes).map(([code, row]) => [code.toLowerCase(), row])
)

/** The row of a code, matched exactly, then case-insensitively. */
export const rowOf = (code: string | undefined): Row | undefined =>
  code === undefined ? undefined : (exactCodes.get(code) ?? lowerCaseCodes.get(code.toLowerCase()))
