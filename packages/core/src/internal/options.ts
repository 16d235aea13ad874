/**
 * Checks of option values, each returning the problems it found (none when the
 * value is fine or absent). Messages name the field and the allowed range, and
 * repeat the value only when it is a number: a string in the wrong option may
 * be a secret pasted into the wrong place.
 *
 * @internal
 */
import { Duration, Option, Predicate, Result, Schema, SchemaAST, type SchemaIssue } from "effect"
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

  /** What to match on: the option problems found. */
  get reason(): { readonly _tag: "InvalidOptions"; readonly problems: ReadonlyArray<Problem> } {
    return { _tag: "InvalidOptions", problems: this.problems }
  }

  /** What `JSON.stringify(error)` writes: name, message and reason (no stack). */
  toJSON(): object {
    return { _tag: "InvalidOptions", name: this.name, message: this.message, reason: this.reason }
  }
}

/** Throws {@link InvalidOptions} when there are problems. */
export const orThrow = (problems: ReadonlyArray<Problem>): void => {
  if (problems.length > 0) throw new InvalidOptions(problems)
}

const EXPECTED = "@reword/core/options/expected"

/**
 * A field of an options Schema: typed `A` as written, any value decoded, and
 * checked by `check` (its problems, paths relative to the field: `""` for the
 * field itself, a key below it otherwise).
 */
export const option = <A>(check: (value: unknown) => ReadonlyArray<Problem>) =>
  Schema.optional(
    Schema.declare((_: unknown): _ is A => true).check(
      Schema.makeFilter((value: A) => {
        const problems = value === undefined ? [] : check(value)
        return problems.map((entry) =>
          entry.path === "" ? entry.message : { path: [entry.path], issue: entry.message }
        )
      })
    )
  )

/** An options object, declared once: its fields, and what it must be when it is not an object. */
export const options = <const F extends Schema.Struct.Fields>(fields: F, expected: string) =>
  Schema.Struct(fields).annotate({ [EXPECTED]: expected })

/**
 * What a value should have been, from the annotation of its schema, of what
 * it is decoded from, or of a member of an optional one's union.
 */
const expectedOf = (ast: SchemaAST.AST, depth = 0): string | undefined => {
  const own = SchemaAST.resolve(ast)?.[EXPECTED]
  if (own !== undefined) return String(own)
  if (depth > 4) return undefined
  for (const link of ast.encoding ?? []) {
    const from = expectedOf(link.to, depth + 1)
    if (from !== undefined) return from
  }
  if (SchemaAST.isUnion(ast)) {
    for (const member of ast.types) {
      const inner = expectedOf(member, depth + 1)
      if (inner !== undefined) return inner
    }
  }
  return undefined
}

const wrongType = (ast: SchemaAST.AST): string => expectedOf(ast) ?? "has the wrong type"

const collect = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Pointer":
      collect(issue.issue, [...path, ...issue.path], out)
      return
    case "AnyOf":
      if (issue.issues.length === 0) {
        out.push({ path: path.join("."), message: wrongType(issue.ast) })
        return
      }
      for (const inner of issue.issues) collect(inner, path, out)
      return
    case "Composite":
      for (const inner of issue.issues) collect(inner, path, out)
      return
    case "Filter":
    case "Encoding":
      collect(issue.issue, path, out)
      return
    case "InvalidValue":
      out.push({ path: path.join("."), message: String(issue.annotations?.message ?? "is not valid") })
      return
    case "InvalidType":
      out.push({ path: path.join("."), message: wrongType(issue.ast) })
      return
    default:
      out.push({ path: path.join("."), message: "is not valid" })
  }
}

/**
 * Decodes options with their Schema, once: the valid value, or every problem,
 * each named by its path under `prefix` (`transport.timeout`).
 */
export const decode = <S extends Schema.Top>(
  schema: S,
  value: unknown,
  prefix: string
): Result.Result<S["Type"], ReadonlyArray<Problem>> => {
  const decoded = Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"]>)(value, { errors: "all" })
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success)
  const problems: Array<Problem> = []
  collect(decoded.failure.issue, prefix === "" ? [] : [prefix], problems)
  if (problems.length === 0) problems.push({ path: prefix, message: "is not valid" })
  return Result.fail(problems.map((entry) => (entry.path === "" ? { ...entry, path: "(options)" } : entry)))
}

/** The problems of a decoding (none when it succeeded). */
export const problemsOf = (result: Result.Result<unknown, ReadonlyArray<Problem>>): ReadonlyArray<Problem> =>
  Result.isFailure(result) ? result.failure : []

/** The decoded value, or {@link InvalidOptions} thrown (for constructors that cannot fail otherwise). */
export const getOrThrow = <A>(result: Result.Result<A, ReadonlyArray<Problem>>): A => {
  if (Result.isFailure(result)) throw new InvalidOptions(result.failure)
  return result.success
}
