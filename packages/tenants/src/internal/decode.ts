/**
 * Decoding at the edge, once: a Schema's failure as field-level problems, and
 * unknown keys of what the app writes refused with core's one "did you mean".
 */
import { type EditError, EditRequest } from "@reword/core"
import { OptionCheck, ProviderKit } from "@reword/core/adapter"
import { type Config, Predicate, Result, Schema } from "effect"

type Problem = EditError.Problem

/** The problems of keys no field declares: `is not a field (did you mean current?)`. */
export const unknownKeys = (value: object, known: ReadonlyArray<string>, prefix = ""): ReadonlyArray<Problem> =>
  Object.keys(value)
    .filter((key) => !known.includes(key))
    .slice(0, 20)
    .map((key) => {
      const near = ProviderKit.nearest(key, known)
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
