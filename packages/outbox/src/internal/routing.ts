/**
 * Routing: which editor and account an edit, a record or a query goes to,
 * from the provider and account it names (either may be left out when the
 * outbox has one editor that fits).
 */
import { EditError, type MessageEditor } from "@reword/core"
import { Effect } from "effect"
import type { Route } from "./model.ts"

/** The default account label. */
export const DEFAULT_ACCOUNT = "default"

/** A route with its account resolved. */
export interface Resolved {
  readonly editor: MessageEditor.Service
  readonly account: string
}

/** Where a call says it goes. */
export interface Where {
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

/**
 * The provider and account a call goes to; an `InvalidRequest` (naming the
 * field to add) when several editors fit and the call names none.
 */
export const routeOf = (
  resolved: ReadonlyArray<Resolved>,
  where: Where
): Effect.Effect<{ readonly provider: string; readonly account: string }, EditError.EditError> => {
  const found = target(resolved, where)
  if (found !== undefined) return Effect.succeed(found)
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
  return Effect.fail(
    new EditError.EditError({
      provider: where.provider ?? providers[0] ?? "outbox",
      operation: "update",
      reason: new EditError.InvalidRequest({ problems: [problem] })
    })
  )
}
