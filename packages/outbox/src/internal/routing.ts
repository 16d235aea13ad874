/**
 * Routing: which editor and account an edit, a record or a query goes to,
 * from the provider and account it names (either may be left out when the
 * outbox has one editor that fits).
 */
import type { MessageEditor } from "@reword/core"
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

/** The provider and account a call goes to; a defect when several editors fit and the call names none. */
export const routeOf = (
  resolved: ReadonlyArray<Resolved>,
  where: Where
): Effect.Effect<{ readonly provider: string; readonly account: string }> => {
  const found = target(resolved, where)
  return found === undefined
    ? Effect.die(
        new Error(
          `the outbox has several editors: name the provider (${resolved.map((r) => r.editor.provider).join(", ")}) and the account`
        )
      )
    : Effect.succeed(found)
}
