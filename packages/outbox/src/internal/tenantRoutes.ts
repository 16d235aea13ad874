/**
 * Which editor delivers a claim: tenant `default`'s from the outbox's
 * `editors`, every other tenant's from `editorsFor`, asked once per page and
 * tenant (and held while the page is delivered). A tenant whose editors
 * cannot be found fails its own claims only: a dead letter naming why, or,
 * when the failure says it may pass (`isRetryable`), a retry after a backoff.
 */
import type { MessageEditor } from "@reword/core"
import { Cause, Duration, Effect, Exit, Predicate, type Scope } from "effect"
import type * as Claims from "./claims.ts"
import type { Outcome } from "./claims.ts"
import type { EditorsFor, Route } from "./model.ts"
import { DEFAULT_TENANT } from "./store.ts"

/** How long a page waits for a tenant's editors. */
const RESOLVE_TIMEOUT = Duration.seconds(30)

/** What a page needs of the delivery's configuration. */
export interface RoutesConfig {
  readonly routes: ReadonlyArray<{ readonly editor: MessageEditor.Service; readonly account: string }>
  readonly editorsFor?: EditorsFor | undefined
  /** The backoff of a claim's next attempt after its `failures` so far. */
  readonly backoff: (failures: number) => number
}

/** A tenant's editors, or why it has none now. */
export type Resolution =
  | { readonly kind: "editors"; readonly editors: MessageEditor.Service | ReadonlyArray<Route> }
  | { readonly kind: "none"; readonly reason: string; readonly retryable: boolean }

/** Where a claim goes: an editor (grouped by `key`), or the outcome it gets without one. */
export type RouteOf =
  | { readonly kind: "editor"; readonly editor: MessageEditor.Service; readonly key: string }
  | { readonly kind: "outcome"; readonly outcome: Outcome }

const isEditor = (value: unknown): value is MessageEditor.Service =>
  Predicate.isObject(value) &&
  typeof (value as { provider?: unknown }).provider === "string" &&
  typeof (value as { updateMany?: unknown }).updateMany === "function"

const isRoutes = (value: unknown): value is ReadonlyArray<Route> =>
  Array.isArray(value) && value.every((route) => Predicate.isObject(route) && isEditor(route.editor))

/** Whether the claim's tenant is served by `editorsFor` (not by the outbox's `editors`). */
const servedByResolver = (config: RoutesConfig, tenant: string): boolean =>
  config.editorsFor !== undefined && (tenant !== DEFAULT_TENANT || config.routes.length === 0)

const messageOf = (failure: unknown): string =>
  Predicate.isObject(failure) && typeof failure.message === "string" && failure.message.length > 0
    ? failure.message
    : String(failure)

/** A tenant's editors from `editorsFor`, held in `scope`; a failure, a defect or a timeout is its reason. */
const resolve = (editorsFor: EditorsFor, tenant: string): Effect.Effect<Resolution, never, Scope.Scope> =>
  Effect.map(
    Effect.exit(
      Effect.timeout(
        Effect.suspend(() => editorsFor(tenant)),
        RESOLVE_TIMEOUT
      )
    ),
    (exit): Resolution => {
      if (Exit.isSuccess(exit)) {
        const editors = exit.value
        return isEditor(editors) || isRoutes(editors)
          ? { kind: "editors", editors }
          : { kind: "none", reason: "editorsFor answered neither an editor nor routes", retryable: false }
      }
      const failure = Cause.squash(exit.cause)
      if (Cause.hasInterruptsOnly(exit.cause)) return { kind: "none", reason: "interrupted", retryable: true }
      const timedOut = Predicate.isTagged(failure, "TimeoutError")
      return {
        kind: "none",
        reason: timedOut ? `its editors were not ready within ${Duration.format(RESOLVE_TIMEOUT)}` : messageOf(failure),
        retryable: timedOut || (Predicate.isObject(failure) && failure.isRetryable === true)
      }
    }
  )

/** The editors of every tenant of the page that `editorsFor` serves, asked at once, held in the scope. */
export const resolveAll = (
  config: RoutesConfig,
  claims: ReadonlyArray<Claims.Claim>
): Effect.Effect<ReadonlyMap<string, Resolution>, never, Scope.Scope> => {
  const editorsFor = config.editorsFor
  if (editorsFor === undefined) return Effect.succeed(new Map())
  const tenants = [...new Set(claims.map((claim) => claim.message.tenant))].filter((tenant) =>
    servedByResolver(config, tenant)
  )
  return Effect.map(
    Effect.forEach(tenants, (tenant) => Effect.map(resolve(editorsFor, tenant), (found) => [tenant, found] as const), {
      concurrency: "unbounded"
    }),
    (found) => new Map(found)
  )
}

/** The editor of one of a tenant's editors that serves the claim's provider and account. */
const editorIn = (
  editors: MessageEditor.Service | ReadonlyArray<Route>,
  provider: string,
  account: string
): MessageEditor.Service | undefined => {
  if (isEditor(editors)) return editors.provider === provider ? editors : undefined
  return editors.find((route) => route.editor.provider === provider && (route.account ?? "default") === account)?.editor
}

/** Where one claim goes, given its page's resolutions. */
export const routeOf = (
  config: RoutesConfig,
  tenants: ReadonlyMap<string, Resolution>,
  claim: Claims.Claim
): RouteOf => {
  const { tenant, provider, account } = claim.message
  const key = `${tenant}\u001f${provider}\u001f${account}`
  if (!servedByResolver(config, tenant)) {
    const route = config.routes.find((r) => r.editor.provider === provider && r.account === account)
    // Not this worker's (claimed by a worker whose editors changed meanwhile): handed back.
    return route === undefined
      ? { kind: "outcome", outcome: { kind: "returned" } }
      : { kind: "editor", editor: route.editor, key }
  }
  const found = tenants.get(tenant)
  if (found === undefined || found.kind === "none") {
    const reason = `tenant ${JSON.stringify(tenant)}: ${found?.reason ?? "its editors were not asked for"}`
    return {
      kind: "outcome",
      outcome:
        found?.retryable === false
          ? { kind: "permanent", reason }
          : { kind: "retryable", reason, retryInMs: config.backoff(claim.message.failures) }
    }
  }
  const editor = editorIn(found.editors, provider, account)
  return editor === undefined
    ? {
        kind: "outcome",
        outcome: {
          kind: "permanent",
          reason: `tenant ${JSON.stringify(tenant)} has no editor of ${provider} account ${JSON.stringify(account)}`
        }
      }
    : { kind: "editor", editor, key }
}
