import { assert, describe, it } from "@effect/vitest"
import { EditError, EditedMessage, type EditRequest, MessageEditor } from "@reword/core"
import { Cause, Deferred, Effect, Exit, Fiber, Logger, Result, Tracer } from "effect"
import { recordingAdapter } from "./support/recordingAdapter.ts"

const request = (id: string, text = `text of ${id}`) => ({ ids: { externalMessageId: id }, text })
const noRetry = { retry: { maxAttempts: 1 } }

const confirm = (request: EditRequest.EditRequest) =>
  new EditedMessage.EditedMessage({ provider: "fake", ids: request.ids, text: request.text, files: [] })

describe("concurrent update() calls share provider calls (adapters with updateBatch)", () => {
  it.effect("100 concurrent updates go in a few calls of at most maxMessagesPerCall, each caller its own message", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({ batch: true, capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make(adapter, noRetry)
      const ids = Array.from({ length: 100 }, (_, n) => `m-${n}`)
      const edited = yield* Effect.forEach(ids, (id) => editor.update(request(id, `new ${id}`)), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(
        edited.map((message) => [message.ids.externalMessageId, message.text]),
        ids.map((id) => [id, `new ${id}`])
      )
      assert.isAtMost(batches.length, 6)
      assert.isTrue(batches.every((size) => size <= 50))
      assert.strictEqual(
        batches.reduce((sum, size) => sum + size, 0),
        100
      )
    })
  )

  it.effect("a lone update goes at once, alone in its call", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({ batch: true, capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make(adapter, noRetry)
      const edited = yield* editor.update(request("alone"))
      assert.strictEqual(edited.text, "text of alone")
      assert.deepStrictEqual(batches, [1])
    })
  )

  it.effect("one bad item fails only its own caller, with its own typed reason; an invalid request is never sent", () =>
    Effect.gen(function* () {
      const { adapter, batches, sent } = recordingAdapter({
        batch: true,
        capabilities: { maxMessagesPerCall: 50 },
        answer: (req) =>
          req.ids.externalMessageId === "bad" ? new EditError.NotFound({ description: "no such message" }) : undefined
      })
      const editor = MessageEditor.make(adapter, noRetry)
      const inputs = [request("a"), request("bad"), request("b"), request("c", "forbidden words"), request("d")]
      const outcomes = yield* Effect.forEach(inputs, (input) => Effect.result(editor.update(input)), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(
        outcomes.map((o) => (Result.isSuccess(o) ? "ok" : o.failure.reason._tag)),
        ["ok", "NotFound", "ok", "InvalidRequest", "ok"]
      )
      const bad = outcomes[1]
      assert.isTrue(bad !== undefined && Result.isFailure(bad) && bad.failure.operation === "update")
      assert.deepStrictEqual(batches, [4])
      assert.notInclude(
        sent.map((r) => r.ids.externalMessageId),
        "c"
      )
    })
  )

  it.live("a call that fails as a whole is retried by each caller, packed again", () =>
    Effect.gen(function* () {
      let calls = 0
      const sizes: Array<number> = []
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) =>
            Effect.suspend(() => {
              calls += 1
              sizes.push(requests.length)
              return calls === 1
                ? Effect.fail(new EditError.Unavailable({ status: 503, description: "busy" }))
                : Effect.succeed(requests.map((r) => Result.succeed(confirm(r))))
            })
        },
        { retry: { maxAttempts: 3, initialDelay: 20, maxDelay: 20, jitter: false } }
      )
      const edited = yield* Effect.forEach(["a", "b", "c"], (id) => editor.update(request(id)), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(
        edited.map((m) => m.ids.externalMessageId),
        ["a", "b", "c"]
      )
      // The first call carries all three; their retries are packed again. On a loaded machine the three
      // retry timers may not all fire in one turn, so at least two of them share a call (usually all three).
      assert.strictEqual(sizes[0], 3)
      assert.strictEqual(
        sizes.slice(1).reduce((sum, size) => sum + size, 0),
        3
      )
      assert.isBelow(sizes.length - 1, 3, `retries packed again: ${sizes.join(", ")}`)
    })
  )

  it.effect("the adapter's batchSize sets how many go in each call", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({ batch: true, capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make({ ...adapter, batchSize: () => 3 }, { ...noRetry, concurrency: 1 })
      yield* Effect.forEach(
        Array.from({ length: 10 }, (_, n) => `m-${n}`),
        (id) => editor.update(request(id)),
        { concurrency: "unbounded" }
      )
      assert.isTrue(batches.every((size) => size <= 3))
      assert.strictEqual(
        batches.reduce((sum, size) => sum + size, 0),
        10
      )
      const outcomes = yield* editor.updateMany(Array.from({ length: 10 }, (_, n) => request(`n-${n}`)))
      assert.isTrue(outcomes.every(Result.isSuccess))
      assert.isTrue(batches.every((size) => size <= 3))
    })
  )

  it.live("interrupting one caller cancels no other; interrupting every caller of a call interrupts the call", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const started: Array<number> = []
      let interrupted = 0
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) =>
            Effect.suspend(() => {
              started.push(requests.length)
              return Deferred.await(gate).pipe(
                Effect.as(requests.map((r) => Result.succeed(confirm(r)))),
                Effect.onInterrupt(() =>
                  Effect.sync(() => {
                    interrupted += 1
                  })
                )
              )
            })
        },
        noRetry
      )
      const fibers = yield* Effect.forEach(["a", "b", "c", "d"], (id) => Effect.forkChild(editor.update(request(id))))
      // Until the call has started (up to 10 s on a loaded machine).
      for (let n = 0; n < 1_000 && started.length === 0; n++) yield* Effect.sleep("10 millis")
      assert.deepStrictEqual(started, [4])
      const exit = yield* Fiber.interrupt(fibers[1] as Fiber.Fiber<unknown, unknown>).pipe(
        Effect.andThen(Fiber.await(fibers[1] as Fiber.Fiber<unknown, unknown>))
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      yield* Deferred.succeed(gate, undefined)
      const others = yield* Effect.forEach([fibers[0], fibers[2], fibers[3]], (fiber) =>
        Fiber.join(fiber as Fiber.Fiber<EditedMessage.EditedMessage, EditError.EditError>)
      )
      assert.deepStrictEqual(
        others.map((m) => m.ids.externalMessageId),
        ["a", "c", "d"]
      )
      assert.strictEqual(interrupted, 0)

      // A call whose every caller left is interrupted (its request aborted).
      const stuck = yield* Deferred.make<void>()
      const lone = MessageEditor.make(
        {
          ...adapter,
          updateBatch: () =>
            Effect.suspend(() => {
              loneStarted += 1
              return Deferred.await(stuck).pipe(
                Effect.as([]),
                Effect.onInterrupt(() =>
                  Effect.sync(() => {
                    interrupted += 1
                  })
                )
              )
            })
        },
        noRetry
      )
      let loneStarted = 0
      const single = yield* Effect.forkChild(lone.update(request("x")))
      for (let n = 0; n < 1_000 && loneStarted === 0; n++) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(single)
      for (let n = 0; n < 1_000 && interrupted === 0; n++) yield* Effect.sleep("10 millis")
      assert.strictEqual(interrupted, 1)
    })
  )

  it.live("a caller interrupted before its call leaves is not sent", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const sizes: Array<ReadonlyArray<string | undefined>> = []
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      const editor = MessageEditor.make(
        {
          ...adapter,
          updateBatch: (requests) =>
            Effect.suspend(() => {
              sizes.push(requests.map((r) => r.ids.externalMessageId))
              return Deferred.await(gate).pipe(Effect.as(requests.map((r) => Result.succeed(confirm(r)))))
            })
        },
        { ...noRetry, concurrency: 1 }
      )
      // The only slot is taken: the next ones wait for it.
      const first = yield* Effect.forkChild(editor.update(request("first")))
      for (let n = 0; n < 1_000 && sizes.length === 0; n++) yield* Effect.sleep("10 millis")
      const waiting = yield* Effect.forEach(["a", "b", "c"], (id) => Effect.forkChild(editor.update(request(id))))
      yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(waiting[1] as Fiber.Fiber<unknown, unknown>)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(waiting[0] as Fiber.Fiber<unknown, unknown>)
      yield* Fiber.join(waiting[2] as Fiber.Fiber<unknown, unknown>)
      assert.deepStrictEqual(sizes, [["first"], ["a", "c"]])
    })
  )

  describe("whose context a call runs in", () => {
    /** A logger and a tracer of one caller (or of the editor): what reached them. */
    const observer = () => {
      const lines: Array<string> = []
      const spans: Array<Tracer.NativeSpan> = []
      const logger = Logger.make((options) => {
        lines.push(String(Array.isArray(options.message) ? options.message.join(" ") : options.message))
      })
      const tracer = Tracer.make({
        span: (options) => {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const within = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(Effect.withTracer(tracer), Effect.provide(Logger.layer([logger])))
      return { lines, spans, within, logger }
    }
    const spanIds = (spans: ReadonlyArray<Tracer.NativeSpan>, name: string) =>
      spans
        .filter((span) => span.name === name)
        .map((span) => span.attributes.get("ids"))
        .sort()

    /** An adapter whose calls log, make a span, and wait for a gate before they answer. */
    const gatedAdapter = (gate: Deferred.Deferred<void>) => {
      const { adapter } = recordingAdapter({ capabilities: { maxMessagesPerCall: 50 } })
      const batched: MessageEditor.Adapter["updateBatch"] = (requests) => {
        const ids = requests.map((r) => r.ids.externalMessageId).join(",")
        return Effect.logInfo(`call carrying ${ids}`).pipe(
          Effect.andThen(Deferred.await(gate)),
          Effect.as(requests.map((r) => Result.succeed(confirm(r)))),
          Effect.withSpan("adapter.call", { attributes: { ids } })
        )
      }
      return { ...adapter, updateBatch: batched }
    }

    it.live("an update() sent after another caller's call ends runs in its own caller's context", () =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const editor = MessageEditor.make(gatedAdapter(gate), { ...noRetry, concurrency: 1 })
        const a = observer()
        const b = observer()
        // A's call holds the only slot; B's request waits for it and leaves once A's call ends.
        const first = yield* Effect.forkChild(a.within(editor.update(request("a"))))
        yield* Effect.sleep("10 millis")
        const second = yield* Effect.forkChild(b.within(editor.update(request("b"))))
        yield* Effect.sleep("10 millis")
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        assert.deepStrictEqual(a.lines, ["call carrying a"])
        assert.deepStrictEqual(b.lines, ["call carrying b"])
        assert.deepStrictEqual(spanIds(a.spans, "adapter.call"), ["a"])
        assert.deepStrictEqual(spanIds(b.spans, "adapter.call"), ["b"])
        // Each caller's call is a child of its own update span.
        for (const { spans } of [a, b]) {
          const update = spans.find((span) => span.name === "MessageEditor.update")
          const call = spans.find((span) => span.name === "adapter.call")
          assert.isDefined(update)
          assert.strictEqual(call?.parent._tag === "Some" ? call.parent.value : undefined, update)
          assert.strictEqual(update?.attributes.get("reword.outcome"), "success")
        }
      })
    )

    it.live("a call shared by several callers runs in the editor's context, never in one caller's", () =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const editorSide = observer()
        const built = yield* editorSide.within(Effect.context<never>())
        const editor = MessageEditor.make({ ...gatedAdapter(gate), context: built }, noRetry)
        const a = observer()
        const b = observer()
        const fibers = [
          yield* Effect.forkChild(a.within(editor.update(request("a")))),
          yield* Effect.forkChild(b.within(editor.update(request("b"))))
        ]
        yield* Effect.sleep("10 millis")
        yield* Deferred.succeed(gate, undefined)
        for (const fiber of fibers) yield* Fiber.join(fiber)
        assert.deepStrictEqual(editorSide.lines, ["call carrying a,b"])
        assert.deepStrictEqual(spanIds(editorSide.spans, "adapter.call"), ["a,b"])
        for (const caller of [a, b]) {
          assert.deepStrictEqual(caller.lines, [])
          assert.deepStrictEqual(spanIds(caller.spans, "adapter.call"), [])
          // Each caller's own span covers its wait and outcome.
          assert.deepStrictEqual(
            caller.spans.map((span) => [span.name, span.attributes.get("reword.outcome"), span.status._tag]),
            [["MessageEditor.update", "success", "Ended"]]
          )
        }
      })
    )
  })
})
