/**
 * What the command prints: the edited message and errors, as JSON for scripts
 * and as sentences for a person, with a hint per failure reason.
 */
import type { EditError, EditedMessage, EditRequest } from "@reword/core"
import { Duration } from "effect"
import { ExitCode } from "./exit.ts"

/** The JSON of an edited message. */
export interface MessageJson {
  readonly provider: string
  readonly ids: IdsJson
  readonly text?: string
  readonly files: ReadonlyArray<{ readonly url: string; readonly name?: string }>
  readonly updatedAt?: string
}

/** The JSON of a message's ids (only those known). */
export interface IdsJson {
  readonly externalMessageId?: string
  readonly externalChatId?: string
  readonly externalAuthorId?: string
  readonly providerMessageId?: string | number
  readonly providerChatId?: string | number
  readonly providerConnectionId?: string
}

/** Why a run failed, as JSON. */
export interface ErrorJson {
  readonly error: {
    /** The provider, `null` when none was chosen yet. */
    readonly provider: string | null
    readonly operation: string
    /** An `EditError` reason (`InvalidRequest`, `Unauthorized`, ...), or `Configuration` or `Usage`. */
    readonly reason: string
    readonly message: string
    readonly retryable: boolean
    readonly problems?: ReadonlyArray<EditError.Problem>
    readonly status?: number
    readonly code?: string
    readonly retryAfterMs?: number
  }
}

export const idsJson = (ids: EditRequest.MessageIds): IdsJson => ({
  ...(ids.externalMessageId === undefined ? {} : { externalMessageId: ids.externalMessageId }),
  ...(ids.externalChatId === undefined ? {} : { externalChatId: ids.externalChatId }),
  ...(ids.externalAuthorId === undefined ? {} : { externalAuthorId: ids.externalAuthorId }),
  ...(ids.providerMessageId === undefined ? {} : { providerMessageId: ids.providerMessageId }),
  ...(ids.providerChatId === undefined ? {} : { providerChatId: ids.providerChatId }),
  ...(ids.providerConnectionId === undefined ? {} : { providerConnectionId: ids.providerConnectionId })
})

/** The edited message as JSON. */
export const messageJson = (message: EditedMessage.EditedMessage): MessageJson => ({
  provider: message.provider,
  ids: idsJson(message.ids),
  ...(message.text === undefined ? {} : { text: message.text }),
  files: message.files.map((file) => ({ url: file.url, ...(file.name === undefined ? {} : { name: file.name }) })),
  ...(message.updatedAt === undefined || Number.isNaN(message.updatedAt.getTime())
    ? {}
    : { updatedAt: message.updatedAt.toISOString() })
})

/** An `EditError` as JSON. */
export const editErrorJson = (error: EditError.EditError): ErrorJson => {
  const reason = error.reason
  const retryAfter = error.retryAfter
  return {
    error: {
      provider: error.provider,
      operation: error.operation,
      reason: reason._tag,
      message: error.message,
      retryable: error.isRetryable,
      ...(reason._tag === "InvalidRequest" ? { problems: reason.problems } : {}),
      ...("status" in reason && reason.status !== undefined ? { status: reason.status } : {}),
      ...("code" in reason && reason.code !== undefined ? { code: reason.code } : {}),
      ...(retryAfter === undefined ? {} : { retryAfterMs: Duration.toMillis(retryAfter) })
    }
  }
}

/** A failure that is not an `EditError` (configuration, usage) as JSON. */
export const otherErrorJson = (params: {
  readonly provider: string | undefined
  readonly operation: string
  readonly reason: "Configuration" | "Usage"
  readonly message: string
}): ErrorJson => ({
  error: {
    provider: params.provider ?? null,
    operation: params.operation,
    reason: params.reason,
    message: params.message,
    retryable: false
  }
})

/** The exit code of one failed edit: 2 for an invalid request, 3 for anything the provider did. */
export const exitCodeOf = (error: EditError.EditError): ExitCode =>
  error.reason._tag === "InvalidRequest" || error.reason._tag === "Unsupported"
    ? ExitCode.BadInput
    : ExitCode.ProviderFailure

/** A text for a person, quoted like a JSON string (newlines and quotes escaped). */
export const quote = (text: string): string => JSON.stringify(text)

/** `acquire message 8291` or `bitrix24 message wa-881 in chat wa-chat-7`. */
export const messageLabel = (provider: string, ids: IdsJson): string => {
  const id = ids.providerMessageId ?? ids.externalMessageId
  const chat = ids.externalChatId === undefined ? "" : ` in chat ${ids.externalChatId}`
  return id === undefined ? `${provider} message${chat}` : `${provider} message ${id}${chat}`
}

/** `Updated acquire message 8291: "new text"`. */
export const updatedLine = (message: MessageJson): string => {
  const parts: Array<string> = []
  if (message.text !== undefined) parts.push(quote(message.text))
  if (message.files.length > 0) {
    const names = message.files.map((file) => file.name ?? file.url).join(", ")
    parts.push(`${message.files.length} file${message.files.length > 1 ? "s" : ""} (${names})`)
  }
  return `Updated ${messageLabel(message.provider, message.ids)}: ${parts.length > 0 ? parts.join(" and ") : "(no text)"}`
}

/**
 * What a person should know when an edit of this provider succeeds, printed
 * once per run on stderr (not with --json): a Bitrix24 portal answers success
 * for a message id it never saw (or deleted), and changes nothing.
 */
export const successNote = (provider: string): string | undefined =>
  provider === "bitrix24"
    ? "note: a Bitrix24 portal answers success even for a message id it never saw (or deleted), and then changes nothing: if the chat did not change, check the external message and chat ids"
    : undefined

/** What to do about a failed edit, for a person. */
export const hintFor = (error: EditError.EditError, secretVariables: ReadonlyArray<string>): string => {
  const reason = error.reason
  const credentials = secretVariables.length > 0 ? ` (${secretVariables.join(", ")})` : ""
  switch (reason._tag) {
    case "InvalidRequest":
      return reason.status === undefined
        ? "fix the request and run the command again; nothing was sent"
        : "the provider found the request invalid: fix it and run the command again"
    case "Unauthorized":
      return `re-authenticate: the provider did not accept the credentials${credentials}; renew them and run the command again`
    case "Forbidden":
      return `the credentials${credentials} are valid but not allowed to edit this message: check their permissions or scopes`
    case "NotFound":
      return "check the message's ids: the provider has no such message (or chat, or account)"
    case "RateLimited": {
      const after = error.retryAfter
      return `retry later${after === undefined ? "" : `, after ${Duration.format(after)}`}: the provider asked to slow down`
    }
    case "Unavailable":
    case "Network":
    case "Timeout":
    case "MalformedResponse":
      return "retry later: the provider did not answer properly; editing the same message again is safe"
    case "Rejected":
      return "the provider refused the edit: read its reason above, fix the request or ask the provider"
    case "Unsupported":
      return `this provider cannot do this (${reason.capability}); nothing was sent`
    case "EditWindowClosed":
    case "EditLimitReached":
      return "the provider no longer takes edits of this message (see the rule above); nothing was sent: send a new message instead (the newMessage fallback)"
  }
}

/** What to do about a configuration error. */
export const CONFIGURATION_HINT =
  "set the missing or wrong settings in the environment (or with the flags), see `reword update --help`; nothing was sent"
