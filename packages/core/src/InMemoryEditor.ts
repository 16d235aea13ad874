/**
 * An editor that keeps messages in memory: for an app's own tests, for demos,
 * and as the smallest example of an adapter. Selected by `REWORD_PROVIDER=memory`
 * when its {@link provider} descriptor is listed.
 *
 * @since 0.1.0
 */
import { Clock, Config, Duration, Effect, Layer } from "effect"
import { Capabilities } from "./Capabilities.ts"
import { NotFound, type Problem, Rejected } from "./EditError.ts"
import { EditedMessage } from "./EditedMessage.ts"
import { type FileRef, MessageIds } from "./EditRequest.ts"
import * as Check from "./internal/options.ts"
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
 * The messages an in-memory editor edits, by external message id, and the
 * provider calls it took (a call refused before it was made is not counted).
 *
 * @category models
 * @since 0.1.0
 */
export interface Store {
  readonly messages: Map<string, StoredMessage>
  /** Stores a message as if it had been sent (at `sentAt`, default now). */
  readonly add: (externalMessageId: string, text: string, sentAt?: Date) => StoredMessage
  /** The calls the provider took: edits and sends (the `newMessage` fallback). @since 0.4.0 */
  readonly calls: { update: number; send: number }
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
    calls: { update: 0, send: 0 },
    add: (externalMessageId, text, sentAt = new Date()) => {
      const message: StoredMessage = {
        externalMessageId,
        text,
        files: [],
        history: [{ text, files: [], at: sentAt }]
      }
      messages.set(externalMessageId, message)
      return message
    }
  }
}

/**
 * What the in-memory provider can do by default: everything (text, caption
 * and files, any time, any number of times, and sending a new message), one
 * message per call. The rules an editor is given (`editWindow`, `maxEdits`,
 * `edit: "none"`) show in its `capabilities`.
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
  maxMessagesPerCall: 1,
  kinds: ["text", "caption", "files"],
  fallbacks: ["fail", "newMessage"]
})

/**
 * The in-memory provider's own options: rules of a provider that limits
 * edits, so an app (and reword's contract suite) can exercise every rule.
 *
 * @category options
 * @since 0.4.0
 */
export interface Rules {
  /** How long after it was sent a message can be edited (`"48 hours"`, millis, a `Duration`). */
  readonly editWindow?: Duration.Input | undefined
  /** The most edits a message takes. */
  readonly maxEdits?: number | undefined
  /** `none`: the provider cannot edit at all (as WhatsApp's Cloud API). Default `messages`. */
  readonly edit?: "messages" | "none" | undefined
}

/**
 * The in-memory editor's options: what every editor takes, and its {@link Rules}.
 *
 * @category options
 * @since 0.4.0
 */
export type Options = EditorOptions & Rules

const RulesSchema = Check.options(
  {
    editWindow: Check.option<Duration.Input>((value) =>
      Check.duration("", value, { minMillis: 0, maxMillis: Number.MAX_SAFE_INTEGER })
    ),
    maxEdits: Check.option<number>((value) => Check.integer("", value, { min: 0 })),
    edit: Check.option<"messages" | "none">((value) => Check.oneOf("", value, ["messages", "none"]))
  },
  "must be an object"
)

/** The problems of the in-memory provider's own options, each naming its field. */
const ruleProblems = (options: Options | undefined): ReadonlyArray<Problem> => {
  if (options === undefined) return []
  const { editWindow, maxEdits, edit } = options
  return Check.problemsOf(Check.decode(RulesSchema, { editWindow, maxEdits, edit }, ""))
}

/** The capabilities of an in-memory editor with these rules. */
const capabilitiesOf = (rules: Rules): Capabilities => {
  const window = rules.editWindow === undefined ? undefined : Duration.fromInputUnsafe(rules.editWindow)
  return new Capabilities({
    ...capabilities,
    edit: rules.edit ?? "messages",
    editWindows:
      window === undefined
        ? []
        : [
            {
              rule: `memory: a message can be edited within ${Duration.format(window)} of sending`,
              maxAge: window,
              appliesTo: "every message"
            }
          ],
    ...(rules.maxEdits === undefined ? {} : { maxEdits: rules.maxEdits })
  })
}

/**
 * What the provider itself refuses, as a provider with these rules would
 * (core refuses them first when the request carries `sentAt` and `editCount`).
 */
