import { assert, describe, it } from "@effect/vitest"
import { EditError, MessageEditor } from "@reword/core"
import { Secrets } from "@reword/core/adapter"
import { Cause, Effect, Exit, Fiber, Redacted, Result } from "effect"
import { recordingAdapter } from "./support/recordingAdapter.ts"

const noRetry = { retry: { maxAttempts: 1 } }
const request = (id: string, text = `text of ${id}`) => ({ ids: { externalMessageId: id }, text })

describe("MessageEditor.make", () => {
  it.effect("update answers the message as the provider confirmed it", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({})
      const editor = MessageEditor.make(adapter)
      const edited = yield* editor.update(request("m-1", "new text"))
      assert.strictEqual(edited.provider, "fake")
      assert.strictEqual(edited.text, "new text")
      assert.strictEqual(edited.ids.externalMessageId, "m-1")
      assert.strictEqual(sent.length, 1)
    })
  )

  it.effect("refuses bad input with InvalidRequest before anything is sent", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({})
      const editor = MessageEditor.make(adapter)
      const missingId = yield* Effect.flip(editor.update({ ids: {}, text: "x" }))
      assert.strictEqual(missingId.reason._tag, "InvalidRequest")
      assert.strictEqual(missingId.provider, "fake")
      assert.strictEqual(missingId.operation, "update")
      assert.include(missingId.message, "ids.externalMessageId: is required by this provider")
      const providerRule = yield* Effect.flip(editor.update(request("m-1", "forbidden words")))
      assert.include(providerRule.message, "text: this provider refuses these words")
      const garbage = yield* Effect.flip(editor.update(42 as never))
      assert.strictEqual(garbage.reason._tag, "InvalidRequest")
      assert.strictEqual(sent.length, 0)
    })
  )

  it.effect("refuses files as Unsupported on a provider that edits text only, before anything is sent", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({ capabilities: { files: false } })
      const editor = MessageEditor.make(adapter)
      const error = yield* Effect.flip(
        editor.update({ ids: { externalMessageId: "m" }, text: "x", files: [{ url: "https://cdn.example.com/a.pdf" }] })
      )
      assert.strictEqual(error.reason._tag, "Unsupported")
      assert.strictEqual(error.reason._tag === "Unsupported" ? error.reason.capability : "", "files")
      assert.isFalse(error.isRetryable)
      assert.strictEqual(sent.length, 0)
      assert.isFalse(editor.capabilities.files)
    })
  )

  it.live("retries a retryable failure under the editor's policy", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({
        answer: (_request, call) => (call < 3 ? new EditError.Unavailable({ status: 503 }) : undefined)
      })
      const editor = MessageEditor.make(adapter, { retry: { initialDelay: 1, jitter: false } })
      const edited = yield* editor.update(request("m-1"))
      assert.strictEqual(edited.text, "text of m-1")
      assert.strictEqual(sent.length, 3)
    })
  )

  it.effect("updateMany gives exactly one outcome per request, in input order, failures beside successes", () =>
    Effect.gen(function* () {
      const { adapter, sent } = recordingAdapter({
        answer: (req) => (req.ids.externalMessageId === "m-2" ? new EditError.NotFound({ code: "GONE" }) : undefined)
      })
      const editor = MessageEditor.make(adapter, { ...noRetry, concurrency: 3 })
      const outcomes = yield* editor.updateMany([
        request("m-0"),
        { ids: {}, text: "no id" },
        request("m-2"),
        request("m-3"),
        request("m-4", "forbidden words"),
        request("m-5")
      ])
      assert.deepStrictEqual(
        outcomes.map((outcome) =>
          Result.isSuccess(outcome) ? outcome.success.ids.externalMessageId : outcome.failure.reason._tag
        ),
        ["m-0", "InvalidRequest", "NotFound", "m-3", "InvalidRequest", "m-5"]
      )
      const failure = outcomes[2]
      assert.strictEqual(failure && Result.isFailure(failure) ? failure.failure.operation : "", "updateMany")
      assert.deepStrictEqual(sent.map((r) => r.ids.externalMessageId).sort(), ["m-0", "m-2", "m-3", "m-5"])
    })
  )

  it.effect("updateMany accepts any iterable and answers an empty list for an empty one", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({})
      const editor = MessageEditor.make(adapter)
      function* generate() {
        yield request("a")
        yield request("b")
      }
      assert.strictEqual((yield* editor.updateMany(generate())).length, 2)
      assert.deepStrictEqual(yield* editor.updateMany([]), [])
    })
  )

  it.effect(
    "updateMany packs requests into provider calls of at most maxMessagesPerCall, and splits the answers back",
    () =>
      Effect.gen(function* () {
        const { adapter, batches } = recordingAdapter({
          batch: true,
          capabilities: { maxMessagesPerCall: 4 },
          answer: (req) =>
            req.ids.externalMessageId === "m-5" ? new EditError.Rejected({ description: "item failed" }) : undefined
        })
        const editor = MessageEditor.make(adapter, noRetry)
        const ids = Array.from({ length: 10 }, (_, i) => `m-${i}`)
        const outcomes = yield* editor.updateMany(ids.map((id) => request(id)))
        assert.deepStrictEqual(batches, [4, 4, 2])
        assert.deepStrictEqual(
          outcomes.map((outcome) =>
            Result.isSuccess(outcome) ? outcome.success.ids.externalMessageId : outcome.failure.reason._tag
          ),
          ["m-0", "m-1", "m-2", "m-3", "m-4", "Rejected", "m-6", "m-7", "m-8", "m-9"]
        )
      })
  )

  it.effect("a provider call that fails as a whole gives each of its requests that call's error, and no other", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 2 } })
      let calls = 0
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) => {
            calls += 1
            return calls === 2
              ? Effect.fail(new EditError.Forbidden({ code: "ACCESS_DENIED" }))
              : Effect.succeed(requests.map((r) => Result.succeed(adapterConfirm(r))))
          }
        },
        { ...noRetry, concurrency: 1 }
      )
      const outcomes = yield* editor.updateMany(["a", "b", "c", "d", "e"].map((id) => request(id)))
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["ok", "ok", "Forbidden", "Forbidden", "ok"]
      )
    })
  )

  it.effect("a provider call that answers the wrong number of results fails its requests as MalformedResponse", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 3 } })
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) => Effect.succeed(requests.slice(1).map((r) => Result.succeed(adapterConfirm(r))))
        },
        noRetry
      )
      const outcomes = yield* editor.updateMany(["a", "b"].map((id) => request(id)))
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["MalformedResponse", "MalformedResponse"]
      )
    })
  )
})

