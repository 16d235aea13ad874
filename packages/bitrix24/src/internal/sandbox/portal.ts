/**
 * The state and the routes of the Bitrix24 sandbox: a portal's open lines
 * (a connector active on a line, or not), the users its connectors created,
 * the messages sent through them with every edit kept, and the three
 * imconnector message methods, answered as a real portal answers them
 * (FACTS.md of the provider): the `time` envelope, one item per input with
 * `user` a string (a number for a user the call created), `message.date` as
 * `{}`, `chat.description` in place of `url`, failed items inside
 * `SUCCESS: true`, `400 NOT_ACTIVE_LINE`, `401 expired_token` and
 * `invalid_token`, `403 WRONG_AUTH_TYPE` for incoming webhooks, the leaky
 * bucket (`503 QUERY_LIMIT_EXCEEDED`) and the operating-time limit
 * (`429 OPERATION_TIME_LIMIT`); and the OAuth server's token endpoint, with
 * refresh tokens that rotate. The server itself (loopback HTTP, request log,
 * faults) is core's `SandboxServer`.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import type * as Bucket from "./bucket.ts"
import type { File, Line, User } from "./model.ts"
import { oauth } from "./oauthRoute.ts"
import type * as Operating from "./operating.ts"
import type * as Operator from "./operator.ts"
import type { Params } from "./params.ts"
import { rest } from "./rest.ts"
import type { SetupState } from "./setup.ts"
import * as State from "./state.ts"
import type * as Tokens from "./tokens.ts"

type Answer = SandboxServer.SandboxAnswer
type MessageRecord = State.MessageRecord

export { METHODS } from "./rest.ts"
export { failure, type MessageRecord } from "./state.ts"

export interface Options {
  readonly url: () => string
  /** The portal's id, as the OAuth server names it (default: the documentation's example). */
  readonly memberId?: string | undefined
  readonly tokens: Tokens.Tokens
  readonly bucket: Bucket.Bucket | undefined
  readonly operating: Operating.Operating
  /** Whether the operating-time limit refuses calls (it is always accounted). */
  readonly enforceOperating: boolean
  /** Line errors as older portals gave them: HTTP 200 with `result.SUCCESS` false. */
  readonly oldLineErrors: boolean
  readonly now?: () => number
  /** When given, a call is answered only after its server time (seconds) has passed, as this waits. */
  readonly takeTime?: ((seconds: number) => Promise<void>) | undefined
  /** The operator's side (connector events, delivery status), where the portal has one. */
  readonly operator?: Operator.Operator | undefined
}

export interface Portal {
  readonly handler: SandboxServer.Handler
  readonly lines: Map<string, Line>
  readonly users: Map<string, User>
  readonly messages: Map<string, MessageRecord>
  readonly lineKey: (connector: string, line: number) => string
  readonly messageKey: (connector: string, line: number, chatId: string, messageId: string) => string
  /** Sets a line's state (adding the line when new). */
  readonly setLine: (connector: string, line: number, active: boolean) => Line
  /** The user of an external id, created when new. */
  readonly userOf: (connector: string, externalId: string, details?: Params) => { user: User; created: boolean }
  /** Stores a message as `imconnector.send.messages` does. */
  readonly store: (input: {
    readonly connector: string
    readonly line: number
    readonly chatId: string
    readonly messageId: string
    readonly authorId: string
    readonly text: string | undefined
    readonly files: ReadonlyArray<File>
    readonly date: number
  }) => MessageRecord
  readonly calls: (method: string) => number
  /** The connectors registered and the events bound. */
  readonly setup: SetupState
  readonly errors: (code: string) => number
  /** Every call carrying a message with this external id is refused as a whole with `refusal`. */
  readonly poison: (messageId: string, refusal: Answer) => void
  /** Lifts the poison of one message id, or of all. */
  readonly cure: (messageId?: string) => void
}

export const make = (options: Options): Portal => {
  const s = State.makeState(options)
  const handler: SandboxServer.Handler = (request) => {
    const path = request.path
    if (/^\/oauth\/token\/?$/.test(path)) return oauth(s, request)
    if (path.startsWith("/rest/")) {
      let method: string
      try {
        method = decodeURIComponent(path.slice("/rest/".length))
      } catch {
        method = path.slice("/rest/".length)
      }
      return rest(s, request, method)
    }
    return State.failure(404, "NOT_FOUND", `Nothing at ${path}: the sandbox serves /rest/<method> and /oauth/token/`)
  }
  return {
    handler,
    lines: s.lines,
    users: s.users,
    messages: s.messages,
    lineKey: State.lineKey,
    messageKey: State.messageKey,
    setLine: (connector, line, active) => State.setLine(s, connector, line, active),
    userOf: (connector, externalId, details) => State.userOf(s, connector, externalId, details),
    store: (input) => State.store(s, input),
    calls: (method) => s.callCounts.get(method.toLowerCase()) ?? 0,
    setup: s.setup,
    errors: (code) => s.errorCounts.get(code) ?? 0,
    poison: (messageId, refusal) => {
      s.poisoned.set(messageId, refusal)
    },
    cure: (messageId) => {
      if (messageId === undefined) s.poisoned.clear()
      else s.poisoned.delete(messageId)
    }
  }
}
