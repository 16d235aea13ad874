/** The check of `Telemetry.layer`'s options, shared with `createEditor`. */
import { Predicate } from "effect"

const telemetryKeys: ReadonlyArray<string> = ["tracerProvider", "meterProvider"]

const hasMethod = (value: unknown, method: string): boolean =>
  Predicate.isObject(value) && typeof (value as Record<string, unknown>)[method] === "function"

/**
 * What is wrong with telemetry options, or `undefined`: checked by
 * `createEditor` and `Telemetry.layer` before anything starts.
 */
export const problem = (options: unknown): string | undefined => {
  if (options === undefined) return undefined
  if (!Predicate.isObject(options) || Array.isArray(options)) {
    return "telemetry must be an object: { tracerProvider?, meterProvider? }"
  }
  const record = options as Record<string, unknown>
  const unknown = Object.keys(record).filter((key) => !telemetryKeys.includes(key))
  if (unknown.length > 0) {
    return `telemetry has no option ${unknown.join(", ")}: its options are ${telemetryKeys.join(", ")}`
  }
  if (record.tracerProvider !== undefined && !hasMethod(record.tracerProvider, "getTracer")) {
    return "telemetry.tracerProvider must be an OpenTelemetry TracerProvider (such as trace.getTracerProvider())"
  }
  if (record.meterProvider !== undefined && !hasMethod(record.meterProvider, "getMeter")) {
    return "telemetry.meterProvider must be an OpenTelemetry MeterProvider (such as metrics.getMeterProvider())"
  }
  return undefined
}
