/**
 * The worker: one claimer takes due messages page by page while a page or two
 * is delivered (each through its editor's `updateMany`, so providers that take
 * several messages per call still get them packed, and adapters' limiters still
 * hold), and records every outcome in the journal.
 *
 * A waiting worker costs nothing: it runs one statement per poll interval
 * (the claim, which also answers when the next message is due, a live claim
 * counting as due when its lease ends), or sleeps until a submit, a
 * notification or the end of one of its own deliveries wakes it.
 *
 * A delivery that fails hands its claims back at once (outcome unknown once
 * the editor had them). When the worker stops (its scope closes), it claims
 * no more, gives the deliveries in flight `shutdownGraceMs` to finish, then
 * records them as unknown and hands them back: the next worker sends them at
 * once, and the settle window keeps their order.
 */
import type { EditedMessage, MessageEditor } from "@reword/core"
import type { RetryPolicy } from "@reword/core/adapter"
import { Cause, Duration, Effect, Fiber, Queue, Result, Schedule, Semaphore } from "effect"
import type { SqlError } from "effect/sql"
import type * as Claims from "./claims.ts"
import * as EditCounts from "./editCounts.ts"
import type { EditorsFor } from "./model.ts"
import * as Operations from "./operations.ts"
import type { IdField } from "./store.ts"
import * as Tenants from "./tenantRoutes.ts"

/** The claims of a page one editor delivers. */
interface Group {
  readonly editor: MessageEditor.Service
  readonly claims: Array<Claims.Claim>
  readonly requests: Array<MessageEditor.RequestInput>
}

export interface DeliveryConfig {
  readonly claims: Claims.Claims
  readonly routes: ReadonlyArray<{ readonly editor: MessageEditor.Service; readonly account: string }>
  /** The editors of the other tenants (and of `default` when `routes` is empty): the outbox's `editorsFor`. */
  readonly editorsFor?: EditorsFor | undefined
  readonly policy: RetryPolicy.RetryPolicy
  readonly settleMs: number
  readonly leaseMs: number
  readonly pollMs: number
  readonly batchSize: number
  readonly keepText: boolean
  readonly worker: string
  /** Offered by submits (and notifications from other processes): work has arrived. */
  readonly wake: Queue.Queue<void>
  /** How long deliveries in flight may finish when the worker stops. */
  readonly shutdownGraceMs: number
  /** Release the claims this worker id holds when it starts (its previous holder is provably gone). */
  readonly takeBack: boolean
  /** Only this message (its key): a delivery of one message, `Outbox.deliver`'s. */
  readonly only?: string | undefined
  /** The confirmed edits of messages, from the journal: the `editCount` of an editor with `maxEdits`. */
  readonly editCounts: EditCounts.EditCounts
  /** Re-points a message of the id map (the store's `repoint`): for an edit that went to a new message. */
  readonly repoint: (
    key: string,
    ids: Partial<Record<IdField, string>>,
    source: string | undefined,
    now: number
  ) => Effect.Effect<unknown, SqlError.SqlError>
}

/** Who the journal names for a re-point made by the `newMessage` fallback. */
const FALLBACK_SOURCE = "newMessage fallback"

/** The ids a new message (the `newMessage` fallback) gives the id map: the provider's, and the kind `text`. */
const supersededIds = (edited: EditedMessage.EditedMessage): Partial<Record<IdField, string>> => {
  const { providerMessageId, providerChatId, providerConnectionId } = edited.ids
  return {
    ...(providerMessageId === undefined ? {} : { providerMessageId: String(providerMessageId) }),
    ...(providerChatId === undefined ? {} : { providerChatId: String(providerChatId) }),
    ...(providerConnectionId === undefined ? {} : { providerConnectionId }),
    kind: "text"
  }
}

/** How long a worker woken by a submit while work flows waits for more, so that they share provider calls. */
const GATHER_WINDOW = Duration.millis(20)

/** Pages delivered at once: one delivers while the claimer takes the next. */
const SLOTS = 2

/** The wait when the next message is due yet could not be claimed: another transaction holds its row for now. */
const LOCKED_WAIT_MS = 50

/** Consecutive failed attempts, the last a malformed answer, after which a message is a dead letter. */
export const MALFORMED_ATTEMPTS = 5

