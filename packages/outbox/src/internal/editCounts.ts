/**
 * How many edits of each message the provider confirmed, from the journal: what a request's `editCount`
 * says to a provider whose capabilities declare `maxEdits`, so that core's `EditLimitReached` check
 * refuses an edit past the count before any call, with no counting by the app.
 *
 * An edit counts for every attempt the provider confirmed (an edit sent again after the settle window is
 * another edit at the provider) since the message's provider id last changed (a `repoint`, or the
 * `newMessage` fallback's new message: its edits start from none; the send itself is no edit). Attempts
 * whose outcome is unknown are not counted: the provider may refuse an edit the count let through, as
 * it would without one.
 */

import type { MessageEditor } from "@reword/core"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import type { Claim } from "./claims.ts"
import type { Tables } from "./schema.ts"
import { chunks } from "./settleStatements.ts"

/** The confirmed edits of each message named (absent: none), read in one statement per chunk of keys. */
export type EditCounts = (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, number>, SqlError.SqlError>

/** The journal's repoint rows of a provider message id start with this (`store.repoint` writes them). */
const PROVIDER_ID_CHANGE = '{"field":"providerMessageId"%'

export const make =
  (sql: SqlClient.SqlClient, t: Tables): EditCounts =>
  (keys) =>
    Effect.map(
      Effect.forEach(
        chunks([...new Set(keys)]),
        (page) =>
          sql<{ readonly message_key: string; readonly n: number | string }>`SELECT a.message_key, COUNT(*) AS n
            FROM ${sql(t.attempts)} a
            WHERE ${sql.in("a.message_key", page)} AND a.outcome = 'confirmed'
              AND a.version > COALESCE((SELECT MAX(r.version) FROM ${sql(t.attempts)} r
                WHERE r.message_key = a.message_key AND r.outcome = 'repointed'
                  AND r.reason LIKE ${PROVIDER_ID_CHANGE}), 0)
            GROUP BY a.message_key`,
        { concurrency: 1 }
      ),
      (pages) => new Map(pages.flat().map((row) => [row.message_key, Number(row.n)] as const))
    )

/** The claims of a page one editor delivers, and their requests (in the same order). */
interface Group {
  readonly editor: MessageEditor.Service
  readonly claims: ReadonlyArray<Claim>
  readonly requests: Array<MessageEditor.RequestInput>
}

/**
 * Gives each request to an editor whose capabilities declare `maxEdits` its `editCount` from the journal (the
 * larger of the journal's and one the app gave), so that core refuses an edit past the count before any call.
 */
export const withEditCounts = (
  editCounts: EditCounts,
  groups: Iterable<Group>
): Effect.Effect<void, SqlError.SqlError> => {
  const counted = [...groups].filter((group) => group.editor.capabilities.maxEdits !== undefined)
  if (counted.length === 0) return Effect.void
  return Effect.map(
    editCounts(counted.flatMap((group) => group.claims.map((claim) => claim.message.messageKey))),
    (counts) => {
      for (const group of counted) {
        group.claims.forEach((claim, index) => {
          const request = group.requests[index] as MessageEditor.RequestInput & { readonly editCount?: number }
          const journal = counts.get(claim.message.messageKey) ?? 0
          group.requests[index] = { ...request, editCount: Math.max(request.editCount ?? 0, journal) }
        })
      }
    }
  )
}
