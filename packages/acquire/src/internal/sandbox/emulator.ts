/**
 * The state and the routes of the Acquire sandbox: cases and messages in
 * memory, API keys with their access, the four messenger endpoints reword
 * uses, and answers shaped on the documented ones (`./answers.ts`). The server
 * itself (loopback HTTP, request log, faults) is core's `SandboxServer`.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { documentedGetAnswer, documentedSendAnswer, documentedUpdateAnswer } from "./answers.ts"
import type { Access, Case, Message } from "./model.ts"

type Writable<T> = { -readonly [K in keyof T]: T[K] }

/** A case as the emulator holds it. */
export type CaseRecord = Writable<Case>

/** A message as the emulator holds it. */
export type MessageRecord = Writable<Omit<Message, "history">> & { readonly history: Array<string> }

type Answer = SandboxServer.SandboxAnswer

/** The first case and message ids are those of the documentation's examples (case 2069, message 8288). */
const FIRST_CASE_ID = 2069
const FIRST_MESSAGE_ID = 8288
const FIRST_CONTACT_ID = 597759

const MESSAGE_TYPES: ReadonlyArray<Message["type"]> = ["message", "note", "event"]

/**
 * An error answer. Acquire documents its error types and statuses but shows no
 * error body: the sandbox answers `{ status, type, message }`.
 */
export const failure = (status: number, type: string, message: string): Answer => ({
  status,
  body: { status, type, message }
})

const notFound = (what: string): Answer => failure(400, "ERROR_RECORD_NOT_FOUND", `${what} not found`)
const invalidInput = (message: string): Answer => failure(400, "ERROR_INVALID_INPUT", message)

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The `message` object of a request body: `{ type, message, translateLangKey? }`, or what is wrong with it. */
const contentOf = (
  body: unknown
): { readonly type: Message["type"]; readonly text: string; readonly lang: string | undefined } | string => {
  if (!isRecord(body) || !isRecord(body.message)) return "message must be an object"
  const { type, message, translateLangKey } = body.message
  if (typeof type !== "string" || !(MESSAGE_TYPES as ReadonlyArray<string>).includes(type)) {
    return "message.type must be message, note or event"
  }
  if (typeof message !== "string" || message.length === 0) return "message.message must be a non-empty string"
  if (translateLangKey !== undefined && typeof translateLangKey !== "string") {
    return "message.translateLangKey must be a string"
  }
  return { type: type as Message["type"], text: message, lang: translateLangKey }
}

/** The sandbox's one agent, shaped like the documented `sender`. */
const AGENT = {
  ...documentedUpdateAnswer.data.sender,
  id: 1,
  name: "Sandbox Agent",
  firstName: "Sandbox Agent",
  email: "agent@sandbox.invalid"
}

const senderOf = (message: MessageRecord) =>
  message.senderType === "user"
    ? { senderId: AGENT.id, sender: AGENT }
    : {
        senderId: message.contactId,
        sender: { type: "contact", id: message.contactId, name: `#${message.contactId}`, photo: null }
      }

/** What the `case` of an update answer and of a send answer both say of the case (the rest is the documented one's). */
const caseFields = (kase: CaseRecord) => ({
  dateCreated: kase.dateCreated,
  dateUpdated: kase.dateUpdated,
  id: kase.id,
  visitId: kase.id - 690,
  title: `#${kase.contactId} has just started a chat`,
  description: "Opened in the reword sandbox",
  status: kase.status,
  dateQueue: kase.dateCreated,
  datePending: kase.dateCreated,
  dateActive: kase.dateCreated,
  dateClosed: kase.dateClosed,
  parentId: kase.threadId,
  threadId: kase.threadId
})

/** The `case` of an update answer, shaped like the documented one. */
const updateCaseJson = (kase: CaseRecord) => ({
  ...documentedUpdateAnswer.data.case,
  ...caseFields(kase),
  contactId: kase.contactId
})

