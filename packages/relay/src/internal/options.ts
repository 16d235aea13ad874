/**
 * The relay's own options, checked once where it is built: every wrong value
 * named, an unknown key refused with a "did you mean".
 */
import type { EditError } from "@reword/core"
import { OptionCheck, ProviderKit } from "@reword/core/adapter"
import { type Config, Duration, Effect, Option } from "effect"

export interface Settings {
  readonly tablePrefix: string
  readonly echoWindowMs: number
  readonly pollMs: number
  readonly deleteWindowMs: number
  readonly sign: boolean
  readonly worker: boolean
  readonly maxAttempts: number
  readonly retentionMs: number
  readonly leaseMs: number
  readonly workerId: string | undefined
}

const KEYS = [
  "telegram",
  "bitrix24",
  "outbox",
  "tablePrefix",
  "echoWindow",
  "pollInterval",
  "deleteWindow",
  "sign",
  "worker",
  "maxAttempts",
  "retention",
  "lease",
  "workerId"
] as const

const durationMs = (
  problems: Array<EditError.Problem>,
  path: string,
  value: unknown,
  fallback: number,
  min: number
): number => {
  if (value === undefined) return fallback
  const decoded = Duration.fromInput(value as Duration.Input)
  const ms = Option.isSome(decoded) ? Duration.toMillis(decoded.value) : Number.NaN
  if (!Number.isFinite(ms) || ms < min || ms > 2 ** 31 - 1) {
    problems.push({ path, message: `must be a duration from ${min} ms to 24.8 days` })
    return fallback
  }
  return ms
}

/** The options, decoded; a `ConfigError` naming every problem. */
export const decode = (options: Readonly<Record<string, unknown>>): Effect.Effect<Settings, Config.ConfigError> =>
  Effect.suspend(() => {
    const problems: Array<EditError.Problem> = []
    for (const key of Object.keys(options)) {
      if ((KEYS as ReadonlyArray<string>).includes(key)) continue
      problems.push({ path: key, message: `is not an option${ProviderKit.didYouMean(key, KEYS)}` })
    }
    const prefix = options.tablePrefix ?? "reword_relay_"
    if (typeof prefix !== "string" || !/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) {
      problems.push({
        path: "tablePrefix",
        message: "must be a-z, 0-9 and _, starting with a letter, at most 41 chars"
      })
    }
    for (const key of ["sign", "worker"] as const) {
      if (options[key] !== undefined && typeof options[key] !== "boolean") {
        problems.push({ path: key, message: "must be a boolean" })
      }
    }
    const attempts = options.maxAttempts ?? 20
    if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1 || attempts > 1000) {
      problems.push({ path: "maxAttempts", message: "must be an integer from 1 to 1000" })
    }
    const workerId = options.workerId
    if (workerId !== undefined && (typeof workerId !== "string" || !/^[\w.:-]{1,100}$/.test(workerId))) {
      problems.push({ path: "workerId", message: "must be 1 to 100 of A-Z, a-z, 0-9, _ . : -" })
    }
    const settings: Settings = {
      tablePrefix: String(prefix),
      echoWindowMs: durationMs(problems, "echoWindow", options.echoWindow, 120_000, 0),
      pollMs: durationMs(problems, "pollInterval", options.pollInterval, 1_000, 10),
      deleteWindowMs: durationMs(problems, "deleteWindow", options.deleteWindow, 48 * 3_600_000, 0),
      sign: options.sign !== false,
      worker: options.worker !== false,
      maxAttempts: Number(attempts),
      retentionMs: durationMs(problems, "retention", options.retention, 7 * 24 * 3_600_000, 0),
      leaseMs: durationMs(problems, "lease", options.lease, 60_000, 1_000),
      workerId: typeof workerId === "string" ? workerId : undefined
    }
    return problems.length === 0 ? Effect.succeed(settings) : Effect.fail(OptionCheck.toConfigError(problems))
  })
