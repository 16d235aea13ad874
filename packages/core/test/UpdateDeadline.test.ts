import { assert, describe, it } from "@effect/vitest"
import { EditError, EditedMessage, type EditRequest, MessageEditor } from "@reword/core"
import { Clock, Duration, Effect, Exit, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import { recordingAdapter } from "./support/recordingAdapter.ts"

const request = (id: string) => ({ ids: { externalMessageId: id }, text: `text of ${id}` })

const confirm = (request: EditRequest.EditRequest) =>
  new EditedMessage.EditedMessage({ provider: "fake", ids: request.ids, text: request.text, files: [] })

/**
 * A provider's rate limiter as Bitrix24's client has it: calls leave one per
 * `spacingMillis`, each waits for its turn (at most `maxWaitMillis`, else a
 * `RateLimited` at once), then takes `serverMillis` to answer.
 */
const limitedCalls = (spacingMillis: number, maxWaitMillis: number, serverMillis: number) => {
  let nextTurn = 0
  return (requests: ReadonlyArray<EditRequest.EditRequest>) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wait = Math.max(0, nextTurn - now)
      if (wait > maxWaitMillis) {
        return Effect.fail(new EditError.RateLimited({ retryAfter: Duration.millis(wait), code: "CLIENT_RATE_LIMIT" }))
      }
      nextTurn = Math.max(now, nextTurn) + spacingMillis
      return Effect.sleep(Duration.millis(wait + serverMillis)).pipe(
        Effect.as(requests.map((r) => Result.succeed(confirm(r))))
      )
    })
}

const tagOf = (exit: Exit.Exit<unknown, EditError.EditError>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  if (failure === undefined) return "other"
  const reason = (failure.error as EditError.EditError).reason
  return reason._tag === "RateLimited" ? `RateLimited ${reason.code}` : reason._tag
}

/** The fiber's end, once the test clock's last step has run (a few turns at most); a fiber still running fails the test. */
const settled = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 100 && fiber.pollUnsafe() === undefined; turn++) yield* Effect.yieldNow
    const exit = fiber.pollUnsafe()
    assert.isDefined(exit, "the update still runs past its deadline")
    return yield* Fiber.join(fiber)
  })

describe("no update() outlives its retry budget plus one transport timeout, whatever queue it waits in", () => {
  // Scaled down: a retry budget of 1 s and a transport timeout of 0.5 s (the defaults are 60 s and 30 s).
  const budgetMillis = 1_000 + 500
  const options = {
    retry: { maxElapsed: 1_000, initialDelay: 50, maxDelay: 50, jitter: false },
    transport: { timeout: 500 }
  }

  it.effect("500 concurrent updates packed behind a provider's limiter: each ends by its deadline, typed", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      // 10 calls of 50, one leaving every 400 ms: without deadlines, the last answers about 4 s after the start.
      const editor = MessageEditor.make({ ...adapter, updateBatch: limitedCalls(400, 60_000, 20) }, options)
      // On the test clock: what is measured is the editor's timing, not how busy the machine is.
      const all = yield* Effect.forkChild(
        Effect.forEach(
          Array.from({ length: 500 }, (_, n) => `m-${n}`),
          (id) =>
            Effect.gen(function* () {
              const started = yield* Clock.currentTimeMillis
              const exit = yield* Effect.exit(editor.update(request(id)))
              return { tag: tagOf(exit), millis: (yield* Clock.currentTimeMillis) - started }
            }),
          { concurrency: "unbounded" }
        )
      )
      for (let step = 0; step < 200 && all.pollUnsafe() === undefined; step++) yield* TestClock.adjust("50 millis")
      const ends = yield* Fiber.join(all)
      const slowest = Math.max(...ends.map((end) => end.millis))
      const tags = new Set(ends.map((end) => end.tag))
      assert.isAtMost(slowest, budgetMillis, `the slowest update took ${slowest} ms`)
      assert.isTrue(ends.some((end) => end.tag === "success"))
      for (const tag of tags) {
        // (A limiter refusing a wait that would outlast its bound is typed too.)
        assert.include(
          ["success", "RateLimited CLIENT_QUEUE", "RateLimited CLIENT_RATE_LIMIT", "Timeout"],
          tag,
          `an update ended with ${tag}`
        )
      }
      assert.isTrue(tags.has("RateLimited CLIENT_QUEUE"), "the requests that never left the queue say so")
    })
  )

  it.effect("a lone update waiting in the provider's limiter past its deadline fails with Timeout", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      // Every call waits 10 s for its turn (as a bucket taken by other instances would make it).
      const editor = MessageEditor.make(
        { ...adapter, updateBatch: () => Effect.andThen(Effect.sleep("10 seconds"), Effect.never) },
        options
      )
      const fiber = yield* Effect.forkChild(Effect.exit(editor.update(request("a"))))
      yield* TestClock.adjust(Duration.millis(budgetMillis - 1))
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const exit = yield* settled(fiber)
      assert.strictEqual(tagOf(exit), "Timeout")
      assert.include(Exit.isFailure(exit) ? String(exit.cause) : "", "no answer within 1s 500ms")
    })
  )

  it.effect("no retry starts past the retry budget counted from the update's start: the provider's own reason", () =>
    Effect.gen(function* () {
      let attempts = 0
      const { adapter } = recordingAdapter({})
      const editor = MessageEditor.make(
        {
          ...adapter,
          // Each attempt takes 500 ms (a transport timeout's worth), then the provider is unavailable.
          update: () =>
            Effect.andThen(
              Effect.sleep("500 millis"),
              Effect.suspend(() => {
                attempts += 1
                return Effect.fail(new EditError.Unavailable({ status: 503 }))
              })
            )
        },
        { ...options, retry: { ...options.retry, maxAttempts: 10, initialDelay: 100, maxDelay: 100 } }
      )
      const fiber = yield* Effect.forkChild(Effect.exit(editor.update(request("a"))))
      // Attempts at 0 and 600 ms fail at 500 and 1,100 ms; a retry at 1,200 ms would start past the 1 s budget.
      yield* TestClock.adjust("1100 millis")
      const exit = yield* settled(fiber)
      assert.strictEqual(tagOf(exit), "Unavailable")
      assert.strictEqual(attempts, 2)
    })
  )
})
