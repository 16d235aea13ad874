/**
 * The fault matrix as data: for each provider, each fault and both `update`
 * and `updateMany`, what the test does to the sandbox, and what it expects —
 * the outcome of every request, the requests the sandbox's log must show, and
 * the least time the retry must have waited. `fault-matrix.slow.test.ts` runs every
 * cell from this data, and `docs/fault-matrix.md` is rendered from it by
 * {@link render}, so the published table is what the tests assert.
 */
import type { EditError } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { everyEncoding } from "./secretsEncodings.ts"

const { Faults } = SandboxServer

/** How deep the deep-nesting row nests its answer. */
export const DEEP_LEVELS = 100_000

/** `{"error":` nested {@link DEEP_LEVELS} levels: sent as text (`JSON.stringify` of it would overflow the stack). */
const DEEP_BODY = `${'{"error":'.repeat(DEEP_LEVELS)}"deep"${"}".repeat(DEEP_LEVELS)}`

export type ProviderName = "bitrix24" | "acquire"
export type OperationName = "update" | "updateMany"

export const PROVIDERS: ReadonlyArray<ProviderName> = ["bitrix24", "acquire"]
export const OPERATIONS: ReadonlyArray<OperationName> = ["update", "updateMany"]

/** The retry policy every cell runs with: fast, so that the suite stays short. */
export const POLICY = { initialDelay: 10, maxDelay: 100, maxAttempts: 3, maxElapsed: 10_000 } as const

/** The transport timeout of the hang cells. */
export const HANG_TIMEOUT_MS = 300

/** The transport timeout of every other cell: long, so that a busy machine never turns a slow answer into a fault. */
export const TIMEOUT_MS = 5_000

/** How many requests each `updateMany` cell sends (Bitrix24 packs them in one call; Acquire sends one call each). */
export const MANY = 3

/** How long the Bitrix24 adapter blocks a method after `OPERATION_TIME_LIMIT` when the portal gave no reset time. */
export const OPERATING_FALLBACK_MS = 1_000

/**
 * The OAuth server a poisoned token answer names as its `server_endpoint`: a
 * look-alike of Bitrix24's own, outside the allowlist (`Bitrix24Config.OAUTH_HOSTS`).
 */
export const FOREIGN_OAUTH_ENDPOINT = "https://oauth.bitrix.info.evil.example/rest/"

/** The token store's deadline in the hanging-store cells (`tokenStoreTimeout`; the default is 10 s). */
export const TOKEN_STORE_DEADLINE_MS = 200

/**
 * The Bitrix24 bucket of every cell, on both sides (sandbox and adapter): large,
 * so that no cell waits for it unless it is about it.
 */
export const LARGE_BUCKET = { drainPerSecond: 1_000, capacity: 1_000 } as const

/** The adapter's own wait after `QUERY_LIMIT_EXCEEDED` without `Retry-After`: one drain interval plus a second. */
export const QUERY_LIMIT_BACKOFF_MS = Math.ceil(1000 / LARGE_BUCKET.drainPerSecond) + 1000

/** The shortest backoff the policy can draw: the first delay at the low end of the jitter (0.8x). */
export const MIN_BACKOFF_MS = POLICY.initialDelay * 0.8

/** How far ahead the HTTP-date `Retry-After` is set (an HTTP date has whole seconds, so the wait is 1 to 2 s). */
export const RETRY_AFTER_DATE_AHEAD_MS = 2_000

/**
 * What the test does before the call. `Inject` faults apply to the edit
 * endpoint (Bitrix24: `imconnector.update.messages`; Acquire: the first
 * message's `POST /crm/messenger/chat/message/{id}`), or to the OAuth token
 * endpoint.
 */
