/**
 * The sandbox's REST routes: the three imconnector message methods behind
 * the portal's gates, in a real portal's order (the leaky bucket, incoming
 * webhooks refused, the access token, the method, the operating-time limit,
 * the arguments, the line), each refusal answered and counted as the portal
 * answers it.
 */
import type { SandboxServer } from "@reword/core/sandbox"
import { itemOf } from "./items.ts"
import { isEmpty, isRecord, listOf, lowerKeys, type Params, param, paramsOf, textOf } from "./params.ts"
import { SETUP_METHODS, setupAnswer } from "./setup.ts"
import { type Answer, count, failure, lineKey, type PortalState, refuse, time } from "./state.ts"

/** The methods the sandbox serves. */
export const METHODS = ["imconnector.send.messages", "imconnector.update.messages", "imconnector.delete.messages"]

/** `imconnector.send.status.delivery`: served where the portal has an operator's side. */
export const STATUS_DELIVERY = "imconnector.send.status.delivery"

/** Methods that tell an application about itself and its user: what an install handler calls to check its token. */
export const INFO_METHODS = ["app.info", "profile"]

/** `app.info` and `profile`, answered as a portal answers them for an installed application. */
const infoOf = (s: PortalState, method: string, start: number): Answer => ({
  status: 200,
  body: {
    result:
      method === "app.info"
        ? {
            ID: 7,
            CODE: s.options.tokens.clientId,
            VERSION: 1,
            STATUS: "L",
            INSTALLED: true,
            PAYMENT_EXPIRED: "N",
            DAYS: null,
            LANGUAGE_ID: "en",
            LICENSE: "en_project"
          }
        : { ID: "1", ADMIN: true, NAME: "Sandbox", LAST_NAME: "Admin", PERSONAL_GENDER: "", TIME_ZONE: "" },
    time: time(s, start, s.options.operating.snapshot(method, start))
  }
})

const NOT_ACTIVE_LINE = "The line with this ID is inactive or does not exist"

const argumentError = (description: string): Answer => failure(400, "ERROR_ARGUMENT", description)

const accessTokenOf = (request: SandboxServer.SandboxRequest, params: Params): string | undefined => {
  const fromParams = textOf(param(params, "auth")) ?? textOf(param(params, "access_token"))
  if (fromParams !== undefined && fromParams.length > 0) return fromParams
  const header = request.headers.authorization
  const bearer = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null
  return bearer?.[1]
}

const lineError = (s: PortalState, start: number, method: string): Answer => {
  if (!s.options.oldLineErrors) return refuse(s, failure(400, "NOT_ACTIVE_LINE", NOT_ACTIVE_LINE))
  count(s.errorCounts, "NOT_ACTIVE_LINE")
  return {
    status: 200,
    body: {
      result: { SUCCESS: false, ERRORS: [{ message: NOT_ACTIVE_LINE, code: "NOT_ACTIVE_LINE", customData: null }] },
      time: time(s, start, s.options.operating.snapshot(method, start))
    }
  }
}

