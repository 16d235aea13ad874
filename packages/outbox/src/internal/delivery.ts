/**
 * The worker: claims due messages page by page, delivers the newest version
 * of each through its editor's `updateMany` (so providers that take several
 * messages per call still get them packed, and adapters' limiters still hold),
 * and records every outcome in the journal.
 */
import type { MessageEditor, RetryPolicy } from "@reword/core"
import { Duration, Effect, Queue, Result } from "effect"
import type { SqlError } from "effect/sql"
import type * as Claims from "./claims.ts"

export interface DeliveryConfig {
  readonly claims: Claims.Claims
  readonly routes: ReadonlyArray<{ readonly editor: MessageEditor.Service; readonly account: string }>
  readonly policy: RetryPolicy.RetryPolicy
  readonly settleMs: number
  readonly leaseMs: number
  readonly pollMs: number
  readonly batchSize: number
  readonly keepText: boolean
  readonly worker: string
  readonly wake: Queue.Queue<void>
  /** Only this message (its key): a delivery of one message, `Outbox.deliver`'s. */
  readonly only?: string | undefined
}

/** How long a worker woken by a submit waits for more (core's batch window is the same). */
const GATHER_WINDOW = Duration.millis(20)

/** Consecutive failed attempts, the last a malformed answer, after which a message is a dead letter. */
export const MALFORMED_ATTEMPTS = 5

/** The reasons after which the provider has certainly not applied the edit, yet may later. */
const REFUSED_FOR_NOW = new Set(["RateLimited"])

/** Backoff of the n-th consecutive failure: core's policy (doubling from `initialDelay` up to `maxDelay`, jitter). */
export const backoffMs = (policy: RetryPolicy.RetryPolicy, failures: number, random: number): number => {
  const initial = Duration.toMillis(policy.initialDelay)
  const max = Duration.toMillis(policy.maxDelay)
  const base = Math.min(max, initial * 2 ** Math.min(failures, 30))
  return Math.round(policy.jitter ? base * (0.8 + 0.4 * random) : base)
}

const outcomeOf = (
  result: MessageEditor.Outcome | undefined,
  failures: number,
  now: number,
  config: DeliveryConfig
): Claims.Outcome => {
  // The port answers one outcome per request; were one missing, the provider's state would be unknown.
  if (result === undefined) {
    return { kind: "unknown", reason: "the editor answered no outcome", retryAt: now + config.settleMs }
  }
  if (Result.isSuccess(result)) return { kind: "confirmed" }
  const reason = result.failure.reason
  const described = `${reason._tag}: ${reason.message}`
  if (!reason.isRetryable) return { kind: "permanent", reason: described }
  // An answer reword cannot read may come again for ever (the provider changed its answers): a few tries, then a dead letter.
  if (reason._tag === "MalformedResponse" && failures + 1 >= MALFORMED_ATTEMPTS) {
    return { kind: "permanent", reason: `${described} (${failures + 1} failed attempts in a row)` }
  }
  const retryAfter =
    "retryAfter" in reason && reason.retryAfter !== undefined ? Duration.toMillis(reason.retryAfter) : 0
  const retryAt = now + Math.max(retryAfter, backoffMs(config.policy, failures, Math.random()))
  return REFUSED_FOR_NOW.has(reason._tag)
    ? { kind: "retryable", reason: described, retryAt }
    : { kind: "unknown", reason: described, retryAt }
}

const requestOf = (claim: Claims.Claim): MessageEditor.RequestInput => {
  const body = JSON.parse(claim.request) as Record<string, unknown>
  const { message } = claim
  return {
    ...body,
    ...(typeof body.editedAt === "string" ? { editedAt: new Date(body.editedAt) } : {}),
    ids: {
      externalMessageId: message.externalMessageId,
      ...(message.externalChatId === undefined ? {} : { externalChatId: message.externalChatId }),
      ...(message.externalAuthorId === undefined ? {} : { externalAuthorId: message.externalAuthorId }),
      ...(message.providerMessageId === undefined ? {} : { providerMessageId: message.providerMessageId })
    }
  } as MessageEditor.RequestInput
}

const defectName = (defect: unknown): string => (defect instanceof Error ? defect.name : typeof defect)

export class Delivery {
  readonly config: DeliveryConfig
  constructor(config: DeliveryConfig) {
    this.config = config
  }

  private readonly now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

