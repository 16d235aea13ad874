/**
 * A bridge from Effect's tracer and metrics to OpenTelemetry's API objects (a
 * `TracerProvider`, a `MeterProvider`), for apps that already run an
 * OpenTelemetry SDK and do not use `@effect/opentelemetry`. `@opentelemetry/api`
 * is loaded only when it is used.
 *
 * @internal
 */
import type * as Otel from "@opentelemetry/api"
import { Cause, Context, Exit, Inspectable, type Metric, Option, Tracer } from "effect"

/** The OpenTelemetry API module (`@opentelemetry/api`). */
export type Api = typeof Otel

/** The instrumentation scope of reword's spans and metrics. */
export const SCOPE = "@reword/core"

const toAttribute = (value: unknown): Otel.AttributeValue => {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (typeof value === "bigint") return value.toString()
  if (
    Array.isArray(value) &&
    (value.every((item) => typeof item === "string") || value.every((item) => typeof item === "number"))
  ) {
    return value.slice() as Otel.AttributeValue
  }
  return Inspectable.toStringUnknown(value)
}

const toAttributes = (record: Readonly<Record<string, unknown>>): Otel.Attributes => {
  const attributes: Otel.Attributes = {}
  for (const [key, value] of Object.entries(record)) attributes[key] = toAttribute(value)
  return attributes
}

const BILLION = BigInt(1_000_000_000)
const hrTime = (nanos: bigint): Otel.HrTime => [Number(nanos / BILLION), Number(nanos % BILLION)]

const kinds = (api: Api): Record<Tracer.SpanKind, Otel.SpanKind> => ({
  internal: api.SpanKind.INTERNAL,
  client: api.SpanKind.CLIENT,
  server: api.SpanKind.SERVER,
  producer: api.SpanKind.PRODUCER,
  consumer: api.SpanKind.CONSUMER
})

type SpanOptions = Parameters<Tracer.Tracer["span"]>[0]

/** An Effect span that is an OpenTelemetry span. */
class BridgeSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly annotations: Context.Context<never>
  readonly links: Array<Tracer.SpanLink>
  readonly attributes = new Map<string, unknown>()
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly span: Otel.Span
  readonly spanId: string
  readonly traceId: string
  readonly sampled: boolean
  status: Tracer.SpanStatus
  readonly api: Api

  constructor(api: Api, tracer: Otel.Tracer, options: SpanOptions) {
    this.api = api
    this.name = options.name
    this.kind = options.kind
    this.annotations = options.annotations
    this.links = options.links
    const active = api.context.active()
    // No Effect parent: the span the app has active (its HTTP request, its job) is the parent.
    const activeSpan = options.root || Option.isSome(options.parent) ? undefined : api.trace.getSpan(active)
    const parentContext = options.root
      ? api.trace.deleteSpan(active)
      : Option.isSome(options.parent)
        ? withParent(api, active, options.parent.value)
        : active
    this.parent = Option.isSome(options.parent)
      ? options.parent
      : activeSpan === undefined || !api.trace.isSpanContextValid(activeSpan.spanContext())
        ? Option.none()
        : Option.some(
            Tracer.externalSpan({
              spanId: activeSpan.spanContext().spanId,
              traceId: activeSpan.spanContext().traceId,
              sampled: (activeSpan.spanContext().traceFlags & api.TraceFlags.SAMPLED) !== 0
            })
          )
    this.span = tracer.startSpan(
      options.name,
      {
        startTime: hrTime(options.startTime),
        kind: kinds(api)[options.kind],
        ...(options.links.length === 0
          ? {}
          : {
              links: options.links.map((link) => ({
                context: spanContextOf(api, link.span),
                attributes: toAttributes(link.attributes)
              }))
            })
      },
      parentContext
    )
    const context = this.span.spanContext()
    this.spanId = context.spanId
    this.traceId = context.traceId
    this.sampled = (context.traceFlags & api.TraceFlags.SAMPLED) !== 0
    this.status = { _tag: "Started", startTime: options.startTime }
  }

  attribute(key: string, value: unknown): void {
    if (this.status._tag === "Ended") return
    this.span.setAttribute(key, toAttribute(value))
    this.attributes.set(key, value)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    if (this.status._tag === "Ended") return
    this.span.addEvent(name, attributes === undefined ? undefined : toAttributes(attributes), hrTime(startTime))
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    if (this.status._tag === "Ended") return
    this.links.push(...links)
    this.span.addLinks(
      links.map((link) => ({ context: spanContextOf(this.api, link.span), attributes: toAttributes(link.attributes) }))
    )
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Ended") return
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    const at = hrTime(endTime)
    if (Exit.isSuccess(exit)) {
      this.span.setStatus({ code: this.api.SpanStatusCode.OK })
    } else if (Cause.hasInterruptsOnly(exit.cause)) {
      this.span.setAttribute("effect.fiber.interrupted", true)
    } else {
      // Errors that leave reword (EditError) are scrubbed of every secret it knows.
      const errors = Cause.prettyErrors(exit.cause)
      for (const error of errors) this.span.recordException(error, at)
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: errors[0]?.message ?? "failed" })
    }
    this.span.end(at)
  }
}

