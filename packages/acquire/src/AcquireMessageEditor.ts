/**
 * The Acquire adapter of reword's `MessageEditor`: one edit is one
 * `POST /crm/messenger/chat/message/{messageId}`, addressed by Acquire's own
 * message id (`ids.providerMessageId`). Acquire edits text only: files are
 * `Unsupported`, and a language hint becomes `translateLangKey`.
 *
 * @since 0.1.0
 */
import {
  Capabilities,
  EditError,
  EditedMessage,
  EditRequest,
  type HttpTransport,
  MessageEditor,
  OptionCheck,
  Provider
} from "@reword/core"
import { type Config, Effect, Layer, Result } from "effect"
import * as AcquireClient from "./AcquireClient.ts"
import * as AcquireConfig from "./AcquireConfig.ts"
import type { AcquireMessage } from "./AcquireSchemas.ts"
import { MESSAGE_ID_RULE, parsePositiveId } from "./internal/ids.ts"

/**
 * What Acquire can do: edit the text of one message per call, addressed by its
 * own message id, with an optional language for translation.
 *
 * @since 0.1.0
 */
export const capabilities: Capabilities.Capabilities = new Capabilities.Capabilities({
  requiredIds: ["providerMessageId"],
  files: false,
  authorDetails: false,
  chatDetails: false,
  language: true,
  maxMessagesPerCall: 1
})

/**
 * The editor's options: the settings, the editor's retry policy and
 * `updateMany` concurrency, and how to talk HTTP.
 *
 * @since 0.1.0
 */
export interface Options extends AcquireConfig.Settings, MessageEditor.EditorOptions, HttpTransport.TransportOptions {}

/**
 * The problems of a request that only Acquire has: its message id must be a
 * positive integer (core already checks that one is there).
 *
 * @since 0.1.0
 */
export const validate = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const id = request.ids.providerMessageId
  if (id === undefined || Result.isSuccess(parsePositiveId(id))) return []
  return [{ path: "ids.providerMessageId", message: MESSAGE_ID_RULE }]
}

/**
 * The neutral result of an update: the answered id as `providerMessageId` with
 * the request's other ids, the answered text (the text sent when the answer
 * leaves it out), no files, and `dateUpdated` as `updatedAt`.
 *
 * @since 0.1.0
 */
export const toEditedMessage = (
  request: EditRequest.EditRequest,
  message: AcquireMessage
): EditedMessage.EditedMessage =>
  new EditedMessage.EditedMessage({
    provider: AcquireConfig.name,
    ids: new EditRequest.MessageIds({ ...request.ids, providerMessageId: message.id }),
    text: message.message ?? request.text,
    files: [],
    ...(message.dateUpdated === undefined ? {} : { updatedAt: message.dateUpdated })
  })

/**
 * An editor over an existing client.
 *
 * @since 0.1.0
 */
export const fromClient = (
  client: AcquireClient.Service,
  options: MessageEditor.EditorOptions = {}
): MessageEditor.Service =>
  MessageEditor.make(
    {
      provider: AcquireConfig.name,
      capabilities,
      validate,
      update: (request) =>
        request.ids.providerMessageId === undefined || request.text === undefined
          ? // Unreachable: core requires the id, and refuses files (the only other content) as Unsupported.
            Effect.fail(new EditError.InvalidRequest({ problems: validate(request) }))
          : client
              .update(request.ids.providerMessageId, {
                text: request.text,
                ...(request.language === undefined ? {} : { language: request.language })
              })
              .pipe(
                Effect.map((message) => toEditedMessage(request, message)),
                Effect.mapError((error) => error.reason)
              )
    },
    options
  )

const editorOptions = (options: MessageEditor.EditorOptions | undefined): MessageEditor.EditorOptions => ({
  retry: options?.retry,
  concurrency: options?.concurrency
})

/**
 * Builds an editor. Fails with a `ConfigError` naming the wrong setting (never
 * printing the key) when the settings are not usable.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<MessageEditor.Service, Config.ConfigError> =>
  Effect.andThen(
    OptionCheck.check(OptionCheck.editorOptions(options, { transport: "" })),
    Effect.map(AcquireClient.make(options), (client) => fromClient(client, editorOptions(options)))
  )

/**
 * The `MessageEditor` layer of Acquire, from settings given in code.
 *
 * @example
 * ```ts
 * import { Acquire } from "@reword/acquire"
 * import { Redacted } from "effect"
 *
 * const EditorLive = Acquire.layer({
 *   accountId: "acme",
 *   apiKey: Redacted.make(process.env.ACQUIRE_API_KEY ?? ""),
 *   concurrency: 8
 * })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(MessageEditor.MessageEditor, make(options))

/**
 * The descriptor that lets core select Acquire by configuration
 * (`REWORD_PROVIDER=acquire`, or a single provider given to `createEditor`).
 *
 * @since 0.1.0
 */
export const provider: Provider.Descriptor<AcquireConfig.Settings> = Provider.describe({
  name: AcquireConfig.name,
  settings: AcquireConfig.settings,
  config: AcquireConfig.config,
  make: (settings, options) =>
    // Checked as given, so that a wrong value is named where it was set (`transport.timeout`).
    Effect.andThen(
      OptionCheck.check(OptionCheck.editorOptions(options)),
      make({ ...options?.transport, ...settings, ...editorOptions(options) })
    )
})

/**
 * The `MessageEditor` layer of Acquire, with its settings read from the
 * environment (the current `ConfigProvider`): `ACQUIRE_ACCOUNT_ID`,
 * `ACQUIRE_API_KEY`, and optionally `ACQUIRE_BASE_URL` and
 * `ACQUIRE_ALLOW_INSECURE_LOOPBACK`. A missing setting fails naming its variable.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: MessageEditor.EditorOptions & HttpTransport.TransportOptions = {}
): Layer.Layer<MessageEditor.MessageEditor, Config.ConfigError> =>
  Layer.effect(
    MessageEditor.MessageEditor,
    Effect.flatMap(Provider.readSettings(provider), (settings) => make({ ...options, ...settings }))
  )
