/**
 * What the outbox takes of a multi-tenant app: each tenant's editors, on demand.
 * Re-exported by `model.ts`.
 */
import type { MessageEditor } from "@reword/core"
import type { Effect, Scope } from "effect"
import type { Route } from "./model.ts"

/**
 * A tenant's editors, as the outbox's `editorsFor` option answers them: one editor
 * (it serves every account of its provider for the tenant), or routes.
 *
 * @since 0.5.0
 */
export type TenantEditors = MessageEditor.Service | ReadonlyArray<Route>

/**
 * The editors of a tenant, for the worker: an Effect run once per page of the
 * tenant's claims, in a scope that stays open while the page is delivered (so
 * an editor held from a cache, such as `@reword/tenants`' `TenantEditors`, is
 * not retired under it). It should answer quickly (a cached editor, or one
 * built now); the worker waits for it at most 30 s.
 *
 * A failure dead-letters the page's messages of that tenant with the failure's
 * message (a tenant unknown, uninstalled: `lastReason` names why), unless the
 * failure says `isRetryable: true` (a database away for now): then they are
 * tried again later, with the retry policy's backoff. Either way only that
 * tenant's edits are touched.
 *
 * @since 0.5.0
 */
export type EditorsFor = (tenant: string) => Effect.Effect<TenantEditors, unknown, Scope.Scope>
