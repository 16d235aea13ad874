/**
 * The outbox's own errors: {@link StorageError} (the database cannot be used,
 * and why) and {@link NotFound} (the id map has no such message). Delivery
 * failures are never errors of `submit`: they are recorded in the journal.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** Node's `util.inspect` hook (what `console.log` and `console.error` print). */
const NodeInspect = Symbol.for("nodejs.util.inspect.custom")

type Inspect = (value: unknown, options?: object) => string

/**
 * Makes an error class print as any `Error` does (its `name`, message and
 * stack, then its fields) and serialise, without its stack, as `toJSON` says.
 */
const printable = (Class: { readonly prototype: object }, name: string): void => {
  Object.defineProperty(Class.prototype, "name", { value: name, configurable: true, writable: true })
  Object.defineProperty(Class.prototype, NodeInspect, {
    value(this: Error & { toJSON(): Record<string, unknown> }, _depth: number, options: object, inspect: Inspect) {
      const { name: _name, message: _message, ...fields } = this.toJSON()
      return `${this.stack ?? `${this.name}: ${this.message}`} ${inspect(fields, options)}`
    },
    configurable: true,
    writable: true
  })
}

/** What a reason says for a person, and its JSON. */
const reasonMessage = (summary: string, description: string): string => `${summary}: ${description}`

const reasonJson = (reason: {
  readonly _tag: StorageProblem
  readonly message: string
  readonly isRetryable: boolean
  readonly description: string
}): ReasonJson => ({
  _tag: reason._tag,
  name: reason._tag,
  message: reason.message,
  isRetryable: reason.isRetryable,
  description: reason.description
})

/**
 * What `toJSON` gives for a reason of a {@link StorageError}.
 *
 * @since 0.2.0
 */
export interface ReasonJson {
  readonly _tag: StorageProblem
  readonly name: StorageProblem
  readonly message: string
  readonly isRetryable: boolean
  readonly description: string
}

/**
 * The file is not a database, or is damaged. Never changed by the outbox.
 *
 * @since 0.2.0
 */
export class Corrupt extends Data.TaggedError("Corrupt")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the file is not a database, or is damaged", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * A database of another application (another SQLite application id, or outbox
 * tables that reword did not make). Never changed by the outbox.
 *
 * @since 0.2.0
 */
export class Foreign extends Data.TaggedError("Foreign")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the database belongs to another application", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Made by a newer reword: never migrated over; upgrade `@reword/outbox`.
 *
 * @since 0.2.0
 */
