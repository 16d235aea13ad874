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
import type { File, Line, Message, User } from "./model.ts"
import type * as Operating from "./operating.ts"
import { isEmpty, isRecord, listOf, lowerKeys, type Params, param, paramsOf, parseForm, textOf } from "./params.ts"
import type * as Tokens from "./tokens.ts"

type Answer = SandboxServer.SandboxAnswer
type Writable<T> = { -readonly [K in keyof T]: T[K] }

/** A message as the portal holds it. */
export type MessageRecord = Writable<Omit<Message, "history">> & { readonly history: Array<string | undefined> }

/** The methods the sandbox serves. */
export const METHODS = ["imconnector.send.messages", "imconnector.update.messages", "imconnector.delete.messages"]

/** The first user, session and chat ids are those of the documentation's examples. */
const FIRST_USER_ID = 585
const FIRST_SESSION_ID = 323
const FIRST_CHAT_ID = 1767

/** The portal's id, as the OAuth server names it (the documentation's example). */
const MEMBER_ID = "a223c6b3710f85df22e9377d6c4f7553"

const MISSING_DATA = "Not all required data was transmitted"
const NOT_ACTIVE_LINE = "The line with this ID is inactive or does not exist"

/** An error envelope: `{ error, error_description }`, no `time`. */
export const failure = (status: number, error: string, description: string): Answer => ({
  status,
  body: { error, error_description: description }
})

const argumentError = (description: string): Answer => failure(400, "ERROR_ARGUMENT", description)

/** PHP's `date("c")`, in UTC. */
const phpDate = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "+00:00")

export interface Options {
  readonly url: () => string
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
  readonly errors: (code: string) => number
  /** Every call carrying a message with this external id is refused as a whole with `refusal`. */
  readonly poison: (messageId: string, refusal: Answer) => void
  /** Lifts the poison of one message id, or of all. */
  readonly cure: (messageId?: string) => void
}

