/**
 * The fault matrix: every cell of `faultMatrix.ts` (provider × fault ×
 * operation) against the provider's sandbox over real HTTP. Each cell asserts
 * the outcome of every request (and that `updateMany` answers exactly one per
 * request), what the sandbox stored, the number of requests in the sandbox's
 * own log, and the least wait before each retry (so `Retry-After` is shown
 * honoured by the log, not by the library's word). Everything reword writes
 * while the matrix runs is captured and checked for secrets, and
 * `docs/fault-matrix.md` is checked to be what the matrix data renders
 * (`UPDATE_FAULT_MATRIX=1` writes it).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24, TokenStore } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { EditError, type EditedMessage, type MessageEditor } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { Cause, Duration, Effect, Exit, Option, Redacted, Result, Schema, Semaphore } from "effect"
import {
  type ApplicableCell,
  CELLS,
  cellName,
  HANG_TIMEOUT_MS,
  LARGE_BUCKET,
  MIN_BACKOFF_MS,
  OPERATING_FALLBACK_MS,
  type OutcomeKey,
  POLICY,
  render,
  requestCount,
  type Setup,
  TIMEOUT_MS
} from "./faultMatrix.ts"
import { encodedLeaks } from "./secretsEncodings.ts"
import {
  ACQUIRE_UPDATE_PATH,
  acquireSecrets,
  BITRIX24_UPDATE_PATH,
  bitrix24MessageIds,
  bitrix24Secrets,
  type Capture,
  capturing,
  leaksIn,
  makeCapture,
  OAUTH_PATH,
  printings,
  recordingTokenAnswers,
  type Secret,
  texts
} from "./support.ts"

const DOC = new URL("../../docs/fault-matrix.md", import.meta.url)

/**
 * Timers may fire a millisecond early against `Date`, and the log's times are
 * whole milliseconds: a retry counts as having waited long enough within this.
 */
const CLOCK_TOLERANCE_MS = 5

/** How much longer than its deadlines and backoffs a call failing on a hanging token store may take (a busy machine). */
const STORE_DEADLINE_SLACK_MS = 1_500

interface Seeded {
  readonly ids: SandboxServer.RelayedIds
  readonly before: string
  readonly after: string
}

/** What a cell observed. */
interface Observed {
  readonly outcomes: ReadonlyArray<Result.Result<EditedMessage.EditedMessage, EditError.EditError>>
  readonly seeded: ReadonlyArray<Seeded>
  readonly stored: ReadonlyArray<string | undefined>
  /** The sandbox's log from the call on. */
  readonly log: ReadonlyArray<SandboxServer.LoggedRequest>
  readonly isEdit: (request: SandboxServer.LoggedRequest) => boolean
  /** Which message (Acquire) or call (Bitrix24) a request is, to pair a faulted request with its retry. */
  readonly keyOf: (request: SandboxServer.LoggedRequest) => string
  readonly retryAfterDate: number | undefined
  /** When reword handed each request to `fetch`, by path, in order. */
  readonly sent: ReadonlyArray<{ readonly path: string; readonly at: number }>
  readonly secrets: ReadonlyArray<Secret>
  readonly capture: Capture
  /** How long the measured call took. */
  readonly elapsedMs: number
  /** Requests that reached the foreign OAuth server, from the first call on (`ForeignOAuthHost`). */
  readonly foreignRequests: number | undefined
  /** The same call made again once the token store answers (`HangTokenStore`). */
  readonly afterwards:
    | {
        readonly outcomes: ReadonlyArray<Result.Result<EditedMessage.EditedMessage, EditError.EditError>>
        readonly stored: ReadonlyArray<string | undefined>
        /** Whether the token store then holds the pair the sandbox issued last. */
        readonly storeHoldsLastPair: boolean
        readonly capture: Capture
      }
    | undefined
}

/** What the whole matrix wrote and which secrets its sandboxes issued, for the secrets test. */
const everything: { readonly texts: Array<string>; readonly secrets: Array<Secret>; cells: number } = {
  texts: [],
  secrets: [],
  cells: 0
}
const passed = new Set<string>()

