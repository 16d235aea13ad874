/**
 * The Bitrix24 application's lifecycle on many portals: the handler of the
 * `ONAPPINSTALL`, `ONAPPUPDATE` and `ONAPPUNINSTALL` events Bitrix24 posts.
 * `handle(body, contentType)` never fails: it answers what to send back (a
 * status and a body) and what happened, so an app's HTTP route is three lines.
 *
 * - **Install** registers the portal (`member_id` is the tenant): its
 *   endpoints checked (HTTPS, the portal's own host, the OAuth server through
 *   the same allowlist a token refresh uses), its access token verified
 *   against the portal (`app.info`) before anything is stored, its pair sealed
 *   under a new data key, a SHA-256 of its `application_token` kept to check
 *   later events. A reinstall is an upsert; a repeated install changes nothing.
 * - **Update** checks the `application_token`; a new one is taken only with an
 *   access token the portal accepts. New tokens are saved by compare-and-swap.
 * - **Uninstall** checks the `application_token` in constant time, marks the
 *   tenant uninstalled and destroys its data key (`CLEAN` erases its settings
 *   too), retires its editor and, when an `Outbox` is in context, dead-letters
 *   the portal's pending edits ("the portal uninstalled the application"). A
 *   repeated uninstall is an idempotent success.
 * - A wrong token, or an unknown `member_id` on any event but an install, is
 *   a 403 answer and changes nothing.
 *
 * - **Setup**: when the app's options give a `placementHandler`, a verified
 *   install (and an update or a repeated install while the last setup did
 *   not finish) registers the connector on the portal, activates it on the
 *   tenant's line and binds its events (`event.bind`) to `eventHandler`,
 *   through the tenant's own editor (its token, its bucket). Each step is
 *   idempotent; the first that fails leaves the tenant registered, marked
 *   with that step's error in its settings (`setup: "failed"`, `setupStep`,
 *   `setupError`); `setUp(tenant)` tries again.
 *
 * @since 0.1.0
 */
import { Bitrix24Config, type Bitrix24MessageEditor, Events } from "@reword/bitrix24"
import { BaseUrl, HttpTransport } from "@reword/core/adapter"
import { Outbox, type OutboxError } from "@reword/outbox"
import {
  Clock,
  type Config,
  Context,
  Duration,
  Effect,
  Layer,
  Option,
  Predicate,
  Redacted,
  Result,
  Schema
} from "effect"
import * as Bitrix24App from "./Bitrix24App.ts"
import * as Decode from "./internal/decode.ts"
import * as Setup from "./internal/setup.ts"
import { Bitrix24Settings, sha256, tokenMatches } from "./internal/shapes.ts"
import * as TenantEditors from "./TenantEditors.ts"
import * as TenantError from "./TenantError.ts"
import * as TenantRegistry from "./TenantRegistry.ts"

/**
 * What the handler answers: the HTTP status and JSON body to send back, what
 * happened, the tenant, and the typed error behind a refusal (for logs; it
 * carries no secret).
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly status: 200 | 400 | 403 | 503
  readonly body: { readonly result: Outcome } | { readonly error: string; readonly error_description: string }
  readonly outcome: Outcome | "refused"
  readonly tenant: string | undefined
  readonly error?: TenantError.TenantError | Events.EventRefused | OutboxError.StorageError | undefined
  /** How the setup on the portal ended, when this event ran one. */
  readonly setup?: SetupOutcome | undefined
}

/**
 * How a setup on a portal ended: `done`, or `failed` at a step (`register`,
 * `activate`, `bind`) with what the portal said.
 *
 * @since 0.1.0
 */
export type SetupOutcome = Setup.Outcome

/**
 * What an accepted event did.
 *
 * @since 0.1.0
 */
export type Outcome = "installed" | "updated" | "uninstalled" | "unchanged"

/**
 * The handler.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly handle: (body: string | Uint8Array, contentType: string | undefined) => Effect.Effect<Answer>
  /**
   * Sets up the portal again (connector, line, events), as an install does,
   * and records how it ended in the tenant's settings. `Invalid` when the
   * app's options give no `placementHandler`; `NotActive` for a tenant that
   * is not active.
   */
  readonly setUp: (tenant: string) => Effect.Effect<SetupOutcome, TenantError.TenantError | OutboxError.StorageError>
}

/**
 * The lifecycle service.
 *
 * @since 0.1.0
 */
export class Bitrix24Lifecycle extends Context.Service<Bitrix24Lifecycle, Service>()(
  "@reword/tenants/Bitrix24Lifecycle"
) {}

const accepted = (outcome: Outcome, tenant: string): Answer => ({
  status: 200,
  body: { result: outcome },
  outcome,
  tenant
})

