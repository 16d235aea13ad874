/**
 * Checks of option values, each returning the problems it found (none when the
 * value is fine or absent). Messages name the field and the allowed range, and
 * repeat the value only when it is a number: a string in the wrong option may
 * be a secret pasted into the wrong place.
 *
 * @internal
 */
import { Duration, Option, Predicate } from "effect"
import type { Problem } from "../EditError.ts"

/**
 * The longest timer Node keeps: a longer (or non-finite, or negative) delay
 * fires after 1 ms instead.
 */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

const got = (value: unknown): string =>
  typeof value === "number" ? ` (got ${value})` : typeof value === "bigint" ? ` (got ${value}n)` : ""

const problem = (path: string, message: string, value: unknown): ReadonlyArray<Problem> => [
  { path, message: `${message}${got(value)}` }
]

const range = (min: number, max: number): string =>
  max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`

/** An integer within `[min, max]` (inclusive). */
export const integer = (
  path: string,
  value: unknown,
  bounds: { readonly min: number; readonly max?: number | undefined }
): ReadonlyArray<Problem> => {
  if (value === undefined) return []
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER
  return typeof value === "number" && Number.isInteger(value) && value >= bounds.min && value <= max
    ? []
    : problem(path, `must be an integer ${range(bounds.min, max)}`, value)
}

/** A finite number within `[min, max]`, or above `min` when `exclusiveMin`. */
export const finite = (
  path: string,
  value: unknown,
  bounds: { readonly min: number; readonly exclusiveMin?: boolean | undefined; readonly max?: number | undefined }
): ReadonlyArray<Problem> => {
  if (value === undefined) return []
  const max = bounds.max ?? Number.MAX_VALUE
  const aboveMin = bounds.exclusiveMin === true ? (n: number) => n > bounds.min : (n: number) => n >= bounds.min
  if (typeof value === "number" && Number.isFinite(value) && aboveMin(value) && value <= max) return []
  const lower = bounds.exclusiveMin === true ? `above ${bounds.min}` : `at least ${bounds.min}`
  const upper = max === Number.MAX_VALUE ? "" : ` and at most ${max}`
  return problem(path, `must be a finite number ${lower}${upper}`, value)
}

/** `true` or `false`. */
export const boolean = (path: string, value: unknown): ReadonlyArray<Problem> =>
  value === undefined || typeof value === "boolean" ? [] : problem(path, "must be true or false", value)

/** One of a few strings. */
export const oneOf = (path: string, value: unknown, choices: ReadonlyArray<string>): ReadonlyArray<Problem> =>
  value === undefined || (typeof value === "string" && choices.includes(value))
    ? []
    : [{ path, message: `must be one of ${choices.map((choice) => JSON.stringify(choice)).join(", ")}` }]

/** A function. */
export const func = (path: string, value: unknown): ReadonlyArray<Problem> =>
  value === undefined || typeof value === "function" ? [] : [{ path, message: "must be a function" }]

/** Whether a `Duration.Input` holds a `NaN` somewhere (Effect reads it as zero, silently). */
const holdsNaN = (input: unknown): boolean => {
  if (typeof input === "number") return Number.isNaN(input)
  if (Array.isArray(input)) return input.some((part) => typeof part === "number" && Number.isNaN(part))
  if (Predicate.isObject(input) && !Duration.isDuration(input)) {
    return Object.values(input).some((part) => typeof part === "number" && Number.isNaN(part))
  }
  return false
}

/**
 * The milliseconds of a duration option, or a problem: it must parse
 * (`"2 seconds"`, millis, a `Duration`...), be finite, and lie within
 * `[minMillis, maxMillis]` (above `minMillis` when `exclusiveMin`).
 */
export const durationMillis = (
  path: string,
  value: unknown,
  bounds: {
    readonly minMillis: number
    readonly exclusiveMin?: boolean | undefined
    readonly maxMillis?: number | undefined
  }
): { readonly millis?: number | undefined; readonly problems: ReadonlyArray<Problem> } => {
  if (value === undefined) return { problems: [] }
  const max = bounds.maxMillis ?? MAX_TIMER_MILLIS
  const lower = bounds.exclusiveMin === true ? `more than ${bounds.minMillis} ms` : `at least ${bounds.minMillis} ms`
  const rule = `must be a duration (such as "30 seconds" or a number of milliseconds), ${lower} and at most ${max} ms`
  const parsed = holdsNaN(value) ? Option.none() : Duration.fromInput(value as Duration.Input)
  if (Option.isNone(parsed)) return { problems: problem(path, rule, value) }
  const millis = Duration.toMillis(parsed.value)
  const aboveMin = bounds.exclusiveMin === true ? millis > bounds.minMillis : millis >= bounds.minMillis
  if (!Number.isFinite(millis) || !aboveMin || millis > max) {
    const shown = typeof value === "number" ? got(value) : ` (got ${Duration.format(parsed.value)})`
    return { problems: [{ path, message: `${rule}${shown}` }] }
  }
  return { millis, problems: [] }
}

/** The problems of a duration option (see {@link durationMillis}). */
export const duration = (
  path: string,
  value: unknown,
  bounds: Parameters<typeof durationMillis>[2]
): ReadonlyArray<Problem> => durationMillis(path, value, bounds).problems

/** `prefix.key`, or `key` when there is no prefix. */
export const at = (prefix: string | undefined, key: string): string =>
  prefix === undefined || prefix.length === 0 ? key : `${prefix}.${key}`

/** The sentence of a list of problems: `transport.timeout must be ...; retry.maxAttempts must be ...`. */
export const describe = (problems: ReadonlyArray<Problem>): string =>
  problems.map((entry) => `${entry.path} ${entry.message}`).join("; ")

/**
 * An option that makes no sense, found by a constructor that cannot fail
 * otherwise (`HttpTransport.make`, `RetryPolicy.make`). Editors built through
 * an adapter's `make`, `Provider.layer` or `createEditor` report the same
 * problems as a configuration error instead.
 */
export class InvalidOptions extends RangeError {
  override readonly name = "InvalidOptions"
  readonly problems: ReadonlyArray<Problem>
  constructor(problems: ReadonlyArray<Problem>) {
    super(`Invalid option${problems.length > 1 ? "s" : ""}: ${describe(problems)}`)
    this.problems = problems
  }
}

/** Throws {@link InvalidOptions} when there are problems. */
export const orThrow = (problems: ReadonlyArray<Problem>): void => {
  if (problems.length > 0) throw new InvalidOptions(problems)
}
