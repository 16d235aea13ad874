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
import { Bitrix24, type RateLimiter } from "@reword/bitrix24"
import type { EditError, EditedMessage, MessageEditor } from "@reword/core"
import type { Outbox, OutboxError } from "@reword/outbox"
import { type Config, Context, Effect, Layer, Redacted, Result, Schema, Scope } from "effect"
import * as Bitrix24App from "./Bitrix24App.ts"
import * as Cache from "./internal/cache.ts"
import * as Decode from "./internal/decode.ts"
import { AcquireCredentials, AcquireSettings, Bitrix24Credentials, Bitrix24Settings, Plan } from "./internal/shapes.ts"
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
  editorOptions: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  /**
   * A rate limiter per plan, shared by every process serving the same portals
   * (`PgRateLimiter` from `@reword/postgres`, made with that plan's bucket):
   * each portal keeps its own bucket in it, keyed by the portal. Without one,
   * each editor keeps its portal's bucket in this process (one machine).
   */
  rateLimiters: Schema.optional(
    Schema.Struct(Object.fromEntries(Plan.literals.map((plan) => [plan, Schema.optional(Schema.Unknown)])))
  )
})

/**
 * @since 0.1.0
 */
export type Options = Omit<typeof Options.Encoded, "bitrix24" | "editorOptions" | "rateLimiters"> & {
  readonly bitrix24?: Bitrix24App.AppOptions | Bitrix24App.App | undefined
  readonly editorOptions?: MessageEditor.EditorOptions | undefined
  readonly rateLimiters?: Partial<Record<Plan, RateLimiter.Service>> | undefined
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
 * Why an uninstalled Bitrix24 portal's edits are dead letters (the outbox's `lastReason` holds it).
 *
 * @since 0.2.0
 */
export const UNINSTALLED = "the portal uninstalled the application"

/**
 * The outbox's `editorsFor` over these editors: each tenant's edits go through its own editor, held
 * while a page of them is delivered. A tenant unknown or uninstalled fails (its edits dead letters,
 * naming why); a registry away for now is retryable (they wait).
 *
 * ```ts
 * const outbox = yield* Outbox.makeWith([], { editorsFor: TenantEditors.editorsFor(editors) })
 * ```
 *
 * @since 0.2.0
 */
export const editorsFor =
  (editors: Service): Outbox.EditorsFor =>
  (tenant) =>
    editors.scoped(tenant)

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
  /**
   * The tenant's editor, held (not retired) until the scope closes: what the outbox's `editorsFor` takes
   * (see {@link editorsFor}).
   *
   * @since 0.2.0
   */
  readonly scoped: (tenant: string) => Effect.Effect<MessageEditor.Service, Failure, Scope.Scope>
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

const decodeWith = <S extends Schema.Top>(schema: S, value: unknown, tenant: string, what: string) => {
  const decoded = Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"]>)(value)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(TenantError.make("Invalid", `the tenant's ${what} are not what the registry writes`, tenant))
}

/** Builds a tenant's editor in `scope`, from the registry. */
/** What every tenant's editor is built from. */
interface BuildDeps {
  readonly registry: TenantRegistry.Service
  readonly app: Bitrix24App.App | undefined
  readonly editorOptions: MessageEditor.EditorOptions
  readonly limiters: Partial<Record<Plan, RateLimiter.Service>> | undefined
}

const build = (
  { registry, app, editorOptions, limiters }: BuildDeps,
  tenant: string,
  scope: Scope.Scope
): Effect.Effect<MessageEditor.Service, Failure> =>
  Effect.gen(function* () {
    const found = yield* registry.get(tenant)
    if (found.state === "uninstalled") {
      const gone = found.provider === "bitrix24" ? UNINSTALLED : "the account was removed"
      return yield* TenantError.make("NotActive", `${gone}: no edit goes out for it`, tenant)
    }
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
          rateLimit: { bucket: settings.plan },
          ...(limiters?.[settings.plan] === undefined ? {} : { rateLimiter: limiters[settings.plan] })
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
    const registry = yield* TenantRegistry.TenantRegistry
    const cache = yield* Cache.make<MessageEditor.Service, Failure>({
      maxSize: decoded.success.maxEditors ?? 100,
      idleMs: decoded.success.idleMs ?? 600_000,
      build: (tenant, scope) =>
        build(
          { registry, app, editorOptions: options.editorOptions ?? {}, limiters: options.rateLimiters },
          tenant,
          scope
        )
    })
    const withEditor: Service["withEditor"] = (tenant, use) =>
      Effect.acquireUseRelease(
        cache.get(tenant, true),
        (held) => Effect.flatMap(held.value, use),
        (held) => held.release
      )
    return TenantEditors.of({
      editorFor: (tenant) => Effect.flatMap(cache.get(tenant, false), (held) => held.value),
      scoped: (tenant) =>
        Effect.flatMap(
          Effect.acquireRelease(cache.get(tenant, true), (held) => held.release),
          (held) => held.value
        ),
      withEditor,
      update: (tenant, request) => withEditor(tenant, (editor) => editor.update(request)),
      retire: cache.evict,
      stats: cache.stats
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
