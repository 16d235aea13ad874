/**
 * What an application sets up on a sandbox portal once it is installed
 * (the provider's README, "Register the connector and activate it on an open
 * line"): `imconnector.register` (a refusal is HTTP 200 with `result.result`
 * false and an error code; registering the same `ID` again updates it),
 * `imconnector.activate` (`CONNECTOR`, `LINE`, `ACTIVE`; an unknown
 * connector is `IMCONNECTOR_NO_CORRECT_PROVIDER`), `imconnector.status`,
 * and `event.bind` / `event.get` / `event.unbind` (binding the same handler
 * twice is `400 ERROR_CORE` "Handler already binded", as portals answer).
 * The portal's state: the connectors registered, its lines (shared with the
 * message methods), the events bound.
 */
import { isEmpty, isRecord, type Params, param, textOf } from "./params.ts"
import { type Answer, failure, lineKey, type PortalState, setLine, time } from "./state.ts"

/** The setup methods the sandbox serves. */
export const SETUP_METHODS = [
  "imconnector.register",
  "imconnector.activate",
  "imconnector.status",
  "event.bind",
  "event.get",
  "event.unbind"
]

/** A connector as `imconnector.register` stored it. */
export interface Connector {
  readonly id: string
  readonly name: string
  readonly placementHandler: string
}

/** The setup a portal holds. */
export interface SetupState {
  readonly connectors: Map<string, Connector>
  /** Event name (upper case) to the handlers bound to it, in binding order. */
  readonly events: Map<string, Array<string>>
}

export const makeSetup = (): SetupState => ({ connectors: new Map(), events: new Map() })

const ok = (s: PortalState, method: string, start: number, result: unknown): Answer => ({
  status: 200,
  body: { result, time: time(s, start, s.options.operating.snapshot(method, start)) }
})

const register = (s: PortalState, params: Params, start: number): Answer => {
  const id = textOf(param(params, "ID"))?.toLowerCase()
  const icon = param(params, "ICON")
  const refusal = (error: string) => ok(s, "imconnector.register", start, { result: false, error })
  if (id === undefined || id === "") return refusal("CONNECTOR_ID_REQUIRED")
  if (!/^[a-z0-9_]+$/.test(id)) return refusal("CONNECTOR_ID_INCORRECT")
  const name = textOf(param(params, "NAME"))
  if (name === undefined || name === "") return refusal("NAME_REQUIRED")
  if (!isRecord(icon) || isEmpty(param(icon, "DATA_IMAGE"))) return refusal("ICON_REQUIRED")
  const placementHandler = textOf(param(params, "PLACEMENT_HANDLER"))
  if (placementHandler === undefined || placementHandler === "") return refusal("NO_PLACEMENT_HANDLER")
  s.setup.connectors.set(id, { id, name, placementHandler })
  return ok(s, "imconnector.register", start, { result: true })
}

const lineOf = (params: Params): number | undefined => {
  const text = textOf(param(params, "LINE")) ?? ""
  return /^\s*\d+\s*$/.test(text) ? Number.parseInt(text, 10) : undefined
}

const activate = (s: PortalState, params: Params, start: number, method: string): Answer => {
  const connector = textOf(param(params, "CONNECTOR"))?.toLowerCase()
  const line = lineOf(params)
  if (connector === undefined || connector === "") {
    return failure(400, "IMCONNECTOR_NOT_SPECIFIED_CORRECT_CONNECTOR", "The connector is not specified correctly")
  }
  if (line === undefined || line <= 0) return failure(400, "ERROR_ARGUMENT", "Argument 'LINE' is null or empty")
  if (!s.setup.connectors.has(connector)) {
    return failure(400, "IMCONNECTOR_NO_CORRECT_PROVIDER", "No registered connector with this code")
  }
  if (method === "imconnector.status") {
    const active = s.lines.get(lineKey(connector, line))?.active === true
    return ok(s, method, start, {
      LINE: line,
      CONNECTOR: connector,
      ACTIVE: active,
      CONNECTION: active,
      STATUS: active
    })
  }
  setLine(s, connector, line, textOf(param(params, "ACTIVE")) !== "0")
  return ok(s, method, start, true)
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/

const bind = (s: PortalState, params: Params, start: number): Answer => {
  const event = textOf(param(params, "EVENT"))?.toUpperCase()
  const handler = textOf(param(params, "HANDLER"))
  if (event === undefined || event === "" || handler === undefined || handler === "") {
    return failure(400, "ERROR_ARGUMENT", "Event and handler are required")
  }
  if (!URL.canParse(handler) || !LOOPBACK.test(new URL(handler).hostname)) {
    return failure(400, "ERROR_CORE", "The sandbox binds loopback handlers only")
  }
  const bound = s.setup.events.get(event) ?? []
  if (bound.includes(handler)) return failure(400, "ERROR_CORE", "Handler already binded")
  s.setup.events.set(event, [...bound, handler])
  s.options.operator?.bindEvent(event, handler)
  return ok(s, "event.bind", start, true)
}

const unbind = (s: PortalState, params: Params, start: number): Answer => {
  const event = textOf(param(params, "EVENT"))?.toUpperCase() ?? ""
  const handler = textOf(param(params, "HANDLER"))
  const bound = s.setup.events.get(event) ?? []
  const kept = bound.filter((one) => handler !== undefined && one !== handler)
  s.setup.events.set(event, kept)
  s.options.operator?.unbindEvent(event, kept[0])
  return ok(s, "event.unbind", start, { count: bound.length - kept.length })
}

/** Answers one of {@link SETUP_METHODS}, its gates passed. */
export const setupAnswer = (s: PortalState, method: string, params: Params, start: number): Answer => {
  switch (method) {
    case "imconnector.register":
      return register(s, params, start)
    case "imconnector.activate":
    case "imconnector.status":
      return activate(s, params, start, method)
    case "event.bind":
      return bind(s, params, start)
    case "event.unbind":
      return unbind(s, params, start)
    default:
      return ok(
        s,
        method,
        start,
        [...s.setup.events].flatMap(([event, handlers]) =>
          handlers.map((handler) => ({ event, handler, auth_type: 0, offline: 0 }))
        )
      )
  }
}
