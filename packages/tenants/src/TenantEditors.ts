/**
 * An editor per tenant, on demand: `editorFor(tenant)` builds the tenant's
 * `MessageEditor` from the registry on first use (Bitrix24: its own token
 * row, its own bucket following its plan; Acquire: its own key), caches it
 * in a bounded LRU, and retires it when idle or evicted (its scope closed:
 * a refreshed pair still unsaved is stored, the session ends). Building,
 * failing, refreshing and rate limiting are each tenant's own: one tenant's
 * trouble never fails another's edits.
 *
 * @since 0.1.0
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24 } from "@reword/bitrix24"
import type { EditError, EditedMessage, MessageEditor } from "@reword/core"
import type { OutboxError } from "@reword/outbox"
import {
  Clock,
  type Config,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Layer,
  Redacted,
  Result,
  Schema,
  Scope
} from "effect"
import * as Bitrix24App from "./Bitrix24App.ts"
import * as Decode from "./internal/decode.ts"
import { AcquireCredentials, AcquireSettings, Bitrix24Credentials, Bitrix24Settings } from "./internal/shapes.ts"
import * as TenantError from "./TenantError.ts"
import * as TenantRegistry from "./TenantRegistry.ts"
import * as TenantTokenStore from "./TenantTokenStore.ts"

/**
 * The cache's options, declared once.
 *
 * @since 0.1.0
 */
export const Options = Schema.Struct({
  /** The most editors kept at once (default 100). */
  maxEditors: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }))),
  /** An editor unused this long (milliseconds) is retired (default 600,000: 10 minutes). */
  idleMs: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 10, maximum: 86_400_000 }))),
  /** The Bitrix24 application (required to build Bitrix24 tenants' editors). */
  bitrix24: Schema.optional(Schema.Unknown),
  /** Options given to every editor (`retry`, `transport`, `concurrency`). */
  editorOptions: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})

/**
 * @since 0.1.0
 */
export type Options = Omit<typeof Options.Encoded, "bitrix24" | "editorOptions"> & {
  readonly bitrix24?: Bitrix24App.AppOptions | Bitrix24App.App | undefined
  readonly editorOptions?: MessageEditor.EditorOptions | undefined
}

type Failure = TenantError.TenantError | OutboxError.StorageError | Config.ConfigError

/**
 * What the cache holds now, and has done.
 *
 * @since 0.1.0
 */
export interface Stats {
  /** Editors cached now (built or being built). */
  readonly alive: number
  readonly built: number
  readonly disposed: number
}

/**
 * The cache's interface.
 *
 * @since 0.1.0
 */
