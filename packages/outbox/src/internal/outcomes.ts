/**
 * What became of a claim, and what that changes: the plan a settle writes
 * (set-based, in `claims.ts`) for each outcome, computed from the message's
 * row as it is under its lock and the database's time. Pure.
 */
import type { Claim } from "./claims.ts"
import type { IdField } from "./store.ts"

/** What became of a claim. Times are relative: the database's clock turns them into instants. */
export type Outcome =
  | {
      readonly kind: "confirmed"
      /**
       * The ids of a new message that superseded the one the id map held (the
       * `newMessage` fallback): re-pointed (and journaled) before the outcome is settled.
       */
      readonly supersededBy?: Partial<Record<IdField, string>> | undefined
    }
  | { readonly kind: "unknown"; readonly reason: string; readonly retryInMs: number }
  | { readonly kind: "retryable"; readonly reason: string; readonly retryInMs: number }
  | { readonly kind: "permanent"; readonly reason: string }
  /** Never handed to the editor: the claim goes back as it was, its attempt erased. */
  | { readonly kind: "returned" }

export interface Settled {
  readonly claim: Claim
  readonly outcome: Outcome
}

/** The message row's fields a settle may change, all absolute. */
export interface MessageUpdate {
  readonly key: string
  readonly release: "claim" | "all"
  readonly confirmedVersion: number
  readonly failures: number
  readonly lastReason: string | null
  readonly state: string
  readonly nextAttemptAt: number | null
  readonly settleUntil: number | null
}

export interface Current {
  readonly latestVersion: number
  readonly confirmedVersion: number
  readonly failures: number
  readonly state: string
  readonly lastReason: string | null
  readonly nextAttemptAt: number | null
  readonly settleUntil: number | null
}

/**
 * What one settled claim changes: the message row (absolute values, under its
 * lock) and its edits' statuses. Pure: the settle writes it set-based.
 */
export const planOf = (
  { claim, outcome }: Settled,
  current: Current,
  now: number,
  settleMs: number
): {
  readonly message: MessageUpdate
  readonly edit?: { readonly status: "confirmed" | "failed" } | undefined
  readonly supersede: boolean
  readonly forgetUpTo?: number | undefined
} => {
  const key = claim.message.messageKey
  const v = claim.version
  const newer = current.latestVersion > v
  const keep = { ...current, key, release: "all" as const }
  switch (outcome.kind) {
    case "returned":
      return { message: { ...keep, release: "claim" }, supersede: false }
    case "confirmed": {
      const confirmed = { ...keep, confirmedVersion: Math.max(current.confirmedVersion, v), failures: 0 }
      if (newer) {
        // A newer edit waits out the settle window of an attempt whose fate is unknown, as any edit does.
        const after = current.settleUntil !== null && current.settleUntil > now ? current.settleUntil : now
        return {
          message: { ...confirmed, lastReason: null, nextAttemptAt: after },
          edit: { status: "confirmed" },
          supersede: true,
          forgetUpTo: v - 1
        }
      }
      if (current.settleUntil !== null && current.settleUntil > now) {
        // An attempt whose fate is unknown may still land: send the newest once more after it could have.
        return {
          message: {
            ...confirmed,
            lastReason: "waiting for the settle window before sending the newest text again",
            nextAttemptAt: current.settleUntil,
            settleUntil: null
          },
          edit: { status: "confirmed" },
          supersede: true,
          forgetUpTo: v - 1
        }
      }
      return {
        message: { ...confirmed, lastReason: null, state: "idle", nextAttemptAt: null, settleUntil: null },
        edit: { status: "confirmed" },
        supersede: true,
        forgetUpTo: v
      }
    }
    case "unknown":
    case "retryable":
      return {
        message: {
          ...keep,
          failures: current.failures + 1,
          lastReason: outcome.reason,
          nextAttemptAt: newer ? now : now + outcome.retryInMs,
          settleUntil: outcome.kind === "unknown" ? now + settleMs : current.settleUntil
        },
        supersede: false
      }
    case "permanent":
      return {
        message: newer
          ? { ...keep, lastReason: outcome.reason, nextAttemptAt: now }
          : { ...keep, lastReason: outcome.reason, state: "failed", nextAttemptAt: null },
        edit: { status: "failed" },
        supersede: false
      }
  }
}
