/**
 * Decoding at the edge, once: a Schema's failure as field-level problems, and
 * unknown keys of what the app writes refused with a "did you mean".
 */
import { type EditError, EditRequest, OptionCheck } from "@reword/core"
import { type Config, Predicate, Result, Schema } from "effect"

type Problem = EditError.Problem

const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The known key nearest to `key` (same letters in another case, or at most two edits away). */
const nearest = (key: string, known: ReadonlyArray<string>): string | undefined => {
  const lower = key.toLowerCase()
  const sameCase = known.find((candidate) => candidate.toLowerCase() === lower)
  if (sameCase !== undefined) return sameCase
  const allowed = key.length <= 4 ? 1 : 2
  return known
    .map((candidate) => ({ candidate, d: distance(lower, candidate.toLowerCase()) }))
    .filter((entry) => entry.d <= allowed)
    .sort((a, b) => a.d - b.d)[0]?.candidate
}

/** The problems of keys no field declares: `is not a field (did you mean current?)`. */
export const unknownKeys = (value: object, known: ReadonlyArray<string>, prefix = ""): ReadonlyArray<Problem> =>
  Object.keys(value)
    .filter((key) => !known.includes(key))
    .slice(0, 20)
    .map((key) => {
      const near = nearest(key, known)
      return {
        path: prefix === "" ? key : `${prefix}.${key}`,
        message: `is not a known field${near === undefined ? "" : ` (did you mean ${near}?)`}; the known fields are ${known.join(", ")}`
      }
    })

/**
 * Decodes `value` with `schema` (every problem), refusing keys of its top
 * level that `schema` does not declare.
 */
export const decodeStrict = <S extends Schema.Codec<unknown, unknown>>(
  schema: S & { readonly fields: Schema.Struct.Fields },
  value: unknown,
  what: string
): Result.Result<S["Type"], ReadonlyArray<Problem>> => {
  if (!Predicate.isObject(value) || Array.isArray(value)) {
    return Result.fail([{ path: "(input)", message: `must be an object (${what})` }])
  }
  const unknown = unknownKeys(value, Object.keys(schema.fields))
  const decoded = Schema.decodeUnknownResult(schema as Schema.Codec<S["Type"], unknown>)(value, { errors: "all" })
  const problems = [...unknown, ...(Result.isFailure(decoded) ? EditRequest.problemsOf(decoded.failure.issue) : [])]
  if (problems.length > 0 || Result.isFailure(decoded)) return Result.fail(problems)
  return Result.succeed(decoded.success)
}

/** Problems as one sentence. */
export const describe = (problems: ReadonlyArray<Problem>): string =>
  problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ")

/** Problems as a configuration error (the options of a constructor). */
export const configError = (problems: ReadonlyArray<Problem>): Config.ConfigError => OptionCheck.toConfigError(problems)
