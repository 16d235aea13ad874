/**
 * The reasons a session's refresh fails with, worded for the one who reads
 * them: the refresh context, the token store's failures, a caller that
 * stopped waiting.
 *
 * @since 0.1.0
 */
import { EditError } from "@reword/core"
import type { Duration } from "effect"

/** A session's failure: one of the edit error's reasons. */
export type Reason = EditError.EditErrorReason

export const withRefreshContext = (reason: Reason): Reason => {
  if (!("description" in reason) || reason._tag === "Network") return reason
  const description = `refreshing the access token failed${reason.description === undefined ? "" : `: ${reason.description}`}`
  switch (reason._tag) {
    case "Unauthorized":
      return new EditError.Unauthorized({ ...reason, description })
    case "Forbidden":
      return new EditError.Forbidden({ ...reason, description })
    case "Rejected":
      return new EditError.Rejected({ ...reason, description })
    case "Unavailable":
      return new EditError.Unavailable({ ...reason, description })
    default:
      return reason
  }
}

export const isInvalidGrant = (reason: Reason): boolean =>
  reason._tag === "Unauthorized" && reason.code?.toLowerCase() === "invalid_grant"

export const storeFailure = (message: string, timedOut: boolean): Reason =>
  new EditError.Unavailable({
    code: "TOKEN_STORE",
    description: timedOut
      ? `the token store did not answer in time (${message}); the refreshed tokens are kept in memory, and storing them is tried again in the background and before their first use`
      : `the refreshed tokens could not be stored (${message}); they are kept in memory, and storing them is tried again in the background and before their first use`
  })

/**
 * A refresh still waiting for the OAuth server's answer when its caller stops
 * waiting: the attempt's `Timeout` (retryable), as for any request without an
 * answer in time. The answer is still awaited, and the pair it brings is used
 * and stored when it comes.
 */
export const refreshPending = (waited: Duration.Duration): Reason => new EditError.Timeout({ after: waited })

/** `invalid_grant`, while the store could not be read to find the pair another process may have stored. */
export const storeUnreadable = (reason: Reason, problem: string): Reason =>
  new EditError.Unavailable({
    code: "TOKEN_STORE",
    description: `the OAuth server refused the refresh token (invalid_grant), and the token store could not be read (${problem}) to find the pair another process sharing it may have stored: whether the application must be authorized again is not known yet; retry once the store answers${"code" in reason && reason.code !== undefined ? ` (OAuth code ${reason.code})` : ""}`
  })
