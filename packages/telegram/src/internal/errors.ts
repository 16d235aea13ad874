/**
 * The one place where the Bot API's answers become neutral reasons. The HTTP
 * status decides first (the Bot API answers with `error_code` as the status,
 * and warns that `error_code` may change), the description second: the
 * documented descriptions of an edit (`message to edit not found`, `message
 * can't be edited`, ...) each have their reason, and `message is not
 * modified` is no error at all (see {@link isNotModified}). The error body is
 * decoded through `ErrorAnswer`; a body that is not one (an nginx HTML page, a
 * proxy's text, any JSON of another shape) is judged by its status alone, so
 * every answer gives a typed reason.
 */
import { EditError } from "@reword/core"
import { HttpFailure, HttpTransport } from "@reword/core/adapter"
import { Duration, Result, Schema } from "effect"
import { ErrorAnswer } from "../TelegramSchemas.ts"

type Reason = EditError.EditErrorReason
type Detail = EditError.Detail

const decodeError = Schema.decodeUnknownResult(ErrorAnswer)

/** The error answer of a response, when its body is one. */
export const errorAnswerOf = (response: HttpTransport.HttpResponse): ErrorAnswer | undefined => {
  if (!response.isJson) return undefined
  const decoded = decodeError(response.json)
  return Result.isSuccess(decoded) ? decoded.success : undefined
}

const NOT_MODIFIED = /message is not modified/i

/**
 * Whether an answer says the message already is what the edit asks for
 * (`Bad Request: message is not modified`): the edit's goal is reached, as
 * after a first attempt whose answer was lost.
 */
export const isNotModified = (response: HttpTransport.HttpResponse): boolean => {
  if (response.status !== 400) return false
  const answer = errorAnswerOf(response)
  return answer !== undefined && NOT_MODIFIED.test(answer.description)
}

/** A 400's description, and the reason it means (`undefined`: none in particular). */
type Rule = readonly [RegExp, (detail: Detail) => Reason]

const invalid = (path: string, message: string) => (detail: Detail) =>
  new EditError.InvalidRequest({ ...detail, problems: [{ path, message }] })

/** The documented descriptions of a 400 and what each means. The README's error table is this table. */
const BAD_REQUEST: ReadonlyArray<Rule> = [
  [
    /message to edit not found|message not found/i,
    (detail) => new EditError.NotFound({ ...detail, code: "MESSAGE_NOT_FOUND" })
  ],
  [/chat not found/i, (detail) => new EditError.NotFound({ ...detail, code: "CHAT_NOT_FOUND" })],
  [
    /message can't be edited|message can't be deleted/i,
    (detail) =>
      new EditError.Rejected({
        ...detail,
        code: "MESSAGE_NOT_EDITABLE",
        description: `${detail.description ?? "message can't be edited"}: a bot edits only messages it sent itself, without a reply keyboard (and a business message it did not send only within 48 hours)`
      })
  ],
  [
    /there is no text in the message to edit/i,
    invalid("kind", "the message has no text of its own (a photo, a document...): edit its caption (kind: caption)")
  ],
  [
    /there is no caption in the message to edit/i,
    invalid("kind", "the message has no caption (a text message): edit its text (kind: text)")
  ],
  [
    /MESSAGE_TOO_LONG|message is too long|text is too long/i,
    invalid("text", "is too long for Telegram (4096 characters for a text, 1024 for a caption)")
  ],
  [/caption is too long|MESSAGE_CAPTION_TOO_LONG/i, invalid("text", "is too long for a caption (1024 characters)")],
  [/message text is empty|text must be non-empty/i, invalid("text", "must not be empty")],
  [/can't parse entities/i, invalid("text", "Telegram cannot parse its formatting")]
]

/** The reason of a 400 from its description. */
const badRequest = (answer: ErrorAnswer | undefined, detail: Detail): Reason => {
  const migrated = answer?.parameters?.migrate_to_chat_id
  if (migrated !== undefined) {
    return new EditError.Rejected({
      ...detail,
      code: "CHAT_MIGRATED",
      newChatId: String(migrated)
    })
  }
  const description = answer?.description
  if (description !== undefined) {
    for (const [pattern, reason] of BAD_REQUEST) if (pattern.test(description)) return reason(detail)
  }
  return new EditError.Rejected(detail)
}

/** The `retry_after` of an answer (seconds), else its `Retry-After` header. */
const retryAfterOf = (
  answer: ErrorAnswer | undefined,
  response: HttpTransport.HttpResponse,
  now: number
): Duration.Duration | undefined => {
  const seconds = answer?.parameters?.retry_after
  if (seconds !== undefined && seconds >= 0 && seconds <= 86_400) return Duration.millis(Math.round(seconds * 1000))
  return HttpFailure.parseRetryAfter(response.headers.get("retry-after"), now)
}

/** The `<title>` of an HTML page: what a gateway's error page usually says. */
const htmlTitle = (text: string): string | undefined => {
  const match = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)
  const title = match?.[1]?.replace(/\s+/g, " ").trim()
  return title === undefined || title.length === 0 ? undefined : title
}

