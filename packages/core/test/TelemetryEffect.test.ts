import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { EditError, MessageEditor, Metrics, Provider, Telemetry } from "@reword/core"
import { Effect, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import { recordingAdapter } from "./support/recordingAdapter.ts"
import { encodingsOf, histogram, latestPoints, pointsOf, spanSummaries } from "./support/telemetry.ts"

const API_KEY = "acq-live-EFFECT-OTEL-51c9e2a07b3d4f88"

/** The counter's value for one provider, operation and outcome, read as an app reads an Effect metric. */
const editsOf = (provider: string, operation: string, outcome: string) =>
  Effect.map(
    Metric.value(
      Metric.withAttributes(Metrics.edits, {
        "reword.provider": provider,
        "reword.operation": operation,
        "reword.outcome": outcome
      })
    ),
    (state) => state.count
  )

describe("telemetry (Effect API)", () => {
  it.live("@effect/opentelemetry's NodeSdk exports reword's spans and metrics", () =>
    Effect.gen(function* () {
      const sandbox = yield* Effect.acquireRelease(
        Effect.promise(() => AcquireSandbox.start({ apiKey: API_KEY })),
        (started) => Effect.promise(() => started.stop())
      )
      const spans = new InMemorySpanExporter()
      const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
      const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 })
      const TelemetryLive = NodeSdk.layer(() => ({
        resource: { serviceName: "support-desk" },
        spanProcessor: new SimpleSpanProcessor(spans),
        metricReader: reader
      }))
      const EditorLive = Provider.layer([Acquire.provider], {
        source: Provider.fromEnv(sandbox.env),
        retry: { initialDelay: "5 millis", maxDelay: "20 millis" }
      })
      const ids = yield* Effect.promise(() => sandbox.seedMessage("Meet at 11."))
      // Read before the layer ends: shutting the SDK down empties in-memory exporters.
      const { exported, points } = yield* Effect.gen(function* () {
        const editor = yield* MessageEditor.MessageEditor
        sandbox.server.inject({ fault: AcquireSandbox.Faults.status(503, { echo: API_KEY }), times: 1 })
        yield* editor.update({ ids, text: "Meet at 10." })
        const refused = yield* Effect.flip(editor.update({ ids: { providerMessageId: 999_999 }, text: "x" }))
        assert.strictEqual(refused.reason._tag, "NotFound")
        yield* Effect.promise(() => reader.forceFlush())
        return { exported: spanSummaries(spans), points: latestPoints(metrics) }
      }).pipe(Effect.provide(EditorLive), Effect.provide(TelemetryLive))

      const updates = exported.filter((span) => span.name === "MessageEditor.update")
      assert.deepStrictEqual(
        updates.map((span) => span.attributes["reword.outcome"]),
        ["success", "NotFound"]
      )
      // The two provider calls of the retried edit are its children.
      assert.strictEqual(exported.filter((span) => span.parentSpanId === updates[0]?.spanId).length, 2)

      const edits = pointsOf(points, "reword.edits", { "reword.provider": "acquire", "reword.operation": "update" })
      assert.deepStrictEqual(
        edits.map((point) => [point.attributes["reword.outcome"], point.value]),
        [
          ["success", 1],
          ["NotFound", 1]
        ]
      )
      const attempts = pointsOf(points, "reword.edit.attempts", { "reword.outcome": "success" })
      assert.deepStrictEqual(histogram(attempts[0]), { count: 1, sum: 2 })
      const durations = pointsOf(points, "reword.edit.duration", { "reword.provider": "acquire" })
      assert.deepStrictEqual(
        durations.map((point) => [point.unit, histogram(point).count]),
        [
          ["s", 1],
          ["s", 1]
        ]
      )
      const leaked = JSON.stringify({ exported, points })
      for (const encoded of encodingsOf(API_KEY)) assert.isFalse(leaked.includes(encoded))
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("edits, durations and attempts, by the current Clock, on every path", () =>
    Effect.gen(function* () {
      let calls = 0
      const { adapter } = recordingAdapter({
        // The first call of all fails with Unavailable (retried 500 ms later); "gone" is not found.
        answer: (request) => {
          calls += 1
          if (calls === 1) return new EditError.Unavailable({})
          return request.ids.externalMessageId === "gone" ? new EditError.NotFound({}) : undefined
        }
      })
      const editor = MessageEditor.make(adapter, {
        retry: { maxAttempts: 3, initialDelay: "500 millis", jitter: false }
      })
      const fiber = yield* Effect.forkChild(editor.update({ ids: { externalMessageId: "m-1" }, text: "x" }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.await(fiber)
      yield* editor.updateMany([
        { ids: { externalMessageId: "a" }, text: "x" },
        { ids: { externalMessageId: "gone" }, text: "x" },
        { ids: {}, text: "no id" }
      ])
      assert.strictEqual(yield* editsOf("fake", "update", "success"), 1)
      assert.strictEqual(yield* editsOf("fake", "updateMany", "success"), 1)
      assert.strictEqual(yield* editsOf("fake", "updateMany", "NotFound"), 1)
      assert.strictEqual(yield* editsOf("fake", "updateMany", "InvalidRequest"), 1)
      const labels = { "reword.provider": "fake", "reword.operation": "update", "reword.outcome": "success" }
      const duration = yield* Metric.value(Metric.withAttributes(Metrics.editDuration, labels))
      assert.deepStrictEqual([duration.count, duration.sum], [1, 0.5])
      const attempts = yield* Metric.value(Metric.withAttributes(Metrics.editAttempts, labels))
      assert.deepStrictEqual([attempts.count, attempts.sum], [1, 2])
      const refused = yield* Metric.value(
        Metric.withAttributes(Metrics.editAttempts, {
          ...labels,
          "reword.operation": "updateMany",
          "reword.outcome": "InvalidRequest"
        })
      )
      assert.deepStrictEqual([refused.count, refused.sum], [1, 0])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("a batch adapter's groups: each request's outcome, with the attempts of the call that carried it", () =>
    Effect.gen(function* () {
      const { adapter, batches } = recordingAdapter({
        batch: true,
        capabilities: { maxMessagesPerCall: 10 },
        answer: (request) => (request.ids.externalMessageId === "gone" ? new EditError.NotFound({}) : undefined)
      })
      const editor = MessageEditor.make(adapter)
      const fiber = yield* Effect.forkChild(
        editor.updateMany([
          { ids: { externalMessageId: "a" }, text: "x" },
          { ids: { externalMessageId: "b" }, text: "x" },
          { ids: { externalMessageId: "gone" }, text: "x" },
          { ids: {}, text: "never sent" }
        ])
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.await(fiber)
      assert.deepStrictEqual(batches, [3])
      assert.strictEqual(yield* editsOf("fake", "updateMany", "success"), 2)
      assert.strictEqual(yield* editsOf("fake", "updateMany", "NotFound"), 1)
      assert.strictEqual(yield* editsOf("fake", "updateMany", "InvalidRequest"), 1)
      const sent = yield* Metric.value(
        Metric.withAttributes(Metrics.editAttempts, {
          "reword.provider": "fake",
          "reword.operation": "updateMany",
          "reword.outcome": "success"
        })
      )
      assert.deepStrictEqual([sent.count, sent.sum], [2, 2])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("Telemetry.layer refuses what is not a provider, as a ConfigError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(Telemetry.layer({ tracerProvider: {} as never })).pipe(Effect.scoped)
      )
      assert.include(error.message, "telemetry.tracerProvider must be an OpenTelemetry TracerProvider")
    })
  )
})