  /** One round: claim a page, deliver it, record the outcomes. Answers how many were claimed. */
  readonly round: Effect.Effect<number, SqlError.SqlError> = Effect.gen({ self: this }, function* () {
    const config = this.config
    const at = yield* this.now
    const claims = yield* config.claims.claim(
      config.worker,
      config.batchSize,
      at,
      at + config.leaseMs,
      config.settleMs,
      config.routes.map((route) => [route.editor.provider, route.account] as const),
      config.only
    )
    if (claims.length === 0) return 0
    const groups = new Map<string, { readonly editor: MessageEditor.Service; readonly claims: Array<Claims.Claim> }>()
    for (const claim of claims) {
      const route = config.routes.find(
        (r) => r.editor.provider === claim.message.provider && r.account === claim.message.account
      )
      if (route === undefined) continue
      const key = `${route.editor.provider}\u001f${route.account}`
      const group = groups.get(key) ?? { editor: route.editor, claims: [] }
      group.claims.push(claim)
      groups.set(key, group)
    }
    const delivered = Effect.forEach(
      [...groups.values()],
      (group) =>
        Effect.gen({ self: this }, function* () {
          const outcomes = yield* group.editor.updateMany(group.claims.map(requestOf))
          const done = yield* this.now
          return group.claims.map(
            (claim, index): Claims.Settled => ({
              claim,
              outcome: outcomeOf(outcomes[index], claim.message.failures, done, config)
            })
          )
        }),
      { concurrency: "unbounded" }
    )
    // The claims are renewed while the delivery runs, so that no other worker takes a message over from a
    // live one, however long its calls take.
    const settled = yield* Effect.raceFirst(
      Effect.map(delivered, (groups) => groups.flat()),
      this.keepLease(claims.map((claim) => claim.attemptId))
    )
    yield* config.claims.settle(settled, yield* this.now, config.settleMs, config.keepText)
    return claims.length
  })

  /**
   * Renews the claims of these attempts every quarter of the lease, for as
   * long as the delivery runs. A renewal that fails or takes more than half
   * the lease (the database slow or away) is tried again a quarter later; the delivery is not interrupted for
   * it: a call interrupted here may still reach the provider, so stopping it
   * would not keep another worker from sending the same message meanwhile.
   */
  private keepLease(attemptIds: ReadonlyArray<string>): Effect.Effect<never> {
    const config = this.config
    const every = Duration.millis(Math.max(1, Math.floor(config.leaseMs / 4)))
    const now = this.now
    return Effect.forever(
      Effect.gen(function* () {
        yield* Effect.sleep(every)
        const at = yield* now
        yield* config.claims.renew(attemptIds, at + config.leaseMs).pipe(
          Effect.timeout(Duration.millis(Math.max(1, Math.floor(config.leaseMs / 2)))),
          Effect.catch((error) =>
            Effect.logWarning(`reword outbox: could not renew the lease of a delivery (trying again): ${String(error)}`)
          )
        )
      })
    )
  }

  /** Waits for work: a submit's signal, the next due time, or the poll interval. */
  private readonly idle = Effect.gen({ self: this }, function* () {
    const config = this.config
    const due = yield* config.claims.nextDue
    const at = yield* this.now
    const wait = due === undefined ? config.pollMs : Math.max(1, Math.min(config.pollMs, due - at))
    const woken = yield* Effect.raceFirst(
      Effect.as(Effect.sleep(Duration.millis(wait)), false),
      Effect.as(Queue.take(config.wake), true)
    )
    // Woken by a submit: let the edits that follow it arrive, so that they share provider calls.
    if (woken) yield* Effect.sleep(GATHER_WINDOW)
  })

  private readonly loop = Effect.gen({ self: this }, function* () {
    while (true) {
      const claimed = yield* this.round.pipe(
        Effect.catch((error) => Effect.as(Effect.logWarning(`reword outbox: ${error.message}; trying again`), -1)),
        // A bug in one round must not stop the worker while submits go on being accepted.
        Effect.catchDefect((defect) =>
          Effect.as(
            Effect.logError(`reword outbox: a round failed unexpectedly (${defectName(defect)}); trying again`),
            -1
          )
        )
      )
      if (claimed === 0) yield* this.idle.pipe(Effect.catch(() => Effect.sleep(Duration.millis(this.config.pollMs))))
      else if (claimed < 0) yield* Effect.sleep(Duration.millis(this.config.pollMs))
    }
  })

  /** Two loops: one delivers while the other claims or records. */
  readonly run: Effect.Effect<never, SqlError.SqlError> = Effect.all([this.loop, this.loop], {
    concurrency: "unbounded",
    discard: true
  }).pipe(Effect.andThen(Effect.never))
}