/** The refusal of a call the portal does not let through to the method, if it does not. */
const gate = (
  s: PortalState,
  request: SandboxServer.SandboxRequest,
  webhook: RegExpExecArray | null,
  method: string,
  start: number
): { readonly refused: Answer } | { readonly params: Params } => {
  if (s.options.bucket !== undefined && !s.options.bucket.take(start)) {
    return { refused: failure(503, "QUERY_LIMIT_EXCEEDED", "Too many requests") }
  }
  if (webhook !== null) {
    return METHODS.includes(method)
      ? { refused: failure(403, "WRONG_AUTH_TYPE", "Application context required") }
      : { refused: failure(404, "ERROR_METHOD_NOT_FOUND", "Method not found!") }
  }
  const params = paramsOf(request)
  const token = accessTokenOf(request, params)
  if (token === undefined) return { refused: failure(401, "NO_AUTH_FOUND", "Wrong authorization data") }
  switch (s.options.tokens.check(token, start)) {
    case "unknown":
      return { refused: failure(401, "invalid_token", "The access token provided is invalid") }
    case "expired":
      return { refused: failure(401, "expired_token", "The access token provided has expired") }
    case "valid":
      break
  }
  const served = METHODS.includes(method) || INFO_METHODS.includes(method) || SETUP_METHODS.includes(method)
  if (!served && !(method === STATUS_DELIVERY && s.options.operator !== undefined)) {
    return { refused: failure(404, "ERROR_METHOD_NOT_FOUND", "Method not found!") }
  }
  if (s.options.enforceOperating && s.options.operating.blocked(method, start)) {
    return { refused: failure(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.") }
  }
  return { params }
}

/** The call's messages, or the refusal of its arguments. */
const messagesOf = (s: PortalState, params: Params): { readonly refused: Answer } | { readonly items: Params[] } => {
  for (const name of ["CONNECTOR", "LINE", "MESSAGES"]) {
    if (isEmpty(param(params, name))) return { refused: argumentError(`Argument '${name}' is null or empty`) }
  }
  const list = listOf(param(params, "MESSAGES"))
  if (list === undefined) return { refused: argumentError("The value of an argument 'MESSAGES' must be of type array") }
  const items = list.map(lowerKeys)
  if (!items.every(isRecord)) {
    return { refused: argumentError("The MESSAGES parameter must be an array of messages (arrays)") }
  }
  if (!items.every((item) => isRecord(item.user) && isRecord(item.message) && isRecord(item.chat))) {
    return { refused: argumentError("The incorrect structure of a message inside MESSAGES parameter") }
  }
  const poison = poisonIn(s, items as ReadonlyArray<Params>)
  return poison !== undefined ? { refused: poison } : { items: items as Params[] }
}

/** The refusal of the first poisoned message a call carries, if any. */
const poisonIn = (s: PortalState, items: ReadonlyArray<Params>): Answer | undefined => {
  if (s.poisoned.size === 0) return undefined
  for (const item of items) {
    const id = textOf((item.message as Params).id)
    const refusal = id === undefined ? undefined : s.poisoned.get(id)
    if (refusal !== undefined) return refusal
  }
  return undefined
}

/** Answers `/rest/<path>`. */
export const rest = (s: PortalState, request: SandboxServer.SandboxRequest, path: string): Answer | Promise<Answer> => {
  const start = s.now()
  const webhook = /^(\d+)\/([^/]+)\/(.+)$/.exec(path)
  const method = (webhook?.[3] ?? path).toLowerCase().replace(/\.json$/, "")
  count(s.callCounts, method)
  const gated = gate(s, request, webhook, method, start)
  if ("refused" in gated) return refuse(s, gated.refused)
  if (INFO_METHODS.includes(method)) return infoOf(s, method, start)
  if (SETUP_METHODS.includes(method)) return refuse(s, setupAnswer(s, method, gated.params, start))
  if (method === STATUS_DELIVERY && s.options.operator !== undefined) {
    const body = s.options.operator.statusDelivery(gated.params) as Record<string, unknown>
    return { status: 200, body: { ...body, time: time(s, start, s.options.operating.snapshot(method, start)) } }
  }
  const params = gated.params
  // The server time grows with the messages carried (a per-call cost plus one per message).
  const carried = listOf(param(params, "MESSAGES"))?.length ?? 0
  const snapshot = s.options.operating.record(method, start, carried)
  const cost = s.options.operating.costOf(carried)
  const messages = messagesOf(s, params)
  if ("refused" in messages) return refuse(s, messages.refused)
  const connector = textOf(param(params, "CONNECTOR")) ?? ""
  const lineText = textOf(param(params, "LINE")) ?? ""
  const line = /^\s*-?\d+/.test(lineText) ? Number.parseInt(lineText, 10) : 0
  if (s.lines.get(lineKey(connector, line))?.active !== true) return lineError(s, start, method)
  const result = messages.items.map((item) => itemOf(s, method, connector, line, item, start))
  const answer = (): Answer => ({
    status: 200,
    body: { result: { SUCCESS: true, DATA: { RESULT: result } }, time: time(s, start, snapshot, cost) }
  })
  return s.options.takeTime === undefined ? answer() : s.options.takeTime(cost).then(answer)
}
