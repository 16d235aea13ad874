import type { Attributes } from "@opentelemetry/api"
import type { InMemoryMetricExporter } from "@opentelemetry/sdk-metrics"
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base"

/** One exported data point: its metric's name and unit, attributes, and value (a number, or a histogram's). */
export interface Point {
  readonly name: string
  readonly unit: string
  readonly attributes: Attributes
  readonly value: unknown
}

/** The data points of the latest export (cumulative temporality: the latest holds everything so far). */
export const latestPoints = (exporter: InMemoryMetricExporter): ReadonlyArray<Point> => {
  const latest = exporter.getMetrics().at(-1)
  if (latest === undefined) return []
  return latest.scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) =>
      (metric.dataPoints as ReadonlyArray<{ readonly attributes: Attributes; readonly value: unknown }>).map(
        (point) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          attributes: point.attributes,
          value: point.value
        })
      )
    )
  )
}

/** The points of one metric whose attributes include `where`. */
export const pointsOf = (
  points: ReadonlyArray<Point>,
  name: string,
  where: Readonly<Record<string, string>> = {}
): ReadonlyArray<Point> =>
  points.filter(
    (point) => point.name === name && Object.entries(where).every(([key, value]) => point.attributes[key] === value)
  )

/** A histogram point's count and sum. */
export const histogram = (point: Point | undefined): { readonly count: number; readonly sum: number } => {
  const value = point?.value as { readonly count?: number; readonly sum?: number } | undefined
  return { count: value?.count ?? 0, sum: value?.sum ?? 0 }
}

/** Every finished span as a plain summary an operator would read. */
export const spanSummaries = (exporter: InMemorySpanExporter) =>
  exporter.getFinishedSpans().map((span) => ({
    name: span.name,
    spanId: span.spanContext().spanId,
    traceId: span.spanContext().traceId,
    parentSpanId: span.parentSpanContext?.spanId,
    attributes: span.attributes,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes }))
  }))

/** A secret in the encodings a leak would take: raw, base64, base64url, percent-encoded. */
export const encodingsOf = (secret: string): ReadonlyArray<string> => [
  secret,
  Buffer.from(secret).toString("base64"),
  Buffer.from(secret).toString("base64url"),
  encodeURIComponent(secret)
]