export type Setup =
  | {
      readonly _tag: "Inject"
      readonly fault: SandboxServer.Fault
      readonly times: number
      readonly target?: "edit" | "oauth" | undefined
    }
  /** `Retry-After` as an HTTP date, computed when the fault is injected. */
  | { readonly _tag: "InjectRetryAfterDate"; readonly aheadMs: number }
  /** Bitrix24: every access token issued so far expires (the portal answers `401 expired_token`). */
  | { readonly _tag: "ExpireAccessToken" }
  /** Bitrix24: another process refreshes with the configured refresh token first, so the adapter's one is used up. */
  | { readonly _tag: "RotateRefreshTokenElsewhere" }
  /** Acquire: the API key is revoked (the sandbox answers `401 ERROR_UNAUTHORIZED`). */
  | { readonly _tag: "RevokeApiKey" }
  /**
   * Bitrix24: a `fetch` in front of the sandbox drops the text of the request
   * at this position of the call on its way, so that the sandbox itself
   * refuses that item (`SUCCESS: false`, "Not all required data was
   * transmitted") inside an otherwise successful answer.
   */
  | { readonly _tag: "FailItem"; readonly index: number }
  /**
   * Bitrix24: a `fetch` in front of the sandbox sets the `server_endpoint` of
   * every token answer to `endpoint`, and takes every request for a host other
   * than the sandbox's to a second loopback server (the "foreign" one), which
   * counts them. A first call, before the one measured, refreshes once, so
   * that the measured call's refresh comes after a poisoned answer.
   */
  | { readonly _tag: "ForeignOAuthHost"; readonly endpoint: string }
  /**
   * Bitrix24: the token store's `save` never returns until the measured call
   * ended; the editor runs with `tokenStoreTimeout: deadlineMs`. Then the
   * store answers again and the same call is made once more.
   */
  | { readonly _tag: "HangTokenStore"; readonly deadlineMs: number }
  /**
   * A fault on the edit endpoint built from the credentials the sandbox
   * issued (so that its body can echo them back in every encoding).
   */
  | {
      readonly _tag: "InjectEcho"
      readonly fault: (secrets: ReadonlyArray<string>) => SandboxServer.Fault
      readonly times: number
    }

/** The least time between the faulted request and its retry. */
export type Wait =
  /** Not retried by the policy. */
  | { readonly _tag: "None"; readonly why: string }
  /** Between the faulted request and its retry, both as the sandbox logged them. */
  | { readonly _tag: "AtLeast"; readonly ms: number; readonly why: string }
  /**
   * Between the moment reword sent the hung request (its timer starts then,
   * before the sandbox sees it) and the retry, as the sandbox logged it.
   */
  | { readonly _tag: "AfterSending"; readonly ms: number; readonly why: string }
  /** The retry arrives no earlier than the `Retry-After` date. */
  | { readonly _tag: "UntilRetryAfterDate" }
  /**
   * Each of `attempts` attempts waited for the token store until its deadline
   * (`ms`), and failed there: the call took at least `attempts` × `ms`, and
   * not much more.
   */
  | { readonly _tag: "StoreDeadline"; readonly ms: number; readonly attempts: number; readonly why: string }

export type OutcomeKey = "success" | EditError.ReasonTag

export interface Expected {
  /** How many requests end in each outcome. */
  readonly outcomes: Readonly<Partial<Record<OutcomeKey, number>>>
  /** The provider's code on the failures, where they carry one. */
  readonly code?: string | undefined
  /** The `retryAfter` the failures carry, in milliseconds. */
  readonly retryAfterMs?: number | undefined
  /** A field-level problem the failure names (`InvalidRequest`). */
  readonly problemPath?: string | undefined
  /**
   * The reason every failed attempt had (read from the adapter's client spans):
   * what the policy retried on. `undefined` when no attempt failed.
   */
  readonly attemptsFailedWith: EditError.ReasonTag | undefined
  /** Requests to the edit endpoint in the sandbox's log. */
  readonly attempts: number
  /** Requests to the OAuth token endpoint in the sandbox's log (Bitrix24). */
  readonly refreshes: number
  /**
   * Requests that reached the foreign OAuth server (`ForeignOAuthHost`), from
   * the first call on, its own log's count.
   */
  readonly foreignRequests?: number | undefined
  /**
   * The same call, made again once the token store answers: every request
   * succeeds and is stored, and the store holds the pair issued last.
   */
  readonly thenSucceeds?: boolean | undefined
  readonly wait: Wait
}

export interface ApplicableCell {
  readonly _tag: "Applies"
  readonly provider: ProviderName
  readonly fault: FaultId
  readonly operation: OperationName
  readonly setup: ReadonlyArray<Setup>
  readonly expected: Expected
}

export interface NotApplicableCell {
  readonly _tag: "NotApplicable"
  readonly provider: ProviderName
  readonly fault: FaultId
  readonly operation: OperationName
  readonly why: string
}

export type Cell = ApplicableCell | NotApplicableCell

/** A cell before its row names its fault. */
export type CellBody = Omit<ApplicableCell, "fault"> | Omit<NotApplicableCell, "fault">