const providerRefusal = (caps: Capabilities, stored: StoredMessage, now: number): Rejected | undefined => {
  if (caps.edit === "none") return new Rejected({ code: "EDIT_UNSUPPORTED", description: "messages cannot be edited" })
  const sentAt = (stored.history[0]?.at ?? new Date(now)).getTime()
  const window = caps.editWindows[0]
  if (window !== undefined && now - sentAt > Duration.toMillis(window.maxAge)) {
    return new Rejected({ code: "EDIT_WINDOW_CLOSED", description: window.rule })
  }
  const edits = stored.history.length - 1
  return caps.maxEdits !== undefined && edits >= caps.maxEdits
    ? new Rejected({ code: "EDIT_LIMIT_REACHED", description: `at most ${caps.maxEdits} edits` })
    : undefined
}

/** The stored message of a request: by the provider's id (a message sent in place of another), else the external id. */
const storedFor = (store: Store, ids: MessageIds): StoredMessage | undefined => {
  const own = ids.providerMessageId
  const byOwn = typeof own === "string" ? store.messages.get(own) : undefined
  return byOwn ?? store.messages.get(ids.externalMessageId ?? "")
}

/** A free store key for a new message sent in place of `id`. */
const newIdFor = (store: Store, id: string): string => {
  let n = 1
  while (store.messages.has(`${id}+${n}`)) n++
  return `${id}+${n}`
}

/**
 * An editor over a store. Editing a message the store does not hold is
 * `NotFound`. With {@link Rules}, the editor's capabilities declare them (core
 * refuses an edit past them before any call), and the store refuses them too,
 * as a provider would (`Rejected`). It can send: the `newMessage` fallback
 * stores the text as a new message, stored as `<id>+1` and answered with
 * that as its `providerMessageId` (an edit with it goes to the new message).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (store: Store, options?: Options): Service => {
  const caps = capabilitiesOf(options ?? {})
  const editedMessage = (ids: MessageIds, stored: StoredMessage, at: Date) =>
    new EditedMessage({ provider: "memory", ids, text: stored.text, files: stored.files, updatedAt: at })
  return makeEditor(
    {
      provider: "memory",
      capabilities: caps,
      update: Effect.fnUntraced(function* (request) {
        store.calls.update++
        const stored = storedFor(store, request.ids)
        const id = request.ids.externalMessageId ?? ""
        if (stored === undefined) {
          return yield* new NotFound({ code: "NO_SUCH_MESSAGE", description: `no message with external id "${id}"` })
        }
        const now = yield* Clock.currentTimeMillis
        const refused = providerRefusal(caps, stored, now)
        if (refused !== undefined) return yield* refused
        const at = new Date(now)
        if (request.text !== undefined) stored.text = request.text
        if (request.files !== undefined) stored.files = request.files
        stored.history.push({ text: stored.text, files: stored.files, at })
        return editedMessage(request.ids, stored, at)
      }),
      send: Effect.fnUntraced(function* (request) {
        store.calls.send++
        const at = new Date(yield* Clock.currentTimeMillis)
        const id = newIdFor(store, request.ids.externalMessageId ?? "memory")
        const stored = store.add(id, request.text ?? "", at)
        // The app's message is the same; the provider's is new: its id is the provider's message id.
        return editedMessage(new MessageIds({ ...request.ids, providerMessageId: id }), stored, at)
      })
    },
    options
  )
}

/**
 * A `MessageEditor` layer over a store (a new, empty one when omitted).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (store: Store = makeStore(), options?: Options): Layer.Layer<MessageEditor> =>
  Layer.succeed(MessageEditor, make(store, options))

const ruleDescriptions = {
  editWindow: 'how long after it was sent a message can be edited ("48 hours", millis)',
  maxEdits: "the most edits a message takes",
  edit: '"none": the provider cannot edit at all (default "messages")'
} as const

const descriptorOf = (storeOf: () => Store) =>
  describe<Record<never, never>, Rules, "memory">({
    name: "memory",
    settings: [],
    config: Config.succeed({}),
    options: ruleDescriptions,
    make: (_settings, options) =>
      Effect.andThen(
        checkOptions([...editorOptions(options), ...ruleProblems(options)]),
        Effect.sync(() => make(storeOf(), options))
      )
  })

/**
 * The descriptor of an in-memory editor over the given store: `REWORD_PROVIDER=memory` selects it.
 * Its {@link Rules} go in `providerOptions.memory`.
 *
 * @category utils
 * @since 0.1.0
 */
export const providerFor = (store: Store) => descriptorOf(() => store)

/**
 * The descriptor of an in-memory editor over a new, empty store each time one is built.
 *
 * @category descriptor
 * @since 0.1.0
 */
export const provider = descriptorOf(makeStore)
