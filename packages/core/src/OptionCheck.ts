/**
 * Checks of editor options, shared by every adapter: each wrong value becomes
 * a field-level problem (`transport.timeout`, `retry.maxAttempts`,
 * `rateLimit.bucket.capacity`), and the problems become one configuration
 * error naming every field, before anything is built or sent. A value that
 * would misbehave silently (a timeout Node fires after 1 ms, a body cap that
 * `NaN` turns off, zero attempts) never reaches the editor.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@reword/core/adapter"
 * import { Effect } from "effect"
 *
 * // In an adapter's make, before building anything:
 * const checked = OptionCheck.check([
 *   ...OptionCheck.editorOptions({ retry: { maxAttempts: 3 } }),
 *   ...OptionCheck.integer("chunkSize", 20, { min: 1, max: 50 })
 * ])
 * Effect.runSync(checked)
 * ```
 *
 * @since 0.1.0
 */
import type { Config } from "effect"
import { Effect, Predicate, Result, Schema } from "effect"
import type { Problem } from "./EditError.ts"
import * as HttpTransport from "./HttpTransport.ts"
import { Fallback } from "./internal/fallback.ts"
import * as Check from "./internal/options.ts"
import { configError } from "./internal/settings.ts"
import type { EditorOptions } from "./MessageEditor.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

export {
  /**
   * `prefix.key`, or `key` without a prefix.
   *
   * @since 0.1.0
   */
  at,
  /**
   * `true` or `false`.
   *
   * @since 0.1.0
   */
  boolean,
  /**
   * A duration (`"30 seconds"`, millis, a `Duration`) within bounds in milliseconds; `NaN`, `Infinity` and unparsable values are problems.
   *
   * @since 0.1.0
   */
  duration,
  /**
   * A finite number within bounds.
   *
   * @since 0.1.0
   */
  finite,
  /**
   * A function.
   *
   * @since 0.1.0
   */
  func,
  /**
   * What `HttpTransport.make` and `RetryPolicy.make` throw on options that make no sense.
   *
   * @since 0.1.0
   */
  InvalidOptions,
  /**
   * An integer within bounds.
   *
   * @since 0.1.0
   */
  integer,
  /**
   * The longest timer Node keeps (2^31-1 ms): the upper bound of every duration option.
   *
   * @since 0.1.0
   */
  MAX_TIMER_MILLIS,
  /**
   * One of a few strings.
   *
   * @since 0.1.0
   */
  oneOf
} from "./internal/options.ts"

const fields = {
  retry: Schema.optional(RetryPolicy.RetryPolicyFromOptions),
  concurrency: Check.option<number>((value) => Check.integer("", value, { min: 1 })),
  transport: Schema.optional(HttpTransport.DecodedFromOptions),
  fallback: Schema.optional(Fallback)
} satisfies { readonly [K in keyof Required<EditorOptions>]: Schema.Top }

/**
 * The options every editor takes, declared once: `retry`, `concurrency` (an
 * integer of at least 1) and `transport`, each with its own Schema.
 *
 * @category options
 * @since 0.3.0
 */
export const EditorOptionsSchema = Check.options(fields, "must be an object")

/** Editor options decoded at the edge: given again, they are taken as they are. */
const decoded = new WeakSet<object>()

/**
 * Decodes the options every editor takes, once, at the edge: `retry` into a
 * `RetryPolicy`, `transport` into `DecodedTransportOptions` (defaults filled
 * in), `concurrency` checked; every other key (a provider's own options) kept
 * as it is, and every key absent stays absent. Every problem is named by its
 * path. What the editor, the transport and the retry policy are built from
 * checks nothing again.
 *
 * @category options
 * @since 0.3.0
 */
export const decodeEditorOptions = <O extends EditorOptions>(
  options: O | undefined
): Result.Result<O, ReadonlyArray<Problem>> => {
  if (options === undefined) return Result.succeed({} as O)
  if (Predicate.isObject(options) && decoded.has(options)) return Result.succeed(options)
  // One pass: retry becomes a RetryPolicy and transport its decoded options, each checked once.
  return Result.map(Check.decode(EditorOptionsSchema, options, ""), (valid) => {
    const out: Record<string, unknown> = { ...(options as object) }
    for (const key of ["retry", "concurrency", "transport", "fallback"] as const) {
      if (valid[key] !== undefined) out[key] = valid[key]
    }
    decoded.add(out)
    return out as O
  })
}