/** The reasons after which the provider has certainly not applied the edit, yet may later. */
const REFUSED_FOR_NOW = new Set(["RateLimited"])

const STOPPED = "the worker stopped before the provider answered"

/** Backoff of the n-th consecutive failure: core's policy (doubling from `initialDelay` up to `maxDelay`, jitter). */
export const backoffMs = (policy: RetryPolicy.RetryPolicy, failures: number, random: number): number => {
  const initial = Duration.toMillis(policy.initialDelay)
  const max = Duration.toMillis(policy.maxDelay)
  const base = Math.min(max, initial * 2 ** Math.min(failures, 30))
  return Math.round(policy.jitter ? base * (0.8 + 0.4 * random) : base)
}

const outcomeOf = (
  result: MessageEditor.Outcome | undefined,
  claim: Claims.Claim,
  config: DeliveryConfig
): Claims.Outcome => {
  const failures = claim.message.failures
  // The port answers one outcome per request; were one missing, the provider's state would be unknown.
  if (result === undefined) return { kind: "unknown", reason: "the editor answered no outcome", retryInMs: 0 }
  if (Result.isSuccess(result)) {
    return result.success.supersedes === undefined
      ? { kind: "confirmed" }
      : { kind: "confirmed", supersededBy: supersededIds(result.success) }
  }
  const reason = result.failure.reason
  const rule = Operations.RULES[Operations.kindOfFailure(result.failure)]
  if (rule.afterUnknown === "deadLetter" && !result.failure.isRetryable) {
    // A new message (the newMessage fallback) whose outcome is unknown may be stored: never sent again, left
    // for a person with its reason.
    return { kind: "permanent", reason: Operations.sendNotRepeated(result.failure) }
  }
  const described = `${reason._tag}: ${reason.message}`
  if (!reason.isRetryable) {
    return {
      kind: "permanent",
      reason: Operations.hadUnknownAttempt(claim) ? Operations.noSendAfterUnknown(reason._tag, described) : described
    }
  }
  // An answer reword cannot read may come again for ever (the provider changed its answers): a few tries, then a dead letter.
  if (reason._tag === "MalformedResponse" && failures + 1 >= MALFORMED_ATTEMPTS) {
    return { kind: "permanent", reason: `${described} (${failures + 1} failed attempts in a row)` }
  }
  const retryAfter =
    "retryAfter" in reason && reason.retryAfter !== undefined ? Duration.toMillis(reason.retryAfter) : 0
  const retryInMs = Math.max(retryAfter, backoffMs(config.policy, failures, Math.random()))
  return REFUSED_FOR_NOW.has(reason._tag)
    ? { kind: "retryable", reason: described, retryInMs }
    : { kind: "unknown", reason: described, retryInMs }
}

/** The stored request as the editor takes it, or why it cannot be read (that claim alone fails). */
const requestOf = (claim: Claims.Claim): Result.Result<MessageEditor.RequestInput, string> => {
  if (claim.request === undefined) return Result.fail("the journal no longer holds this edit's request")
  let body: unknown
  try {
    body = JSON.parse(claim.request)
  } catch {
    return Result.fail("the stored request is not JSON")
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Result.fail("the stored request is not an object")
  }
  const fields = body as Record<string, unknown>
  const { message } = claim
  return Result.succeed({
    ...fields,
    ...(typeof fields.editedAt === "string" ? { editedAt: new Date(fields.editedAt) } : {}),
    ...(typeof fields.sentAt === "string" ? { sentAt: new Date(fields.sentAt) } : {}),
    // The id map's kind wins: a message superseded by a new one (the newMessage fallback) is a text message now.
    ...(message.kind === undefined ? {} : { kind: message.kind }),
    // A send is at most once: after an attempt whose outcome is unknown (which may have landed, a send cut short
    // included), the edit never falls back to sending a new message.
    ...(Operations.hadUnknownAttempt(claim) ? { fallback: { mode: "fail" } } : {}),
    ids: {
      externalMessageId: message.externalMessageId,
      ...(message.externalChatId === undefined ? {} : { externalChatId: message.externalChatId }),
      ...(message.externalAuthorId === undefined ? {} : { externalAuthorId: message.externalAuthorId }),
      ...(message.providerMessageId === undefined ? {} : { providerMessageId: message.providerMessageId }),
      ...(message.providerChatId === undefined ? {} : { providerChatId: message.providerChatId }),
      ...(message.providerConnectionId === undefined ? {} : { providerConnectionId: message.providerConnectionId })
    }
  } as MessageEditor.RequestInput)
}