/** The `case` of a send answer, shaped like the documented one: with its `contact` and `users`. */
const sendCaseJson = (kase: CaseRecord) => {
  const template = documentedSendAnswer.data.case
  const [agent, contact] = template.users
  return {
    ...template,
    ...caseFields(kase),
    contact: { ...template.contact, dateCreated: kase.dateCreated, dateUpdated: kase.dateCreated, id: kase.contactId },
    users: [
      {
        ...agent,
        id: kase.id * 2,
        caseId: kase.id,
        userId: AGENT.id,
        dateCreated: kase.dateCreated,
        dateLastAssigned: kase.dateCreated,
        user: { ...agent.user, id: AGENT.id, name: AGENT.name, firstName: AGENT.firstName, email: AGENT.email }
      },
      {
        ...contact,
        id: kase.id * 2 + 1,
        caseId: kase.id,
        userId: kase.contactId,
        dateCreated: kase.dateCreated,
        dateLastAssigned: kase.dateCreated,
        user: { ...contact.user, id: kase.contactId, name: `#${kase.contactId}` }
      }
    ]
  }
}

/** The documented answer of `POST /crm/messenger/chat/add-message`, for this message. */
const sendAnswer = (message: MessageRecord, kase: CaseRecord) => ({
  data: {
    ...documentedSendAnswer.data,
    senderType: message.senderType,
    senderId: senderOf(message).senderId,
    type: message.type,
    message: message.text,
    meta: {},
    dateCreated: message.dateCreated,
    case: sendCaseJson(kase),
    sender: senderOf(message).sender,
    dateUpdated: message.dateUpdated,
    id: message.id,
    caseId: message.caseId,
    threadId: message.threadId,
    contactId: kase.contactId
  }
})

/** The documented answer of `POST /crm/messenger/chat/message/{messageId}`, for this message. */
const updateAnswer = (message: MessageRecord, kase: CaseRecord) => ({
  data: {
    ...documentedUpdateAnswer.data,
    id: message.id,
    ...senderOf(message),
    senderType: message.senderType,
    type: message.type,
    message: message.text,
    dateCreated: message.dateCreated,
    dateUpdated: message.dateUpdated,
    case: updateCaseJson(kase),
    caseId: message.caseId,
    threadId: message.threadId
  }
})

/** The documented answer of `GET /crm/objects/case-message/{messageId}`: no `case`, no `threadId`. */
const getAnswer = (message: MessageRecord) => ({
  data: {
    ...documentedGetAnswer.data,
    id: message.id,
    caseId: message.caseId,
    ...senderOf(message),
    senderType: message.senderType,
    type: message.type,
    message: message.text,
    dateCreated: message.dateCreated,
    dateUpdated: message.dateUpdated
  }
})

const now = (): string => new Date().toISOString()

/** What a message needs to be stored. */
export interface NewMessage {
  readonly caseId: number
  readonly text: string
  readonly type?: Message["type"] | undefined
  readonly senderType?: Message["senderType"] | undefined
  readonly translateLangKey?: string | undefined
  /** The id to use; a new one when omitted. */
  readonly id?: number | undefined
}

/** The emulator: state, and the handler that serves it. */
export interface Emulator {
  readonly cases: Map<number, CaseRecord>
  readonly messages: Map<number, MessageRecord>
  readonly keys: Map<string, Access>
  readonly openCase: (contactId?: number) => CaseRecord
  readonly closeCase: (caseId: number) => CaseRecord | undefined
  /** Stores a message in an existing case; throws when the case is unknown or the id taken. */
  readonly store: (input: NewMessage) => MessageRecord
  readonly handler: SandboxServer.Handler
}

const MESSAGE_PATH = /^\/api\/v1\/crm\/messenger\/chat\/message\/([0-9]+)$/
const OBJECT_PATH = /^\/api\/v1\/crm\/objects\/case-message\/([0-9]+)$/
const SEND_PATH = "/api/v1/crm/messenger/chat/add-message"

type Route =
  | { readonly _tag: "Send" }
  | { readonly _tag: "Update"; readonly id: number }
  | { readonly _tag: "Get"; readonly id: number }
  | { readonly _tag: "Delete"; readonly id: number }

const routeOf = (method: string, path: string): Route | undefined => {
  if (method === "POST" && path === SEND_PATH) return { _tag: "Send" }
  const message = MESSAGE_PATH.exec(path)
  if (method === "POST" && message !== null) return { _tag: "Update", id: Number(message[1]) }
  const object = OBJECT_PATH.exec(path)
  if (object !== null && method === "GET") return { _tag: "Get", id: Number(object[1]) }
  if (object !== null && method === "DELETE") return { _tag: "Delete", id: Number(object[1]) }
  return undefined
}

