/**
 * The tenant layer's own errors: one {@link TenantError} carrying a reason
 * class an app matches on (`_tag`), as core's `EditError` and the outbox's
 * `StorageError` do. Database failures stay the outbox's `StorageError`.
 * Messages never carry a secret: no token, no key, no ciphertext.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** Node's `util.inspect` hook (what `console.log` and `console.error` print). */
const NodeInspect = Symbol.for("nodejs.util.inspect.custom")

type Inspect = (value: unknown, options?: object) => string

/**
 * What `toJSON` gives for a reason of a {@link TenantError}.
 *
 * @since 0.1.0
 */
export interface ReasonJson {
  readonly _tag: TenantProblem
  readonly name: TenantProblem
  readonly message: string
  readonly isRetryable: boolean
  readonly description: string
}

const SUMMARIES = {
  UnknownTenant: "no such tenant",
  NotActive: "the tenant is not active",
  Tampered: "a ciphertext failed authentication (tampered with, or sealed for another tenant)",
  KeyMissing: "the master key that wrapped the tenant's data key is not in the key ring",
  KeyDestroyed: "the tenant's data key was destroyed: its credentials can no longer be read",
  Invalid: "the input is not valid",
  Conflict: "another writer changed the tenant first",
  Forbidden: "the event is not proven to come from the portal",
  Unverified: "the portal did not confirm the install's access token",
  Busy: "another process held the tenant's lock for longer than the wait allows"
} as const

/**
 * The tags of the reasons of a {@link TenantError}.
 *
 * @since 0.1.0
 */
export type TenantProblem = keyof typeof SUMMARIES

const RETRYABLE: ReadonlySet<TenantProblem> = new Set(["Conflict", "Unverified", "Busy"])

const reasonJson = (
  tag: TenantProblem,
  reason: { readonly message: string; readonly isRetryable: boolean; readonly description: string }
): ReasonJson => ({
  _tag: tag,
  name: tag,
  message: reason.message,
  isRetryable: reason.isRetryable,
  description: reason.description
})

/** Prints as any `Error` does (name, message, stack, then its fields) and serialises without its stack. */
function printable(Class: { readonly prototype: object }, name: string): void {
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

/**
 * The registry holds no tenant by this id (or none of this provider).
 *
 * @since 0.1.0
 */
export class UnknownTenant extends Data.TaggedError("UnknownTenant")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("UnknownTenant")
  }
  override get message(): string {
    return `${SUMMARIES.UnknownTenant}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("UnknownTenant", this)
  }
}
/**
 * The tenant is suspended or uninstalled: no editor is built for it.
 *
 * @since 0.1.0
 */
export class NotActive extends Data.TaggedError("NotActive")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("NotActive")
  }
  override get message(): string {
    return `${SUMMARIES.NotActive}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("NotActive", this)
  }
}
/**
 * AES-GCM refused a ciphertext or a wrapped key: it was changed, or sealed for another tenant.
 *
 * @since 0.1.0
 */
export class Tampered extends Data.TaggedError("Tampered")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Tampered")
  }
  override get message(): string {
    return `${SUMMARIES.Tampered}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Tampered", this)
  }
}
/**
 * The data key was wrapped by a master key the key ring does not hold (an old key removed too early).
 *
 * @since 0.1.0
 */
export class KeyMissing extends Data.TaggedError("KeyMissing")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("KeyMissing")
  }
  override get message(): string {
    return `${SUMMARIES.KeyMissing}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("KeyMissing", this)
  }
}
/**
 * The tenant's data key was destroyed (uninstall): its credentials are gone for good.
 *
 * @since 0.1.0
 */
export class KeyDestroyed extends Data.TaggedError("KeyDestroyed")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("KeyDestroyed")
  }
  override get message(): string {
    return `${SUMMARIES.KeyDestroyed}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("KeyDestroyed", this)
  }
}
/**
 * An input (tenant id, settings, credentials, an event) is not valid; the description names what.
 *
 * @since 0.1.0
 */
export class Invalid extends Data.TaggedError("Invalid")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Invalid")
  }
  override get message(): string {
    return `${SUMMARIES.Invalid}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Invalid", this)
  }
}
/**
 * A compare-and-swap lost: another writer stored newer credentials first.
 *
 * @since 0.1.0
 */
