/**
 * What the "nothing lost" runs share: the seeded mix of faults (a 20% share of
 * requests), the edits (each message edited round after round), the
 * invariants checked over every message afterwards, and token stores that fail.
 */
import { assert } from "@effect/vitest"
import { TokenStore } from "@reword/bitrix24"
import { EditError, type MessageEditor } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { Effect, Option, Redacted, Result } from "effect"

const { Faults } = SandboxServer

export const MESSAGES = 500
export const ROUNDS = 2 // 500 messages edited twice: 1,000 updates per provider
export const FAULT_RATE = 0.2
export const POLICY = { initialDelay: 10, maxDelay: 100, maxAttempts: 3, maxElapsed: 10_000 } as const
export const TIMEOUT_MS = 500

/** The kinds of fault every provider meets; each gets its own seed and an equal part of the 20%. */
const commonFaults = (serverError: unknown): ReadonlyArray<SandboxServer.Fault> => [
  Faults.status(500, serverError),
  Faults.html(502),
  Faults.html(504),
  Faults.reset(),
  Faults.hang(),
  Faults.malformedJson(),
  Faults.truncated(),
  Faults.empty(),
  Faults.retryAfter(1)
]

/**
 * Bitrix24 meets its rate-limit answer too. Not `OPERATION_TIME_LIMIT`: after
 * the first success the adapter knows `operating_reset_at` (the sandbox puts it
 * about ten minutes ahead, as a portal does), so such an answer blocks the
 * method until then, by design (every later call fails at once with
 * `RateLimited`, its wait being past `maxElapsed`); and a portal never sends it
 * while the `operating` it reports is near zero. The fault matrix covers it,
 * and `policy-bounds.test.ts` the block.
 */
export const bitrix24Faults = [
  ...commonFaults({ error: "INTERNAL_SERVER_ERROR", error_description: "Internal server error" }),
  Faults.status(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" })
]

export const acquireFaults = commonFaults({ status: 500, type: "ERROR_SERVER_ERROR", message: "Internal server error" })

/**
 * Injects each kind for a share `s` of requests such that, rules being tried
 * in turn, a request meets some fault with probability 1 - (1 - s)^k = 20%.
 * `hangOnlyAt` keeps the hanging fault to the paths holding it: a hung token
 * request is waited for (up to 2 minutes, its answer holds the only valid
 * pair), which `refreshed-pair-durability.slow.test.ts` covers on its own.
 */
export const injectFaults = (
  server: SandboxServer.SandboxServer,
  faults: ReadonlyArray<SandboxServer.Fault>,
  options: { readonly hangOnlyAt?: string } = {}
): void => {
  const share = 1 - (1 - FAULT_RATE) ** (1 / faults.length)
  faults.forEach((fault, n) => {
    const path = fault._tag === "Hang" ? options.hangOnlyAt : undefined
    server.inject({ fault, share, seed: 4_000 + 97 * n, ...(path === undefined ? {} : { path }) })
  })
}

export const textOf = (message: number, round: number) => `message ${message}, version ${round}`
export const ORIGINAL = 0

/** Which version of which message a stored text is. */
const versionOf = (text: string | undefined): { readonly message: number; readonly round: number } | undefined => {
  const match = /^message (\d+), version (\d+)$/.exec(text ?? "")
  return match === null ? undefined : { message: Number(match[1]), round: Number(match[2]) }
}

/** One request reword handed to `fetch`: the edits it carried, when, and how it ended for reword. */
export interface Attempt {
  readonly texts: ReadonlyArray<string>
  readonly at: number
  /** `answered`: reword got an answer; `abandoned`: aborted at the timeout or failed on the way (the provider may still apply it). */
  state: "pending" | "answered" | "abandoned"
}

const EDIT_TEXT = /^message \d+, version \d+$/

const editTexts = (value: unknown): Array<string> => {
  if (typeof value === "string") return EDIT_TEXT.test(value) ? [value] : []
  if (typeof value !== "object" || value === null) return []
  return Object.values(value).flatMap(editTexts)
}

/** A `fetch` that records every request reword sends, with the edits it carries and how it ended. */
export const recordingFetch = () => {
  const attempts: Array<Attempt> = []
  const recorded: typeof globalThis.fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init)
    const body = await request.clone().text()
    let texts: Array<string> = []
    try {
      texts = editTexts(JSON.parse(body))
    } catch {
      // Not JSON (a token refresh): no edit in it.
    }
    const attempt: Attempt = { texts, at: Date.now(), state: "pending" }
    attempts.push(attempt)
    try {
      const response = await fetch(request)
      attempt.state = "answered"
      return response
    } catch (error) {
      attempt.state = "abandoned"
      throw error
    }
  }
  return { attempts, fetch: recorded }
}