const defectName = (defect: unknown): string => (defect instanceof Error ? defect.name : typeof defect)

export class Delivery {
  readonly config: DeliveryConfig
  constructor(config: DeliveryConfig) {
    this.config = config
  }

  private readonly now = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

  private get routes(): Claims.ClaimScope {
    return {
      routes: this.config.routes.map((route) => [route.editor.provider, route.account] as const),
      tenants: this.config.editorsFor !== undefined
    }
  }

  /**
   * Delivers one page: each editor's claims through its `updateMany`, all
   * at once, the editors of the page's tenants held (from `editorsFor`) until
   * it ends. Claims that cannot be read, or whose tenant has no editor, fail
   * alone. Answers the outcomes; `started` collects the attempts handed to an editor.
   */
  private deliver(
    claims: ReadonlyArray<Claims.Claim>,
    started: Set<string>
  ): Effect.Effect<ReadonlyArray<Claims.Settled>> {
    const config = this.config
    const routes: Tenants.RoutesConfig = {
      routes: config.routes,
      editorsFor: config.editorsFor,
      backoff: (failures) => backoffMs(config.policy, failures, Math.random())
    }
    return Effect.scoped(
      Effect.gen(function* () {
        const tenants = yield* Tenants.resolveAll(routes, claims)
        const unreadable: Array<Claims.Settled> = []
        const groups = new Map<string, Group>()
        for (const claim of claims) {
          const route = Tenants.routeOf(routes, tenants, claim)
          if (route.kind !== "editor") {
            unreadable.push({ claim, outcome: route.outcome })
            continue
          }
          const request = requestOf(claim)
          if (Result.isFailure(request)) {
            unreadable.push({ claim, outcome: { kind: "permanent", reason: request.failure } })
            continue
          }
          const group = groups.get(route.key) ?? { editor: route.editor, claims: [], requests: [] }
          group.claims.push(claim)
          group.requests.push(request.success)
          groups.set(route.key, group)
        }
        // A journal that cannot be read now hands the page back (no call made), as any failed delivery does.
        yield* Effect.orDie(EditCounts.withEditCounts(config.editCounts, groups.values()))
        const delivered = yield* Effect.forEach(
          [...groups.values()],
          (group) =>
            Effect.suspend(() => {
              for (const claim of group.claims) started.add(claim.attemptId)
              return Effect.map(group.editor.updateMany(group.requests), (outcomes) =>
                group.claims.map(
                  (claim, index): Claims.Settled => ({
                    claim,
                    outcome: outcomeOf(outcomes[index], claim, config)
                  })
                )
              )
            }),
          { concurrency: "unbounded" }
        )
        return [...unreadable, ...delivered.flat()]
      })
    )
  }

  /**
   * Renews the claims of these attempts every quarter of the lease, for as
   * long as the delivery runs. A renewal that fails or takes more than half
   * the lease (the database slow or away) is tried again a quarter later; the
   * delivery is not interrupted for it: a call interrupted here may still
   * reach the provider, so stopping it would not keep another worker from
   * sending the same message meanwhile.
   */
  private keepLease(attemptIds: ReadonlyArray<string>): Effect.Effect<never> {
    const config = this.config
    const every = Duration.millis(Math.max(1, Math.floor(config.leaseMs / 4)))
    const now = this.now
    return Effect.forever(
      Effect.gen(function* () {
        yield* Effect.sleep(every)
        yield* config.claims.renew(config.worker, attemptIds, config.leaseMs, yield* now).pipe(
          Effect.timeout(Duration.millis(Math.max(1, Math.floor(config.leaseMs / 2)))),
          Effect.catch((error) =>
            Effect.logWarning(`reword outbox: could not renew the lease of a delivery (trying again): ${String(error)}`)
          )
        )
      })
    )
  }