const httpDate = (aheadMs: number): { readonly header: string; readonly at: number } => {
  const header = new Date(Date.now() + aheadMs).toUTCString()
  return { header, at: Date.parse(header) }
}

/** A `fetch` that notes when reword sent each request (a hang's timer starts then, before the sandbox sees it). */
const recording = (inner: typeof globalThis.fetch = fetch) => {
  const sent: Array<{ readonly path: string; readonly at: number }> = []
  const recorded: typeof globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    sent.push({ path: new URL(url).pathname, at: Date.now() })
    return inner(input, init)
  }
  return { sent, fetch: recorded }
}

/**
 * A `fetch` that drops the text of the message at `index` of every
 * `imconnector.update.messages` call on its way to the sandbox, so that the
 * sandbox refuses that item itself.
 */
const droppingTextAt =
  (index: number): typeof globalThis.fetch =>
  async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init)
    if (!request.url.endsWith(BITRIX24_UPDATE_PATH)) return fetch(request)
    const body = JSON.parse(await request.text()) as { MESSAGES: Array<{ message: Record<string, unknown> }> }
    const item = body.MESSAGES[index]
    if (item !== undefined) item.message = { ...item.message, text: undefined }
    return fetch(request.url, {
      method: request.method,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: request.signal
    })
  }

/**
 * A `fetch` in front of the sandbox that sets the `server_endpoint` of every
 * token answer to `endpoint`, and takes every request for a host other than
 * the sandbox's to the foreign server (as if that host resolved to it).
 */
