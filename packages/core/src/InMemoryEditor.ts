/**
 * An editor that keeps messages in memory: for an app's own tests, for demos,
 * and as the smallest example of an adapter. Selected by `REWORD_PROVIDER=memory`
 * when its {@link provider} descriptor is listed.
 *
 * @since 0.1.0
 */
import { Clock, Config, Effect, Layer } from "effect"
import { Capabilities } from "./Capabilities.ts"
import { NotFound } from "./EditError.ts"
import { EditedMessage } from "./EditedMessage.ts"
import type { FileRef } from "./EditRequest.ts"
import { type EditorOptions, MessageEditor, make as makeEditor, type Service } from "./MessageEditor.ts"
import { check as checkOptions, editorOptions } from "./OptionCheck.ts"
import { describe } from "./ProviderKit.ts"

/**
 * One stored message and every version it went through, oldest first.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoredMessage {
  readonly externalMessageId: string
  text: string | undefined
  files: ReadonlyArray<FileRef>
  readonly history: Array<{
    readonly text: string | undefined
    readonly files: ReadonlyArray<FileRef>
    readonly at: Date
  }>
}

/**
 * The messages an in-memory editor edits, by external message id.
 *
 * @category models
 * @since 0.1.0
 */
export interface Store {
  readonly messages: Map<string, StoredMessage>
  /** Stores a message as if it had been sent. */
  readonly add: (externalMessageId: string, text: string) => StoredMessage
}

/**
 * An empty store.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeStore = (): Store => {
  const messages = new Map<string, StoredMessage>()
  return {
    messages,
    add: (externalMessageId, text) => {
      const message: StoredMessage = {
        externalMessageId,
        text,
        files: [],
        history: [{ text, files: [], at: new Date() }]
      }
      messages.set(externalMessageId, message)
      return message
    }
  }
}

/**
 * What the in-memory provider can do: everything, one message per call.
 *
 * @category utils
 * @since 0.1.0
 */
export const capabilities: Capabilities = new Capabilities({
  requiredIds: ["externalMessageId"],
  files: true,
  authorDetails: true,
  chatDetails: true,
  language: true,
  maxMessagesPerCall: 1
})

/**
 * An editor over a store. Editing a message the store does not hold is `NotFound`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (store: Store, options?: EditorOptions): Service =>
  makeEditor(
    {
      provider: "memory",
      capabilities,
      update: Effect.fnUntraced(function* (request) {
        const id = request.ids.externalMessageId ?? ""
        const stored = store.messages.get(id)
        if (stored === undefined) {
          return yield* new NotFound({ code: "NO_SUCH_MESSAGE", description: `no message with external id "${id}"` })
        }
        const at = new Date(yield* Clock.currentTimeMillis)
        if (request.text !== undefined) stored.text = request.text
        if (request.files !== undefined) stored.files = request.files
        stored.history.push({ text: stored.text, files: stored.files, at })
        return new EditedMessage({
          provider: "memory",
          ids: request.ids,
          text: stored.text,
          files: stored.files,
          updatedAt: at
        })
      })
    },
    options
  )

/**
 * A `MessageEditor` layer over a store (a new, empty one when omitted).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (store: Store = makeStore(), options?: EditorOptions): Layer.Layer<MessageEditor> =>
  Layer.succeed(MessageEditor, make(store, options))

/**
 * The descriptor of an in-memory editor over the given store: `REWORD_PROVIDER=memory` selects it.
 *
 * @category utils
 * @since 0.1.0
 */
export const providerFor = (store: Store) =>
  describe({
    name: "memory",
    settings: [],
    config: Config.succeed({}),
    make: (_settings, options) =>
      Effect.andThen(
        checkOptions(editorOptions(options)),
        Effect.sync(() => make(store, options))
      )
  })

/**
 * The descriptor of an in-memory editor over a new, empty store each time one is built.
 *
 * @category descriptor
 * @since 0.1.0
 */
export const provider = describe({
  name: "memory",
  settings: [],
  config: Config.succeed({}),
  make: (_settings, options) =>
    Effect.andThen(
      checkOptions(editorOptions(options)),
      Effect.sync(() => make(makeStore(), options))
    )
})
