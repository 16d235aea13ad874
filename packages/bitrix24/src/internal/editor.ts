/**
 * The Bitrix24 editor over the internal calls: each edit one `MESSAGES[i]`,
 * many edits packed into one `imconnector.update.messages` call, each result
 * item read on its own. `Bitrix24.make` builds it; apps see it as
 * `Bitrix24MessageEditor.Service`.
 */
import { EditError, EditedMessage, type EditRequest, MessageEditor } from "@reword/core"
import { type Array as Arr, Clock, type Context, Duration, Effect, Result } from "effect"
import type * as Bitrix24Client from "../Bitrix24Client.ts"
import * as Bitrix24Config from "../Bitrix24Config.ts"
import { type AdapterOptions, capabilities, type Service, validate } from "../Bitrix24MessageEditor.ts"
import type * as Calls from "./calls.ts"
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from "./chunkSize.ts"
import { fromCalls as clientFromCalls } from "./client.ts"
import { itemReason } from "./errors.ts"
import { itemErrors, type MessageItem, type ResultItem } from "./schemas.ts"
import * as ServerTime from "./serverTime.ts"
import { sendSplitting } from "./split.ts"

type Reason = EditError.EditErrorReason

/**
 * The `MESSAGES[i]` of a neutral request. `now` (Unix seconds) dates an edit
 * that carries no `editedAt`.
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
 * The server-time model of an editor: its budget is half of the portal's 60 s,
 * or of the transport's timeout.
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
 */
export const fromCalls = (
  calls: Calls.Calls,
  options: AdapterOptions = {},
  target: Partial<Bitrix24Client.Target> = {},
  serverTime: ServerTime.ServerTime = serverTimeFor(options),
  context?: Context.Context<never>,
  client: Bitrix24Client.Service = clientFromCalls(calls)
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
