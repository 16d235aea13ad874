/**
 * The records an Acquire sandbox holds, as its public API shows them
 * (re-exported by `AcquireSandbox.ts`): here, so that the emulator's internals
 * and the public module never import each other.
 */

/**
 * What an API key may do with cases and their messages: everything (`full`),
 * read only (`read-only`: sending, updating and deleting are answered 403
 * `ERROR_UNAUTHORIZED_ACCESS`), or nothing (`none`: every call is a 403).
 *
 * @since 0.1.0
 */
export type Access = "full" | "read-only" | "none"

/**
 * A case (a conversation) as the sandbox holds it. Only active cases take
 * new messages.
 *
 * @since 0.1.0
 */
export interface Case {
  readonly id: number
  readonly contactId: number
  readonly threadId: number
  readonly status: "active" | "closed"
  readonly dateCreated: string
  readonly dateUpdated: string
  readonly dateClosed: string | null
}

/**
 * A message as the sandbox holds it, with every text it had.
 *
 * @since 0.1.0
 */
export interface Message {
  /** Acquire's id: the `providerMessageId` an edit needs. */
  readonly id: number
  readonly caseId: number
  readonly threadId: number
  readonly contactId: number
  /** `user` for an agent (what apps send), `contact` for the customer. */
  readonly senderType: "user" | "contact"
  readonly type: "message" | "note" | "event"
  /** The text now. */
  readonly text: string
  /** The language code the last send or update gave, if any. */
  readonly translateLangKey: string | undefined
  readonly dateCreated: string
  /** When it was last updated; `null` until its first update (as Acquire answers). */
  readonly dateUpdated: string | null
  /** Every text it had, oldest first (the first is the text sent). */
  readonly history: ReadonlyArray<string>
}

/**
 * How requests are held by `Sandbox.holdRequests` (`AcquireSandbox.ts`).
 *
 * @since 0.1.0
 */
export interface HoldOptions {
  /** Hold requests until this many are in flight, then answer them together. */
  readonly untilInFlight: number
  /** The longest a request is held when fewer arrive (so that a too-serial client fails a test rather than hangs it). */
  readonly timeoutMs: number
  /**
   * How long a full group is still held, so that any request beyond the bound
   * that a client wrongly sends shows up in `maxInFlight`. Default 20 ms.
   */
  readonly graceMs?: number | undefined
}
