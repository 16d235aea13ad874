/**
 * The records a Telegram sandbox holds, as its public API shows them
 * (re-exported by `TelegramSandbox.ts`): here, so that the emulator's
 * internals and the public module never import each other.
 */

/**
 * A chat's kind, as the Bot API names it.
 *
 * @since 0.1.0
 */
export type ChatType = "private" | "group" | "supergroup" | "channel"

/**
 * A chat as the sandbox holds it.
 *
 * @since 0.1.0
 */
export interface Chat {
  readonly id: number
  readonly type: ChatType
  /** Whether the user blocked the bot (a private chat): every call answers 403. */
  blocked: boolean
  /** The supergroup this group was upgraded to: every call to it answers 400 with `migrate_to_chat_id`. */
  migratedTo: number | undefined
  /** The next message id in this chat (ids increase per chat). */
  nextMessageId: number
}

/**
 * A message entity (formatting), as the Bot API takes it.
 *
 * @since 0.1.0
 */
export interface Entity {
  readonly type: string
  readonly offset: number
  readonly length: number
  readonly [field: string]: unknown
}

/**
 * A message's keyboard: an inline keyboard (editable), or a custom reply
 * keyboard (the message then cannot be edited).
 *
 * @since 0.1.0
 */
export type Keyboard =
  | { readonly kind: "inline"; readonly markup: unknown }
  | { readonly kind: "reply"; readonly markup: unknown }

/**
 * A message as the sandbox holds it, with every text (or caption) it had.
 *
 * @since 0.1.0
 */
export interface Message {
  readonly chatId: number
  readonly messageId: number
  /** `text` for a text message, `photo` for a media message with a caption. */
  readonly kind: "text" | "photo"
  /** Who sent it: the bot, or a user (a bot cannot edit a user's message). */
  readonly from: "bot" | "user"
  /** When it was sent, Unix seconds by the sandbox's clock. */
  readonly date: number
  /** When it was last edited, Unix seconds; `undefined` until its first edit. */
  editDate: number | undefined
  /** The text (a text message) or the caption (a media message) now. */
  text: string
  entities: ReadonlyArray<Entity> | undefined
  keyboard: Keyboard | undefined
  /** The business connection it was sent through, for a business message. */
  readonly businessConnectionId: string | undefined
  /** Every text (or caption) it had, oldest first (the first is the one sent). */
  readonly history: Array<string>
}

/**
 * One update as the sandbox queues it: its id, when it was queued (sandbox
 * clock, Unix ms), the chat it belongs to (deliveries are sequential per
 * chat), and the update's JSON.
 *
 * @since 0.1.0
 */
export interface QueuedUpdate {
  readonly updateId: number
  readonly queuedAt: number
  readonly chatId: number
  readonly json: Readonly<Record<string, unknown>>
  /** Delivery attempts made by webhook. */
  attempts: number
}

/**
 * The rate limits the sandbox enforces (429 with `retry_after` past them),
 * counted over sliding windows; a limit left out is not enforced.
 *
 * @since 0.1.0
 */
export interface EnforcedLimits {
  /** Calls a second for the whole bot. */
  readonly perSecond?: number | undefined
  /** Calls a second in one chat. */
  readonly perChatPerSecond?: number | undefined
  /** Calls a minute in one group, supergroup or channel. */
  readonly perGroupPerMinute?: number | undefined
}

/**
 * How the sandbox delivers updates to a webhook: how long it waits for an
 * answer, and the pause before the first and the longest pause between
 * redeliveries (Telegram: at once, then 2 s doubling up to 60-120 s; the
 * sandbox's defaults are scaled down so that tests stay quick).
 *
 * @since 0.1.0
 */
export interface WebhookTiming {
  /** How long one delivery may take before it counts as failed. Default 2,000 ms. */
  readonly timeoutMs?: number | undefined
  /** The pause after the second failed delivery (the first is retried at once); it doubles. Default 100 ms. */
  readonly retryBaseMs?: number | undefined
  /** The longest pause between two deliveries. Default 2,000 ms. */
  readonly retryMaxMs?: number | undefined
}
