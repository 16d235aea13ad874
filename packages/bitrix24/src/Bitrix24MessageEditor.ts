/**
 * The `MessageEditor` of Bitrix24 Open Lines: a neutral edit becomes one
 * `MESSAGES[i]` of `imconnector.update.messages`, and `updateMany` packs many
 * edits into one call, then splits the answer back into one outcome per edit.
 * The portal cannot tell reword that a message id is unknown (it answers
 * success and changes nothing): keep the ids you sent with.
 *
 * @since 0.1.0
 */
import { Capabilities, EditError, EditedMessage, type EditRequest, MessageEditor } from "@reword/core"
import { type Array as Arr, Clock, Context, Duration, Effect, Result } from "effect"
import * as Bitrix24Client from "./Bitrix24Client.ts"
import * as Bitrix24Config from "./Bitrix24Config.ts"
import { itemErrors, type MessageItem, type ResultItem } from "./Bitrix24Schemas.ts"
import type * as Calls from "./internal/calls.ts"
import { itemReason } from "./internal/errors.ts"
import { sendSplitting } from "./internal/split.ts"
import * as ServerTime from "./ServerTime.ts"

type Reason = EditError.EditErrorReason

/**
 * How many messages the first `imconnector.update.messages` calls carry,
 * before the portal's answers told what a message costs: small enough to stay
 * well inside the portal's 60 s per request. Without a `chunkSize` option,
 * later calls carry what the server time per message allows, up to
 * {@link MAX_CHUNK_SIZE} (see `ServerTime`).
 *
 * @category options
 * @since 0.1.0
 */
export const DEFAULT_CHUNK_SIZE = 20

/**
 * The most a chunk may hold (the size of a REST `batch`, the portal's own unit of "many").
 *
 * @category options
 * @since 0.1.0
 */
export const MAX_CHUNK_SIZE = 50

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
 * What Bitrix24 can do.
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
    maxMessagesPerCall: chunkSize
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
 * The `MESSAGES[i]` of a neutral request. `now` (Unix seconds) dates an edit
 * that carries no `editedAt`.
 *
 * @category adapter
 * @since 0.1.0
 */
export const toMessageItem = (request: EditRequest.EditRequest, now: number): MessageItem => {
  const author = request.author
  const chat = request.chat
  return {
    user: {
      id: request.ids.externalAuthorId ?? "",
      ...(author?.firstName === undefined ? {} : { name: author.firstName }),
      ...(author?.lastName === undefined ? {} : { last_name: author.lastName }),
      ...(author?.avatarUrl === undefined ? {} : { picture: { url: author.avatarUrl } }),
      ...(author?.profileUrl === undefined ? {} : { url: author.profileUrl }),
      ...(author?.gender === undefined ? {} : { gender: author.gender }),
      ...(author?.email === undefined ? {} : { email: author.email }),
      ...(author?.phone === undefined ? {} : { phone: author.phone })
    },
    message: {
      id: request.ids.externalMessageId ?? "",
      date: request.editedAt === undefined ? now : Math.floor(request.editedAt.getTime() / 1000),
      ...(request.text === undefined ? {} : { text: request.text }),
      ...(request.files === undefined
        ? {}
        : {
            files: request.files.map((file) => ({
              url: file.url,
              ...(file.name === undefined ? {} : { name: file.name })
            }))
          })
    },
    chat: {
      id: request.ids.externalChatId ?? "",
      ...(chat?.name === undefined ? {} : { name: chat.name }),
      ...(chat?.url === undefined ? {} : { url: chat.url })
    }
  }
}

/**
 * The outcome of one request from its result item: the edited message, or that
 * item's own reason with the portal's `ERRORS` text.
 *
 * @category adapter
 * @since 0.1.0
 */
export const outcomeOf = (
  request: EditRequest.EditRequest,
  item: ResultItem,
  index: number
): Result.Result<EditedMessage.EditedMessage, Reason> => {
  if (!item.SUCCESS) return Result.fail(itemReason(itemErrors(item), index))
  const text = item.message?.text
  return Result.succeed(
    new EditedMessage.EditedMessage(
      {
        provider: Bitrix24Config.name,
        ids: request.ids,
        ...(text !== undefined && text !== null ? { text } : request.text === undefined ? {} : { text: request.text }),
        files: request.files ?? []
        // No updatedAt: the portal answers the date as {}, so it does not say.
      },
      // Its fields have no checks of their own beyond their types (the ids and files were checked already).
      TRUSTED
    )
  )
}

const TRUSTED = { disableChecks: true } as const

/**
 * The message id an item echoes (`message.id`), as text, or `undefined` when
 * it echoes none. PHP may send a numeric id as a number.
 */
const echoedId = (item: ResultItem): string | undefined => {
  const id = item.message?.id
  return id === undefined ? undefined : String(id)
}

