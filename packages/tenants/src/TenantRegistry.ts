/**
 * The tenant registry: every tenant's provider, settings (not secret),
 * credentials (sealed by the tenant's own data key, itself wrapped by the
 * app's master key: see `KeyRing`) and state (`active`, `suspended`,
 * `uninstalled`), durable in the same database as the outbox (SQLite by
 * default, PostgreSQL in production). No table holds a secret in clear.
 *
 * @since 0.1.0
 */
import type { OutboxError } from "@reword/outbox"
import { Clock, type Config, Context, Effect, Layer, Option, Predicate, Redacted, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import * as Decode from "./internal/decode.ts"
import * as Store from "./internal/store.ts"
import * as KeyRing from "./KeyRing.ts"
import * as TenantError from "./TenantError.ts"

/**
 * A tenant's state: `active` (edits go out), `suspended` (kept, no editor),
 * `uninstalled` (its data key destroyed).
 *
 * @since 0.1.0
 */
export type State = (typeof Store.States)[number]

/**
 * A tenant id: 1 to 128 letters, digits, `.`, `_`, `:` or `-` (a Bitrix24 `member_id`, an Acquire account id).
 *
 * @since 0.1.0
 */
export const TenantId = Schema.String.check(
  Schema.makeFilter((id: string) =>
    /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? undefined : "must be 1 to 128 letters, digits, ., _, : or -"
  )
)

/** The most bytes of settings or credentials (as JSON) one tenant keeps. */
export const MAX_JSON_BYTES = 16_384

const Scalar = Schema.Union([Schema.String, Schema.Number, Schema.Boolean, Schema.Null])
const bounded = <S extends Schema.Top>(schema: S) =>
  schema.check(
    Schema.makeFilter((value: unknown) =>
      JSON.stringify(value).length <= MAX_JSON_BYTES ? undefined : `must be at most ${MAX_JSON_BYTES} bytes as JSON`
    )
  )

/**
 * A tenant's settings: a flat object of strings, numbers, booleans and nulls
 * (the portal's address, its plan, its connector and line, ...). Not secret.
 *
 * @since 0.1.0
 */
export const Settings = bounded(Schema.Record(Schema.String, Scalar))

/**
 * @since 0.1.0
 */
export type Settings = typeof Settings.Type

/**
 * A tenant's credentials, the same shape as settings, kept sealed.
 *
 * @since 0.1.0
 */
export const Credentials = Settings

/**
 * @since 0.1.0
 */
export type Credentials = Settings

/**
 * What `register` takes (unknown fields refused with a "did you mean").
 *
 * @since 0.1.0
 */
export const Registration = Schema.Struct({
  tenant: TenantId,
  provider: Schema.String.check(
    Schema.makeFilter((p: string) =>
      /^[a-z0-9_-]{1,40}$/.test(p) ? undefined : "must be a provider's name, such as bitrix24"
    )
  ),
  settings: Schema.optional(Settings),
  credentials: Schema.optional(Credentials),
  state: Schema.optional(Schema.Literals(Store.States))
})

/**
 * @since 0.1.0
 */
export type Registration = Omit<typeof Registration.Encoded, "credentials"> & {
  readonly credentials?: Credentials | Redacted.Redacted<Credentials> | undefined
}

/**
 * A tenant as the registry holds it; `credentials` opened (and `Redacted`),
 * or `undefined` once its data key was destroyed.
 *
 * @since 0.1.0
 */
export interface Tenant {
  readonly id: string
  readonly provider: string
  readonly state: State
  readonly settings: Settings
  readonly credentials: Redacted.Redacted<Credentials> | undefined
  /** Moves on with every write of the row (the compare-and-swap of `saveCredentials`). */
  readonly version: number
  /** Unix milliseconds. */
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * A tenant without its credentials: what `list` answers.
 *
 * @since 0.1.0
 */
export interface Summary extends Omit<Tenant, "credentials"> {
  readonly hasCredentials: boolean
}

/**
 * What `list` filters on; pages by tenant id (`after`).
 *
 * @since 0.1.0
 */
export interface Query {
  readonly state?: State | undefined
  readonly provider?: string | undefined
  readonly after?: string | undefined
  /** Default 100, at most 1,000. */
  readonly limit?: number | undefined
}

type Failure = TenantError.TenantError | OutboxError.StorageError

/**
 * What `destroyKey` erases besides the data key and the credentials.
 *
 * @since 0.1.0
 */
export interface DestroyOptions {
  /** Erase the settings too. Default false (kept for a reinstall). */
  readonly clean?: boolean | undefined
  /** Settings kept even when `clean` (such as what verifies a repeated uninstall). */
  readonly keep?: ReadonlyArray<string> | undefined
}

/**
 * The registry's interface.
 *
 * @since 0.1.0
 */
export interface Service {
  /** Creates or replaces a tenant (a reinstall): a new data key, its credentials sealed under it. */
  readonly register: (registration: Registration) => Effect.Effect<Tenant, Failure>
  /** The tenant, credentials opened; `UnknownTenant` when there is none. */
  readonly get: (tenant: string) => Effect.Effect<Tenant, Failure>
  /** The tenant, if there is one. */
  readonly find: (tenant: string) => Effect.Effect<Option.Option<Tenant>, Failure>
  readonly list: (query?: Query) => Effect.Effect<ReadonlyArray<Summary>, Failure>
  readonly setState: (tenant: string, state: State) => Effect.Effect<void, Failure>
  /** Replaces the settings (not the credentials, nor their version). */
  readonly updateSettings: (tenant: string, settings: Settings) => Effect.Effect<void, Failure>
  /**
   * Replaces the credentials while the row is still at `expectedVersion`
   * (else `Conflict`): answers the new version.
   */
  readonly saveCredentials: (
    tenant: string,
    credentials: Credentials | Redacted.Redacted<Credentials>,
    expectedVersion: number
  ) => Effect.Effect<number, Failure>
  /**
   * Destroys the tenant's data key and its sealed credentials, and marks it
   * `uninstalled`; `clean` erases its settings too, but the keys in `keep`.
   * Idempotent.
   */
  readonly destroyKey: (tenant: string, options?: DestroyOptions) => Effect.Effect<void, Failure>
  /** Deletes the tenant's row; whether there was one. */
  readonly remove: (tenant: string) => Effect.Effect<boolean, Failure>
  /** Re-wraps every data key not wrapped by the current master key; answers how many. */
  readonly rotate: Effect.Effect<number, Failure>
  /**
   * On PostgreSQL (`undefined` on SQLite): runs `effect` under the tenant's
   * lock across every process sharing the database (a transaction-scoped
   * advisory lock on a hash of the tenant id, released when `effect` ends or
   * its process dies). The registry's statements inside `effect` run in the
   * lock's transaction, on its one connection, and are committed when
   * `effect` succeeds. Waits at most `timeoutMs` (default 60,000) for
   * another holder, then fails with `Busy`.
   */
  readonly withLock?: <A, E, R>(
    tenant: string,
    effect: Effect.Effect<A, E, R>,
    options?: { readonly timeoutMs?: number | undefined }
  ) => Effect.Effect<A, E | Failure, R>
}

/**
 * The default wait for a tenant's lock: 60 seconds.
 *
 * @since 0.1.0
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000

/**
 * The registry service.
 *
 * @since 0.1.0
 */
export class TenantRegistry extends Context.Service<TenantRegistry, Service>()("@reword/tenants/TenantRegistry") {}

/**
 * The registry's options.
 *
 * @since 0.1.0
 */
export const Options = Schema.Struct({
  /** The key ring (see `KeyRing`): `{ current, keys }`, or one `KeyRing.fromEnv` answered. */
  keys: Schema.Unknown,
  /** The tables' prefix: lower-case letters, digits and `_`. Default `reword_` (`reword_tenants`). */
  tablePrefix: Schema.optional(
    Schema.String.check(
      Schema.makeFilter((p: string) =>
        /^[a-z_][a-z0-9_]{0,40}$/.test(p) ? undefined : "must be lower-case letters, digits and _ (at most 41)"
      )
    )
  )
})

/**
 * @since 0.1.0
 */
export type Options = typeof Options.Encoded

const invalid = (problems: ReadonlyArray<{ path: string; message: string }>, tenant?: string) =>
  TenantError.make("Invalid", Decode.describe(problems), tenant)

/** The registration decoded once; credentials given `Redacted` are read inside it (and held `Redacted` after). */
const decodeRegistration = (input: unknown) => {
  const given = Predicate.isObject(input) ? (input as { credentials?: unknown }) : undefined
  const plain =
    given !== undefined && Redacted.isRedacted(given.credentials)
      ? { ...given, credentials: Redacted.value(given.credentials) }
      : input
  return Result.mapError(
    Decode.decodeStrict(Registration, plain, "tenant, provider, settings, credentials, state"),
    (p) => invalid(p, typeof given?.["tenant" as never] === "string" ? (given["tenant" as never] as string) : undefined)
  )
}

const checkedId = (tenant: unknown): Effect.Effect<string, TenantError.TenantError> =>
  typeof tenant === "string" && Schema.is(TenantId)(tenant)
    ? Effect.succeed(tenant)
    : Effect.fail(TenantError.make("Invalid", "the tenant id must be 1 to 128 letters, digits, ., _, : or -"))

const decodeCredentials = (value: unknown, tenant: string) => {
  const plain = Redacted.isRedacted(value) ? Redacted.value(value) : value
  const decoded = Schema.decodeUnknownResult(Credentials)(plain, { errors: "all" })
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(
        TenantError.make("Invalid", "credentials must be a flat object of strings, numbers, booleans or nulls", tenant)
      )
}

const parseSettings = (row: Store.Row): Settings => {
  const parsed = Schema.decodeUnknownResult(Schema.fromJsonString(Settings))(row.settings)
  return Result.isSuccess(parsed) ? parsed.success : {}
}

/**
 * The registry on the `SqlClient` in context: checks its options, creates or
 * migrates its table.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<Service, Config.ConfigError | OutboxError.StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const decoded = Decode.decodeStrict(Options, options, "the registry's options: { keys, tablePrefix }")
    if (Result.isFailure(decoded)) return yield* Effect.fail(Decode.configError(decoded.failure))
    const ring = yield* Effect.fromResult(KeyRing.decode(decoded.success.keys))
    const tables = Store.tablesOf(decoded.success.tablePrefix ?? "reword_")
    const sql = yield* SqlClient.SqlClient
    yield* Effect.provideService(Store.prepare(tables), SqlClient.SqlClient, sql)
    const service = fromStatements(ring, Store.statements(sql, tables))
    const lock = Store.lockOf(sql, tables)
    return lock === undefined ? service : TenantRegistry.of({ ...service, withLock: withLockOf(lock) })
  })

/** The lock with its wait checked and its `Busy` typed. */
const withLockOf =
  (lock: NonNullable<ReturnType<typeof Store.lockOf>>): NonNullable<Service["withLock"]> =>
  (tenant, effect, options = {}) =>
    Effect.flatMap(checkedId(tenant), (id) => {
      const given = options.timeoutMs
      const timeoutMs =
        given === undefined || !Number.isFinite(given)
          ? DEFAULT_LOCK_TIMEOUT_MS
          : Math.max(1, Math.min(2 ** 31 - 1 - 5_000, Math.floor(given)))
      return lock(id, timeoutMs, effect).pipe(
        Effect.mapError((error) =>
          Predicate.isTagged(error, "LockBusy")
            ? TenantError.make("Busy", `the lock was not granted within ${timeoutMs} ms`, id)
            : (error as Exclude<typeof error, Store.LockBusy>)
        )
      )
    })

/** A row opened: its data key unwrapped, its credentials opened and decoded. */
const openRow = (ring: KeyRing.KeyRing, row: Store.Row): Effect.Effect<Tenant, TenantError.TenantError> =>
  Effect.gen(function* () {
    const base = {
      id: row.tenant_id,
      provider: row.provider,
      state: row.state,
      settings: parseSettings(row),
      version: row.version,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    }
    if (row.data_key === null || row.credentials === null) return { ...base, credentials: undefined }
    const dataKey = yield* Effect.fromResult(KeyRing.unwrap(ring, row.tenant_id, row.data_key))
    const text = yield* Effect.fromResult(KeyRing.open(dataKey, row.tenant_id, row.credentials))
    const credentials = yield* Effect.mapError(
      Schema.decodeUnknownEffect(Schema.fromJsonString(Credentials))(text),
      () => TenantError.make("Tampered", "the opened credentials are not a credentials object", row.tenant_id)
    )
    return { ...base, credentials: Redacted.make(credentials) }
  })

const unknown = (tenant: string) => TenantError.make("UnknownTenant", "the registry holds no such tenant", tenant)

/** Creates or replaces a tenant: a new data key, its credentials sealed under it. */
const register = (ring: KeyRing.KeyRing, s: Store.Statements, input: Registration): Effect.Effect<Tenant, Failure> =>
  Effect.gen(function* () {
    const r = yield* Effect.fromResult(decodeRegistration(input))
    const now = yield* Clock.currentTimeMillis
    const dataKey = KeyRing.newDataKey()
    const credentials =
      r.credentials === undefined
        ? undefined
        : Redacted.isRedacted(r.credentials)
          ? Redacted.value(r.credentials)
          : r.credentials
    const [row] = yield* s.upsert({
      tenant: r.tenant,
      provider: r.provider,
      state: r.state ?? "active",
      settings: JSON.stringify(r.settings ?? {}),
      dataKey: KeyRing.wrap(ring, r.tenant, dataKey),
      credentials: KeyRing.seal(dataKey, r.tenant, JSON.stringify(credentials ?? {})),
      now
    })
    return yield* openRow(ring, row as Store.Row)
  })

/** Seals and saves credentials while the row is still at `expectedVersion`. */
const saveCredentials = (
  ring: KeyRing.KeyRing,
  s: Store.Statements,
  tenant: string,
  credentials: Credentials | Redacted.Redacted<Credentials>,
  expectedVersion: number
): Effect.Effect<number, Failure> =>
  Effect.gen(function* () {
    const id = yield* checkedId(tenant)
    const plain = yield* decodeCredentials(credentials, id)
    const row = yield* s.find(id)
    if (row === undefined) return yield* unknown(id)
    if (row.data_key === null) {
      return yield* TenantError.make("KeyDestroyed", "the tenant was uninstalled: register it again", id)
    }
    const dataKey = yield* Effect.fromResult(KeyRing.unwrap(ring, id, row.data_key))
    const sealed = KeyRing.seal(dataKey, id, JSON.stringify(plain))
    const version = yield* s.saveCredentials(id, sealed, expectedVersion, yield* Clock.currentTimeMillis)
    if (version === undefined) {
      return yield* TenantError.make(
        "Conflict",
        `the row is no longer at version ${expectedVersion}: read it again`,
        id
      )
    }
    return version
  })

/** Destroys a tenant's data key and credentials (and its settings, but `keep`, when `clean`). */
const destroyKey = (s: Store.Statements, tenant: string, options: DestroyOptions): Effect.Effect<void, Failure> =>
  Effect.gen(function* () {
    const id = yield* checkedId(tenant)
    let settings: string | undefined
    if (options.clean === true) {
      const row = yield* s.find(id)
      const kept = row === undefined ? {} : parseSettings(row)
      const keep = options.keep ?? []
      settings = JSON.stringify(Object.fromEntries(Object.entries(kept).filter(([key]) => keep.includes(key))))
    }
    yield* s.destroyKey(id, settings, yield* Clock.currentTimeMillis)
  })

/** The service over its statements. */
const fromStatements = (ring: KeyRing.KeyRing, s: Store.Statements): Service => {
  const find = (tenant: string) =>
    Effect.flatMap(checkedId(tenant), (id) =>
      Effect.flatMap(s.find(id), (row) =>
        row === undefined ? Effect.succeed(Option.none<Tenant>()) : Effect.map(openRow(ring, row), Option.some)
      )
    )
  return TenantRegistry.of({
    register: (input) => register(ring, s, input),
    get: (tenant) =>
      Effect.flatMap(
        find(tenant),
        Option.match({ onNone: () => Effect.fail(unknown(tenant)), onSome: Effect.succeed })
      ),
    find,
    list: (query = {}) =>
      Effect.map(
        s.list(
          query.state,
          query.provider,
          query.after ?? "",
          Math.max(1, Math.min(1_000, Math.floor(Number.isFinite(query.limit) ? (query.limit as number) : 100)))
        ),
        (rows) =>
          rows.map((row) => ({
            id: row.tenant_id,
            provider: row.provider,
            state: row.state,
            settings: parseSettings(row),
            version: row.version,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
            hasCredentials: row.data_key !== null && row.credentials !== null
          }))
      ),
    setState: (tenant, state) =>
      Effect.gen(function* () {
        const id = yield* checkedId(tenant)
        if (!(Store.States as ReadonlyArray<string>).includes(state)) {
          return yield* TenantError.make("Invalid", "state must be active, suspended or uninstalled", id)
        }
        if (!(yield* s.setState(id, state, yield* Clock.currentTimeMillis))) return yield* unknown(id)
      }),
    updateSettings: (tenant, settings) =>
      Effect.gen(function* () {
        const id = yield* checkedId(tenant)
        const decoded = Schema.decodeUnknownResult(Settings)(settings, { errors: "all" })
        if (Result.isFailure(decoded)) {
          return yield* TenantError.make(
            "Invalid",
            "settings must be a flat object of strings, numbers, booleans or nulls",
            id
          )
        }
        const changed = yield* s.updateSettings(id, JSON.stringify(decoded.success), yield* Clock.currentTimeMillis)
        if (!changed) return yield* unknown(id)
      }),
    saveCredentials: (tenant, credentials, expectedVersion) =>
      saveCredentials(ring, s, tenant, credentials, expectedVersion),
    destroyKey: (tenant, options = {}) => destroyKey(s, tenant, options),
    remove: (tenant) => Effect.flatMap(checkedId(tenant), s.remove),
    rotate: rotate(ring, s)
  })
}

/** Re-wraps, a page at a time, every data key another master key wrapped. Bounded by the table's size. */
const rotate = (ring: KeyRing.KeyRing, s: Store.Statements): Effect.Effect<number, Failure> =>
  Effect.gen(function* () {
    let after = ""
    let count = 0
    for (;;) {
      const page = yield* s.wrappedByOthers(ring.current, after, 500)
      for (const row of page) {
        const dataKey = yield* Effect.fromResult(KeyRing.unwrap(ring, row.tenant_id, row.data_key))
        if (yield* s.rewrap(row.tenant_id, row.data_key, KeyRing.wrap(ring, row.tenant_id, dataKey))) count++
      }
      if (page.length < 500) return count
      after = (page[page.length - 1] as { tenant_id: string }).tenant_id
    }
  })

/**
 * The registry as a layer, over the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<TenantRegistry, Config.ConfigError | OutboxError.StorageError, SqlClient.SqlClient> =>
  Layer.effect(TenantRegistry, make(options))