export const make = (options: Options): Portal => {
  const now = options.now ?? Date.now
  const lines = new Map<string, Line>()
  const users = new Map<string, User>()
  const messages = new Map<string, MessageRecord>()
  const sessions = new Map<string, { readonly id: number; readonly chatId: number }>()
  const callCounts = new Map<string, number>()
  const errorCounts = new Map<string, number>()
  const poisoned = new Map<string, Answer>()
  let nextUser = FIRST_USER_ID
  let nextSession = FIRST_SESSION_ID
  let nextChat = FIRST_CHAT_ID

  const lineKey = (connector: string, line: number) => `${connector}\u0000${line}`
  const messageKey = (connector: string, line: number, chatId: string, messageId: string) =>
    `${connector}\u0000${line}\u0000${chatId}\u0000${messageId}`

  const setLine = (connector: string, line: number, active: boolean): Line => {
    const entry: Line = { connector, line, active }
    lines.set(lineKey(connector, line), entry)
    return entry
  }

  const userOf = (connector: string, externalId: string, details: Params = {}) => {
    const key = `${connector}\u0000${externalId}`
    const known = users.get(key)
    if (known !== undefined) return { user: known, created: false }
    const user: User = {
      id: nextUser++,
      connector,
      externalId,
      name: textOf(details.name),
      lastName: textOf(details.last_name)
    }
    users.set(key, user)
    return { user, created: true }
  }

  const sessionOf = (connector: string, line: number, chatId: string) => {
    const key = `${connector}\u0000${line}\u0000${chatId}`
    const known = sessions.get(key)
    if (known !== undefined) return known
    const session = { id: nextSession++, chatId: nextChat++ }
    sessions.set(key, session)
    return session
  }

  const store: Portal["store"] = (input) => {
    const userId = userOf(input.connector, input.authorId).user.id
    const record: MessageRecord = {
      ...input,
      userId,
      files: [...input.files],
      editedAt: undefined,
      deleted: false,
      session: sessionOf(input.connector, input.line, input.chatId),
      history: [input.text]
    }
    messages.set(messageKey(input.connector, input.line, input.chatId, input.messageId), record)
    return record
  }

  const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1)

  /** Counts an error answer by its code. */
  const refuse = (answer: Answer): Answer => {
    const body = answer.body
    if (isRecord(body) && typeof body.error === "string") count(errorCounts, body.error)
    return answer
  }

  /** The `time` envelope; `cost` is the call's server time by the model, reported when longer than the real one. */
  const time = (start: number, snapshot: Operating.Snapshot, cost = 0) => {
    const finish = now()
    const duration = Math.max((finish - start) / 1000, cost)
    return {
      start: start / 1000,
      finish: finish / 1000,
      duration,
      processing: duration,
      date_start: phpDate(start),
      date_finish: phpDate(finish),
      operating_reset_at: snapshot.resetAt ?? Math.floor(start / 1000) + options.operating.settings.windowSeconds,
      operating: snapshot.operating
    }
  }

  // --- OAuth

  const oauth = (request: SandboxServer.SandboxRequest): Answer => {
    const params: Params = { ...parseForm(request.query.toString()), ...parseForm(request.text) }
    const { tokens } = options
    if (params.grant_type !== "refresh_token") {
      return refuse(
        failure(
          400,
          "invalid_request",
          params.grant_type === undefined ? "grant_type is required" : "the sandbox grants refresh_token only"
        )
      )
    }
    if (params.client_id !== tokens.clientId || params.client_secret !== tokens.clientSecret) {
      return refuse(failure(401, "invalid_client", "Invalid client credentials"))
    }
    const refreshToken = textOf(params.refresh_token)
    const at = now()
    const pair = refreshToken === undefined ? undefined : tokens.refresh(refreshToken, at)
    if (pair === undefined) return refuse(failure(400, "invalid_grant", "Invalid grant"))
    const lifetime = tokens.ttlMillis === undefined ? 3600 : Math.max(1, Math.ceil(tokens.ttlMillis / 1000))
    const url = options.url()
    return {
      status: 200,
      body: {
        access_token: pair.accessToken,
        client_endpoint: `${url}/rest/`,
        domain: new URL(url).host,
        expires: Math.floor(at / 1000) + lifetime,
        expires_in: lifetime,
        member_id: MEMBER_ID,
        refresh_token: pair.refreshToken,
        scope: "imopenlines,imconnector",
        server_endpoint: `${url}/rest/`,
        status: "L",
        user_id: 1
      }
    }
  }

  // --- REST

  const accessTokenOf = (request: SandboxServer.SandboxRequest, params: Params): string | undefined => {
    const fromParams = textOf(param(params, "auth")) ?? textOf(param(params, "access_token"))
    if (fromParams !== undefined && fromParams.length > 0) return fromParams
    const header = request.headers.authorization
    const bearer = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null
    return bearer?.[1]
  }

  const lineError = (start: number, method: string): Answer => {
    if (!options.oldLineErrors) return refuse(failure(400, "NOT_ACTIVE_LINE", NOT_ACTIVE_LINE))
    count(errorCounts, "NOT_ACTIVE_LINE")
    return {
      status: 200,
      body: {
        result: { SUCCESS: false, ERRORS: [{ message: NOT_ACTIVE_LINE, code: "NOT_ACTIVE_LINE", customData: null }] },
        time: time(start, options.operating.snapshot(method, start))
      }
    }
  }

  const rest = (request: SandboxServer.SandboxRequest, path: string): Answer | Promise<Answer> => {
    const start = now()
    const webhook = /^(\d+)\/([^/]+)\/(.+)$/.exec(path)
    const method = (webhook?.[3] ?? path).toLowerCase().replace(/\.json$/, "")
    count(callCounts, method)
    if (options.bucket !== undefined && !options.bucket.take(start)) {
      return refuse(failure(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"))
    }
    if (webhook !== null) {
      return METHODS.includes(method)
        ? refuse(failure(403, "WRONG_AUTH_TYPE", "Application context required"))
        : refuse(failure(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
    }
    const params = paramsOf(request)
    const token = accessTokenOf(request, params)
    if (token === undefined) return refuse(failure(401, "NO_AUTH_FOUND", "Wrong authorization data"))
    switch (options.tokens.check(token, start)) {
      case "unknown":
        return refuse(failure(401, "invalid_token", "The access token provided is invalid"))
      case "expired":
        return refuse(failure(401, "expired_token", "The access token provided has expired"))
      case "valid":
        break
    }
    if (!METHODS.includes(method)) return refuse(failure(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
    if (options.enforceOperating && options.operating.blocked(method, start)) {
      return refuse(failure(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."))
    }
    // The server time grows with the messages carried (a per-call cost plus one per message).
    const carried = listOf(param(params, "MESSAGES"))?.length ?? 0
    const snapshot = options.operating.record(method, start, carried)
    const cost = options.operating.costOf(carried)

    for (const name of ["CONNECTOR", "LINE", "MESSAGES"]) {
      if (isEmpty(param(params, name))) return refuse(argumentError(`Argument '${name}' is null or empty`))
    }
    const rawMessages = param(params, "MESSAGES")
    const list = listOf(rawMessages)
    if (list === undefined) return refuse(argumentError("The value of an argument 'MESSAGES' must be of type array"))
    const items = list.map(lowerKeys)
    if (!items.every(isRecord)) {
      return refuse(argumentError("The MESSAGES parameter must be an array of messages (arrays)"))
    }
    if (!items.every((item) => isRecord(item.user) && isRecord(item.message) && isRecord(item.chat))) {
      return refuse(argumentError("The incorrect structure of a message inside MESSAGES parameter"))
    }
    const poison = poisonIn(items as ReadonlyArray<Params>)
    if (poison !== undefined) return refuse(poison)
    const connector = textOf(param(params, "CONNECTOR")) ?? ""
    const lineText = textOf(param(params, "LINE")) ?? ""
    const line = /^\s*-?\d+/.test(lineText) ? Number.parseInt(lineText, 10) : 0
    if (lines.get(lineKey(connector, line))?.active !== true) return lineError(start, method)

    const result = items.map((item) => itemOf(method, connector, line, item as Params, start))
    const answer = (): Answer => ({
      status: 200,
      body: { result: { SUCCESS: true, DATA: { RESULT: result } }, time: time(start, snapshot, cost) }
    })
    return options.takeTime === undefined ? answer() : options.takeTime(cost).then(answer)
  }

  /** The refusal of the first poisoned message a call carries, if any. */
  const poisonIn = (items: ReadonlyArray<Params>): Answer | undefined => {
    if (poisoned.size === 0) return undefined
    for (const item of items) {
      const id = textOf((item.message as Params).id)
      const refusal = id === undefined ? undefined : poisoned.get(id)
      if (refusal !== undefined) return refusal
    }
    return undefined
  }

  const filesOf = (value: unknown): ReadonlyArray<File> =>
    (listOf(value) ?? []).flatMap((file) =>
      isRecord(file) && typeof file.url === "string" && file.url.length > 0
        ? [{ url: file.url, name: textOf(file.name) }]
        : []
    )

  const fileJson = (file: File) => ({ url: file.url, ...(file.name === undefined ? {} : { name: file.name }) })

  /** One item of `RESULT`. */
  const itemOf = (method: string, connector: string, line: number, item: Params, start: number): Params => {
    const userIn = item.user as Params
    const messageIn = item.message as Params
    const chatIn = item.chat as Params
    const authorId = textOf(userIn.id) ?? ""
    const chatId = textOf(chatIn.id) ?? ""
    const messageId = textOf(messageIn.id) ?? ""
    const text = textOf(messageIn.text)
    const files = filesOf(messageIn.files)
    const dateText = textOf(messageIn.date)
    const date = dateText !== undefined && /^\d+$/.test(dateText) ? Number(dateText) : Math.floor(start / 1000)
    const chatUrl = textOf(chatIn.url)
    const chatName = textOf(chatIn.name)
    const chat = {
      id: chatId,
      ...(chatName === undefined ? {} : { name: chatName }),
      ...(chatUrl === undefined || chatUrl.length === 0 ? {} : { description: `Link to the original post: ${chatUrl}` })
    }
    const isDelete = method === "imconnector.delete.messages"
    const message = isDelete
      ? {
          id: messageId,
          ...(messageIn.date === undefined ? {} : { date: {} }),
          ...(text === undefined ? {} : { text }),
          ...(messageIn.files === undefined ? {} : { files: files.map(fileJson) })
        }
      : {
          id: messageId,
          date: {},
          ...(text === undefined ? {} : { text }),
          ...(method === "imconnector.send.messages" || messageIn.files !== undefined
            ? { files: files.map(fileJson) }
            : {})
        }
    const missing =
      authorId.length === 0 ||
      chatId.length === 0 ||
      messageId.length === 0 ||
      (!isDelete && (text === undefined || text.length === 0) && files.length === 0)
    if (missing) {
      const known = authorId.length === 0 ? undefined : users.get(`${connector}\u0000${authorId}`)
      return {
        ...(known === undefined ? {} : { user: String(known.id) }),
        message,
        chat,
        SUCCESS: false,
        ERRORS: [MISSING_DATA]
      }
    }
    const { user, created } = userOf(connector, authorId, userIn)
    const key = messageKey(connector, line, chatId, messageId)
    const echo = { user: created ? user.id : String(user.id), message, chat }
    switch (method) {
      case "imconnector.send.messages": {
        const stored = store({ connector, line, chatId, messageId, authorId, text, files, date })
        const extra = {
          ...(userIn.skip_phone_validate === "Y" ? { skip_phone_validate: "Y" } : {}),
          ...(messageIn.disable_crm === "Y" ? { disable_tracker: "Y" } : {})
        }
        return {
          ...echo,
          ...(Object.keys(extra).length === 0 ? {} : { extra }),
          SUCCESS: true,
          session: { ID: String(stored.session.id), CHAT_ID: String(stored.session.chatId) }
        }
      }
      case "imconnector.update.messages": {
        // A message never sent (or deleted) "succeeds" too, and nothing changes: as on a real portal.
        const stored = messages.get(key)
        if (stored !== undefined && !stored.deleted) {
          stored.text = text
          stored.files = files
          stored.editedAt = date
          stored.history.push(text)
        }
        return { ...echo, SUCCESS: true }
      }
      default: {
        const stored = messages.get(key)
        if (stored !== undefined) stored.deleted = true
        return { ...echo, SUCCESS: true }
      }
    }
  }

  const handler: SandboxServer.Handler = (request) => {
    const path = request.path
    if (/^\/oauth\/token\/?$/.test(path)) return oauth(request)
    if (path.startsWith("/rest/")) {
      let method: string
      try {
        method = decodeURIComponent(path.slice("/rest/".length))
      } catch {
        method = path.slice("/rest/".length)
      }
      return rest(request, method)
    }
    return failure(404, "NOT_FOUND", `Nothing at ${path}: the sandbox serves /rest/<method> and /oauth/token/`)
  }

  return {
    handler,
    lines,
    users,
    messages,
    lineKey,
    messageKey,
    setLine,
    userOf: (connector, externalId, details) => userOf(connector, externalId, details),
    store,
    calls: (method) => callCounts.get(method.toLowerCase()) ?? 0,
    errors: (code) => errorCounts.get(code) ?? 0,
    poison: (messageId, refusal) => {
      poisoned.set(messageId, refusal)
    },
    cure: (messageId) => {
      if (messageId === undefined) poisoned.clear()
      else poisoned.delete(messageId)
    }
  }
}