const refusedWith = (error: Answer["error"], tenant: string | undefined, status?: Answer["status"]): Answer => {
  const tag = error?._tag === "TenantError" ? error.reason._tag : error?._tag
  const code =
    status === 503 || error?._tag === "StorageError" ? 503 : tag === "EventRefused" || tag === "Invalid" ? 400 : 403
  return {
    status: status ?? code,
    body: {
      error: code === 400 ? "INVALID_REQUEST" : code === 503 ? "UNAVAILABLE" : "ACCESS_DENIED",
      error_description: error?.message ?? "refused"
    },
    outcome: "refused",
    tenant,
    error
  }
}

/** The portal's base URL from the event: HTTPS (or loopback when allowed), its host the event's `domain`, not a webhook. */
const portalUrlOf = (event: Events.AppInstall, app: Bitrix24App.App): Result.Result<URL, string> => {
  const given = event.clientEndpoint ?? (event.domain === undefined ? undefined : `https://${event.domain}/rest/`)
  if (given === undefined) return Result.fail("the install names no client_endpoint nor domain")
  if (Bitrix24Config.isWebhookUrl(given)) return Result.fail("client_endpoint is an incoming-webhook URL")
  const parsed = BaseUrl.parse(given, { allowInsecureLoopback: app.allowInsecureLoopback })
  if (Result.isFailure(parsed)) return Result.fail(`client_endpoint ${parsed.failure}`)
  const url = new URL(parsed.success.href)
  if (event.domain !== undefined && url.host.toLowerCase() !== event.domain.trim().toLowerCase()) {
    return Result.fail("client_endpoint is not on the portal the event names (domain)")
  }
  url.pathname = url.pathname.replace(/\/rest\/?$/, "/").replace(/\/*$/, "/")
  return Result.succeed(url)
}

const settingsOf = (tenant: TenantRegistry.Tenant) => {
  const decoded = Schema.decodeUnknownResult(Bitrix24Settings)(tenant.settings)
  return Result.isSuccess(decoded) ? decoded.success : undefined
}

/** What the event handlers use. */
interface Deps {
  readonly app: Bitrix24App.App
  readonly registry: TenantRegistry.Service
  readonly retire: (tenant: string) => Effect.Effect<void>
  /** Dead-letters the tenant's pending edits in the outbox, when one is given. */
  readonly failEdits: (tenant: string) => Effect.Effect<void, OutboxError.StorageError>
  readonly transport: HttpTransport.HttpTransport
  readonly editors: TenantEditors.Service | undefined
}

/** Runs the setup through the tenant's editor and records its outcome in the tenant's settings. */
const setUp = (d: Deps, tenant: string) =>
  Effect.gen(function* () {
    const options = d.app.setup
    if (options === undefined || d.editors === undefined) {
      return yield* TenantError.make("Invalid", "the application's options give no placementHandler", tenant)
    }
    const found = yield* d.registry.get(tenant)
    const settings = settingsOf(found)
    if (found.state !== "active" || settings === undefined) {
      return yield* TenantError.make("NotActive", `the tenant is ${found.state}: nothing is set up`, tenant)
    }
    const outcome = yield* d.editors
      .withEditor(tenant, (editor) => Setup.run((editor as Bitrix24MessageEditor.Service).client, options, settings))
      .pipe(
        Effect.catch((error) =>
          Effect.succeed<Setup.Outcome>({ state: "failed", step: "register", error: error.message })
        )
      )
    const now = yield* Clock.currentTimeMillis
    const fresh = yield* d.registry.get(tenant)
    yield* d.registry.updateSettings(tenant, Setup.withOutcome(fresh.settings, outcome, now))
    return outcome
  })

/** The setup after an event, when the app asks for one and the tenant is active: its outcome on the answer. */
const thenSetUp = (d: Deps, answer: Answer, tenant: string) =>
  d.app.setup === undefined
    ? Effect.succeed(answer)
    : Effect.map(
        Effect.flatMap(d.registry.get(tenant), (found) =>
          found.state === "active" ? Effect.map(setUp(d, tenant), Option.some) : Effect.succeedNone
        ),
        (setup) => (Option.isSome(setup) ? { ...answer, setup: setup.value } : answer)
      )

/** The portal accepts `token` (`app.info` answers a result): void; else why not, and whether to try again later. */
const verify = (d: Deps, portalUrl: URL, token: Redacted.Redacted<string>, tenant: string) =>
  Effect.flatMap(
    Effect.result(
      d.transport.send({
        method: "POST",
        url: new URL("rest/app.info", portalUrl),
        json: { auth: Redacted.value(token) },
        secrets: [token]
      })
    ),
    (sent): Effect.Effect<void, Answer> => {
      if (Result.isFailure(sent)) {
        const error = TenantError.make("Unverified", "the portal could not be reached to check the token", tenant)
        return Effect.fail(refusedWith(error, tenant, 503))
      }
      const response = sent.success
      if (response.status === 200 && Predicate.hasProperty(response.json, "result")) return Effect.void
      const description = `the portal answered HTTP ${response.status} to app.info with the event's access token`
      const error = TenantError.make("Unverified", description, tenant)
      return Effect.fail(refusedWith(error, tenant, response.status >= 500 || response.status === 429 ? 503 : 403))
    }
  )

const install = (d: Deps, event: Events.AppInstall) =>
  Effect.gen(function* () {
    const tenant = event.memberId
    const portalUrl = portalUrlOf(event, d.app)
    if (Result.isFailure(portalUrl)) {
      return refusedWith(TenantError.make("Invalid", portalUrl.failure, tenant), tenant)
    }
    const existing = Option.getOrUndefined(
      yield* d.registry.find(tenant).pipe(Effect.catchTag("TenantError", () => Effect.succeedNone))
    )
    const before = existing === undefined ? undefined : settingsOf(existing)
    const sameToken = tokenMatches(event.applicationToken, before?.applicationTokenSha256)
    if (existing?.state === "active" && before !== undefined) {
      if (sameToken && event.ts !== undefined && event.ts * 1000 <= existing.updatedAt) {
        const unchanged = accepted("unchanged", tenant)
        return before.setup === "done" ? unchanged : yield* thenSetUp(d, unchanged, tenant)
      }
      // Another portal claiming a member_id already installed must prove it.
      if (before.portalUrl !== portalUrl.success.href && !sameToken) {
        return refusedWith(
          TenantError.make(
            "Forbidden",
            "an install for an installed portal from another address, with another application_token",
            tenant
          ),
          tenant
        )
      }
    }
    yield* verify(d, portalUrl.success, event.grant.accessToken, tenant)
    const oauthUrl =
      (event.serverEndpoint === undefined
        ? undefined
        : Bitrix24Config.trustedOAuthUrl(event.serverEndpoint, {
            configured: d.app.oauthUrl,
            allowInsecureLoopback: d.app.allowInsecureLoopback
          })) ?? d.app.oauthUrl
    const settings: Bitrix24Settings = {
      portalUrl: portalUrl.success.href,
      oauthUrl: oauthUrl.href,
      connector: before?.connector ?? d.app.connector,
      line: before?.line ?? d.app.line,
      plan: before?.plan ?? d.app.plan,
      ...(event.domain === undefined ? {} : { domain: event.domain }),
      ...(event.status === undefined ? {} : { status: event.status }),
      scope: event.grant.scope.join(","),
      ...(event.version === undefined ? {} : { version: event.version }),
      applicationTokenSha256: sha256(event.applicationToken)
    }
    yield* d.registry.register({
      tenant,
      provider: "bitrix24",
      // A portal the app suspended stays suspended when it reinstalls.
      state: existing?.state === "suspended" ? "suspended" : "active",
      settings,
      credentials: Redacted.make({
        accessToken: Redacted.value(event.grant.accessToken),
        refreshToken: Redacted.value(event.grant.refreshToken),
        ...(event.grant.expiresAt === undefined ? {} : { expiresAt: event.grant.expiresAt }),
        oauthUrl: oauthUrl.href
      })
    })
    yield* d.retire(tenant)
    return yield* thenSetUp(d, accepted("installed", tenant), tenant)
  })

/** The tenant of an event other than install, and whether its token matches; a 403 answer when unknown. */
const known = (d: Deps, event: Events.AppUpdate | Events.AppUninstall) =>
  Effect.gen(function* () {
    const tenant = event.memberId
    const found = Option.getOrUndefined(yield* d.registry.find(tenant))
    const hash = found?.settings.applicationTokenSha256
    if (found === undefined || found.provider !== "bitrix24" || typeof hash !== "string") {
      return yield* Effect.fail(
        refusedWith(TenantError.make("UnknownTenant", "no portal with this member_id was installed", tenant), tenant)
      )
    }
    return { tenant, found, settings: settingsOf(found), matches: tokenMatches(event.applicationToken, hash) }
  })

const update = (d: Deps, event: Events.AppUpdate) =>
  Effect.gen(function* () {
    const { tenant, found, settings, matches } = yield* known(d, event)
    const forbidden = refusedWith(TenantError.make("Forbidden", "the application_token does not match", tenant), tenant)
    if (found.state === "uninstalled" || settings === undefined) {
      return refusedWith(
        TenantError.make("NotActive", "the application was uninstalled from this portal", tenant),
        tenant
      )
    }
    // A new application_token is taken only with an access token the portal accepts.
    if (!matches && event.grant === undefined) return forbidden
    if (event.grant !== undefined) yield* verify(d, new URL(settings.portalUrl), event.grant.accessToken, tenant)
    yield* d.registry.updateSettings(tenant, {
      ...settings,
      ...(event.version === undefined ? {} : { version: event.version }),
      applicationTokenSha256: sha256(event.applicationToken)
    })
    if (event.grant !== undefined) {
      const fresh = yield* d.registry.get(tenant)
      yield* d.registry.saveCredentials(
        tenant,
        Redacted.make({
          accessToken: Redacted.value(event.grant.accessToken),
          refreshToken: Redacted.value(event.grant.refreshToken),
          ...(event.grant.expiresAt === undefined ? {} : { expiresAt: event.grant.expiresAt }),
          oauthUrl: settings.oauthUrl
        }),
        fresh.version
      )
      yield* d.retire(tenant)
    }
    const updated = accepted("updated", tenant)
    return settings.setup === "done" ? updated : yield* thenSetUp(d, updated, tenant)
  })

const uninstall = (d: Deps, event: Events.AppUninstall) =>
  Effect.gen(function* () {
    const { tenant, found, matches } = yield* known(d, event)
    if (!matches) {
      return refusedWith(TenantError.make("Forbidden", "the application_token does not match", tenant), tenant)
    }
    if (found.state === "uninstalled" && found.credentials === undefined) {
      // Again (the first may have stopped before the outbox): nothing left pending, idempotently.
      yield* d.failEdits(tenant)
      return accepted("unchanged", tenant)
    }
    yield* d.registry.destroyKey(tenant, { clean: event.clean, keep: ["applicationTokenSha256"] })
    yield* d.retire(tenant)
    yield* d.failEdits(tenant)
    return accepted("uninstalled", tenant)
  })

/**
 * The handler over the registry in context; retires cached editors when a `TenantEditors` is in context,
 * and dead-letters an uninstalled portal's pending edits when an `Outbox` is.
 */
export const make = (
  appOptions: Bitrix24App.AppOptions | Bitrix24App.App
): Effect.Effect<Service, Config.ConfigError, TenantRegistry.TenantRegistry> =>
  Effect.gen(function* () {
    const app = yield* Effect.fromResult(Bitrix24App.decode(appOptions))
    const registry = yield* TenantRegistry.TenantRegistry
    const editors = yield* Effect.serviceOption(TenantEditors.TenantEditors)
    const outbox = yield* Effect.serviceOption(Outbox.Outbox)
    if (app.setup !== undefined && Option.isNone(editors)) {
      return yield* Effect.fail(
        Decode.configError([
          { path: "placementHandler", message: "sets the portals up through their editors: provide TenantEditors" }
        ])
      )
    }
    const d: Deps = {
      editors: Option.getOrUndefined(editors),
      app,
      registry,
      retire: (tenant) => (Option.isSome(editors) ? editors.value.retire(tenant) : Effect.void),
      failEdits: (tenant) =>
        Option.isSome(outbox) ? Effect.asVoid(outbox.value.failTenant(tenant, TenantEditors.UNINSTALLED)) : Effect.void,
      transport: HttpTransport.make({ timeout: Duration.millis(app.verifyTimeoutMs) })
    }

    const dispatch = (event: Events.LifecycleEvent) => {
      switch (event._tag) {
        case "AppInstall":
          return install(d, event)
        case "AppUpdate":
          return update(d, event)
        case "AppUninstall":
          return uninstall(d, event)
      }
    }

    return Bitrix24Lifecycle.of({
      setUp: (tenant) => setUp(d, tenant),
      handle: (body, contentType) =>
        Effect.suspend(() => {
          const event = Events.decode(body, contentType)
          if (Result.isFailure(event)) return Effect.succeed(refusedWith(event.failure, undefined))
          return (
            dispatch(event.success) as Effect.Effect<
              Answer,
              Answer | TenantError.TenantError | OutboxError.StorageError
            >
          ).pipe(
            Effect.catch((failure) =>
              Effect.succeed(
                Predicate.hasProperty(failure, "outcome")
                  ? (failure as Answer)
                  : refusedWith(failure as Answer["error"], event.success.memberId)
              )
            )
          )
        })
    })
  })

/**
 * The handler as a layer, over the registry (and, when given, the editors) in context.
 *
 * @since 0.1.0
 */
export const layer = (
  app: Bitrix24App.AppOptions | Bitrix24App.App
): Layer.Layer<Bitrix24Lifecycle, Config.ConfigError, TenantRegistry.TenantRegistry> =>
  Layer.effect(Bitrix24Lifecycle, make(app))
