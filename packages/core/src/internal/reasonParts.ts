/**
 * What every reason of an `EditError` is built from: the field-level
 * `Problem`, the provider's detail, and how a reason prints and serialises.
 */
import { Duration, Predicate, Schema } from "effect"
import type { ReasonTag } from "./editErrorReasons.ts"

/**
 * One field-level problem of a request or a configuration.
 *
 * @category utils
 * @since 0.1.0
 */
export const Problem = Schema.Struct({
  /** Where the problem is, as a dotted path (`ids.externalMessageId`, `files.0.url`). */
  path: Schema.String,
  /** What is wrong, for a person. */
  message: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type Problem = typeof Problem.Type

/**
 * What the provider itself said, where it said something: the HTTP status, its
 * own error code and description, and a size-capped copy of the raw body.
 * None of these ever contains a secret (the transport scrubs them).
 */
export const ProviderDetail = {
  status: Schema.optional(Schema.Int),
  code: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  body: Schema.optional(Schema.String)
}

/**
 * What a provider said about a failure, as every reason with provider detail
 * takes it: the HTTP status, its own code and description, and the raw body.
 * Adapters build it in their `internal/errors.ts`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Detail {
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly description?: string | undefined
  readonly body?: string | undefined
}

export interface ProviderDetailFields {
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly description?: string | undefined
}

/** "HTTP 401 invalid_token: The access token provided is invalid" */
export const detailText = (detail: ProviderDetailFields): string | undefined => {
  const head = [detail.status === undefined ? undefined : `HTTP ${detail.status}`, detail.code]
    .filter(Predicate.isNotUndefined)
    .join(" ")
  const parts = [head, detail.description].filter((part) => part !== undefined && part.length > 0)
  return parts.length === 0 ? undefined : parts.join(": ")
}

export const withDetail = (summary: string, detail: ProviderDetailFields): string => {
  const text = detailText(detail)
  return text === undefined ? summary : `${summary} (${text})`
}

/** Node's `util.inspect` hook (what `console.log` and `console.error` print). */
const NodeInspect = Symbol.for("nodejs.util.inspect.custom")

type Inspect = (value: unknown, options?: object) => string

/** Milliseconds of a duration, for apps that do not use Effect. */
export const millisOf = (duration: Duration.Duration | undefined): number | undefined =>
  duration === undefined ? undefined : Duration.toMillis(duration)

/** The plain fields of a reason or an error (its schema fields, own and enumerable), without `undefined` ones. */
const ownFields = (error: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(error).filter(([, value]) => value !== undefined))

export interface Reasonlike {
  readonly _tag: string
  readonly message: string
  readonly isRetryable: boolean
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * What `toJSON` gives for a reason: its tag, its message, whether trying again
 * can help, `retryAfterMs` where the provider said how long to wait, and its
 * fields. Nothing in it is a secret: provider text is scrubbed by the transport.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReasonJson {
  readonly _tag: ReasonTag
  readonly name: ReasonTag
  readonly message: string
  readonly isRetryable: boolean
  readonly retryAfterMs?: number
  readonly [field: string]: unknown
}

export const reasonJson = (reason: Reasonlike): ReasonJson => {
  const { retryAfter, ...fields } = ownFields(reason)
  const retryAfterMs = millisOf(retryAfter as Duration.Duration | undefined)
  return {
    ...fields,
    _tag: reason._tag as ReasonTag,
    name: reason._tag as ReasonTag,
    message: reason.message,
    isRetryable: reason.isRetryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs })
  }
}

/** The fields printed after the stack: what `toJSON` holds, less what the stack's first line already says. */
const printedFields = (json: object): Record<string, unknown> => {
  const { name: _name, message: _message, ...rest } = json as Record<string, unknown>
  if (Predicate.isObject(rest.reason)) {
    const { name: _reasonName, ...reason } = rest.reason as Record<string, unknown>
    return { ...rest, reason }
  }
  return rest
}

/**
 * Makes an error class print as any `Error` does: its `name` (the tag, such as
 * `RateLimited`), its message and stack, then its fields; and gives it a
 * `toJSON` without its stack (unless the class has its own). Effect's errors
 * print their fields only.
 */
export const printable = <C extends new (...args: ReadonlyArray<never>) => Reasonlike & Error>(
  Class: C,
  tag: ReasonTag | "EditError",
  toJson: (self: InstanceType<C>) => object
): void => {
  Object.defineProperty(Class.prototype, "name", { value: tag, configurable: true, writable: true })
  if (!Object.hasOwn(Class.prototype, "toJSON")) {
    Object.defineProperty(Class.prototype, "toJSON", {
      value(this: InstanceType<C>) {
        return toJson(this)
      },
      configurable: true,
      writable: true
    })
  }
  Object.defineProperty(Class.prototype, NodeInspect, {
    value(this: InstanceType<C>, _depth: number, options: object, inspect: Inspect) {
      const head = this.stack ?? `${this.name}: ${this.message}`
      return `${head} ${inspect(printedFields(toJson(this)), options)}`
    },
    configurable: true,
    writable: true
  })
}
