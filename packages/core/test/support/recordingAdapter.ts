import { Capabilities, type EditError, EditedMessage, type EditRequest, type MessageEditor } from "@reword/core"
import { Effect, Result } from "effect"

/**
 * An adapter that answers from a script and records what reached it, so a
 * test can tell what core sent and what it stopped before sending.
 */
export const recordingAdapter = (options: {
  readonly capabilities?: Partial<ConstructorParameters<typeof Capabilities.Capabilities>[0]>
  readonly answer?: (request: EditRequest.EditRequest, call: number) => EditError.EditErrorReason | undefined
  readonly batch?: boolean
}) => {
  const sent: Array<EditRequest.EditRequest> = []
  const batches: Array<number> = []
  const confirm = (request: EditRequest.EditRequest) =>
    new EditedMessage.EditedMessage({
      provider: "fake",
      ids: request.ids,
      text: request.text,
      files: request.files ?? []
    })
  const attempt = (
    request: EditRequest.EditRequest
  ): Result.Result<EditedMessage.EditedMessage, EditError.EditErrorReason> => {
    sent.push(request)
    const failure = options.answer?.(request, sent.length)
    return failure === undefined ? Result.succeed(confirm(request)) : Result.fail(failure)
  }
  const adapter: MessageEditor.Adapter = {
    provider: "fake",
    capabilities: new Capabilities.Capabilities({
      requiredIds: ["externalMessageId"],
      files: true,
      authorDetails: true,
      chatDetails: true,
      language: true,
      maxMessagesPerCall: 1,
      ...options.capabilities
    }),
    validate: (request) =>
      request.text === "forbidden words" ? [{ path: "text", message: "this provider refuses these words" }] : [],
    update: (request) => Effect.suspend(() => Effect.fromResult(attempt(request))),
    updateBatch:
      options.batch === true
        ? (requests) =>
            Effect.sync(() => {
              batches.push(requests.length)
              return requests.map(attempt)
            })
        : undefined
  }
  return { adapter, sent, batches }
}