describe("MessageEditor.make: a defect on one request's path is that request's typed error", () => {
  /** An exception whose message and stack hold what a hostile answer held. */
  const hostile = () => new RangeError('Maximum call stack size exceeded near {"error":{"error": HOSTILE-TEXT')

  it.effect("an adapter that throws, or dies, fails that request only, with MalformedResponse and no raw text", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({})
      const editor = MessageEditor.make(
        {
          ...adapter,
          update: (req) => {
            const id = req.ids.externalMessageId
            if (id === "throws") throw hostile()
            if (id === "dies") return Effect.die(hostile())
            if (id === "defect-inside") return Effect.sync(() => JSON.parse("{"))
            return adapter.update(req)
          }
        },
        { ...noRetry, concurrency: 2 }
      )
      const outcomes = yield* editor.updateMany(
        ["a", "throws", "b", "dies", "defect-inside", "c"].map((id) => request(id))
      )
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["ok", "MalformedResponse", "ok", "MalformedResponse", "MalformedResponse", "ok"]
      )
      for (const outcome of outcomes) {
        if (Result.isSuccess(outcome)) continue
        assert.isTrue(EditError.isEditError(outcome.failure))
        assert.include(outcome.failure.message, "could not be read")
        for (const text of [outcome.failure.message, String(outcome.failure), JSON.stringify(outcome.failure)]) {
          assert.notInclude(text, "HOSTILE-TEXT")
          assert.notInclude(text, "Maximum call stack")
        }
      }
      const single = yield* Effect.flip(editor.update(request("throws")))
      assert.strictEqual(single.reason._tag, "MalformedResponse")
      assert.include(single.message, "RangeError")
      assert.notInclude(single.message, "HOSTILE-TEXT")
    })
  )

  it.effect("a provider call that throws fails its own requests only; a malformed item is MalformedResponse", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 2 } })
      let calls = 0
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) => {
            calls += 1
            if (calls === 2) throw hostile()
            if (calls === 3) return Effect.succeed([Result.succeed(adapterConfirm(requests[0])), "junk" as never])
            return Effect.succeed(requests.map((r) => Result.succeed(adapterConfirm(r))))
          }
        },
        { ...noRetry, concurrency: 1 }
      )
      const outcomes = yield* editor.updateMany(["a", "b", "c", "d", "e", "f"].map((id) => request(id)))
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["ok", "ok", "MalformedResponse", "MalformedResponse", "ok", "MalformedResponse"]
      )
    })
  )

  it.effect("a request that throws while being read is that request's InvalidRequest", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({})
      const editor = MessageEditor.make(adapter, noRetry)
      const trap = new Proxy(
        {},
        {
          get: () => {
            throw hostile()
          },
          has: () => {
            throw hostile()
          },
          ownKeys: () => {
            throw hostile()
          }
        }
      )
      const outcomes = yield* editor.updateMany([request("a"), trap as never, request("b")])
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["ok", "InvalidRequest", "ok"]
      )
      const failure = outcomes[1]
      assert.notInclude(failure && Result.isFailure(failure) ? failure.failure.message : "HOSTILE-TEXT", "HOSTILE-TEXT")
    })
  )

  it.live("interruption is not turned into an outcome", () =>
    Effect.gen(function* () {
      const { adapter } = recordingAdapter({})
      const editor = MessageEditor.make({ ...adapter, update: () => Effect.never }, noRetry)
      const fiber = yield* Effect.forkChild(editor.updateMany([request("a"), request("b")]))
      yield* Effect.sleep("20 millis")
      const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      const single = yield* Effect.forkChild(editor.update(request("c")))
      yield* Effect.sleep("20 millis")
      const singleExit = yield* Fiber.interrupt(single).pipe(Effect.andThen(Fiber.await(single)))
      assert.isTrue(Exit.isFailure(singleExit) && Cause.hasInterruptsOnly(singleExit.cause))
    })
  )

  it.effect("an adapter's known secrets are scrubbed from every reason, in every encoding", () =>
    Effect.gen(function* () {
      const token = "tok/en+SECRET=42"
      const secrets = Secrets.make()
      const { adapter } = recordingAdapter({
        answer: () =>
          new EditError.Rejected({
            code: "BAD",
            description: `echo ${JSON.stringify(token).replaceAll("/", "\\/")} and ${encodeURIComponent(token)}`,
            body: `auth=${token}`
          })
      })
      const editor = MessageEditor.make({ ...adapter, secrets }, noRetry)
      // Added after the editor was made: a refreshed token.
      secrets.add(Redacted.make(token))
      const error = yield* Effect.flip(editor.update(request("a")))
      for (const text of [error.message, String(error), JSON.stringify(error), error.stack ?? ""]) {
        assert.notInclude(text, token)
        assert.notInclude(text, encodeURIComponent(token))
        assert.notInclude(text, "tok\\/en")
      }
      assert.include(error.message, "<redacted>")
      assert.strictEqual(error.reason._tag, "Rejected")
    })
  )
})

const adapterConfirm = (r: { readonly ids: unknown; readonly text?: string | undefined }) =>
  ({ provider: "fake", ids: r.ids, text: r.text, files: [] }) as never