export class Conflict extends Data.TaggedError("Conflict")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Conflict")
  }
  override get message(): string {
    return `${SUMMARIES.Conflict}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Conflict", this)
  }
}
/**
 * A lifecycle event whose `application_token` does not match, or for a portal never installed.
 *
 * @since 0.1.0
 */
export class Forbidden extends Data.TaggedError("Forbidden")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Forbidden")
  }
  override get message(): string {
    return `${SUMMARIES.Forbidden}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Forbidden", this)
  }
}
/**
 * The portal did not accept the install's access token (or could not be reached to ask).
 *
 * @since 0.1.0
 */
export class Unverified extends Data.TaggedError("Unverified")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Unverified")
  }
  override get message(): string {
    return `${SUMMARIES.Unverified}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Unverified", this)
  }
}

/**
 * The tenant's cross-process lock was not taken within its wait (another process holds it: a token refresh).
 *
 * @since 0.1.0
 */
export class Busy extends Data.TaggedError("Busy")<{ readonly description: string }> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return RETRYABLE.has("Busy")
  }
  override get message(): string {
    return `${SUMMARIES.Busy}: ${this.description}`
  }
  override toJSON(): ReasonJson {
    return reasonJson("Busy", this)
  }
}

/**
 * Why a tenant operation failed: one of the reason classes (match on `_tag`).
 *
 * @since 0.1.0
 */
export type TenantErrorReason =
  | UnknownTenant
  | NotActive
  | Tampered
  | KeyMissing
  | KeyDestroyed
  | Invalid
  | Conflict
  | Forbidden
  | Unverified
  | Busy

for (const Reason of [
  UnknownTenant,
  NotActive,
  Tampered,
  KeyMissing,
  KeyDestroyed,
  Invalid,
  Conflict,
  Forbidden,
  Unverified,
  Busy
]) {
  printable(Reason, Reason.name)
}

const REASONS: { readonly [Tag in TenantProblem]: new (args: { readonly description: string }) => TenantErrorReason } =
  { UnknownTenant, NotActive, Tampered, KeyMissing, KeyDestroyed, Invalid, Conflict, Forbidden, Unverified, Busy }

/**
 * What {@link TenantError}'s `toJSON` gives: no stack, no secret.
 *
 * @since 0.1.0
 */
export interface TenantErrorJson {
  readonly _tag: "TenantError"
  readonly name: "TenantError"
  readonly message: string
  readonly tenant: string | undefined
  readonly isRetryable: boolean
  readonly reason: ReasonJson
}

/**
 * A tenant operation failed, and why (`reason`, a class per case).
 *
 * @example
 * ```ts
 * import { TenantError } from "@reword/tenants"
 * import { Effect } from "effect"
 *
 * declare const built: Effect.Effect<string, TenantError.TenantError>
 *
 * const handled = built.pipe(
 *   Effect.catchReasons("TenantError", {
 *     UnknownTenant: () => Effect.succeed("install the app first"),
 *     NotActive: () => Effect.succeed("the portal uninstalled the app")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
export class TenantError extends Data.TaggedError("TenantError")<{
  readonly reason: TenantErrorReason
  readonly tenant?: string | undefined
}> {
  /** Whether trying the same call again later can work. */
  get isRetryable(): boolean {
    return this.reason.isRetryable
  }

  override get message(): string {
    const where = this.tenant === undefined ? "" : ` (tenant ${JSON.stringify(this.tenant)})`
    return `Tenant${where}: ${this.reason._tag}: ${this.reason.message}`
  }

  override toJSON(): TenantErrorJson {
    return {
      _tag: "TenantError",
      name: "TenantError",
      message: this.message,
      tenant: this.tenant,
      isRetryable: this.isRetryable,
      reason: this.reason.toJSON()
    }
  }
}

printable(TenantError, "TenantError")

/**
 * A {@link TenantError} from a reason's tag and description.
 *
 * @since 0.1.0
 */
export const make = (problem: TenantProblem, description: string, tenant?: string): TenantError =>
  new TenantError({ reason: new REASONS[problem]({ description }), ...(tenant === undefined ? {} : { tenant }) })
