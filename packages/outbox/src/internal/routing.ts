/**
 * Routing: which tenant, editor and account an edit, a record or a query goes
 * to, from the tenant, provider and account it names (the tenant is `default`
 * when left out; the provider and account may be left out when the outbox has
 * one editor that fits). A tenant other than `default` is served by the
 * outbox's `editorsFor`, known only when its edits are delivered: its
 * provider is the one named, or the only provider of the outbox's `editors`.
 */
import { EditError, type MessageEditor } from "@reword/core"
import { Effect } from "effect"
import type { Route } from "./model.ts"
import { DEFAULT_TENANT } from "./store.ts"

/** The default account label. */
export const DEFAULT_ACCOUNT = "default"

export { DEFAULT_TENANT }

/** A route with its account resolved. */
export interface Resolved {
  readonly editor: MessageEditor.Service
  readonly account: string
}

/** Where a call says it goes. */
export interface Where {
  readonly tenant?: string | undefined
  readonly provider?: string | undefined
  readonly account?: string | undefined
}

export const resolve = (routes: ReadonlyArray<Route>): ReadonlyArray<Resolved> =>
  routes.map((route) => ({ editor: route.editor, account: route.account ?? DEFAULT_ACCOUNT }))

const target = (
  resolved: ReadonlyArray<Resolved>,
  where: Where
): { readonly provider: string; readonly account: string } | undefined => {
  const candidates = resolved.filter(
    (route) =>
      (where.provider === undefined || route.editor.provider === where.provider) &&
      (where.account === undefined || route.account === where.account)
  )
  const [only] = candidates
  if (candidates.length === 1 && only !== undefined) return { provider: only.editor.provider, account: only.account }
  // A provider the outbox has no editor of: its messages can be recorded and read, not delivered.
  if (candidates.length === 0 && where.provider !== undefined) {
    return { provider: where.provider, account: where.account ?? DEFAULT_ACCOUNT }
  }
  return undefined
}

/** Where a call goes: its tenant, provider and account. */
export interface Target {
  readonly tenant: string
  readonly provider: string
  readonly account: string
}

const refuse = (provider: string, problem: EditError.Problem) =>
  Effect.fail(
    new EditError.EditError({
      provider,
      operation: "update",
      reason: new EditError.InvalidRequest({ problems: [problem] })
    })
  )

/** A tenant's message (or any, when the outbox has no `editors`): the provider named, or the only one there is. */
const tenantTarget = (
  resolved: ReadonlyArray<Resolved>,
  where: Where,
  tenant: string
): Effect.Effect<Target, EditError.EditError> => {
  const providers = [...new Set(resolved.map((route) => route.editor.provider))]
  const provider = where.provider ?? (providers.length === 1 ? providers[0] : undefined)
  if (provider === undefined) {
    return refuse("outbox", {
      path: "provider",
      message:
        providers.length === 0
          ? "is required: the outbox has no editors to choose it from (its tenants' editors come from editorsFor)"
          : `is required: the outbox has editors of several providers (${providers.join(", ")})`
    })
  }
  return Effect.succeed({ tenant, provider, account: where.account ?? DEFAULT_ACCOUNT })
}

/**
 * The tenant, provider and account a call goes to; an `InvalidRequest`
 * (naming the field to add) when several editors fit and the call names none.
 */
export const routeOf = (
  resolved: ReadonlyArray<Resolved>,
  where: Where
): Effect.Effect<Target, EditError.EditError> => {
  const tenant = where.tenant ?? DEFAULT_TENANT
  if (tenant !== DEFAULT_TENANT || resolved.length === 0) return tenantTarget(resolved, where, tenant)
  const found = target(resolved, where)
  if (found !== undefined) return Effect.succeed({ tenant, ...found })
  const fitting = resolved.filter((route) => where.provider === undefined || route.editor.provider === where.provider)
  const providers = [...new Set(fitting.map((route) => route.editor.provider))]
  const problem =
    where.provider === undefined && providers.length > 1
      ? {
          path: "provider",
          message: `is required: the outbox has editors of several providers (${providers.join(", ")})`
        }
      : {
          path: "account",
          message: `is required: the outbox has several accounts of ${providers.join(", ")} (${fitting
            .map((route) => route.account)
            .join(", ")})`
        }
  return refuse(where.provider ?? providers[0] ?? "outbox", problem)
}