export class NewerSchema extends Data.TaggedError("NewerSchema")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("a newer reword made this database", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database (or the file, or its directory) refuses writes.
 *
 * @since 0.2.0
 */
export class ReadOnly extends Data.TaggedError("ReadOnly")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage(
      "the database refuses writes: check its permissions (and the PostgreSQL role)",
      this.description
    )
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The disk or the database is full.
 *
 * @since 0.2.0
 */
export class Full extends Data.TaggedError("Full")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return reasonMessage("the disk or the database is full", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database cannot be reached for now (PostgreSQL down or restarting, a
 * lock another process holds too long): trying again later can work.
 *
 * @since 0.2.0
 */
export class Unavailable extends Data.TaggedError("Unavailable")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return reasonMessage(
      "the database cannot be reached for now, or another process holds its lock: try again",
      this.description
    )
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database does not exist: a SQLite path whose directory is missing, or
 * that names a directory; a PostgreSQL database that was never created.
 *
 * @since 0.2.0
 */
export class Missing extends Data.TaggedError("Missing")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the database does not exist: check the file path or the database name", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The database refused the credentials, or the role may not use the tables.
 *
 * @since 0.2.0
 */
export class Denied extends Data.TaggedError("Denied")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the database refused the credentials or the permission: check the role", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Concurrent transactions collided (a deadlock, a serialization failure) more
 * times than the outbox retries one: nothing of the call was stored.
 *
 * @since 0.2.0
 */
export class Conflict extends Data.TaggedError("Conflict")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return true
  }
  override get message(): string {
    return reasonMessage("concurrent transactions kept colliding", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * The outbox was closed: open it again to go on.
 *
 * @since 0.2.0
 */
export class Closed extends Data.TaggedError("Closed")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the outbox is closed", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Anything else the database answered.
 *
 * @since 0.2.0
 */
export class Failed extends Data.TaggedError("Failed")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return false
  }
  override get message(): string {
    return reasonMessage("the database failed", this.description)
  }
  override toJSON(): ReasonJson {
    return reasonJson(this)
  }
}

/**
 * Why the database cannot be used: one of the reason classes (match on `_tag`).
 *
 * @since 0.2.0
 */
export type StorageErrorReason =
  | Corrupt
  | Foreign
  | NewerSchema
  | ReadOnly
  | Full
  | Unavailable
  | Missing
  | Denied
  | Conflict
  | Closed
  | Failed

/**
 * The tags of {@link StorageErrorReason}.
 *
 * @since 0.1.0
 */
export type StorageProblem = StorageErrorReason["_tag"]

for (const Reason of [
  Corrupt,
  Foreign,
  NewerSchema,
  ReadOnly,
  Full,
  Unavailable,
  Missing,
  Denied,
  Conflict,
  Closed,
  Failed
]) {
  printable(Reason, Reason.name)
}

const REASONS: {
  readonly [Tag in StorageProblem]: new (args: {
    readonly description: string
  }) => StorageErrorReason
} = { Corrupt, Foreign, NewerSchema, ReadOnly, Full, Unavailable, Missing, Denied, Conflict, Closed, Failed }

/**
 * A reason from its tag.
 *
 * @since 0.2.0
 */
export const reasonOf = (problem: StorageProblem, description: string): StorageErrorReason =>
  new REASONS[problem]({ description })

/**
 * What {@link StorageError}'s `toJSON` gives: no stack, no database driver
 * internals (the cause stays in the process).
 *
 * @since 0.2.0
 */
export interface StorageErrorJson {
  readonly _tag: "StorageError"
  readonly name: "StorageError"
  readonly message: string
  readonly isRetryable: boolean
  readonly reason: ReasonJson
}

/**
 * The database cannot be used, and why (`reason`, a class per case, as core's
 * `EditError`). Nothing acknowledged is lost: a `submit` that fails with it was
 * not stored, and one that returned was committed.
 *
 * @example
 * ```ts
 * import { OutboxError } from "@reword/outbox"
 * import { Effect } from "effect"
 *
 * declare const submitted: Effect.Effect<number, OutboxError.StorageError>
 *
 * const handled = submitted.pipe(
 *   Effect.catchReasons("StorageError", {
 *     Unavailable: () => Effect.succeed(-1),
 *     Closed: () => Effect.succeed(0)
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly reason: StorageErrorReason
  readonly cause?: unknown
}> {
  constructor(
    args:
      | { readonly reason: StorageErrorReason; readonly cause?: unknown }
      | { readonly problem: StorageProblem; readonly description: string; readonly cause?: unknown }
  ) {
    super(
      "reason" in args
        ? args
        : {
            reason: reasonOf(args.problem, args.description),
            ...(args.cause === undefined ? {} : { cause: args.cause })
          }
    )
  }

  /** The reason's tag (the field's name before reasons were classes). */
  get problem(): StorageProblem {
    return this.reason._tag
  }

  /** The reason's description. */
  get description(): string {
    return this.reason.description
  }

  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return this.reason.isRetryable
  }

  override get message(): string {
    return `Outbox storage: ${this.reason._tag}: ${this.reason.description}`
  }

  override toJSON(): StorageErrorJson {
    return {
      _tag: "StorageError",
      name: "StorageError",
      message: this.message,
      isRetryable: this.isRetryable,
      reason: this.reason.toJSON()
    }
  }
}

printable(StorageError, "StorageError")

/**
 * An edit names a message the id map does not hold (and the outbox was not
 * told to record unknown messages).
 *
 * @since 0.1.0
 */
export class NotFound extends Data.TaggedError("NotFound")<{
  /**
   * The tenant the edit named, when it is not `default` (a single-tenant app's errors are as they were).
   *
   * @since 0.5.0
   */
  readonly tenant?: string | undefined
  readonly provider: string
  readonly account: string
  readonly externalMessageId: string
}> {
  override get message(): string {
    const tenant =
      this.tenant === undefined || this.tenant === "default" ? "" : ` of tenant ${JSON.stringify(this.tenant)}`
    return `Not found: the id map has no message ${JSON.stringify(this.externalMessageId)}${tenant} for ${this.provider} account ${JSON.stringify(this.account)}: record it when it is sent (Outbox.record), or set unknownMessages: "record"`
  }

  /** What to match on: the id map has no such message. */
  get reason(): { readonly _tag: "UnknownMessage" } {
    return { _tag: "UnknownMessage" }
  }

  override toJSON(): {
    readonly _tag: "NotFound"
    readonly name: "NotFound"
    readonly message: string
    readonly reason: { readonly _tag: "UnknownMessage" }
    readonly tenant?: string
    readonly provider: string
    readonly account: string
    readonly externalMessageId: string
  } {
    return {
      _tag: "NotFound",
      name: "NotFound",
      message: this.message,
      reason: this.reason,
      ...(this.tenant === undefined || this.tenant === "default" ? {} : { tenant: this.tenant }),
      provider: this.provider,
      account: this.account,
      externalMessageId: this.externalMessageId
    }
  }
}

printable(NotFound, "NotFound")

export {
  /**
   * Classifies a database failure for a person and for code: a {@link StorageError}
   * with the reason its SQLite result code, PostgreSQL SQLSTATE or driver error says.
   *
   * @since 0.1.0
   */
  fromSql
} from "./internal/classify.ts"