export interface Service {
  /** The tenant's editor (built on first use). It may be retired later: hold it with {@link Service.withEditor}. */
  readonly editorFor: (tenant: string) => Effect.Effect<MessageEditor.Service, Failure>
  /** Runs `use` with the tenant's editor, which is not disposed while `use` runs. */
  readonly withEditor: <A, E, R>(
    tenant: string,
    use: (editor: MessageEditor.Service) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | Failure, R>
  /** Updates one message of the tenant: `withEditor(tenant, editor => editor.update(request))`. */
  readonly update: (
    tenant: string,
    request: MessageEditor.RequestInput
  ) => Effect.Effect<EditedMessage.EditedMessage, EditError.EditError | Failure>
  /** Retires the tenant's editor (after an update or an uninstall): the next use builds it again. */
  readonly retire: (tenant: string) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * The cache service.
 *
 * @since 0.1.0
 */
export class TenantEditors extends Context.Service<TenantEditors, Service>()("@reword/tenants/TenantEditors") {}

interface Entry {
  readonly tenant: string
  readonly scope: Scope.Closeable
  readonly ready: Deferred.Deferred<MessageEditor.Service, Failure>
  lastUsed: number
  leases: number
  retired: boolean
}

const decodeWith = <S extends Schema.Top>(schema: S, value: unknown, tenant: string, what: string) => {
  const decoded = Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"]>)(value)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(TenantError.make("Invalid", `the tenant's ${what} are not what the registry writes`, tenant))
}

/** Builds a tenant's editor in `scope`, from the registry. */
const build = (
  registry: TenantRegistry.Service,
  app: Bitrix24App.App | undefined,
  editorOptions: MessageEditor.EditorOptions,
  tenant: string,
  scope: Scope.Scope
): Effect.Effect<MessageEditor.Service, Failure> =>
  Effect.gen(function* () {
    const found = yield* registry.get(tenant)
    if (found.state !== "active") {
      return yield* TenantError.make("NotActive", `the tenant is ${found.state}: no edit goes out for it`, tenant)
    }
    if (found.credentials === undefined) {
      return yield* TenantError.make("KeyDestroyed", "the tenant has no credentials", tenant)
    }
    const credentials = Redacted.value(found.credentials)
    if (found.provider === "acquire") {
      const settings = yield* decodeWith(AcquireSettings, found.settings, tenant, "settings")
      const { apiKey } = yield* decodeWith(AcquireCredentials, credentials, tenant, "credentials")
      const insecure = app?.allowInsecureLoopback === true || found.settings.allowInsecureLoopback === true
      return yield* Acquire.make(
        { ...settings, apiKey: Redacted.make(apiKey), ...(insecure ? { allowInsecureLoopback: "true" } : {}) },
        editorOptions
      )
    }
    if (found.provider !== "bitrix24") {
      return yield* TenantError.make(
        "Invalid",
        `no editor is built for provider ${JSON.stringify(found.provider)}`,
        tenant
      )
    }
    if (app === undefined) {
      return yield* TenantError.make("Invalid", "a Bitrix24 tenant needs the bitrix24 application options", tenant)
    }
    const settings = yield* decodeWith(Bitrix24Settings, found.settings, tenant, "settings")
    const pair = yield* decodeWith(Bitrix24Credentials, credentials, tenant, "credentials")
    return yield* Effect.provideService(
      Bitrix24.make(
        {
          portalUrl: settings.portalUrl,
          accessToken: Redacted.make(pair.accessToken),
          refreshToken: Redacted.make(pair.refreshToken),
          clientId: app.clientId,
          clientSecret: app.clientSecret,
          oauthUrl: settings.oauthUrl,
          connector: settings.connector,
          line: settings.line,
          allowInsecureLoopback: app.allowInsecureLoopback
        },
        {
          ...editorOptions,
          tokenStore: TenantTokenStore.make(registry, tenant),
          rateLimit: { bucket: settings.plan }
        }
      ),
      Scope.Scope,
      scope
    )
  })

/**
 * The cache over the registry in context. Its scope retires every editor when it closes.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, Config.ConfigError, TenantRegistry.TenantRegistry | Scope.Scope> =>
  Effect.gen(function* () {
    const decoded = Decode.decodeStrict(Options, options, "the editors' options")
    if (Result.isFailure(decoded)) return yield* Effect.fail(Decode.configError(decoded.failure))
    const app =
      options.bitrix24 === undefined ? undefined : yield* Effect.fromResult(Bitrix24App.decode(options.bitrix24))
    const maxEditors = decoded.success.maxEditors ?? 100
    const idleMs = decoded.success.idleMs ?? 600_000
    const editorOptions = options.editorOptions ?? {}
    const registry = yield* TenantRegistry.TenantRegistry
    const layerScope = yield* Effect.scope
    const entries = new Map<string, Entry>()
    let built = 0
    let disposed = 0

    /** Closes an entry's scope, in the background (a refresh in flight may take a moment to store). */
    const dispose = (entry: Entry) =>
      Effect.asVoid(
        Effect.forkIn(
          Effect.ensuring(
            Scope.close(entry.scope, Exit.void),
            Effect.sync(() => {
              disposed++
            })
          ),
          layerScope
        )
      )

    /** Takes an entry out of the cache; disposed now, or when its last lease ends. */
    const evict = (entry: Entry) =>
      Effect.suspend(() => {
        if (entries.get(entry.tenant) === entry) entries.delete(entry.tenant)
        if (entry.retired) return Effect.void
        entry.retired = true
        return entry.leases === 0 ? dispose(entry) : Effect.void
      })

    /** Evicts the least recently used entries not in use while the cache is over its size. */
    const trim = Effect.suspend(() => {
      const victims: Array<Entry> = []
      let over = entries.size - maxEditors
      for (const entry of entries.values()) {
        if (over <= 0) break
        if (entry.leases === 0) {
          victims.push(entry)
          over--
        }
      }
      return Effect.forEach(victims, evict, { discard: true })
    })

    const sweep = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const idle = [...entries.values()].filter((entry) => entry.leases === 0 && now - entry.lastUsed >= idleMs)
      yield* Effect.forEach(idle, evict, { discard: true })
    })
    yield* Effect.forkIn(
      Effect.forever(Effect.andThen(Effect.sleep(Duration.millis(Math.max(5, Math.floor(idleMs / 2)))), sweep)),
      layerScope
    )
    yield* Effect.addFinalizer(() =>
      Effect.forEach(
        [...entries.values()],
        (entry) => Effect.andThen(evict(entry), Scope.close(entry.scope, Exit.void)),
        {
          discard: true
        }
      )
    )

    /** The tenant's entry, made (and its build started) when missing; leased when `lease`. */
    const entryOf = (tenant: string, lease: boolean) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        let entry = entries.get(tenant)
        if (entry !== undefined) {
          entries.delete(tenant)
          entries.set(tenant, entry)
        } else {
          const fresh: Entry = {
            tenant,
            scope: yield* Scope.make(),
            ready: yield* Deferred.make<MessageEditor.Service, Failure>(),
            lastUsed: now,
            leases: 0,
            retired: false
          }
          entry = fresh
          entries.set(tenant, fresh)
          yield* Effect.forkIn(
            Effect.flatMap(Effect.exit(build(registry, app, editorOptions, tenant, fresh.scope)), (exit) =>
              Effect.andThen(
                Exit.isSuccess(exit)
                  ? Effect.sync(() => {
                      built++
                    })
                  : // A failed build is not kept: the next use tries again.
                    evict(fresh),
                Deferred.done(fresh.ready, exit)
              )
            ),
            layerScope
          )
        }
        entry.lastUsed = now
        if (lease) entry.leases++
        yield* trim
        return entry
      })

    const release = (entry: Entry) =>
      Effect.suspend(() => {
        entry.leases--
        return entry.retired && entry.leases === 0 ? dispose(entry) : Effect.void
      })

    const withEditor: Service["withEditor"] = (tenant, use) =>
      Effect.acquireUseRelease(
        entryOf(tenant, true),
        (entry) => Effect.flatMap(Deferred.await(entry.ready), use),
        release
      )

    return TenantEditors.of({
      editorFor: (tenant) => Effect.flatMap(entryOf(tenant, false), (entry) => Deferred.await(entry.ready)),
      withEditor,
      update: (tenant, request) => withEditor(tenant, (editor) => editor.update(request)),
      retire: (tenant) =>
        Effect.suspend(() => {
          const entry = entries.get(tenant)
          return entry === undefined ? Effect.void : evict(entry)
        }),
      stats: Effect.sync(() => ({ alive: entries.size, built, disposed }))
    })
  })

/**
 * The cache as a layer, over the registry in context.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TenantEditors, Config.ConfigError, TenantRegistry.TenantRegistry> =>
  Layer.effect(TenantEditors, make(options))
