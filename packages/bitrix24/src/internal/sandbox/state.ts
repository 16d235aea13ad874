/**
 * The sandbox portal's state: its open lines, the users its connectors
 * created, the sessions and the messages sent through them with every edit
 * kept, the call and error counts, the poisoned message ids; and the steps
 * every route takes on it (store a message, count a refusal, the `time`
 * envelope).
 */
import type { SandboxServer } from "@reword/core/sandbox"
import type { File, Line, Message, User } from "./model.ts"
import type * as Operating from "./operating.ts"
import { isRecord, type Params, textOf } from "./params.ts"
import type { Options } from "./portal.ts"
import type { SetupState } from "./setup.ts"

export type Answer = SandboxServer.SandboxAnswer
type Writable<T> = { -readonly [K in keyof T]: T[K] }

/** A message as the portal holds it. */
export type MessageRecord = Writable<Omit<Message, "history">> & { readonly history: Array<string | undefined> }

/** The first user, session and chat ids are those of the documentation's examples. */
const FIRST_USER_ID = 585
const FIRST_SESSION_ID = 323
const FIRST_CHAT_ID = 1767

/** A message as `imconnector.send.messages` stores it. */
export interface StoreInput {
  readonly connector: string
  readonly line: number
  readonly chatId: string
  readonly messageId: string
  readonly authorId: string
  readonly text: string | undefined
  readonly files: ReadonlyArray<File>
  readonly date: number
}

/** Everything the portal holds. */
export interface PortalState {
  readonly options: Options
  readonly now: () => number
  readonly lines: Map<string, Line>
  readonly users: Map<string, User>
  readonly messages: Map<string, MessageRecord>
  readonly sessions: Map<string, { readonly id: number; readonly chatId: number }>
  readonly callCounts: Map<string, number>
  readonly errorCounts: Map<string, number>
  readonly poisoned: Map<string, Answer>
  /** The connectors registered and the events bound (`imconnector.register`, `event.bind`). */
  readonly setup: SetupState
  nextUser: number
  nextSession: number
  nextChat: number
}

export const makeState = (options: Options): PortalState => ({
  options,
  now: options.now ?? Date.now,
  lines: new Map(),
  users: new Map(),
  messages: new Map(),
  sessions: new Map(),
  callCounts: new Map(),
  errorCounts: new Map(),
  poisoned: new Map(),
  setup: { connectors: new Map(), events: new Map() },
  nextUser: FIRST_USER_ID,
  nextSession: FIRST_SESSION_ID,
  nextChat: FIRST_CHAT_ID
})

/** An error envelope: `{ error, error_description }`, no `time`. */
export const failure = (status: number, error: string, description: string): Answer => ({
  status,
  body: { error, error_description: description }
})

/** PHP's `date("c")`, in UTC. */
const phpDate = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "+00:00")

export const lineKey = (connector: string, line: number) => `${connector}\u0000${line}`
export const messageKey = (connector: string, line: number, chatId: string, messageId: string) =>
  `${connector}\u0000${line}\u0000${chatId}\u0000${messageId}`

/** Sets a line's state (adding the line when new); a connector set on a line is a registered one. */
export const setLine = (s: PortalState, connector: string, line: number, active: boolean): Line => {
  if (!s.setup.connectors.has(connector)) {
    s.setup.connectors.set(connector, { id: connector, name: connector, placementHandler: "" })
  }
  const entry: Line = { connector, line, active }
  s.lines.set(lineKey(connector, line), entry)
  return entry
}

/** The user of an external id, created when new. */
export const userOf = (s: PortalState, connector: string, externalId: string, details: Params = {}) => {
  const key = `${connector}\u0000${externalId}`
  const known = s.users.get(key)
  if (known !== undefined) return { user: known, created: false }
  const user: User = {
    id: s.nextUser++,
    connector,
    externalId,
    name: textOf(details.name),
    lastName: textOf(details.last_name)
  }
  s.users.set(key, user)
  return { user, created: true }
}

const sessionOf = (s: PortalState, connector: string, line: number, chatId: string) => {
  const key = `${connector}\u0000${line}\u0000${chatId}`
  const known = s.sessions.get(key)
  if (known !== undefined) return known
  const session = { id: s.nextSession++, chatId: s.nextChat++ }
  s.sessions.set(key, session)
  return session
}

/** Stores a message as `imconnector.send.messages` does. */
export const store = (s: PortalState, input: StoreInput): MessageRecord => {
  const userId = userOf(s, input.connector, input.authorId).user.id
  const record: MessageRecord = {
    ...input,
    userId,
    files: [...input.files],
    editedAt: undefined,
    deleted: false,
    session: sessionOf(s, input.connector, input.line, input.chatId),
    history: [input.text]
  }
  s.messages.set(messageKey(input.connector, input.line, input.chatId, input.messageId), record)
  return record
}

export const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1)

/** Counts an error answer by its code. */
export const refuse = (s: PortalState, answer: Answer): Answer => {
  const body = answer.body
  if (isRecord(body) && typeof body.error === "string") count(s.errorCounts, body.error)
  return answer
}

/** The `time` envelope; `cost` is the call's server time by the model, reported when longer than the real one. */
export const time = (s: PortalState, start: number, snapshot: Operating.Snapshot, cost = 0) => {
  const finish = s.now()
  const duration = Math.max((finish - start) / 1000, cost)
  return {
    start: start / 1000,
    finish: finish / 1000,
    duration,
    processing: duration,
    date_start: phpDate(start),
    date_finish: phpDate(finish),
    operating_reset_at: snapshot.resetAt ?? Math.floor(start / 1000) + s.options.operating.settings.windowSeconds,
    operating: snapshot.operating
  }
}