/** Creates an empty emulator. */
export const make = (): Emulator => {
  const cases = new Map<number, CaseRecord>()
  const messages = new Map<number, MessageRecord>()
  const keys = new Map<string, Access>()
  let nextCaseId = FIRST_CASE_ID
  let nextMessageId = FIRST_MESSAGE_ID
  let nextContactId = FIRST_CONTACT_ID

  const openCase = (contactId?: number): CaseRecord => {
    const id = nextCaseId++
    const at = now()
    const kase: CaseRecord = {
      id,
      contactId: contactId ?? nextContactId++,
      threadId: id - 194,
      status: "active",
      dateCreated: at,
      dateUpdated: at,
      dateClosed: null
    }
    cases.set(id, kase)
    return kase
  }

  const closeCase = (caseId: number): CaseRecord | undefined => {
    const kase = cases.get(caseId)
    if (kase !== undefined && kase.status === "active") {
      kase.status = "closed"
      kase.dateClosed = kase.dateUpdated = now()
    }
    return kase
  }

  const store = (input: NewMessage): MessageRecord => {
    const kase = cases.get(input.caseId)
    if (kase === undefined) throw new Error(`The sandbox has no case ${input.caseId}`)
    const id = input.id ?? nextMessageId
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`${id} is not an Acquire message id (a positive integer)`)
    if (messages.has(id)) throw new Error(`The sandbox already has a message ${id}`)
    nextMessageId = Math.max(nextMessageId, id + 1)
    const message: MessageRecord = {
      id,
      caseId: kase.id,
      threadId: kase.threadId,
      contactId: kase.contactId,
      senderType: input.senderType ?? "user",
      type: input.type ?? "message",
      text: input.text,
      translateLangKey: input.translateLangKey,
      dateCreated: now(),
      dateUpdated: null,
      history: [input.text]
    }
    messages.set(id, message)
    kase.dateUpdated = message.dateCreated
    return message
  }

  const send = (request: SandboxServer.SandboxRequest, body: unknown): Answer => {
    const senderType = request.query.get("x-user-type")
    if (senderType !== "user" && senderType !== "contact") return invalidInput("x-user-type must be user or contact")
    const content = contentOf(body)
    if (typeof content === "string") return invalidInput(content)
    const caseId = isRecord(body) ? body.caseId : undefined
    if (typeof caseId !== "number") return invalidInput("caseId must be a number")
    const kase = cases.get(caseId)
    if (kase === undefined) return notFound("Case")
    if (kase.status !== "active") return invalidInput("Only active cases take messages")
    const message = store({
      caseId,
      text: content.text,
      type: content.type,
      senderType,
      translateLangKey: content.lang
    })
    return { status: 200, body: sendAnswer(message, kase) }
  }

  const update = (id: number, body: unknown): Answer => {
    const message = messages.get(id)
    if (message === undefined) return notFound("Message")
    const content = contentOf(body)
    if (typeof content === "string") return invalidInput(content)
    const kase = cases.get(message.caseId)
    if (kase === undefined) return notFound("Case")
    message.type = content.type
    message.text = content.text
    message.translateLangKey = content.lang
    message.dateUpdated = now()
    message.history.push(content.text)
    return { status: 200, body: updateAnswer(message, kase) }
  }

  const handler: SandboxServer.Handler = (request) => {
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")
    const access = bearer === null ? undefined : keys.get(bearer[1] as string)
    if (access === undefined) return failure(401, "ERROR_UNAUTHORIZED", "Missing, incorrect, or invalid API Key")
    const route = routeOf(request.method, request.path)
    if (route === undefined) return { status: 404, body: { status: 404, message: "No such object" } }
    const writes = route._tag !== "Get"
    if (access === "none" || (writes && access !== "full")) {
      return failure(
        403,
        "ERROR_UNAUTHORIZED_ACCESS",
        `This API key has no permission to ${writes ? "change" : "read"} cases and their messages`
      )
    }
    let body: unknown
    if (request.text.length > 0) {
      try {
        body = JSON.parse(request.text)
      } catch {
        return invalidInput("The body is not JSON")
      }
    }
    switch (route._tag) {
      case "Send":
        return send(request, body)
      case "Update":
        return update(route.id, body)
      case "Get": {
        const message = messages.get(route.id)
        return message === undefined ? notFound("Message") : { status: 200, body: getAnswer(message) }
      }
      case "Delete": {
        if (!messages.delete(route.id)) return notFound("Message")
        return { status: 200, body: { data: { deleted: 1 } } }
      }
    }
  }

  return { cases, messages, keys, openCase, closeCase, store, handler }
}