const poisoningTokenAnswers =
  (sandboxUrl: string, foreignUrl: string, endpoint: string, inner: typeof globalThis.fetch): typeof globalThis.fetch =>
  async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init)
    const url = new URL(request.url)
    if (url.origin !== new URL(sandboxUrl).origin) {
      return inner(`${foreignUrl}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer(),
        signal: request.signal
      })
    }
    const response = await inner(request)
    if (url.pathname !== OAUTH_PATH || response.status !== 200) return response
    const answer = (await response.json()) as Record<string, unknown>
    return Response.json({ ...answer, server_endpoint: endpoint }, { status: response.status })
  }

/** A second loopback server: where every host but the sandbox's leads. It answers nothing useful, and logs. */
const foreignServer = Effect.acquireRelease(
  Effect.promise(() =>
    SandboxServer.start(() => ({ status: 500, body: { error: "FOREIGN", error_description: "not the OAuth server" } }))
  ),
  (server) => Effect.promise(() => server.stop())
)

/**
 * A token store whose `save` never returns while `hanging` is on (the editor
 * must cut it at its deadline).
 */
const hangableStore = () => {
  const memory = TokenStore.makeMemory()
  const control = { hanging: false }
  const store: TokenStore.Service = {
    load: memory.load,
    save: (tokens) => (control.hanging ? Effect.never : memory.save(tokens))
  }
  return { store, memory, control }
}

const faultsOf = (setup: ReadonlyArray<Setup>) => ({
  failItem: setup.flatMap((step) => (step._tag === "FailItem" ? [step.index] : []))[0],
  foreign: setup.flatMap((step) => (step._tag === "ForeignOAuthHost" ? [step] : []))[0],
  hang: setup.flatMap((step) => (step._tag === "HangTokenStore" ? [step] : []))[0]
})

/** The hang cells wait for a short timeout; every other cell has a long one, so a busy machine never times out. */
const timeoutOf = (cell: ApplicableCell): number =>
  cell.setup.some((step) => step._tag === "Inject" && step.fault._tag === "Hang") ? HANG_TIMEOUT_MS : TIMEOUT_MS

const runOperation = (
  editor: MessageEditor.Service,
  cell: ApplicableCell,
  seeded: ReadonlyArray<Seeded>,
  capture: Capture
) =>
  capturing(capture)(
    cell.operation === "update"
      ? Effect.map(
          Effect.result(editor.update({ ids: (seeded[0] as Seeded).ids, text: (seeded[0] as Seeded).after })),
          (outcome) => [outcome]
        )
      : editor.updateMany(seeded.map(({ ids, after }) => ({ ids, text: after })))
  )

const seed = (sandbox: SandboxServer.ProviderSandbox, cell: ApplicableCell) =>
  Effect.forEach(
    Array.from({ length: requestCount(cell.operation) }, (_, n) => n),
    (n) =>
      Effect.map(
        Effect.promise(() => sandbox.seedMessage(`original ${n}`)),
        (ids): Seeded => ({ ids, before: `original ${n}`, after: `edited ${n}` })
      )
  )

const runBitrix24 = (cell: ApplicableCell) =>
  Effect.gen(function* () {
    const sandbox = yield* Bitrix24Sandbox.scoped({ bucket: LARGE_BUCKET })
    const seeded = yield* seed(sandbox, cell)
    const { failItem, foreign, hang } = faultsOf(cell.setup)
    const base = failItem === undefined ? fetch : droppingTextAt(failItem)
    const elsewhere = foreign === undefined ? undefined : yield* foreignServer
    const network =
      foreign === undefined || elsewhere === undefined
        ? base
        : poisoningTokenAnswers(sandbox.url, elsewhere.url, foreign.endpoint, base)
    if (foreign !== undefined && elsewhere !== undefined) {
      // The way there works: a request for the foreign host does reach the foreign server.
      yield* Effect.promise(() => network(new URL(OAUTH_PATH, foreign.endpoint), { method: "POST", body: "probe" }))
      assert.strictEqual(elsewhere.requests.length, 1, "the foreign server is reachable")
    }
    const foreignMark = elsewhere?.requests.length ?? 0
    const tokenAnswers = recordingTokenAnswers(network)
    const client = recording(tokenAnswers.fetch)
    const hangable = hangableStore()
    const editor = yield* Effect.orDie(
      Bitrix24.make(sandbox.settings, {
        retry: POLICY,
        transport: { timeout: timeoutOf(cell), fetch: client.fetch },
        rateLimit: { bucket: LARGE_BUCKET, operatingFallback: OPERATING_FALLBACK_MS },
        ...(hang === undefined ? {} : { tokenStore: hangable.store, tokenStoreTimeout: hang.deadlineMs })
      })
    )
    let retryAfterDate: number | undefined
    for (const step of cell.setup) {
      switch (step._tag) {
        case "Inject":
          sandbox.server.inject({
            fault: step.fault,
            times: step.times,
            path: step.target === "oauth" ? OAUTH_PATH : BITRIX24_UPDATE_PATH
          })
          break
        case "InjectRetryAfterDate": {
          const date = httpDate(step.aheadMs)
          retryAfterDate = date.at
          sandbox.server.inject({
            fault: Bitrix24Sandbox.Faults.retryAfter(date.header),
            times: 1,
            path: BITRIX24_UPDATE_PATH
          })
          break
        }
        case "ExpireAccessToken":
          sandbox.expireAccessToken()
          break
        case "RotateRefreshTokenElsewhere": {
          // Another process with the same application refreshes first: the configured refresh token is used up.
          const answer = yield* Effect.promise(() =>
            fetch(`${sandbox.url}${OAUTH_PATH}`, {
              method: "POST",
              body: new URLSearchParams({
                grant_type: "refresh_token",
                client_id: sandbox.clientId,
                client_secret: sandbox.clientSecret,
                refresh_token: sandbox.refreshToken
              })
            })
          )
          assert.strictEqual(answer.status, 200)
          break
        }
        case "FailItem":
          break
        case "InjectEcho":
          sandbox.server.inject({
            fault: step.fault([sandbox.accessToken, sandbox.refreshToken, sandbox.clientSecret]),
            times: step.times,
            path: BITRIX24_UPDATE_PATH
          })
          break
        case "ForeignOAuthHost": {
          // A first call refreshes once: its token answer names the foreign host. (The measured call after it is
          // sent in its own caller's context, whichever call came before it on this editor.)
          const ids = yield* Effect.promise(() => sandbox.seedMessage("before the poisoned answer"))
          sandbox.expireAccessToken()
          const first = yield* Effect.result(editor.update({ ids, text: "after the poisoned answer" }))
          assert.isTrue(Result.isSuccess(first), "the first call, refreshing once, succeeds")
          assert.strictEqual(sandbox.refreshes(), 1, "the first call refreshed")
          break
        }
        case "HangTokenStore":
          hangable.control.hanging = true
          break
        case "RevokeApiKey":
          throw new Error("Bitrix24 has no API key")
      }
    }
    const mark = sandbox.server.requests.length
    const capture = makeCapture()
    const started = Date.now()
    const outcomes = yield* runOperation(editor, cell, seeded, capture)
    const elapsedMs = Date.now() - started
    const stored = seeded.map(({ ids }) => sandbox.inspect(ids)?.text)
    const log = sandbox.server.requests.slice(mark)
    let afterwards: Observed["afterwards"]
    if (hang !== undefined) {
      // The store answers again: the same call once more.
      hangable.control.hanging = false
      const again = makeCapture()
      const outcomes = yield* runOperation(editor, cell, seeded, again)
      const held = Option.getOrUndefined(yield* Effect.orDie(hangable.memory.load))
      afterwards = {
        outcomes,
        stored: seeded.map(({ ids }) => sandbox.inspect(ids)?.text),
        storeHoldsLastPair:
          held !== undefined &&
          Redacted.value(held.accessToken) === sandbox.tokens().accessToken &&
          Redacted.value(held.refreshToken) === sandbox.tokens().refreshToken,
        capture: again
      }
    }
    return {
      outcomes,
      seeded,
      stored,
      elapsedMs,
      foreignRequests: elsewhere === undefined ? undefined : elsewhere.requests.length - foreignMark,
      afterwards,
      log,
      isEdit: (request: SandboxServer.LoggedRequest) => request.path === BITRIX24_UPDATE_PATH,
      keyOf: (request: SandboxServer.LoggedRequest) =>
        request.path === BITRIX24_UPDATE_PATH ? bitrix24MessageIds(request).join(",") : request.path,
      retryAfterDate,
      sent: client.sent,
      secrets: bitrix24Secrets(sandbox, tokenAnswers.issued),
      capture
    } satisfies Observed
  })

const runAcquire = (cell: ApplicableCell) =>
  Effect.gen(function* () {
    const sandbox = yield* AcquireSandbox.scoped()
    const seeded = yield* seed(sandbox, cell)
    const client = recording()
    const editor = yield* Effect.orDie(
      Acquire.make(sandbox.settings, { retry: POLICY, transport: { timeout: timeoutOf(cell), fetch: client.fetch } })
    )
    // Faults target the first message's requests, so the cell's numbers do not depend on which request came first.
    const firstPath = `${ACQUIRE_UPDATE_PATH}${(seeded[0] as Seeded).ids.providerMessageId}`
    let retryAfterDate: number | undefined
    for (const step of cell.setup) {
      switch (step._tag) {
        case "Inject":
          sandbox.server.inject({ fault: step.fault, times: step.times, path: firstPath })
          break
        case "InjectRetryAfterDate": {
          const date = httpDate(step.aheadMs)
          retryAfterDate = date.at
          sandbox.server.inject({ fault: AcquireSandbox.Faults.retryAfter(date.header), times: 1, path: firstPath })
          break
        }
        case "RevokeApiKey":
          sandbox.revokeKey(sandbox.apiKey)
          break
        case "InjectEcho":
          sandbox.server.inject({ fault: step.fault([sandbox.apiKey]), times: step.times, path: firstPath })
          break
        default:
          throw new Error(`Acquire has no ${step._tag}`)
      }
    }
    const mark = sandbox.server.requests.length
    const capture = makeCapture()
    const started = Date.now()
    const outcomes = yield* runOperation(editor, cell, seeded, capture)
    const elapsedMs = Date.now() - started
    return {
      outcomes,
      seeded,
      stored: seeded.map(({ ids }) => sandbox.inspect(ids)?.text),
      log: sandbox.server.requests.slice(mark),
      isEdit: (request: SandboxServer.LoggedRequest) => request.path.startsWith(ACQUIRE_UPDATE_PATH),
      keyOf: (request: SandboxServer.LoggedRequest) => request.path,
      retryAfterDate,
      sent: client.sent,
      secrets: acquireSecrets(sandbox),
      capture,
      elapsedMs,
      foreignRequests: undefined,
      afterwards: undefined
    } satisfies Observed
  })

const outcomeKey = (outcome: Result.Result<unknown, EditError.EditError>): OutcomeKey =>
  Result.isSuccess(outcome) ? "success" : outcome.failure.reason._tag

/**
 * For each injected fault on the edit endpoint: when the sandbox logged it,
 * when reword sent it (the first request reword sent on its path: faults hit
 * the first request of their path), and when the sandbox logged the next
 * request of the same message or call.
 */
const retryGaps = (
  observed: Observed
): ReadonlyArray<{ readonly faulted: number; readonly sent: number; readonly retry: number | undefined }> =>
  observed.log.flatMap((request, index) => {
    if (request.fault === undefined || !observed.isEdit(request)) return []
    const key = observed.keyOf(request)
    const retry = observed.log.slice(index + 1).find((next) => observed.isEdit(next) && observed.keyOf(next) === key)
    const sent = observed.sent.find((entry) => entry.path === request.path)?.at ?? Number.NaN
    return [{ faulted: request.at.getTime(), sent, retry: retry?.at.getTime() }]
  })

const check = (cell: ApplicableCell, observed: Observed): void => {
  const { expected } = cell
  const { outcomes } = observed

  // Exactly one outcome per request, in order.
  assert.strictEqual(outcomes.length, requestCount(cell.operation), "one outcome per request")
  const tally: Partial<Record<OutcomeKey, number>> = {}
  for (const outcome of outcomes) tally[outcomeKey(outcome)] = (tally[outcomeKey(outcome)] ?? 0) + 1
  assert.deepStrictEqual(tally, expected.outcomes, "outcomes")

  outcomes.forEach((outcome, n) => {
    const seeded = observed.seeded[n] as Seeded
    if (Result.isSuccess(outcome)) {
      // A success is in the sandbox with the new text, and says so.
      assert.strictEqual(outcome.success.text, seeded.after)
      assert.strictEqual(observed.stored[n], seeded.after, "a success is stored")
      return
    }
    const error = outcome.failure
    assert.isTrue(EditError.isEditError(error), "a failure is an EditError")
    assert.strictEqual(error.provider, cell.provider)
    assert.strictEqual(error.operation, cell.operation)
    assert.strictEqual(observed.stored[n], seeded.before, "a failure left the message as it was")
    const reason = error.reason
    if (expected.code !== undefined) assert.strictEqual("code" in reason ? reason.code : undefined, expected.code)
    if (expected.retryAfterMs !== undefined) {
      assert.strictEqual(
        error.retryAfter === undefined ? undefined : Duration.toMillis(error.retryAfter),
        expected.retryAfterMs,
        "the retryAfter the app gets"
      )
    }
    if (expected.problemPath !== undefined) {
      assert.deepStrictEqual(reason._tag === "InvalidRequest" ? reason.problems.map((problem) => problem.path) : [], [
        expected.problemPath
      ])
    }
  })

  // What each failed attempt was, from the adapter's client spans (one per provider call).
  const isReason = Schema.is(EditError.EditErrorReason)
  const failedAttempts = observed.capture.spans.flatMap((span) => {
    if (!/^(Bitrix24Client|AcquireClient)\./.test(span.name) || span.status._tag !== "Ended") return []
    const exit = span.status.exit
    if (Exit.isSuccess(exit)) return []
    const error = Cause.squash(exit.cause)
    // Bitrix24's client spans end with an EditError, Acquire's internal calls with the reason itself.
    if (EditError.isEditError(error)) return [error.reason._tag]
    return [isReason(error) ? error._tag : `not an EditError: ${String(error)}`]
  })
  assert.deepStrictEqual(
    [...new Set(failedAttempts)],
    expected.attemptsFailedWith === undefined ? [] : [expected.attemptsFailedWith],
    "what the failed attempts were"
  )

  // Attempts, from the sandbox's own log.
  assert.strictEqual(observed.log.filter(observed.isEdit).length, expected.attempts, "requests to the edit endpoint")
  assert.strictEqual(
    observed.log.filter((request) => request.path === OAUTH_PATH).length,
    expected.refreshes,
    "token refreshes"
  )

  // A foreign OAuth host named by a token answer: nothing went there, and the answer's host was noted as ignored.
  if (expected.foreignRequests !== undefined) {
    assert.strictEqual(observed.foreignRequests, expected.foreignRequests, "requests that reached the foreign host")
    assert.isTrue(
      observed.capture.logs.some((line) => line.includes("ignored the server_endpoint")),
      "the ignored server_endpoint is logged"
    )
  }

  // Then the same call, once the store answers, lands every request, and the store holds the newest pair.
  if (expected.thenSucceeds === true) {
    const afterwards = observed.afterwards
    assert.isDefined(afterwards, "the call was made again")
    assert.deepStrictEqual(
      afterwards?.outcomes.map(outcomeKey),
      observed.seeded.map(() => "success"),
      "then succeeds"
    )
    assert.deepStrictEqual(
      afterwards?.stored,
      observed.seeded.map(({ after }) => after),
      "then stored"
    )
    assert.isTrue(afterwards?.storeHoldsLastPair, "the store holds the pair the sandbox issued last")
  }

  // The wait before each retry, from the sandbox's own log.
  const gaps = retryGaps(observed)
  const wait = expected.wait
  switch (wait._tag) {
    case "None":
      for (const gap of gaps) assert.isUndefined(gap.retry, "not retried")
      break
    case "AtLeast":
      assert.isAbove(gaps.length, 0, "a fault was played")
      for (const gap of gaps) {
        if (gap.retry === undefined) continue
        assert.isAtLeast(gap.retry - gap.faulted, wait.ms - CLOCK_TOLERANCE_MS, wait.why)
      }
      assert.isTrue(
        gaps.some((gap) => gap.retry !== undefined),
        "retried"
      )
      break
    case "AfterSending":
      assert.strictEqual(gaps.length, 1)
      assert.isDefined(gaps[0]?.retry, "retried")
      for (const gap of gaps) {
        assert.isAtLeast((gap.retry ?? 0) - gap.sent, wait.ms - CLOCK_TOLERANCE_MS, wait.why)
        // And the retry came after the hung request reached the sandbox, by at least the backoff.
        assert.isAtLeast((gap.retry ?? 0) - gap.faulted, MIN_BACKOFF_MS - CLOCK_TOLERANCE_MS)
      }
      break
    case "StoreDeadline": {
      // No fault in the log to time: the call as a whole waited out the store's deadline on every attempt, no more.
      assert.strictEqual(gaps.length, 0)
      assert.isAtLeast(observed.elapsedMs, wait.attempts * wait.ms - CLOCK_TOLERANCE_MS, "each attempt at the deadline")
      assert.isBelow(
        observed.elapsedMs,
        wait.attempts * (wait.ms + POLICY.maxDelay) + STORE_DEADLINE_SLACK_MS,
        "cut at the deadline"
      )
      const attempts = observed.capture.spans.filter((span) => span.name.startsWith("Bitrix24Client."))
      assert.isAtLeast(attempts.length, wait.attempts, "the policy retried")
      for (const outcome of outcomes) {
        assert.isTrue(Result.isFailure(outcome) && outcome.failure.isRetryable, "retryable")
        if (Result.isFailure(outcome)) assert.include(outcome.failure.message, "token store")
      }
      break
    }
    case "UntilRetryAfterDate": {
      const date = observed.retryAfterDate ?? Number.NaN
      assert.strictEqual(gaps.length, 1)
      const retry = gaps[0]?.retry
      assert.isDefined(retry, "retried")
      assert.isAtLeast(retry ?? 0, date - CLOCK_TOLERANCE_MS, "not before the Retry-After date")
      break
    }
  }
}

/**
 * Cells run a few at a time: each brings its own sandbox into this process,
 * and dozens at once would starve the event loop that both share (answers
 * then arrive late for reasons that have nothing to do with the fault).
 */
const permits = Semaphore.makeUnsafe(6)

describe.concurrent("the fault matrix", () => {
  for (const cell of CELLS) {
    if (cell._tag === "NotApplicable") {
      it.skip(`${cellName(cell)}: N/A (${cell.why})`, () => Effect.void)
      continue
    }
    it.live(
      cellName(cell),
      () =>
        Effect.gen(function* () {
          const observed = yield* permits.withPermits(1)(
            Effect.scoped(cell.provider === "bitrix24" ? runBitrix24(cell) : runAcquire(cell))
          )
          for (const outcome of observed.outcomes) {
            if (Result.isFailure(outcome)) observed.capture.printed.push(...printings(outcome.failure))
            else observed.capture.printed.push(JSON.stringify(outcome.success))
          }
          const afterwards = observed.afterwards
          for (const outcome of afterwards?.outcomes ?? []) {
            if (Result.isFailure(outcome)) afterwards?.capture.printed.push(...printings(outcome.failure))
          }
          const written = [...texts(observed.capture), ...(afterwards === undefined ? [] : texts(afterwards.capture))]
          const secrets = observed.secrets
          everything.texts.push(...written)
          everything.secrets.push(...secrets)
          everything.cells += 1
          // Each cell's own secrets, at once (the test below checks the whole matrix against all of them).
          assert.deepStrictEqual(leaksIn(written, secrets), [])
          // Nor in any encoding (checked independently of reword's own scrub).
          assert.deepStrictEqual(encodedLeaks(written, secrets), [])
          check(cell, observed)
          passed.add(cellName(cell))
        }),
      60_000
    )
  }
})

const applicable = CELLS.filter((cell): cell is ApplicableCell => cell._tag === "Applies")

describe("secrets across the whole fault matrix", () => {
  it("nothing reword wrote (debug logs, spans, errors however printed) holds a token, client secret or API key", (context) => {
    // A filtered run did not run the whole matrix: nothing to say about it.
    if (everything.cells < applicable.length) context.skip()
    const kinds = new Set(everything.secrets.map((secret) => secret.name))
    // The check is not vacuous: every kind of secret was in play, and reword did write.
    assert.includeMembers([...kinds], ["access token", "refresh token", "client secret", "API key"])
    assert.isAbove(
      everything.texts.filter((text) => text.startsWith("Debug ")).length,
      applicable.length,
      "debug lines captured"
    )
    assert.isTrue(everything.texts.some((text) => text.includes("attempt failed")))
    assert.isTrue(everything.texts.some((text) => text.includes("MessageEditor.updateMany")))
    assert.isTrue(everything.texts.some((text) => text.includes("reword.outcome")))
    // And it would see a leak.
    const planted = everything.secrets[0] as Secret
    assert.lengthOf(leaksIn([`oops ${planted.value} oops`], [planted]), 1)

    assert.deepStrictEqual(leaksIn(everything.texts, everything.secrets), [])
  })
})

describe("docs/fault-matrix.md", () => {
  it("is what the matrix data renders (UPDATE_FAULT_MATRIX=1 writes it)", () => {
    const rendered = render()
    if (process.env.UPDATE_FAULT_MATRIX === "1") {
      const missing = applicable.map(cellName).filter((name) => !passed.has(name))
      assert.deepStrictEqual(missing, [], "publish only a matrix whose every cell passed in this run")
      writeFileSync(DOC, rendered)
    }
    assert.strictEqual(readFileSync(DOC, "utf8"), rendered)
  })
})
