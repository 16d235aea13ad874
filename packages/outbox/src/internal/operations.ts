/**
 * The operation kinds the outbox carries, each with its own rule (issue 21):
 *
 * - an **edit** (every submit): the latest wins (a version superseded by a newer one before it is delivered is
 *   never sent), and an attempt whose outcome is unknown (a timeout, a 5xx, a worker stopped mid-call) is retried,
 *   the newest text sent again after the settle window so that a late landing is overwritten;
 * - a **send** (the `newMessage` fallback: core sends the text as a new message through `Adapter.send` when the
 *   provider refuses the edit): at most once. A send whose outcome is unknown is never repeated: the message is a
 *   dead letter whose reason names the send, left for a person. Only a refusal that certainly stored nothing
 *   (`RateLimited`, a connection never made: core's `isRetryable` of a `send`) is tried again. An edit whose
 *   earlier attempt's outcome is unknown is never turned into a send either: that attempt (an edit, or a send
 *   cut short by a worker that stopped) may have landed, so its retry goes with `fallback: fail`, and a refusal
 *   then is a dead letter naming why no new message was sent.
 *
 * An **idempotent** call (such as Bitrix24's `imconnector.send.status.delivery`, which may be repeated) would be
 * retried after an unknown outcome, with no settle window and no latest-wins. The outbox does not carry one: its
 * rows are messages whose versions are edits, delivered through the `MessageEditor` port's `updateMany`; a call
 * that is not an edit of a message has no version to supersede, no port operation to run it, and a request shape
 * of its own (a migration, a submit of its own, and a dispatch beside `updateMany`). The relay, which receives the
 * Bitrix24 events such a status answers, makes it with core's retry policy (retrying is safe for it).
 */
import type { EditError } from "@reword/core"
import type { Claim } from "./claims.ts"

/** What an attempt of the outbox does at the provider. */
export type OperationKind = "edit" | "send"

/**
 * What an attempt whose outcome is unknown leads to: `retry` it, or leave it as a dead letter (`deadLetter`).
 * (Latest wins is the claim's: it takes a message's newest version, and marks the older ones superseded.)
 */
export interface Rule {
  readonly afterUnknown: "retry" | "deadLetter"
}

/** Each kind's rule. */
export const RULES: Readonly<Record<OperationKind, Rule>> = {
  edit: { afterUnknown: "retry" },
  send: { afterUnknown: "deadLetter" }
}

/** The kind of an attempt that failed: a `send` when core was sending the `newMessage` fallback, else an edit. */
export const kindOfFailure = (failure: EditError.EditError): OperationKind =>
  failure.operation === "send" ? "send" : "edit"

/**
 * Whether the outcome of one of the message's attempts since its last confirmed one is unknown (it may have
 * landed): the settle window it opened is still recorded on the message.
 */
export const hadUnknownAttempt = (claim: Claim): boolean =>
  claim.message.failures > 0 && claim.message.settleUntil !== undefined

/** Refusals that a `newMessage` fallback would have answered with a send. */
const FALLS_BACK = new Set(["EditWindowClosed", "EditLimitReached", "Unsupported"])

/** The reason of a refusal of an edit whose retry was not let fall back to a send. */
export const noSendAfterUnknown = (tag: string, described: string): string =>
  FALLS_BACK.has(tag)
    ? `${described} (no new message is sent after an attempt whose outcome is unknown: it may have landed)`
    : described

/** The reason of a send that will not be repeated. */
export const sendNotRepeated = (failure: EditError.EditError): string =>
  `${failure.reason._tag}: sending a new message: ${failure.reason.message} (not repeated)`