/** The requests one call of the operation sends when nothing goes wrong. */
const baseline = (provider: ProviderName, operation: OperationName): number =>
  provider === "acquire" && operation === "updateMany" ? MANY : 1

/** How many requests the operation carries. */
export const requestCount = (operation: OperationName): number => (operation === "update" ? 1 : MANY)

/**
 * The requests one injected fault touches: on Bitrix24 every request of the
 * call (they share it), on Acquire the first message's only.
 */
const touched = (provider: ProviderName, operation: OperationName): number =>
  provider === "bitrix24" ? requestCount(operation) : 1

interface Context {
  readonly provider: ProviderName
  readonly operation: OperationName
}

const inject = (fault: SandboxServer.Fault, times = 1, target: "edit" | "oauth" = "edit"): Setup => ({
  _tag: "Inject",
  fault,
  times,
  target
})

/** A fault that the policy retries once, after which the edit lands. */
const retriedOnce = (
  { provider, operation }: Context,
  setup: ReadonlyArray<Setup>,
  attemptFailedWith: EditError.ReasonTag,
  wait: Wait = { _tag: "AtLeast", ms: MIN_BACKOFF_MS, why: "the policy's first backoff" }
): Omit<ApplicableCell, "fault"> => ({
  _tag: "Applies",
  provider,
  operation,
  setup,
  expected: {
    outcomes: { success: requestCount(operation) },
    attemptsFailedWith: attemptFailedWith,
    attempts: baseline(provider, operation) + 1,
    refreshes: 0,
    wait
  }
})

/** A fault that ends the touched requests with a reason (the others succeed). */
const endsWith = (
  { provider, operation }: Context,
  setup: ReadonlyArray<Setup>,
  reason: EditError.ReasonTag,
  details: {
    readonly attempts: number
    readonly refreshes?: number
    readonly touched?: number
    readonly code?: string
    readonly retryAfterMs?: number
    readonly problemPath?: string
    /** `null`: no attempt failed (the call succeeded; an item inside it did not). Default: `reason`. */
    readonly attemptsFailedWith?: EditError.ReasonTag | null
    readonly thenSucceeds?: boolean
    readonly wait: Wait
  }
): Omit<ApplicableCell, "fault"> => {
  const failed = details.touched ?? touched(provider, operation)
  const succeeded = requestCount(operation) - failed
  return {
    _tag: "Applies",
    provider,
    operation,
    setup,
    expected: {
      outcomes: succeeded > 0 ? { success: succeeded, [reason]: failed } : { [reason]: failed },
      code: details.code,
      retryAfterMs: details.retryAfterMs,
      problemPath: details.problemPath,
      attemptsFailedWith: details.attemptsFailedWith === null ? undefined : (details.attemptsFailedWith ?? reason),
      attempts: details.attempts,
      refreshes: details.refreshes ?? 0,
      thenSucceeds: details.thenSucceeds,
      wait: details.wait
    }
  }
}

const notApplicable = ({ provider, operation }: Context, why: string): Omit<NotApplicableCell, "fault"> => ({
  _tag: "NotApplicable",
  provider,
  operation,
  why
})

/** A provider-shaped error body. */
export const errorBody = (provider: ProviderName, status: number, code: string, description: string): unknown =>
  provider === "bitrix24"
    ? { error: code, error_description: description }
    : { status, type: code, message: description }

const ACQUIRE_HAS_NO_OAUTH = "Acquire authenticates with an API key: there is no token to refresh"

/**
 * One row of the matrix: a fault, and how each provider and operation meets it.
 */
export interface FaultRow {
  readonly id: string
  /** The fault, as the issue names it. */
  readonly title: string
  /** How the test produces it. */
  readonly how: string
  readonly cell: (context: Context) => CellBody
}