const detailOf = (response: HttpTransport.HttpResponse, answer: ErrorAnswer | undefined): Detail => {
  const description =
    answer?.description ??
    (response.isJson
      ? HttpFailure.errorFields(response).description
      : response.text.trim().startsWith("<")
        ? htmlTitle(response.text)
        : HttpFailure.errorFields(response).description)
  return {
    status: response.status,
    ...(description === undefined ? {} : { description: description.slice(0, 1_000) }),
    ...HttpTransport.optionalBody(response.text)
  }
}

/**
 * The reason of an answer that is not a success. `now` (Unix millis) is for
 * a `Retry-After` date.
 */
export const reasonOf = (response: HttpTransport.HttpResponse, now: number): Reason => {
  const answer = errorAnswerOf(response)
  const detail = detailOf(response, answer)
  switch (response.status) {
    case 400:
      return badRequest(answer, detail)
    case 401:
      return new EditError.Unauthorized({ ...detail, code: "INVALID_TOKEN" })
    case 404:
      // The Bot API answers 404 for a malformed token (or an unknown method), never for a message.
      return new EditError.Unauthorized({
        ...detail,
        code: "INVALID_TOKEN",
        description: `${detail.description ?? "Not Found"}: the Bot API did not recognise the bot token`
      })
    case 429: {
      const retryAfter = retryAfterOf(answer, response, now)
      return new EditError.RateLimited({
        ...detail,
        code: "FLOOD_WAIT",
        ...(retryAfter === undefined ? {} : { retryAfter })
      })
    }
  }
  if (response.status >= 500) {
    const retryAfter = retryAfterOf(answer, response, now)
    return new EditError.Unavailable({ ...detail, ...(retryAfter === undefined ? {} : { retryAfter }) })
  }
  return HttpFailure.reasonFromStatus(
    response,
    detail.description === undefined ? {} : { description: detail.description },
    now
  )
}

/**
 * The reason of a 2xx answer that is not the documented success: an error
 * envelope (`ok: false`) is judged by its `error_code`; anything else is
 * `MalformedResponse`.
 */
export const malformed = (response: HttpTransport.HttpResponse, issue: string | undefined, now: number): Reason => {
  const answer = errorAnswerOf(response)
  if (answer !== undefined && answer.error_code >= 400 && answer.error_code <= 599) {
    return reasonOf({ ...response, status: answer.error_code }, now)
  }
  const why =
    response.text.trim().length === 0
      ? "the answer has an empty body"
      : !response.isJson
        ? "the answer is not JSON"
        : `the answer is not the Bot API's { "ok": true, "result": ... }${issue === undefined ? "" : `: ${issue}`}`
  return new EditError.MalformedResponse({
    status: response.status,
    description: why,
    ...HttpTransport.optionalBody(response.text)
  })
}

/** A success that names another message than the one edited: it cannot be matched to this request. */
export const otherMessage = (
  response: HttpTransport.HttpResponse,
  asked: { readonly chatId: string; readonly messageId: number },
  answered: { readonly chatId: string; readonly messageId: number }
): Reason =>
  new EditError.MalformedResponse({
    status: response.status,
    description: `the answer names message ${answered.messageId} in chat ${answered.chatId}, not message ${asked.messageId} in chat ${asked.chatId} that was edited`,
    ...HttpTransport.optionalBody(response.text)
  })
