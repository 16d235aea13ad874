/**
 * The error of `@reword/postgres`'s own setup (`PgRateLimiter.make` and
 * `layer`: its options, creating its table): a {@link PgError} carrying a
 * reason class a program can match (`Effect.catchReason`, or `reason._tag`),
 * as core's `EditError` and the outbox's `StorageError` do. Each reason says
 * whether trying again later can work (`isRetryable`); the message never holds
 * a secret (no URL, no statement). The token store's calls fail with the
 * `TokenStoreError` the Bitrix24 adapter expects of any store.
 *
 * @example
 * ```ts
 * import { PgError } from "@reword/postgres"
 *
 * const error = new PgError.PgError({ reason: new PgError.Unavailable({ description: "connection refused" }) })
 * console.log(error.reason._tag, error.reason.isRetryable) // "Unavailable true"
 * ```
 *
 * @since 0.2.0
 */
import { Data, Predicate } from "effect"

/**
 * What `toJSON` gives for a reason.
 *
 * @since 0.2.0
 */
export interface ReasonJson {
  readonly _tag: Reason["_tag"]
  readonly message: string
  readonly isRetryable: boolean
  readonly description: string
}

const reasonJson = (reason: Reason): ReasonJson => ({
  _tag: reason._tag,
  message: reason.message,
  isRetryable: reason.isRetryable,
  description: reason.description
})

/**
 * The options are wrong (a table name, a bucket): nothing was sent to the database.
 *
 * @since 0.2.0
 */
export class InvalidOptions extends Data.TaggedError("InvalidOptions")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `the options are wrong: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database could not be reached, or the connection was lost (SQLSTATE class 08, a server shutting
 * down, no answer): trying again later can work.
 *
 * @since 0.2.0
 */
export class Unavailable extends Data.TaggedError("Unavailable")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return `PostgreSQL is unavailable: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database refused the role (SQLSTATE class 28, or 42501 insufficient privilege).
 *
 * @since 0.2.0
 */
export class Denied extends Data.TaggedError("Denied")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `PostgreSQL refused: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * A statement or a lock took longer than its timeout (57014 query_canceled, 55P03 lock_not_available).
 *
 * @since 0.2.0
 */
export class Timeout extends Data.TaggedError("Timeout")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return `PostgreSQL did not answer in time: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Any other failure of the database, with its SQLSTATE.
 *
 * @since 0.2.0
 */
export class Failed extends Data.TaggedError("Failed")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return `PostgreSQL failed: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Why a {@link PgError} happened.
 *
 * @since 0.2.0
 */
export type Reason = InvalidOptions | Unavailable | Denied | Timeout | Failed

/**
 * The error of `@reword/postgres`'s setup, with its {@link Reason}.
 *
 * @since 0.2.0
 */
export class PgError extends Data.TaggedError("PgError")<{ readonly reason: Reason }> {
  override get message(): string {
    return this.reason.message
  }
  /** What `JSON.stringify(error)` writes: `_tag`, name, message and reason (no stack, no statement). */
  override toJSON(): {
    readonly _tag: "PgError"
    readonly name: "PgError"
    readonly message: string
    readonly reason: ReasonJson
  } {
    return { _tag: "PgError", name: "PgError", message: this.message, reason: this.reason.toJSON() }
  }
}
Object.defineProperty(PgError.prototype, "name", { value: "PgError", configurable: true, writable: true })

/** The SQLSTATE of a driver error, wherever `@effect/sql-pg` kept it. */
const sqlStateOf = (error: unknown, depth = 0): string | undefined => {
  if (!Predicate.isObject(error) || depth > 3) return undefined
  const code = (error as { readonly code?: unknown }).code
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code
  return sqlStateOf((error as { readonly cause?: unknown }).cause, depth + 1)
}

/**
 * The reason of a database failure, from its SQLSTATE (none: the database could not be reached).
 *
 * @since 0.2.0
 */
export const reasonOf = (error: unknown, doing: string): Reason => {
  const state = sqlStateOf(error)
  if (state === undefined) return new Unavailable({ description: `${doing}: PostgreSQL could not be reached` })
  const description = `${doing} (SQLSTATE ${state})`
  if (state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03") {
    return new Unavailable({ description })
  }
  if (state.startsWith("28") || state === "42501") return new Denied({ description })
  if (state === "57014" || state === "55P03") return new Timeout({ description })
  return new Failed({ description })
}

/**
 * A database failure as a {@link PgError}.
 *
 * @since 0.2.0
 */
export const fromSql = (error: unknown, doing: string): PgError => new PgError({ reason: reasonOf(error, doing) })