export type Outcome = MessageEditor.Outcome

interface Summary {
  readonly provider: string
  readonly updates: number
  readonly successes: number
  readonly failures: Record<string, number>
  /** Failures whose edit landed anyway (an answer lost after the provider applied it): reported as failures, never as success. */
  readonly landedDespiteFailure: number
  /** The same text stored twice in a row: an idempotent repeat, invisible to the app. */
  readonly idempotentRepeats: number
  /**
   * An older text stored after a newer one, each time from an attempt reword
   * had abandoned at its timeout (or lost on the way) and the provider applied
   * late: the hazard of any timeout against an API without conditional updates.
   */
  readonly lateAbandonedAttempts: number
  /** Messages whose stored text ended older than the newest edit reported as success (only ever from the above). */
  readonly newestSuccessOverwritten: number
  readonly requests: number
  readonly faulted: number
}

/**
 * Checks the invariants over every message, and answers what happened.
 * `rounds[r - 1][i]` is the outcome of round `r` for message `i`.
 */
export const verify = (
  provider: string,
  rounds: ReadonlyArray<ReadonlyArray<Outcome>>,
  stored: ReadonlyArray<SandboxServer.StoredMessage | undefined>,
  log: ReadonlyArray<SandboxServer.LoggedRequest>,
  attempts: ReadonlyArray<Attempt>,
  /** When each round started (Unix millis), in order. */
  roundStarts: ReadonlyArray<number>
): Summary => {
  const failures: Record<string, number> = {}
  let successes = 0
  let landedDespiteFailure = 0
  let idempotentRepeats = 0
  let lateAbandonedAttempts = 0
  let newestSuccessOverwritten = 0

  // reword never sends an edit after the app moved on: no attempt of round r starts once round r + 1 has.
  assert.isAbove(attempts.length, 0, "attempts recorded")
  for (const attempt of attempts) {
    for (const text of attempt.texts) {
      const round = versionOf(text)?.round ?? 0
      const next = roundStarts[round]
      if (next !== undefined) assert.isBelow(attempt.at, next, `"${text}" sent after round ${round + 1} began`)
    }
  }
  const abandoned = new Set(
    attempts.filter((attempt) => attempt.state === "abandoned").flatMap((attempt) => attempt.texts)
  )
  rounds.forEach((outcomes, index) => {
    // Every request ends with an outcome, in order.
    assert.strictEqual(outcomes.length, MESSAGES, `round ${index + 1}: one outcome per request`)
    for (const outcome of outcomes) {
      if (Result.isSuccess(outcome)) {
        successes += 1
        continue
      }
      // Every failure is typed: an EditError of this provider, with a reason to match on.
      const error = outcome.failure
      assert.isTrue(EditError.isEditError(error))
      assert.strictEqual(error.provider, provider)
      assert.strictEqual(error.operation, "updateMany")
      assert.isString(error.reason._tag)
      // Every fault injected is transient: a failure is one that outlasted the policy, never a wrong diagnosis.
      assert.isTrue(error.isRetryable, `a transient fault ends as a retryable reason, not ${error.reason._tag}`)
      const key =
        "code" in error.reason && error.reason.code !== undefined
          ? `${error.reason._tag} (${error.reason.code})`
          : error.reason._tag
      failures[key] = (failures[key] ?? 0) + 1
    }
  })

  for (let message = 0; message < MESSAGES; message++) {
    const history = stored[message]?.history
    assert.isDefined(history, `message ${message} is still there`)
    const versions = (history ?? []).map((text) => {
      const version = versionOf(text)
      // No edit of another message ever lands on this one.
      assert.strictEqual(version?.message, message, `message ${message} holds "${text}"`)
      return version?.round ?? Number.NaN
    })
    assert.strictEqual(versions[0], ORIGINAL)
    // Never back to an older text, but from an attempt reword abandoned (its timeout passed; the provider
    // applied it late): reword itself never sends an edit late or twice out of order.
    let newest = ORIGINAL
    versions.forEach((round, n) => {
      if (n === 0) return
      if (round < newest) {
        assert.isTrue(
          abandoned.has(textOf(message, round)),
          `message ${message}: history ${JSON.stringify(history)}, and no abandoned attempt explains it`
        )
        lateAbandonedAttempts += 1
      }
      if (round === versions[n - 1]) idempotentRepeats += 1
      newest = Math.max(newest, round)
    })
    let newestSuccess = ORIGINAL
    rounds.forEach((outcomes, index) => {
      const round = index + 1
      if (Result.isSuccess(outcomes[message] as Outcome)) {
        newestSuccess = round
        // Every success is in the sandbox with its text (and says so).
        assert.include(versions, round, `message ${message}: round ${round} succeeded, so it was stored`)
        const outcome = outcomes[message] as Outcome
        assert.strictEqual(Result.isSuccess(outcome) ? outcome.success.text : undefined, textOf(message, round))
      }
    })
    const final = versions.at(-1) ?? Number.NaN
    // The stored text is the newest success, or a newer edit reported as failed that landed anyway; or,
    // from an abandoned attempt landing late (counted above), an older one.
    if (final < newestSuccess) {
      assert.isTrue(abandoned.has(textOf(message, final)), `message ${message}: ${JSON.stringify(history)}`)
      newestSuccessOverwritten += 1
    }
    if (final > newestSuccess) landedDespiteFailure += 1
  }

  const requests = log.length
  const faulted = log.filter((request) => request.fault !== undefined).length
  return {
    provider,
    updates: MESSAGES * ROUNDS,
    successes,
    failures,
    landedDespiteFailure,
    idempotentRepeats,
    lateAbandonedAttempts,
    newestSuccessOverwritten,
    requests,
    faulted
  }
}

