/**
 * The records a Bitrix24 sandbox holds, as its public API shows them
 * (re-exported by `Bitrix24Sandbox.ts`): here, so that the emulator's
 * internals and the public module never import each other.
 */

/**
 * An open line as the sandbox holds it: a connector, a line id, and whether
 * the connector is active on it (message methods on an inactive or unknown
 * line are answered `400 NOT_ACTIVE_LINE`).
 *
 * @since 0.1.0
 */
export interface Line {
  readonly connector: string
  readonly line: number
  readonly active: boolean
}

/**
 * A Bitrix24 user a connector created for an external author, the first
 * time a message method named them.
 *
 * @since 0.1.0
 */
export interface User {
  /** Bitrix24's id (answered as a number by the call that created the user, as a string afterwards). */
  readonly id: number
  readonly connector: string
  /** The external system's user id (`MESSAGES[i].user.id`). */
  readonly externalId: string
  readonly name: string | undefined
  readonly lastName: string | undefined
}

/**
 * A file of a message.
 *
 * @since 0.1.0
 */
export interface File {
  readonly url: string
  readonly name: string | undefined
}

/**
 * A message as the sandbox holds it, with every text it had.
 *
 * @since 0.1.0
 */
export interface Message {
  readonly connector: string
  readonly line: number
  /** The external chat id (`MESSAGES[i].chat.id`). */
  readonly chatId: string
  /** The external message id (`MESSAGES[i].message.id`). */
  readonly messageId: string
  /** The external author id (`MESSAGES[i].user.id`). */
  readonly authorId: string
  /** The Bitrix24 user the author is. */
  readonly userId: number
  /** The text now (`undefined` when the last version had only files). */
  readonly text: string | undefined
  readonly files: ReadonlyArray<File>
  /** When it was sent, Unix seconds (`message.date`, or the time it arrived). */
  readonly date: number
  /** When it was last edited, Unix seconds; `undefined` until its first edit. */
  readonly editedAt: number | undefined
  /** Whether `imconnector.delete.messages` deleted it. */
  readonly deleted: boolean
  /** The open line session and Bitrix24 chat the message went into. */
  readonly session: { readonly id: number; readonly chatId: number }
  /** Every text it had, oldest first (the first is the text sent). */
  readonly history: ReadonlyArray<string | undefined>
}
