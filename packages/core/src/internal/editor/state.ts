/**
 * What one editor built by `MessageEditor.make` holds, read once from its
 * adapter and options: the functions of `attempts.ts` and `groups.ts` take it
 * as their first argument instead of closing over it.
 */
import type { Capabilities } from "../../Capabilities.ts"
import { EditError, type EditErrorReason, type Operation } from "../../EditError.ts"
import type { Adapter, EditorOptions } from "../../MessageEditor.ts"
import * as RetryPolicy from "../../RetryPolicy.ts"
import * as Deadline from "../deadline.ts"
import type { Fallback } from "../fallback.ts"

const DEFAULT_CONCURRENCY = 4
const FAIL: Fallback = { mode: "fail" }

export interface EditorState {
  readonly adapter: Adapter
  readonly provider: string
  readonly capabilities: Capabilities
  readonly policy: RetryPolicy.RetryPolicy
  readonly retry: ReturnType<typeof RetryPolicy.retry>
  readonly retrySchedule: ReturnType<typeof RetryPolicy.schedule>
  /** An `update()`'s time budget (see `../deadline.ts`). */
  readonly budget: Deadline.Budget
  /** How many provider calls run at once. */
  readonly concurrency: number
  /** The editor's fallback for an edit the provider cannot make (a request's own overrides it). */
  readonly fallback: Fallback
}

export const stateOf = (adapter: Adapter, options: EditorOptions): EditorState => {
  const policy = RetryPolicy.make(options.retry)
  return {
    adapter,
    provider: adapter.provider,
    capabilities: adapter.capabilities,
    policy,
    retry: RetryPolicy.retry(policy),
    retrySchedule: RetryPolicy.schedule(policy),
    budget: Deadline.budgetOf(policy, options.transport),
    concurrency: Number.isFinite(options.concurrency)
      ? Math.max(1, Math.floor(options.concurrency as number))
      : DEFAULT_CONCURRENCY,
    fallback: options.fallback ?? FAIL
  }
}

/** A reason as the `EditError` of `operation`, with every secret the adapter knows scrubbed from it. */
export const failWith =
  (s: EditorState, operation: Operation) =>
  (reason: EditErrorReason): EditError => {
    const secrets = s.adapter.secrets
    return new EditError({
      provider: s.provider,
      operation,
      reason: secrets === undefined ? reason : secrets.scrubReason(reason)
    })
  }

/** How many requests one provider call takes now (the adapter may lower it for a while), from 1 to its maximum. */
export const batchSizeNow = (s: EditorState): number => {
  const size = Math.floor(s.adapter.batchSize?.() ?? s.capabilities.maxMessagesPerCall)
  return Number.isFinite(size) ? Math.min(Math.max(1, size), s.capabilities.maxMessagesPerCall) : 1
}