export const report = (summary: Summary): void => {
  // The share of faulted requests is the 20% asked for (the seeded rules are not a no-op).
  assert.isAbove(summary.faulted / summary.requests, 0.12)
  assert.isBelow(summary.faulted / summary.requests, 0.28)
  if (process.env.RELIABILITY_SUMMARY === "1") console.info(JSON.stringify(summary))
}

/** A token store that fails every `every`-th save (and keeps the others). */
export const flakyStore = (every: number) => {
  const inner = TokenStore.makeMemory()
  let saves = 0
  let failed = 0
  const store = TokenStore.TokenStore.of({
    load: inner.load,
    save: (tokens) =>
      Effect.suspend(() => {
        saves += 1
        if (saves % every === 0) {
          failed += 1
          return Effect.fail(new TokenStore.TokenStoreError({ message: "the disk is full (a test store)" }))
        }
        return inner.save(tokens)
      })
  })
  return { store, failed: () => failed, saves: () => saves }
}

/** A token store whose first `count` saves fail. */
export const failingFirst = (count: number) => {
  const inner = TokenStore.makeMemory()
  let saves = 0
  const store = TokenStore.TokenStore.of({
    load: inner.load,
    save: (tokens) =>
      Effect.suspend(() => {
        saves += 1
        return saves <= count
          ? Effect.fail(new TokenStore.TokenStoreError({ message: "the vault is unreachable (a test store)" }))
          : inner.save(tokens)
      })
  })
  return { store, saves: () => saves }
}

export const storedPair = (store: TokenStore.Service) =>
  Effect.map(store.load, (loaded) =>
    Option.match(loaded, {
      onNone: () => undefined,
      onSome: (tokens) => ({
        accessToken: Redacted.value(tokens.accessToken),
        refreshToken: Redacted.value(tokens.refreshToken)
      })
    })
  )
