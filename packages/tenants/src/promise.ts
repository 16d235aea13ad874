/**
 * The tenant layer for apps not on Effect: `createRegistry` (the registry)
 * and `createTenants` (the registry, the Bitrix24 lifecycle, Acquire
 * accounts and the editors) answer objects whose methods mirror the Effect
 * services and return Promises. They
 * reject with the same typed errors (`TenantError`, the outbox's
 * `StorageError`, core's `ConfigurationError`), each with a matchable
 * `reason` and a `toJSON` without secrets.
 *
 * @since 0.1.0
 */
import type { EditedMessage, MessageEditor } from "@reword/core"
import { OptionCheck } from "@reword/core/adapter"
import { ConfigurationError } from "@reword/core/promise"
import { type Outbox, OutboxError } from "@reword/outbox"
import { Cause, type Config, Effect, Exit, Layer, ManagedRuntime, Option, Predicate, Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import * as AcquireAccounts from "./AcquireAccounts.ts"
import type * as Bitrix24App from "./Bitrix24App.ts"
import * as Bitrix24Lifecycle from "./Bitrix24Lifecycle.ts"
import * as TenantEditors from "./TenantEditors.ts"
import * as TenantRegistry from "./TenantRegistry.ts"

export { ConfigurationError } from "@reword/core/promise"
export { TenantError } from "./TenantError.ts"
export type { Credentials, Query, Registration, Settings, State, Summary, Tenant } from "./TenantRegistry.ts"

/**
 * Where the registry lives: a SQLite file path (or `:memory:`), or a
 * PostgreSQL URL (`@effect/sql-pg` must be installed).
 *
 * @since 0.1.0
 */
export type Database =
  | string
  | { readonly sqlite: string }
  | { readonly postgres: string; readonly maxConnections?: number | undefined }

/**
 * What `createRegistry` takes.
 *
 * @since 0.1.0
 */
export interface CreateRegistryOptions extends TenantRegistry.Options {
  readonly database: Database
}

/**
 * The Promise registry: {@link TenantRegistry.Service}'s methods, as Promises.
 *
 * @since 0.1.0
 */
export interface PromiseRegistry {
  readonly register: (registration: TenantRegistry.Registration) => Promise<TenantRegistry.Tenant>
  readonly get: (tenant: string) => Promise<TenantRegistry.Tenant>
  readonly find: (tenant: string) => Promise<TenantRegistry.Tenant | undefined>
  readonly list: (query?: TenantRegistry.Query) => Promise<ReadonlyArray<TenantRegistry.Summary>>
  readonly setState: (tenant: string, state: TenantRegistry.State) => Promise<void>
  readonly updateSettings: (tenant: string, settings: TenantRegistry.Settings) => Promise<void>
  readonly saveCredentials: (
    tenant: string,
    credentials: TenantRegistry.Credentials | Redacted.Redacted<TenantRegistry.Credentials>,
    expectedVersion: number
  ) => Promise<number>
  readonly destroyKey: (tenant: string, options?: TenantRegistry.DestroyOptions) => Promise<void>
  readonly remove: (tenant: string) => Promise<boolean>
  readonly rotate: () => Promise<number>
  /** Closes the database. */
  readonly close: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/** The SQL client of a database spec, loaded only when asked for (node:sqlite, @effect/sql-pg). */
export const clientOf = (
  database: Database
): Layer.Layer<SqlClient.SqlClient, OutboxError.StorageError | Config.ConfigError> => {
  const spec = typeof database === "string" ? { sqlite: database } : database
  if (Predicate.isObject(spec) && "sqlite" in spec && typeof spec.sqlite === "string") {
    return Layer.unwrap(
      Effect.map(
        Effect.promise(() => import("@reword/outbox")),
        ({ sqliteClient }) => sqliteClient({ filename: spec.sqlite })
      )
    )
  }
  if (Predicate.isObject(spec) && "postgres" in spec && typeof spec.postgres === "string") {
    const { postgres, maxConnections } = spec
    return Layer.unwrap(
      Effect.map(
        Effect.promise(() => import("@reword/outbox/pg")),
        ({ pgClient }) => pgClient({ url: Redacted.make(postgres), maxConnections })
      )
    )
  }
  return Layer.effectDiscard(
    Effect.fail(
      new OutboxError.StorageError({
        problem: "Missing",
        description: "database must be a SQLite path, { sqlite }, or { postgres: url }"
      })
    )
  ) as never
}

const rejectionOf = (cause: Cause.Cause<unknown>): unknown => {
  const failure = Cause.findErrorOption(cause)
  if (Option.isSome(failure)) {
    return Predicate.isTagged(failure.value, "ConfigError")
      ? new ConfigurationError(failure.value as Config.ConfigError)
      : failure.value
  }
  if (Cause.hasInterruptsOnly(cause)) {
    return new OutboxError.StorageError({ problem: "Closed", description: "the registry was closed" })
  }
  const defect = Cause.squash(cause)
  return defect instanceof Error ? defect : new Error(`reword tenants: an unexpected failure: ${String(defect)}`)
}

/**
 * Opens (and migrates) the registry.
 *
 * @example
 * ```ts
 * import { KeyRing } from "@reword/tenants"
 * import { createRegistry } from "@reword/tenants/promise"
 *
 * const registry = await createRegistry({
 *   database: ":memory:",
 *   keys: { current: "k1", keys: { k1: KeyRing.generateKey() } }
 * })
 * await registry.register({ tenant: "acme", provider: "acquire", credentials: { apiKey: "acq-key" } })
 * console.log((await registry.list()).map((tenant) => tenant.id)) // ["acme"]
 * await registry.close()
 * ```
 *
 * @since 0.1.0
 */
export const createRegistry = async (options: CreateRegistryOptions): Promise<PromiseRegistry> => {
  const { database, ...registryOptions } = Predicate.isObject(options)
    ? options
    : ({ database: undefined } as unknown as CreateRegistryOptions)
  const runtime = ManagedRuntime.make(TenantRegistry.layer(registryOptions).pipe(Layer.provide(clientOf(database))))
  const service = await runtime.runPromise(Effect.service(TenantRegistry.TenantRegistry)).catch(async (error) => {
    await runtime.dispose()
    throw Predicate.isTagged(error, "ConfigError") ? new ConfigurationError(error as Config.ConfigError) : error
  })
  const { run, close } = runner(runtime)
  return { ...registryOf(service, run), close, [Symbol.asyncDispose]: close }
}

type Run = <A, E>(effect: Effect.Effect<A, E>) => Promise<A>

/** Runs effects on a runtime until it is closed; rejects with the typed error, never a `FiberFailure`. */
const runner = <R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>) => {
  let closed: Promise<void> | undefined
  const run: Run = (effect) =>
    closed !== undefined
      ? Promise.reject(new OutboxError.StorageError({ problem: "Closed", description: "the registry was closed" }))
      : runtime.runPromiseExit(effect).then((exit) => {
          if (Exit.isSuccess(exit)) return exit.value
          throw rejectionOf(exit.cause)
        })
  const close = () => {
    closed ??= runtime.dispose()
    return closed
  }
  return { run, close }
}

/** The registry's methods as Promises. */
const registryOf = (
  service: TenantRegistry.Service,
  run: Run
): Omit<PromiseRegistry, "close" | typeof Symbol.asyncDispose> => ({
  register: (registration) => run(service.register(registration)),
  get: (tenant) => run(service.get(tenant)),
  find: (tenant) => run(Effect.map(service.find(tenant), Option.getOrUndefined)),
  list: (query) => run(service.list(query)),
  setState: (tenant, state) => run(service.setState(tenant, state)),
  updateSettings: (tenant, settings) => run(service.updateSettings(tenant, settings)),
  saveCredentials: (tenant, credentials, expectedVersion) =>
    run(service.saveCredentials(tenant, credentials, expectedVersion)),
  destroyKey: (tenant, destroyOptions) => run(service.destroyKey(tenant, destroyOptions)),
  remove: (tenant) => run(service.remove(tenant)),
  rotate: () => run(service.rotate)
})

/**
 * What `createTenants` takes: the registry's options, the Bitrix24
 * application (for its portals' lifecycle and editors), and the editors' cache.
 *
 * @since 0.1.0
 */
export interface CreateTenantsOptions extends CreateRegistryOptions {
  readonly bitrix24?: Bitrix24App.AppOptions | undefined
  readonly editors?: Omit<TenantEditors.Options, "bitrix24"> | undefined
}

/**
 * The whole tenant layer as Promises: the registry, the Bitrix24 lifecycle
 * route, Acquire accounts, and the editors.
 *
 * @since 0.1.0
 */
export interface PromiseTenants {
  readonly registry: Omit<PromiseRegistry, "close" | typeof Symbol.asyncDispose>
  /** The Bitrix24 lifecycle route: answers `{ status, body }` to send back (needs `bitrix24`). */
  readonly handleEvent: (
    body: string | Uint8Array,
    contentType: string | undefined
  ) => Promise<Bitrix24Lifecycle.Answer>
  readonly addAcquireAccount: (account: AcquireAccounts.Account) => Promise<TenantRegistry.Tenant>
  readonly removeAcquireAccount: (tenant: string) => Promise<boolean>
  /** Updates a message of a tenant, through its editor (built on first use). */
  readonly update: (tenant: string, request: MessageEditor.RequestInput) => Promise<EditedMessage.EditedMessage>
  readonly retire: (tenant: string) => Promise<void>
  /**
   * The outbox's `editorsFor` over these editors (`TenantEditors.editorsFor`): give it to `createOutbox`
   * (`@reword/outbox/promise`) and each tenant's edits go through its own editor, held while a page of them
   * is delivered; an uninstalled or unknown tenant's edits are dead letters naming why.
   *
   * @since 0.2.0
   */
  readonly editorsFor: Outbox.EditorsFor
  readonly stats: () => Promise<TenantEditors.Stats>
  /** Retires every editor and closes the database. */
  readonly close: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/**
 * Opens the registry and the editors (and the Bitrix24 lifecycle when `bitrix24` is given).
 *
 * @example
 * ```ts
 * import { KeyRing } from "@reword/tenants"
 * import { createTenants } from "@reword/tenants/promise"
 *
 * const tenants = await createTenants({
 *   database: ":memory:",
 *   keys: { current: "k1", keys: { k1: KeyRing.generateKey() } },
 *   editors: { maxEditors: 500 }
 * })
 * await tenants.addAcquireAccount({ accountId: "acme", apiKey: "acq-key" })
 * await tenants.close()
 * ```
 *
 * @since 0.1.0
 */
export const createTenants = async (options: CreateTenantsOptions): Promise<PromiseTenants> => {
  const { database, bitrix24, editors, ...registryOptions } = Predicate.isObject(options)
    ? options
    : ({ database: undefined } as unknown as CreateTenantsOptions)
  const base = TenantEditors.layer({ ...editors, ...(bitrix24 === undefined ? {} : { bitrix24 }) }).pipe(
    Layer.provideMerge(TenantRegistry.layer(registryOptions)),
    Layer.provide(clientOf(database))
  )
  const runtime = ManagedRuntime.make(base)
  const services = await runtime
    .runPromise(
      Effect.all([
        Effect.service(TenantRegistry.TenantRegistry),
        Effect.service(TenantEditors.TenantEditors),
        bitrix24 === undefined ? Effect.succeed(undefined) : Bitrix24Lifecycle.make(bitrix24)
      ])
    )
    .catch(async (error) => {
      await runtime.dispose()
      throw Predicate.isTagged(error, "ConfigError") ? new ConfigurationError(error as Config.ConfigError) : error
    })
  const [registry, cache, lifecycle] = services
  const { run, close } = runner(runtime)
  return {
    registry: registryOf(registry, run),
    handleEvent: (body, contentType) =>
      lifecycle === undefined
        ? Promise.reject(
            new ConfigurationError(
              OptionCheck.toConfigError([{ path: "bitrix24", message: "is required to handle Bitrix24 events" }])
            )
          )
        : run(lifecycle.handle(body, contentType)),
    addAcquireAccount: (account) => run(AcquireAccounts.add(registry, account)),
    removeAcquireAccount: (tenant) => run(AcquireAccounts.remove(registry, tenant)),
    update: (tenant, request) => run(cache.update(tenant, request)),
    retire: (tenant) => run(cache.retire(tenant)),
    editorsFor: TenantEditors.editorsFor(cache),
    stats: () => run(cache.stats),
    close,
    [Symbol.asyncDispose]: close
  }
}