  /** The outcomes of a page whose delivery did not answer: unknown once an editor had it, handed back otherwise. */
  private unanswered(
    claims: ReadonlyArray<Claims.Claim>,
    started: ReadonlySet<string>,
    cause: Cause.Cause<unknown>
  ): ReadonlyArray<Claims.Settled> {
    const stopped = Cause.hasInterruptsOnly(cause)
    const reason = stopped ? STOPPED : `the delivery failed (${defectName(Cause.squash(cause))})`
    return claims.map((claim) => ({
      claim,
      outcome: started.has(claim.attemptId)
        ? {
            kind: "unknown",
            reason,
            retryInMs: stopped ? 0 : backoffMs(this.config.policy, claim.message.failures, Math.random())
          }
        : { kind: "returned" }
    }))
  }

  /**
   * Records a page's outcomes, trying again for a few seconds when the
   * database fails; past that, the claims come back when their lease ends.
   */
  private record(settled: ReadonlyArray<Claims.Settled>): Effect.Effect<void> {
    const config = this.config
    // A message superseded by a new one is re-pointed first: were the settle lost, the edit's next attempt goes
    // to the new message (as an edit), never sending another.
    const repointed = (at: number) =>
      Effect.forEach(
        settled,
        ({ claim, outcome }) =>
          outcome.kind === "confirmed" && outcome.supersededBy !== undefined
            ? config.repoint(claim.message.messageKey, outcome.supersededBy, FALLBACK_SOURCE, at)
            : Effect.void,
        { discard: true }
      )
    const settle = (at: number) =>
      Effect.andThen(repointed(at), config.claims.settle(settled, config.settleMs, config.keepText, at))
    return Effect.flatMap(this.now, settle).pipe(
      Effect.retry({ times: 6, schedule: Schedule.exponential(Duration.millis(100)) }),
      Effect.catch((error) =>
        Effect.logError(
          `reword outbox: could not record the outcome of ${settled.length} deliveries (${error.message}); their claims return when the lease ends`
        )
      )
    )
  }

