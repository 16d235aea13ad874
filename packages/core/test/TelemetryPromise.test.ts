import { context, trace } from "@opentelemetry/api"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { InMemoryEditor } from "@reword/core"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodingsOf, histogram, latestPoints, pointsOf, spanSummaries } from "./support/telemetry.ts"

const API_KEY = "acq-live-TELEMETRY-9f3b2c71d0e84a65"

/** The SDK an app runs: spans and metrics kept in memory where an app would send them to a collector. */
const makeSdk = () => {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  return { spans, tracerProvider, metrics, reader, meterProvider }
}

describe("createEditor's telemetry option", () => {
  let sandbox: AcquireSandbox.Sandbox
  beforeAll(async () => {
    sandbox = await AcquireSandbox.start({ apiKey: API_KEY })
    // An app's SDK as NodeSDK sets it up: an AsyncLocalStorage context, so that the app's active span is known.
    new NodeTracerProvider().register()
  })
  afterAll(async () => {
    await sandbox.stop()
    trace.disable()
    context.disable()
  })

  it("exports spans an operator can follow, nested in the app's span, and the metrics worth graphing", async () => {
    const sdk = makeSdk()
    const editor = await createEditor({
      providers: Acquire.provider,
      env: sandbox.env,
      retry: { initialDelay: "5 millis", maxDelay: "20 millis" },
      telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }
    })
    const ids = await sandbox.seedMessage("Meet at 11.")
    const app = sdk.tracerProvider.getTracer("app")
    try {
      // An app's request handler, with its own span: reword's span is its child.
      await app.startActiveSpan("POST /fix-typo", async (span) => {
        // The provider fails once (and echoes the key, as a broken proxy might): the editor retries.
        sandbox.server.inject({
          fault: AcquireSandbox.Faults.status(503, { message: `down for ${API_KEY}` }),
          times: 1
        })
        await editor.update({ ids, text: "Meet at 10." })
        span.end()
      })
      // Acquire has no such message; a request refused before sending; two in one updateMany.
      await expect(editor.update({ ids: { providerMessageId: 999_999 }, text: "x" })).rejects.toMatchObject({
        reason: { _tag: "NotFound" }
      })
      await editor.updateMany([
        { ids, text: "Meet at 10:30." },
        { ids: { providerMessageId: "not-a-number" }, text: "never sent" }
      ])
      for await (const _ of editor.updateEach([{ ids, text: "Meet at 10:45." }])) {
        // one outcome
      }
    } finally {
      await editor.dispose()
    }
    await sdk.reader.forceFlush()

    const spans = spanSummaries(sdk.spans)
    const updates = spans.filter((span) => span.name === "MessageEditor.update")
    expect(updates.map((span) => span.attributes)).toEqual([
      { "reword.provider": "acquire", "reword.operation": "update", "reword.outcome": "success" },
      { "reword.provider": "acquire", "reword.operation": "update", "reword.outcome": "NotFound" }
    ])
    const [fixed, notFound] = updates
    const request = spans.find((span) => span.name === "POST /fix-typo")
    expect(fixed?.parentSpanId).toBe(request?.spanId)
    expect(fixed?.traceId).toBe(request?.traceId)
    expect(fixed?.status.code).toBe(1) // OK
    expect(notFound?.status.code).toBe(2) // ERROR
    expect(notFound?.status.message).toContain("Not found")
    // Each provider call is a child span of its edit: two for the retried one.
    expect(spans.filter((span) => span.parentSpanId === fixed?.spanId)).toHaveLength(2)
    const many = spans.find((span) => span.name === "MessageEditor.updateMany")
    expect(many?.attributes).toMatchObject({ "reword.requests": 2, "reword.failures": 1 })

    const points = latestPoints(sdk.metrics)
    const edits = (where: Record<string, string>) =>
      pointsOf(points, "reword.edits", { "reword.provider": "acquire", ...where }).map((point) => point.value)
    expect(edits({ "reword.operation": "update", "reword.outcome": "success" })).toEqual([1])
    expect(edits({ "reword.operation": "update", "reword.outcome": "NotFound" })).toEqual([1])
    // updateMany and updateEach: one success each, and the refused one.
    expect(edits({ "reword.operation": "updateMany", "reword.outcome": "success" })).toEqual([2])
    expect(edits({ "reword.operation": "updateMany", "reword.outcome": "InvalidRequest" })).toEqual([1])
    const attempts = pointsOf(points, "reword.edit.attempts", {
      "reword.operation": "update",
      "reword.outcome": "success"
    })
    expect(histogram(attempts[0])).toEqual({ count: 1, sum: 2 })
    const refused = pointsOf(points, "reword.edit.attempts", { "reword.outcome": "InvalidRequest" })
    expect(histogram(refused[0])).toEqual({ count: 1, sum: 0 })
    const durations = pointsOf(points, "reword.edit.duration", { "reword.operation": "update" })
    expect(durations.map((point) => point.unit)).toEqual(["s", "s"])
    expect(durations.every((point) => point.attributes.unit === undefined)).toBe(true)
    expect(durations.map((point) => histogram(point).count)).toEqual([1, 1])
    expect(histogram(durations[0]).sum).toBeGreaterThan(0)

    // No secret in any attribute, event, status or metric point, in any common encoding.
    const exported = JSON.stringify({ spans, points })
    for (const encoded of encodingsOf(API_KEY)) expect(exported).not.toContain(encoded)
  })

  it("without it, nothing reaches OpenTelemetry", async () => {
    const sdk = makeSdk()
    const editor = await createEditor({ providers: Acquire.provider, env: sandbox.env })
    try {
      const ids = await sandbox.seedMessage("Hi")
      await editor.update({ ids, text: "Hello" })
    } finally {
      await editor.dispose()
    }
    await sdk.reader.forceFlush()
    expect(sdk.spans.getFinishedSpans()).toEqual([])
    expect(latestPoints(sdk.metrics)).toEqual([])
  })

  it("is checked like the other options", async () => {
    const wrong: ReadonlyArray<[unknown, string]> = [
      [{ tracerProvder: {} }, "telemetry has no option tracerProvder"],
      [{ tracerProvider: {} }, "telemetry.tracerProvider must be an OpenTelemetry TracerProvider"],
      [{ meterProvider: "otel" }, "telemetry.meterProvider must be an OpenTelemetry MeterProvider"],
      ["yes", "telemetry must be an object"]
    ]
    for (const [telemetry, message] of wrong) {
      const created = createEditor({
        providers: InMemoryEditor.provider,
        settings: {},
        telemetry: telemetry as never
      })
      await expect(created).rejects.toBeInstanceOf(ConfigurationError)
      await expect(created).rejects.toThrow(message)
    }
  })

  it("is typed", () => {
    const sdk = makeSdk()
    const options = (telemetry: Parameters<typeof createEditor>[0]["telemetry"]) => telemetry
    options({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider })
    options({ tracerProvider: trace.getTracerProvider() })
    // @ts-expect-error a misspelled key does not compile
    options({ tracerProvder: sdk.tracerProvider })
    // @ts-expect-error a meter provider is no tracer provider
    options({ tracerProvider: sdk.meterProvider })
  })
})