/**
 * One item's outcome, judged on its own: an item that echoes another message
 * id than the one sent in its place is `MalformedResponse` (never a success
 * reported for another message), and an item that cannot be read is that
 * item's `MalformedResponse`, never the other items' loss.
 */
const itemOutcome = (
  request: EditRequest.EditRequest,
  sentId: string,
  item: ResultItem,
  index: number
): Result.Result<EditedMessage.EditedMessage, Reason> => {
  try {
    const echoed = echoedId(item)
    if (echoed !== undefined && echoed !== sentId) {
      return Result.fail(
        new EditError.MalformedResponse({
          status: 200,
          description: `result item ${index} names another message than the one sent in its place: the portal's answer cannot be matched to this request`
        })
      )
    }
    return outcomeOf(request, item, index)
  } catch {
    return Result.fail(
      new EditError.MalformedResponse({
        status: 200,
        description: `result item ${index} could not be read (its shape is beyond what reword reads)`
      })
    )
  }
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

/**
 * The server-time model of an editor: its budget is half of the portal's 60 s,
 * or of the transport's timeout.
 *
 * @category adapter
 * @since 0.1.0
 */
export const serverTimeFor = (options: AdapterOptions): ServerTime.ServerTime => {
  const timeout = options.transport?.timeout
  const timeoutSeconds = timeout === undefined ? 30 : Duration.toSeconds(Duration.fromInputUnsafe(timeout))
  return ServerTime.make({
    max: MAX_CHUNK_SIZE,
    initial: DEFAULT_CHUNK_SIZE,
    budgetSeconds: Math.min(60, timeoutSeconds) / 2
  })
}

/**
 * The editor over the internal calls (for a given connector and line), with
 * options already checked: each edit is one `MESSAGES[i]`, and many edits are
 * packed into one call (`updateBatch`); a call's reason goes back to core as
 * it is. Concurrent `update` calls packed into one portal call run in
 * `context` (the one `Bitrix24.make` was run in), never in one of their
 * callers'.
 *
 * @category adapter
 * @since 0.1.0
 */
export const fromCalls = (
  calls: Calls.Calls,
  options: AdapterOptions = {},
  target: Partial<Bitrix24Client.Target> = {},
  serverTime: ServerTime.ServerTime = serverTimeFor(options),
  context?: Context.Context<never>,
  client: Bitrix24Client.Service = Bitrix24Client.fromCalls(calls)
): Service => {
  const fixed = options.chunkSize !== undefined
  const chunkSize = options.chunkSize ?? MAX_CHUNK_SIZE
  /** One `imconnector.update.messages` call for these requests. */
  const updateCall = (
    requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
  ): Effect.Effect<ReadonlyArray<Result.Result<EditedMessage.EditedMessage, Reason>>, Reason> =>
    Effect.withFiber((fiber) => {
      const now = Math.floor(fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() / 1000)
      const messages = requests.map((request) =>
        toMessageItem(request, now)
      ) as unknown as Arr.NonEmptyReadonlyArray<MessageItem>
      return Effect.map(
        calls.updateMessages({
          connector: target.connector,
          line: target.line,
          messages,
          expectedSeconds: serverTime.cost(messages.length)
        }),
        (response) => {
          const duration = response.time?.duration
          if (duration !== undefined) serverTime.observe(messages.length, duration)
          return requests.map((request, index) => {
            const item = response.items[index]
            return item === undefined
              ? Result.fail<Reason>(new EditError.MalformedResponse({ description: `no result item ${index}` }))
              : itemOutcome(request, messages[index]?.message.id ?? "", item, index)
          })
        }
      )
    })

  /**
   * The chunk in one call; a call the portal refuses as a whole for one of
   * its messages is split until that message stands alone (`./internal/split.ts`).
   */
  const updateBatch = (
    requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
  ): Effect.Effect<ReadonlyArray<Result.Result<EditedMessage.EditedMessage, Reason>>, Reason> =>
    sendSplitting(requests.length, (indices) =>
      updateCall(
        indices.map((index) => requests[index]) as unknown as Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
      )
    )

  const editor = MessageEditor.make(
    {
      provider: Bitrix24Config.name,
      capabilities: capabilities(chunkSize),
      validate,
      ...(client.secrets === undefined ? {} : { secrets: client.secrets }),
      update: (request) =>
        Effect.flatMap(updateBatch([request]), (results) =>
          Effect.fromResult(
            results[0] ?? Result.fail(new EditError.MalformedResponse({ description: "no result item" }))
          )
        ),
      updateBatch,
      ...(fixed ? {} : { batchSize: serverTime.size }),
      ...(context === undefined ? {} : { context })
    },
    options
  )
  return {
    ...editor,
    client,
    updateFor: (other) => fromCalls(calls, options, { ...target, ...other }, serverTime, context, client)
  }
}
