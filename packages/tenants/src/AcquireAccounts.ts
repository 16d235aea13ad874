/**
 * Acquire accounts come and go through the API (Acquire sends no lifecycle
 * events): `add` registers an account as a tenant (its key sealed under a
 * data key of its own), `remove` destroys that key and deletes the tenant.
 *
 * @since 0.1.0
 */
import { AcquireConfig } from "@reword/acquire"
import type { OutboxError } from "@reword/outbox"
import { Effect, Redacted, Result, Schema } from "effect"
import * as Decode from "./internal/decode.ts"
import * as TenantError from "./TenantError.ts"
import { type Service, type Tenant, TenantId } from "./TenantRegistry.ts"

/**
 * An Acquire account as `add` takes it.
 *
 * @since 0.1.0
 */
export const Account = Schema.Struct({
  /** The tenant id (default: the account id). */
  tenant: Schema.optional(TenantId),
  /** The subdomain of `{accountId}.acquire.io`. */
  accountId: Schema.String,
  /** The account's API key (a string or `Redacted`). */
  apiKey: Schema.Union([Schema.String, Schema.Redacted(Schema.String)]),
  /** The API base URL (default `https://{accountId}.acquire.io/api/v1`). */
  baseUrl: Schema.optional(Schema.String),
  /** Plain `http:` to a loopback address (sandboxes only). */
  allowInsecureLoopback: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.1.0
 */
export type Account = typeof Account.Encoded

/**
 * Registers (or replaces) an Acquire account; its settings are checked as the adapter checks them.
 *
 * @since 0.1.0
 */
export const add = (
  registry: Service,
  account: Account
): Effect.Effect<Tenant, TenantError.TenantError | OutboxError.StorageError> =>
  Effect.gen(function* () {
    const decoded = Decode.decodeStrict(Account, account, "tenant, accountId, apiKey, baseUrl, allowInsecureLoopback")
    if (Result.isFailure(decoded)) return yield* TenantError.make("Invalid", Decode.describe(decoded.failure))
    const a = decoded.success
    const apiKey = Redacted.isRedacted(a.apiKey) ? a.apiKey : Redacted.make(a.apiKey)
    const checked = AcquireConfig.check({
      accountId: a.accountId,
      apiKey,
      ...(a.baseUrl === undefined ? {} : { baseUrl: a.baseUrl }),
      ...(a.allowInsecureLoopback === true ? { allowInsecureLoopback: "true" } : {})
    })
    if (Result.isFailure(checked))
      return yield* TenantError.make("Invalid", String(checked.failure.message ?? checked.failure))
    return yield* registry.register({
      tenant: a.tenant ?? a.accountId,
      provider: "acquire",
      settings: {
        accountId: a.accountId,
        ...(a.baseUrl === undefined ? {} : { baseUrl: a.baseUrl }),
        ...(a.allowInsecureLoopback === true ? { allowInsecureLoopback: true } : {})
      },
      credentials: Redacted.make({ apiKey: Redacted.value(apiKey) })
    })
  })

/**
 * Removes an Acquire account: its data key destroyed, then its row deleted. Whether there was one.
 *
 * @since 0.1.0
 */
export const remove = (
  registry: Service,
  tenant: string
): Effect.Effect<boolean, TenantError.TenantError | OutboxError.StorageError> =>
  Effect.andThen(registry.destroyKey(tenant, { clean: true }), registry.remove(tenant))