  /**
   * One page, from its claims to its recorded outcomes. Never fails: a
   * failure or an interruption (the worker stopping) is recorded as the
   * page's outcome, and the claims handed back.
   */
  private page(claims: ReadonlyArray<Claims.Claim>): Effect.Effect<void> {
    const started = new Set<string>()
    return Effect.uninterruptibleMask((restore) =>
      Effect.gen({ self: this }, function* () {
        // The claims are renewed while the delivery runs, so that no other worker takes a message over from a
        // live one, however long its calls take.
        const exit = yield* Effect.exit(
          restore(
            Effect.raceFirst(this.deliver(claims, started), this.keepLease(claims.map((claim) => claim.attemptId)))
          )
        )
        if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
          yield* Effect.logError(
            `reword outbox: a delivery failed unexpectedly; its claims are handed back`,
            exit.cause
          )
        }
        yield* this.record(exit._tag === "Success" ? exit.value : this.unanswered(claims, started, exit.cause))
      })
    )
  }

  /**
   * One round in the calling fiber: claims a page (of `only`, when given),
   * delivers it and records the outcomes. Answers how many were claimed.
   */
  readonly round: Effect.Effect<number, SqlError.SqlError> = Effect.gen({ self: this }, function* () {
    const config = this.config
    const page = yield* config.claims.claim(
      config.worker,
      Math.max(1, Math.floor(config.batchSize)),
      config.leaseMs,
      config.settleMs,
      this.routes,
      yield* this.now,
      config.only
    )
    if (page.claims.length > 0) yield* this.page(page.claims)
    return page.claims.length
  })

  /**
   * Waits for work: a submit or notification, a delivery's end, the next due
   * time, or the poll interval. `busy`: the last claim found work.
   */
  private idle(waitMs: number | undefined, settled: Queue.Queue<void>, busy: boolean) {
    const config = this.config
    const wait =
      waitMs === undefined
        ? config.pollMs
        : waitMs <= 0
          ? Math.min(config.pollMs, LOCKED_WAIT_MS)
          : Math.min(config.pollMs, Math.ceil(waitMs))
    return Effect.gen(function* () {
      const woken = yield* Effect.raceFirst(
        Effect.as(Effect.sleep(Duration.millis(wait)), false),
        Effect.raceFirst(Effect.as(Queue.take(config.wake), true), Effect.as(Queue.take(settled), false))
      )
      // Woken by a submit while work flows: let the edits that follow it arrive, so that they share provider
      // calls. A worker that found nothing last claims at once: a lone edit does not wait for company.
      if (woken && busy) yield* Effect.sleep(GATHER_WINDOW)
    })
  }

  /** Waits for the deliveries in flight, at most the grace; then stops them (each records itself as unknown). */
  private shutdown(inFlight: Set<Fiber.Fiber<void>>): Effect.Effect<void> {
    const config = this.config
    return Effect.gen(function* () {
      const fibers = [...inFlight]
      if (fibers.length === 0) return
      yield* Effect.timeout(Fiber.awaitAll(fibers), Duration.millis(config.shutdownGraceMs)).pipe(Effect.ignore)
      yield* Fiber.interruptAll(fibers)
    })
  }

  /**
   * Claims pages while a delivery slot is free, each delivered in a fiber of
   * its own; waits between. Runs until interrupted, then shuts down.
   */
  readonly run: Effect.Effect<never, SqlError.SqlError> = Effect.gen({ self: this }, function* () {
    const config = this.config
    const inFlight = new Set<Fiber.Fiber<void>>()
    const slots = yield* Semaphore.make(SLOTS)
    const settled = yield* Queue.sliding<void>(1)
    if (config.takeBack) {
      // The database away at start: the claims come back when their lease ends, the worker runs all the same.
      yield* config.claims.takeBack(config.worker, config.settleMs, yield* this.now).pipe(
        Effect.tap((released) =>
          released > 0
            ? Effect.logInfo(`reword outbox: took back ${released} claims of worker ${config.worker}`)
            : Effect.void
        ),
        Effect.catch((error) =>
          Effect.logWarning(
            `reword outbox: could not take back the claims of worker ${config.worker}: ${error.message}`
          )
        )
      )
    }
    const limit = Math.max(1, Math.floor(config.batchSize))
    // The last page was full: a backlog waits (the claim reads it by its index, whatever the statistics).
    let backlog = false
    // Where the next claim starts among the tenants (round robin).
    let cursor = ""
    const step = Effect.uninterruptibleMask((restore) =>
      Effect.gen({ self: this }, function* () {
        yield* restore(slots.take(1))
        const at = yield* this.now
        // Interruptible, so that a stop never waits on a database that does not answer; once claimed, the page
        // is handed to its delivery fiber before anything can interrupt.
        const page = yield* restore(
          config.claims.claim(
            config.worker,
            limit,
            config.leaseMs,
            config.settleMs,
            this.routes,
            at,
            undefined,
            backlog,
            cursor
          )
        ).pipe(Effect.onError(() => slots.release(1)))
        backlog = page.more
        cursor = page.cursor
        if (page.claims.length === 0) {
          yield* slots.release(1)
          return page
        }
        const fiber = yield* Effect.forkDetach(
          Effect.interruptible(this.page(page.claims)).pipe(
            Effect.ensuring(Effect.andThen(slots.release(1), Queue.offer(settled, undefined)))
          )
        )
        inFlight.add(fiber)
        fiber.addObserver(() => inFlight.delete(fiber))
        return page
      })
    )
    const loop = Effect.gen({ self: this }, function* () {
      while (true) {
        const page = yield* step.pipe(
          Effect.catch((error) =>
            Effect.as(Effect.logWarning(`reword outbox: ${error.message}; trying again`), undefined)
          ),
          // A bug in one round must not stop the worker while submits go on being accepted.
          Effect.catchDefect((defect) =>
            Effect.as(
              Effect.logError(`reword outbox: a round failed unexpectedly (${defectName(defect)}); trying again`),
              undefined
            )
          )
        )
        if (page === undefined) yield* Effect.sleep(Duration.millis(config.pollMs))
        else if (!page.more) yield* this.idle(page.waitMs, settled, page.claims.length > 0)
      }
    })
    return yield* Effect.ensuring(loop, this.shutdown(inFlight))
  })
}
