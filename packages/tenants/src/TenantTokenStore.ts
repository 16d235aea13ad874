/**
 * A Bitrix24 `TokenStore` over one tenant's row of the registry: the portal's
 * rotating pair sealed under the tenant's data key (never in clear), saved by
 * compare-and-swap on the row's version (sealed values differ on every
 * write, so the version, not the value, is compared). A late or stale save
 * never lands over a newer pair another editor or process stored.
 *
 * On PostgreSQL the store has a `withRefreshLock`: the editor's reload,
 * refresh and save run under the tenant's lock across processes (the
 * registry's `withLock`), so two processes serving one portal refresh at most
 * once per expiry; the second, once it has the lock, reads the pair the first
 * stored. A wait past `lockTimeoutMs` fails the refresh with a retryable
 * `TokenStoreError` (`timedOut`), and nothing is refreshed.
 *
 * @since 0.1.0
 */
import { TokenStore } from "@reword/bitrix24"
import { Effect, Option, Predicate, Redacted, Result, Schema } from "effect"
import { Bitrix24Credentials } from "./internal/shapes.ts"
import type { TenantError } from "./TenantError.ts"
import type * as TenantRegistry from "./TenantRegistry.ts"

const decodeCredentials = Schema.decodeUnknownResult(Bitrix24Credentials)

const storeError = (message: string) => new TokenStore.TokenStoreError({ message })

const describe = (error: { readonly message: string }) => error.message

const tokensOf = (tenant: TenantRegistry.Tenant): Option.Option<TokenStore.Tokens> => {
  if (tenant.credentials === undefined) return Option.none()
  const decoded = decodeCredentials(Redacted.value(tenant.credentials))
  if (Result.isFailure(decoded)) return Option.none()
  const c = decoded.success
  return Option.some({
    accessToken: Redacted.make(c.accessToken),
    refreshToken: Redacted.make(c.refreshToken),
    ...(c.expiresAt === undefined ? {} : { expiresAt: c.expiresAt }),
    ...(c.oauthUrl === undefined ? {} : { oauthUrl: c.oauthUrl })
  })
}

const refreshOf = (tenant: TenantRegistry.Tenant): string | undefined =>
  Option.getOrUndefined(Option.map(tokensOf(tenant), (tokens) => Redacted.value(tokens.refreshToken)))

/**
 * The store's options.
 *
 * @since 0.1.0
 */
export interface Options {
  /** How long a refresh waits for another process's (PostgreSQL). Default 60,000 ms. */
  readonly lockTimeoutMs?: number | undefined
}

/** The registry's lock as the token store's `withRefreshLock`, where the registry has one. */
const refreshLockOf = (
  registry: TenantRegistry.Service,
  tenant: string,
  options: Options
): TokenStore.Service["withRefreshLock"] => {
  const withLock = registry.withLock
  if (withLock === undefined) return undefined
  return <A, E>(refresh: Effect.Effect<A, E>) =>
    withLock(tenant, refresh, { timeoutMs: options.lockTimeoutMs }).pipe(
      Effect.catchIf(
        (error): error is Exclude<typeof error, E> =>
          Predicate.isTagged(error, "TenantError") || Predicate.isTagged(error, "StorageError"),
        (error) =>
          Effect.fail(
            new TokenStore.TokenStoreError({
              message: `the tenant's refresh lock: ${describe(error as { message: string })}`,
              timedOut: Predicate.isTagged(error, "TenantError") && (error as TenantError).reason._tag === "Busy"
            })
          )
      )
    ) as Effect.Effect<A, E | TokenStore.TokenStoreError>
}

/**
 * The token store of `tenant`, over `registry`.
 *
 * @since 0.1.0
 */
export const make = (registry: TenantRegistry.Service, tenant: string, options: Options = {}): TokenStore.Service => {
  /** The row's version when this store last read or wrote it. */
  let seen: number | undefined
  const load: TokenStore.Service["load"] = Effect.map(
    Effect.mapError(registry.get(tenant), (error) =>
      storeError(`could not read the tenant's tokens: ${describe(error)}`)
    ),
    (found) => {
      seen = found.version
      return tokensOf(found)
    }
  )
  const save: TokenStore.Service["save"] = (tokens) =>
    Effect.gen(function* () {
      if (seen === undefined) {
        return yield* storeError(
          "the tenant's token row was never read by this store: read it (load) before writing over it"
        )
      }
      const credentials = Redacted.make({
        accessToken: Redacted.value(tokens.accessToken),
        refreshToken: Redacted.value(tokens.refreshToken),
        ...(tokens.expiresAt === undefined || !Number.isFinite(tokens.expiresAt)
          ? {}
          : { expiresAt: Math.floor(tokens.expiresAt) }),
        ...(tokens.oauthUrl === undefined ? {} : { oauthUrl: tokens.oauthUrl })
      })
      const saved = yield* Effect.result(registry.saveCredentials(tenant, credentials, seen))
      if (Result.isSuccess(saved)) {
        seen = saved.success
        return
      }
      const error = saved.failure
      if (error._tag !== "TenantError" || error.reason._tag !== "Conflict") {
        return yield* storeError(`could not save the tenant's tokens: ${describe(error)}`)
      }
      // Someone wrote first: fine when what they wrote is this very pair.
      const now = yield* Effect.mapError(registry.get(tenant), (e) =>
        storeError(`could not read the tenant's tokens: ${describe(e)}`)
      )
      if (refreshOf(now) === Redacted.value(tokens.refreshToken)) {
        seen = now.version
        return
      }
      return yield* storeError(
        "another writer stored another pair since this store read the row: the pair in the row was kept, not written over"
      )
    })
  const withRefreshLock = refreshLockOf(registry, tenant, options)
  return TokenStore.TokenStore.of(withRefreshLock === undefined ? { load, save } : { load, save, withRefreshLock })
}