/**
 * Decoded options with the problems of the options checked beside them (a
 * provider's own): the decoded options when there is no problem at all,
 * every problem otherwise.
 *
 * @category options
 * @since 0.3.0
 */
export const withProblems = <O>(
  decodedOptions: Result.Result<O, ReadonlyArray<Problem>>,
  problems: ReadonlyArray<Problem>
): Result.Result<O, ReadonlyArray<Problem>> => {
  const all = [...(Result.isFailure(decodedOptions) ? decodedOptions.failure : []), ...problems]
  return all.length === 0 ? decodedOptions : Result.fail(all)
}

/**
 * Decoded editor options with a provider's own options beside them (which
 * its `make` checks): still decoded, so not checked again.
 *
 * @category options
 * @since 0.3.0
 */
export const withOwnOptions = <O extends EditorOptions>(options: O, own: object | undefined): O => {
  const merged = own === undefined ? options : { ...options, ...own }
  if (Predicate.isObject(merged)) decoded.add(merged)
  return merged
}

/**
 * The problems of the options every editor takes: `retry`, `concurrency`
 * (an integer of at least 1) and `transport`. Adapters whose transport
 * options sit at the top level (Acquire's) pass `transport: ""`.
 *
 * @category options
 * @since 0.1.0
 */
export const editorOptions = (
  options: EditorOptions | undefined,
  prefixes: { readonly transport?: string | undefined } = {}
): ReadonlyArray<Problem> => {
  if (options === undefined) return []
  if (prefixes.transport === "") {
    if (options === null || typeof options !== "object") return [{ path: "(options)", message: "must be an object" }]
    const { retry, concurrency, fallback, ...transport } = options as EditorOptions & HttpTransport.TransportOptions
    return [
      ...Check.problemsOf(decodeEditorOptions({ retry, concurrency, fallback })),
      ...HttpTransport.validate(transport, "")
    ]
  }
  return Check.problemsOf(decodeEditorOptions(options))
}

/**
 * A field of an adapter's own options Schema: typed `A` as written, checked
 * by `check` (whose problems name paths relative to the field: `""` for the
 * field itself, `bucket.capacity` below it). Built from the checks above, so
 * that an adapter declares its options once, as core declares its own.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@reword/core/adapter"
 * import { Result } from "effect"
 *
 * const OwnOptions = OptionCheck.struct({
 *   chunkSize: OptionCheck.field<number>((value) => OptionCheck.integer("", value, { min: 1, max: 20 }))
 * })
 * const decoded = OptionCheck.decode(OwnOptions, { chunkSize: 0 })
 * console.log(Result.isFailure(decoded) && decoded.failure[0]?.path) // chunkSize
 * ```
 *
 * @category options
 * @since 0.5.0
 */
export const field = Check.option

/**
 * An adapter's own options, declared once: its fields (see {@link field}).
 * Keys it does not declare (core's options, another provider's) pass through
 * untouched; unknown keys are refused where the options are read (with a "did
 * you mean").
 *
 * @category options
 * @since 0.5.0
 */
export const struct = <const F extends Schema.Struct.Fields>(fields: F) => Check.options(fields, "must be an object")

/**
 * Decodes options with their Schema, once: the valid value, or every
 * problem, each named by its path under `prefix` (`rateLimit.bucket.capacity`).
 *
 * @category options
 * @since 0.5.0
 */
export const decode = <S extends Schema.Top>(
  schema: S,
  value: unknown,
  prefix = ""
): Result.Result<S["Type"], ReadonlyArray<Problem>> => Check.decode(schema, value, prefix)

/**
 * One configuration error naming every problem, as the rest of the
 * configuration reports them (`createEditor` rejects with it as a
 * `ConfigurationError`).
 *
 * @category utils
 * @since 0.1.0
 */
export const toConfigError = (problems: ReadonlyArray<Problem>): Config.ConfigError =>
  configError(`Invalid option${problems.length > 1 ? "s" : ""}: ${Check.describe(problems)}`)

/**
 * Succeeds when there are no problems, and fails with {@link toConfigError} otherwise.
 *
 * @category utils
 * @since 0.1.0
 */
export const check = (problems: ReadonlyArray<Problem>): Effect.Effect<void, Config.ConfigError> =>
  problems.length === 0 ? Effect.void : Effect.fail(toConfigError(problems))
