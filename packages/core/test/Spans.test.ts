import { assert, describe, it } from "@effect/vitest"
import { EditError, MessageEditor } from "@reword/core"
import { Effect, Tracer } from "effect"
import { recordingAdapter } from "./support/recordingAdapter.ts"

/** A tracer that keeps every span it makes. */
const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

describe("spans", () => {
  it.effect("every call is a span with provider, operation and outcome", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const { adapter } = recordingAdapter({
        answer: (request) => (request.ids.externalMessageId === "gone" ? new EditError.NotFound({}) : undefined)
      })
      const editor = MessageEditor.make(adapter, { retry: { maxAttempts: 1 } })
      yield* editor.update({ ids: { externalMessageId: "m-1" }, text: "x" }).pipe(Effect.withTracer(tracer))
      yield* Effect.flip(editor.update({ ids: { externalMessageId: "gone" }, text: "x" })).pipe(
        Effect.withTracer(tracer)
      )
      yield* editor
        .updateMany([
          { ids: { externalMessageId: "a" }, text: "x" },
          { ids: { externalMessageId: "gone" }, text: "x" }
        ])
        .pipe(Effect.withTracer(tracer))
      const summary = spans.map((span) => ({ name: span.name, attributes: Object.fromEntries(span.attributes) }))
      assert.deepStrictEqual(summary, [
        {
          name: "MessageEditor.update",
          attributes: { "reword.provider": "fake", "reword.operation": "update", "reword.outcome": "success" }
        },
        {
          name: "MessageEditor.update",
          attributes: { "reword.provider": "fake", "reword.operation": "update", "reword.outcome": "NotFound" }
        },
        {
          name: "MessageEditor.updateMany",
          attributes: {
            "reword.provider": "fake",
            "reword.operation": "updateMany",
            "reword.requests": 2,
            "reword.failures": 1
          }
        }
      ])
    })
  )
})
