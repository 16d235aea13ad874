/**
 * The `MessageEditor` of Bitrix24 Open Lines: a neutral edit becomes one
 * `MESSAGES[i]` of `imconnector.update.messages`, and `updateMany` packs many
 * edits into one call, then splits the answer back into one outcome per edit.
 * The portal cannot tell reword that a message id is unknown (it answers
 * success and changes nothing): keep the ids you sent with.
 *
 * @since 0.1.0
 */
import { Capabilities, type EditError, type EditRequest, type MessageEditor } from "@reword/core"
import { Context } from "effect"
import type * as Bitrix24Client from "./Bitrix24Client.ts"
import { DEFAULT_CHUNK_SIZE } from "./internal/chunkSize.ts"

/**
 * The Bitrix24 editor: the neutral editor, plus the low-level client and
 * editors for other connectors or lines.
 *
 * @category models
 * @since 0.1.0
 */
export interface Service extends MessageEditor.Service {
  /**
   * Edits one message through `imconnector.update.messages`.
   *
   * **An unknown message id is not an error.** Bitrix24 answers success for a
   * message id it never received (or one that was deleted) and changes
   * nothing: the portal cannot tell reword that a message id is unknown, so
   * do not count on `NotFound` for it. Keep the ids you sent with
   * (`imconnector.send.messages`) and edit with exactly those.
   */
  readonly update: MessageEditor.Service["update"]
  /** The low-level client, sharing this editor's tokens and rate limiter. */
  readonly client: Bitrix24Client.Service
  /**
   * An editor for another connector and/or line, sharing this editor's tokens,
   * rate limiter and options. The neutral request has no place for them, so
   * the choice is made per editor.
   */
  readonly updateFor: (target: Partial<Bitrix24Client.Target>) => MessageEditor.Service
}

/**
 * The Bitrix24 editor as a service (`Bitrix24.layer` and
 * `Bitrix24.layerConfig` also provide it as the neutral `MessageEditor` and
 * the `Bitrix24Client`).
 *
 * @category services
 * @since 0.1.0
 */
export class Bitrix24MessageEditor extends Context.Service<Bitrix24MessageEditor, Service>()(
  "@reword/bitrix24/Bitrix24MessageEditor"
) {}

/**
 * What Bitrix24 can do: edit the text and the files of many messages per
 * call (`imconnector.update.messages`), at once, with no edit window or count
 * it states. It cannot send through reword, so the only fallback is `fail`.
 *
 * @category adapter
 * @since 0.1.0
 */
export const capabilities = (chunkSize: number = DEFAULT_CHUNK_SIZE): Capabilities.Capabilities =>
  new Capabilities.Capabilities({
    requiredIds: ["externalMessageId", "externalChatId", "externalAuthorId"],
    files: true,
    authorDetails: true,
    chatDetails: true,
    language: false,
    maxMessagesPerCall: chunkSize,
    kinds: ["text", "files"],
    applied: "immediately",
    fallbacks: ["fail"]
  })

const NAME_MAX = 25
// Letters of any language (with their combining marks), spaces, hyphens, apostrophes.
const NAME_PATTERN = /^[\p{L}\p{M} '’-]*$/u
// 9999-12-31T23:59:59Z: beyond it, no portal stores the date.
const MAX_UNIX_SECONDS = 253_402_300_799

/**
 * Bitrix24's own rules, checked before anything is sent: names (letters,
 * spaces, hyphens, apostrophes; at most 25 characters) and the date as Unix
 * seconds. Core checks the rest (ids, text or files, URLs, gender).
 *
 * @category adapter
 * @since 0.1.0
 */
export const validate = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const problems: Array<EditError.Problem> = []
  const name = (path: string, value: string | undefined) => {
    if (value === undefined) return
    if (value.trim().length === 0) problems.push({ path, message: "must not be blank when given" })
    if (Array.from(value).length > NAME_MAX) problems.push({ path, message: `must be at most ${NAME_MAX} characters` })
    if (!NAME_PATTERN.test(value)) {
      problems.push({ path, message: "may hold only letters, spaces, hyphens and apostrophes (Bitrix24 rule)" })
    }
  }
  name("author.firstName", request.author?.firstName)
  name("author.lastName", request.author?.lastName)
  if (request.editedAt !== undefined) {
    const seconds = Math.floor(request.editedAt.getTime() / 1000)
    if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_UNIX_SECONDS) {
      problems.push({ path: "editedAt", message: "must be a date Bitrix24 can store as Unix seconds (1970 to 9999)" })
    }
  }
  return problems
}

/**
 * What the editor's adapter reads of the options: core's, and `chunkSize`.
 *
 * @category adapter
 * @since 0.1.0
 */
export interface AdapterOptions extends MessageEditor.EditorOptions {
  /** Messages per `imconnector.update.messages` call, fixed (from 1 to 50); default: from the server time. */
  readonly chunkSize?: number | undefined
}