export const ROWS = [
  {
    id: "retry-after-seconds",
    title: "429 with `Retry-After` in seconds",
    how: "`Faults.retryAfter(1)`: 429, `Retry-After: 1`",
    cell: (context) =>
      retriedOnce(context, [inject(Faults.retryAfter(1))], "RateLimited", {
        _tag: "AtLeast",
        ms: 1_000,
        why: "`Retry-After: 1`"
      })
  },
  {
    id: "retry-after-date",
    title: "429 with `Retry-After` as an HTTP date",
    how: "429, `Retry-After: <HTTP date about 2 s ahead>`",
    cell: (context) =>
      retriedOnce(context, [{ _tag: "InjectRetryAfterDate", aheadMs: RETRY_AFTER_DATE_AHEAD_MS }], "RateLimited", {
        _tag: "UntilRetryAfterDate"
      })
  },
  {
    id: "retry-after-past-budget",
    title: "429 with a `Retry-After` past the policy's `maxElapsed`",
    how: "`Faults.retryAfter(30)` with `maxElapsed` 10 s",
    cell: (context) =>
      endsWith(context, [inject(Faults.retryAfter(30))], "RateLimited", {
        attempts: baseline(context.provider, context.operation),
        retryAfterMs: 30_000,
        wait: { _tag: "None", why: "returned at once with its `retryAfter`, for the app to decide" }
      })
  },
  {
    id: "query-limit",
    title: "503 `QUERY_LIMIT_EXCEEDED`",
    how: "503 `{ error: QUERY_LIMIT_EXCEEDED }` (Acquire: the same 503 in its own error shape)",
    cell: (context) =>
      context.provider === "bitrix24"
        ? retriedOnce(
            context,
            [inject(Faults.status(503, errorBody("bitrix24", 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")))],
            "RateLimited",
            {
              _tag: "AtLeast",
              ms: QUERY_LIMIT_BACKOFF_MS,
              why: "the adapter's own `retryAfter` (one drain interval + 1 s), the portal sending none"
            }
          )
        : retriedOnce(
            context,
            [inject(Faults.status(503, errorBody("acquire", 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")))],
            "Unavailable"
          )
  },
  {
    id: "operation-time-limit",
    title: "429 `OPERATION_TIME_LIMIT`",
    how: "429 `{ error: OPERATION_TIME_LIMIT }`",
    cell: (context) =>
      context.provider === "bitrix24"
        ? retriedOnce(
            context,
            [
              inject(
                Faults.status(
                  429,
                  errorBody("bitrix24", 429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
                )
              )
            ],
            "RateLimited",
            {
              _tag: "AtLeast",
              ms: OPERATING_FALLBACK_MS,
              why: "the method stays blocked client-side (`operatingFallback`, no `operating_reset_at` known yet)"
            }
          )
        : notApplicable(context, "Bitrix24's per-method operating time; Acquire has no such limit")
  },
  {
    id: "500",
    title: "500",
    how: "500 with the provider's server-error body",
    cell: (context) =>
      retriedOnce(
        context,
        [
          inject(
            Faults.status(
              500,
              errorBody(
                context.provider,
                500,
                context.provider === "bitrix24" ? "INTERNAL_SERVER_ERROR" : "ERROR_SERVER_ERROR",
                "Internal server error"
              )
            )
          )
        ],
        "Unavailable"
      )
  },
  {
    id: "500-every-attempt",
    title: "500 on every attempt",
    how: "the same 500, `times: 3` (= `maxAttempts`)",
    cell: (context) =>
      endsWith(
        context,
        [
          inject(
            Faults.status(
              500,
              errorBody(
                context.provider,
                500,
                context.provider === "bitrix24" ? "INTERNAL_SERVER_ERROR" : "ERROR_SERVER_ERROR",
                "Internal server error"
              )
            ),
            POLICY.maxAttempts
          )
        ],
        "Unavailable",
        {
          attempts: baseline(context.provider, context.operation) + POLICY.maxAttempts - 1,
          code: context.provider === "bitrix24" ? "INTERNAL_SERVER_ERROR" : "ERROR_SERVER_ERROR",
          wait: { _tag: "AtLeast", ms: MIN_BACKOFF_MS, why: "the policy's backoff, until `maxAttempts`" }
        }
      )
  },
  {
    id: "502-html",
    title: "502 with an HTML body",
    how: "`Faults.html(502)`",
    cell: (context) => retriedOnce(context, [inject(Faults.html(502))], "Unavailable")
  },
  {
    id: "504-html",
    title: "504 with an HTML body",
    how: "`Faults.html(504)`",
    cell: (context) => retriedOnce(context, [inject(Faults.html(504))], "Unavailable")
  },
  {
    id: "reset",
    title: "a reset connection",
    how: "`Faults.reset()`",
    cell: (context) => retriedOnce(context, [inject(Faults.reset())], "Network")
  },
  {
    id: "hang",
    title: "a hang past the timeout",
    how: `\`Faults.hang()\`, transport timeout ${HANG_TIMEOUT_MS} ms`,
    cell: (context) =>
      retriedOnce(context, [inject(Faults.hang())], "Timeout", {
        _tag: "AfterSending",
        ms: HANG_TIMEOUT_MS + MIN_BACKOFF_MS,
        why: "from sending the hung request: the timeout, then the first backoff"
      })
  },
  {
    id: "malformed",
    title: "a malformed body",
    how: "`Faults.malformedJson()`: 200, JSON cut short",
    cell: (context) => retriedOnce(context, [inject(Faults.malformedJson())], "MalformedResponse")
  },
  {
    id: "truncated",
    title: "a truncated body",
    how: "`Faults.truncated()`: half the body, then the connection closes",
    cell: (context) => retriedOnce(context, [inject(Faults.truncated())], "Network")
  },
  {
    id: "empty",
    title: "an empty body",
    how: "`Faults.empty()`: 200, no body",
    cell: (context) => retriedOnce(context, [inject(Faults.empty())], "MalformedResponse")
  },
  {
    id: "expired-token",
    title: "401 with an expired token",
    how: "Bitrix24: `sandbox.expireAccessToken()`; Acquire: `sandbox.revokeKey(apiKey)`",
    cell: (context) =>
      context.provider === "bitrix24"
        ? {
            _tag: "Applies",
            provider: context.provider,
            operation: context.operation,
            setup: [{ _tag: "ExpireAccessToken" }],
            expected: {
              outcomes: { success: requestCount(context.operation) },
              attemptsFailedWith: undefined,
              attempts: 2,
              refreshes: 1,
              wait: { _tag: "None", why: "one refresh, then the call is repeated at once (not a policy retry)" }
            }
          }
        : endsWith(context, [{ _tag: "RevokeApiKey" }], "Unauthorized", {
            attempts: baseline(context.provider, context.operation),
            touched: requestCount(context.operation),
            code: "ERROR_UNAUTHORIZED",
            wait: { _tag: "None", why: "API keys do not expire or refresh: `Unauthorized` is final" }
          })
  },
  {
    id: "refresh-refused",
    title: "a refresh token the OAuth server refuses",
    how: "another process used the refresh token first, then the access token expires",
    cell: (context) =>
      context.provider === "bitrix24"
        ? endsWith(context, [{ _tag: "RotateRefreshTokenElsewhere" }, { _tag: "ExpireAccessToken" }], "Unauthorized", {
            attempts: 1,
            refreshes: 1,
            code: "invalid_grant",
            wait: { _tag: "None", why: "`Unauthorized` is final: authorize the application again" }
          })
        : notApplicable(context, ACQUIRE_HAS_NO_OAUTH)
  },
  {
    id: "failed-item",
    title: "a failed item inside a batch",
    how: "the sandbox answers `SUCCESS: false` for one item of the call",
    cell: (context) =>
      context.provider === "bitrix24"
        ? endsWith(context, [{ _tag: "FailItem", index: context.operation === "update" ? 0 : 1 }], "InvalidRequest", {
            attempts: 1,
            touched: 1,
            problemPath: context.operation === "update" ? "MESSAGES.0" : "MESSAGES.1",
            attemptsFailedWith: null,
            wait: { _tag: "None", why: "an item's own reason, not retryable; the other items succeed" }
          })
        : notApplicable(
            context,
            "Acquire has no batch call: each message is its own request (a request failing among many: see the 401 row)"
          )
  },
  // --- hostile answers (issue 10)
  {
    id: "deep-nesting",
    title: "an answer nested 100,000 levels deep",
    how: `500 whose JSON body is \`{"error":\` nested ${DEEP_LEVELS.toLocaleString("en-US")} levels (${Math.round(DEEP_BODY.length / 1024)} KiB, under the 1 MiB cap)`,
    cell: (context) => retriedOnce(context, [inject(Faults.status(500, DEEP_BODY))], "Unavailable")
  },
  {
    id: "encoded-echo",
    title: "an answer echoing the credentials in every encoding",
    how: "500 on every attempt whose description holds each credential raw, JSON- and `\\u`-escaped, with `\\/`, percent- and form-encoded, base64, base64url and as HTML references",
    cell: (context) =>
      endsWith(
        context,
        [
          {
            _tag: "InjectEcho",
            times: POLICY.maxAttempts,
            fault: (secrets) =>
              Faults.status(
                500,
                errorBody(
                  context.provider,
                  500,
                  context.provider === "bitrix24" ? "INTERNAL_SERVER_ERROR" : "ERROR_SERVER_ERROR",
                  `you sent ${secrets.map(everyEncoding).join(" ")}`
                )
              )
          }
        ],
        "Unavailable",
        {
          attempts: baseline(context.provider, context.operation) + POLICY.maxAttempts - 1,
          code: context.provider === "bitrix24" ? "INTERNAL_SERVER_ERROR" : "ERROR_SERVER_ERROR",
          wait: { _tag: "AtLeast", ms: MIN_BACKOFF_MS, why: "the policy's backoff, until `maxAttempts`" }
        }
      )
  },
  {
    id: "foreign-oauth-host",
    title: "a token answer naming a foreign OAuth host",
    how: `every token answer's \`server_endpoint\` says \`${FOREIGN_OAUTH_ENDPOINT}\`; a first call refreshes once, then \`sandbox.expireAccessToken()\``,
    cell: (context) =>
      context.provider === "bitrix24"
        ? {
            _tag: "Applies",
            provider: context.provider,
            operation: context.operation,
            setup: [{ _tag: "ForeignOAuthHost", endpoint: FOREIGN_OAUTH_ENDPOINT }, { _tag: "ExpireAccessToken" }],
            expected: {
              outcomes: { success: requestCount(context.operation) },
              attemptsFailedWith: undefined,
              attempts: 2,
              refreshes: 1,
              foreignRequests: 0,
              wait: {
                _tag: "None",
                why: "the refresh goes to the configured OAuth server, then the call is repeated at once"
              }
            }
          }
        : notApplicable(context, ACQUIRE_HAS_NO_OAUTH)
  },
  {
    id: "hanging-token-store",
    title: "a token store that hangs",
    how: `the token store's \`save\` never returns until the call ends, \`tokenStoreTimeout: ${TOKEN_STORE_DEADLINE_MS}\`, then \`sandbox.expireAccessToken()\``,
    cell: (context) =>
      context.provider === "bitrix24"
        ? endsWith(
            context,
            [{ _tag: "HangTokenStore", deadlineMs: TOKEN_STORE_DEADLINE_MS }, { _tag: "ExpireAccessToken" }],
            "Unavailable",
            {
              attempts: 1,
              refreshes: 1,
              code: "TOKEN_STORE",
              thenSucceeds: true,
              wait: {
                _tag: "StoreDeadline",
                ms: TOKEN_STORE_DEADLINE_MS,
                attempts: POLICY.maxAttempts,
                why: "each attempt cut at the store's deadline, retried by the policy"
              }
            }
          )
        : notApplicable(context, "Acquire keeps no tokens: its API key is configured, never stored or refreshed")
  }
] as const satisfies ReadonlyArray<FaultRow>

export type FaultId = (typeof ROWS)[number]["id"]

/** Every cell, in table order: fault, then provider, then operation. */
export const CELLS: ReadonlyArray<Cell> = ROWS.flatMap((row) =>
  PROVIDERS.flatMap((provider) =>
    OPERATIONS.map((operation) => ({ ...row.cell({ provider, operation }), fault: row.id }) as Cell)
  )
)

export const cellName = (cell: Pick<Cell, "provider" | "fault" | "operation">): string =>
  `${cell.provider} × ${cell.fault} × ${cell.operation}`

// --- the published table

const outcomeText = (expected: Expected): string => {
  const retriedOn =
    expected.attemptsFailedWith !== undefined && !(expected.attemptsFailedWith in expected.outcomes)
      ? `, retried on \`${expected.attemptsFailedWith}\``
      : ""
  const then = expected.thenSucceeds === true ? "; then the same call: all succeed" : ""
  return `${listOutcomes(expected)}${retriedOn}${then}`
}

const listOutcomes = (expected: Expected): string =>
  Object.entries(expected.outcomes)
    .map(([key, count]) => {
      const label = key === "success" ? "success" : `\`${key}\``
      const extra =
        key === "success"
          ? ""
          : [
              expected.code === undefined ? undefined : `\`${expected.code}\``,
              expected.retryAfterMs === undefined ? undefined : `retryAfter ${expected.retryAfterMs / 1000} s`,
              expected.problemPath === undefined ? undefined : `at \`${expected.problemPath}\``
            ]
              .filter((part) => part !== undefined)
              .join(", ")
      return `${count} × ${label}${extra.length > 0 ? ` (${extra})` : ""}`
    })
    .join(" + ")

const attemptsText = (expected: Expected): string =>
  `${expected.attempts}${expected.refreshes > 0 ? ` + ${expected.refreshes} refresh` : ""}${
    expected.foreignRequests === undefined ? "" : `; ${expected.foreignRequests} to the foreign host`
  }`

const waitText = (wait: Wait): string => {
  switch (wait._tag) {
    case "None":
      return `— (${wait.why})`
    case "AtLeast":
    case "AfterSending":
      return `≥ ${wait.ms} ms (${wait.why})`
    case "UntilRetryAfterDate":
      return "not before the `Retry-After` date (1–2 s)"
    case "StoreDeadline":
      return `${wait.attempts} × ≥ ${wait.ms} ms (${wait.why})`
  }
}

const escapeCell = (text: string): string => text.replaceAll("|", "\\|")

/** A Markdown table with its columns padded to their widest cell, as the formatter (biome) writes them. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const all = [header, ...rows].map((row) => row.map(escapeCell))
  const widths = header.map((_, column) => Math.max(3, ...all.map((row) => (row[column] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`
  const [head = [], ...body] = all
  return [line(head), line(widths.map((width) => "-".repeat(width))), ...body.map(line)]
}

const PROVIDER_TITLES: Record<ProviderName, string> = { bitrix24: "Bitrix24", acquire: "Acquire" }

/** The Markdown of `docs/fault-matrix.md`. */
export const render = (): string => {
  const lines: Array<string> = [
    "# Fault matrix",
    "",
    "<!-- Generated by test/reliability/fault-matrix.slow.test.ts from test/reliability/faultMatrix.ts. Do not edit:",
    "     run `UPDATE_FAULT_MATRIX=1 pnpm exec vitest run --project slow test/reliability/fault-matrix.slow.test.ts`. -->",
    "",
    "What reword does when a provider (or the network in front of it) misbehaves, for each provider, each fault and",
    "both `update` and `updateMany`. Every row is a test that runs in CI against the provider's local sandbox",
    "(`@reword/bitrix24/sandbox`, `@reword/acquire/sandbox`) over real HTTP, and these tables are generated from the",
    "data those tests run: the test fails when this file differs from what the data renders.",
    "",
    "How to read them:",
    "",
    `- **Policy**: every cell runs with \`retry: { initialDelay: ${POLICY.initialDelay}, maxDelay: ${POLICY.maxDelay}, maxAttempts: ${POLICY.maxAttempts}, maxElapsed: ${POLICY.maxElapsed} }\``,
    `  (jitter on) and \`transport: { timeout: ${TIMEOUT_MS} }\`, except the hang cells: \`timeout: ${HANG_TIMEOUT_MS}\`. Bitrix24 cells use a`,
    `  large bucket on both sides (${LARGE_BUCKET.drainPerSecond}/s, ${LARGE_BUCKET.capacity}) and \`operatingFallback: ${OPERATING_FALLBACK_MS}\`.`,
    `- **Outcome**: what each request ended with. \`update\` sends 1 request; \`updateMany\` sends ${MANY}, and every cell`,
    `  checks that it answers exactly ${MANY} outcomes, in order. A success is checked in the sandbox (the stored text is`,
    '  the new one); a failure is an `EditError` with this reason, and the sandbox still holds the old text. "retried',
    "  on\" is the reason of the failed attempt(s), read from the adapter's client spans.",
    "- **Requests**: requests to the edit endpoint in the sandbox's own log (Bitrix24: `imconnector.update.messages`,",
    "  one call carries every message of `updateMany`; Acquire: one `POST /crm/messenger/chat/message/{id}` per",
    "  message, and faults target the first message's), plus token refreshes (`/oauth/token/`) where there are some.",
    "- **Wait**: the least time between the faulted request and its retry (same message or call) in the sandbox's log.",
    "  `Retry-After` is honoured when the retry arrives no sooner than it asked. A hung request is timed from when",
    "  reword sent it (its timer starts then), to the retry in the sandbox's log.",
    "- **N/A**: the fault is a notion the provider does not have; the cell says why."
  ]
  for (const provider of PROVIDERS) {
    const rows: Array<ReadonlyArray<string>> = []
    for (const row of ROWS) {
      for (const operation of OPERATIONS) {
        const cell = CELLS.find(
          (candidate) =>
            candidate.fault === row.id && candidate.provider === provider && candidate.operation === operation
        )
        if (cell === undefined) continue
        rows.push(
          cell._tag === "NotApplicable"
            ? [row.title, `\`${operation}\``, `N/A: ${cell.why}`, "—", "—"]
            : [
                row.title,
                `\`${operation}\``,
                outcomeText(cell.expected),
                attemptsText(cell.expected),
                waitText(cell.expected.wait)
              ]
        )
      }
    }
    lines.push(
      "",
      `## ${PROVIDER_TITLES[provider]}`,
      "",
      ...table(["Fault", "Operation", "Outcome", "Requests", "Wait before the retry"], rows)
    )
  }
  lines.push(
    "",
    "## How each fault is produced",
    "",
    ...table(
      ["Fault", "How"],
      ROWS.map((row) => [row.title, row.how])
    ),
    "",
    "The failed Bitrix24 item is a real refusal by the sandbox: a `fetch` in front of it drops the text of one",
    'message of the call on its way, and the sandbox answers that item `SUCCESS: false` ("Not all required data was',
    'transmitted") inside an otherwise successful answer, as a portal does; reword cannot send such an item itself.',
    "",
    "The foreign OAuth host is a look-alike of Bitrix24's own, outside the allowlist (`Bitrix24Config.OAUTH_HOSTS`): a `fetch` in",
    "front of the sandbox writes it into every token answer, and takes any request for a host other than the",
    "sandbox's to a second loopback server, which counts them (checked first: a request for the foreign host does",
    "reach it). A first call refreshes once and gets the poisoned answer; the measured call's refresh must still go to",
    "the configured OAuth server, with nothing ever reaching the foreign one, and the ignored `server_endpoint` is",
    "logged (without secrets). The hanging token store is the editor's `tokenStore` whose `save` never returns, with",
    `\`tokenStoreTimeout\` shortened to ${TOKEN_STORE_DEADLINE_MS} ms (the default is 10 s): each attempt fails at the deadline with a retryable`,
    "`Unavailable` (code `TOKEN_STORE`) naming the token store, and the refreshed pair is never sent before it is",
    "stored (one request to the edit endpoint in all). Then the store answers again, the same call is made once more",
    "and every request of it lands, and the store holds the pair the sandbox issued last.",
    "",
    "Across the whole matrix, everything reword writes (debug logs, span attributes and statuses, every error's",
    "`message`, `String`, `JSON.stringify` and `util.inspect`) is captured and checked to contain no access token,",
    "refresh token, client secret or API key the sandboxes issued, in any encoding (raw, JSON- and `\\u`-escaped,",
    "percent- and form-encoded, base64 and base64url), checked independently of reword's own scrubbing.",
    "",
    "## Beyond the matrix",
    "",
    "The same folder, `test/reliability/`, holds the rest of the reliability suite:",
    "",
    "- `nothing-lost-*.slow.test.ts`: 1,000 updates per provider under a seeded 20% of faults of mixed kinds, retries on",
    "  (Bitrix24 also with access tokens expiring every second, faulted refreshes and a token store failing every",
    "  third save): every request ends with an outcome, every success is stored, every failure is a typed",
    "  `EditError`, no message ever goes back to an older text, and the store ends up with the newest token pair.",
    "- `token-store.test.ts`: rotated refresh tokens are never lost when the token store fails.",
    "- `transport-safety.slow.test.ts`: HTTPS required (plain HTTP only to an opted-in loopback), no redirect followed,",
    "  response bodies capped, a timeout on every request.",
    "- `load.slow.test.ts`: 1,000 concurrent updates across both providers under the sandboxes' rate limits, with no",
    "  limit error reaching the app and memory bounded.",
    "- `policy-bounds.slow.test.ts`: no call waits past the retry policy's `maxElapsed` (Bitrix24's operating-time block).",
    "- `hostile-answers.slow.test.ts`: answers of any size, depth (100,000 levels of nesting wherever an adapter reads),",
    "  shape or encoding, through both adapters (property-based): every outcome is a typed `EditError` or a success,",
    "  and `updateMany` answers one outcome per request.",
    "- `secrets-echo.slow.test.ts`: a server echoing every credential (and a pair issued by a refresh) in every encoding,",
    "  in every place an answer is read (property-based): no rendering of an error, log line or span holds one.",
    "- `known-bugs.slow.test.ts`: a known limitation, asserted as it is: an attempt reword abandoned at its timeout can",
    "  still reach the provider late and overwrite a newer edit that was reported as success.",
    ""
  )
  return lines.join("\n")
}