const spanContextOf = (api: Api, span: Tracer.AnySpan): Otel.SpanContext =>
  span instanceof BridgeSpan
    ? span.span.spanContext()
    : {
        spanId: span.spanId,
        traceId: span.traceId,
        isRemote: span._tag === "ExternalSpan",
        traceFlags: span.sampled ? api.TraceFlags.SAMPLED : api.TraceFlags.NONE
      }

const withParent = (api: Api, context: Otel.Context, parent: Tracer.AnySpan): Otel.Context =>
  parent instanceof BridgeSpan
    ? api.trace.setSpan(context, parent.span)
    : api.trace.setSpanContext(context, spanContextOf(api, parent))

/**
 * An Effect tracer whose spans are OpenTelemetry spans of `tracer`. While an
 * Effect runs inside one of its spans, that span is the active OpenTelemetry
 * span: what the app instruments underneath (`fetch`, `http`) nests in it.
 */
export const makeTracer = (api: Api, tracer: Otel.Tracer): Tracer.Tracer =>
  Tracer.make({
    span: (options) => new BridgeSpan(api, tracer, options),
    context: (primitive, fiber) => {
      const span = fiber.cache.span
      if (!(span instanceof BridgeSpan)) return primitive["~effect/Effect/evaluate"](fiber)
      return api.context.with(api.trace.setSpan(api.context.active(), span.span), () =>
        primitive["~effect/Effect/evaluate"](fiber)
      )
    }
  })

type Metadata = Metric.Metric.Metadata<unknown, unknown>

interface Instruments {
  readonly counters: Map<string, Otel.Counter | Otel.UpDownCounter>
  readonly histograms: Map<string, Otel.Histogram>
  readonly gauges: Map<string, Otel.Gauge>
}

/**
 * A metric registry (Effect's `Metric.MetricRegistry`) that also forwards
 * every update of a counter, histogram or gauge to an instrument of the same
 * name on `meter`. A histogram keeps its boundaries; a `unit` attribute is the
 * instrument's unit, not an attribute.
 */
export class ForwardingRegistry extends Map<string, Metadata> {
  readonly #meter: Otel.Meter
  readonly #instruments: Instruments = { counters: new Map(), histograms: new Map(), gauges: new Map() }

  constructor(meter: Otel.Meter) {
    super()
    this.#meter = meter
  }

  override set(key: string, metadata: Metadata): this {
    const forward = this.#forwarder(metadata)
    if (forward !== undefined) {
      const hooks = metadata.hooks
      // Metric reads the hooks from the object it just stored: wrapping them in place catches the first update too.
      ;(metadata as { hooks: Metadata["hooks"] }).hooks = {
        get: hooks.get,
        update: (input, context) => {
          hooks.update(input, context)
          forward(input)
        },
        modify: (input, context) => {
          hooks.modify(input, context)
          // A gauge's modify adds to its value: forward the value it now has.
          forward(metadata.type === "Gauge" ? (hooks.get(context) as Metric.GaugeState<number>).value : input)
        }
      }
    }
    return super.set(key, metadata)
  }

  #forwarder(metadata: Metadata): ((input: unknown) => void) | undefined {
    const { unit, ...rest } = metadata.attributes ?? {}
    const attributes = toAttributes(rest)
    const options = {
      ...(metadata.description === undefined ? {} : { description: metadata.description }),
      ...(typeof unit === "string" ? { unit } : {})
    }
    const meter = this.#meter
    const instruments = this.#instruments
    switch (metadata.type) {
      case "Counter": {
        const incremental = (metadata.hooks.get(Context.empty()) as Metric.CounterState<number>).incremental
        const counter =
          instruments.counters.get(metadata.id) ??
          (incremental ? meter.createCounter(metadata.id, options) : meter.createUpDownCounter(metadata.id, options))
        instruments.counters.set(metadata.id, counter)
        return (input) => {
          const value = Number(input)
          if (Number.isFinite(value) && (!incremental || value >= 0)) counter.add(value, attributes)
        }
      }
      case "Histogram": {
        const state = metadata.hooks.get(Context.empty()) as Metric.HistogramState
        const boundaries = state.buckets.map(([boundary]) => boundary).filter(Number.isFinite)
        const histogram =
          instruments.histograms.get(metadata.id) ??
          meter.createHistogram(metadata.id, { ...options, advice: { explicitBucketBoundaries: boundaries } })
        instruments.histograms.set(metadata.id, histogram)
        return (input) => {
          if (typeof input === "number" && Number.isFinite(input)) histogram.record(input, attributes)
        }
      }
      case "Gauge": {
        const gauge = instruments.gauges.get(metadata.id) ?? meter.createGauge(metadata.id, options)
        instruments.gauges.set(metadata.id, gauge)
        return (input) => {
          const value = Number(input)
          if (Number.isFinite(value)) gauge.record(value, attributes)
        }
      }
      default:
        return undefined
    }
  }
}
