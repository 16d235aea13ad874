/**
 * Many sandbox portals behind one local server, as a marketplace application
 * meets them: one application (one client id and secret), one OAuth server
 * (`/oauth/token/`, which knows each portal's rotating refresh token), and
 * any number of portals at `http://127.0.0.1:<port>/p/<member_id>/`, each
 * with its own `member_id`, `application_token`, tokens, leaky bucket,
 * operating time, lines and messages. Each portal is a full
 * {@link Bitrix24Sandbox.Sandbox} (seed, inspect, expire, poison), plus what
 * its lifecycle needs: the install and uninstall events it would post, and
 * posting them to the application's handler. Node only; import it from
 * `@reword/bitrix24/sandbox`.
 *
 * @example
 * ```ts
 * import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
 *
 * const portals = await Bitrix24Portals.start()
 * const acme = portals.add({ bucket: "enterprise" })
 * console.log(acme.memberId, acme.url) // <member_id> http://127.0.0.1:<port>/p/<member_id>
 * await portals.stop()
 * ```
 *
 * @since 0.2.0
 */
import { randomBytes } from "node:crypto"
import { SandboxServer } from "@reword/core/sandbox"
import type * as Bitrix24Sandbox from "./Bitrix24Sandbox.ts"
import * as Bucket from "./internal/sandbox/bucket.ts"
import * as Handle from "./internal/sandbox/handle.ts"
import * as Operating from "./internal/sandbox/operating.ts"
import * as Operator from "./internal/sandbox/operator.ts"
import * as Resolve from "./internal/sandbox/options.ts"
import { parseForm, textOf } from "./internal/sandbox/params.ts"
import * as PortalRoutes from "./internal/sandbox/portal.ts"
import * as Tokens from "./internal/sandbox/tokens.ts"

export type {
  /** An operator's message, as the portal holds it. @since 0.3.0 */
  OperatorMessage,
  /** One connector event the portal posted, and the handler's answer. @since 0.3.0 */
  PostedEvent
} from "./internal/sandbox/operator.ts"

/**
 * Options of the server: the application's credentials, and the defaults of every portal added.
 *
 * @since 0.2.0
 */
export interface Options
  extends Pick<
    Bitrix24Sandbox.Options,
    "port" | "clientId" | "clientSecret" | "accessTokenTtl" | "bucket" | "operatingLimit" | "logLimit" | "maxBodyBytes"
  > {}

/**
 * Options of one portal (each defaults to the server's).
 *
 * @since 0.2.0
 */
export interface PortalOptions
  extends Pick<
    Bitrix24Sandbox.Options,
    "accessToken" | "refreshToken" | "connector" | "line" | "accessTokenTtl" | "bucket" | "operatingLimit"
  > {
  /** The portal's id (32 hex digits by default). */
  readonly memberId?: string | undefined
  /** The token that proves its events (32 hex digits by default). */
  readonly applicationToken?: string | undefined
  /**
   * Whether the portal's connector is already registered and active on its
   * line (default true). `false`: a portal as an install finds it, where the
   * application registers the connector, activates it and binds its events.
   */
  readonly setUp?: boolean | undefined
}

/**
 * What the application set up on a portal: the connectors registered
 * (`imconnector.register`), the lines where a connector is active
 * (`imconnector.activate`), the handlers bound to each event (`event.bind`,
 * event names in upper case).
 *
 * @since 0.3.0
 */
export interface Setup {
  readonly connectors: ReadonlyArray<{ readonly id: string; readonly name: string; readonly placementHandler: string }>
  readonly activeLines: ReadonlyArray<{ readonly connector: string; readonly line: number }>
  readonly events: Readonly<Record<string, ReadonlyArray<string>>>
}

/**
 * One portal: a sandbox of its own, with its lifecycle.
 *
 * @since 0.2.0
 */
export interface Portal extends Bitrix24Sandbox.Sandbox {
  readonly memberId: string
  readonly applicationToken: string
  /** Revokes the application's grant on this portal: access tokens expire, the refresh token gets `invalid_grant`. */
  readonly revokeRefreshToken: () => void
  /** The `ONAPPINSTALL` event this portal posts (form fields, PHP-style keys), with its current tokens. */
  readonly installEvent: () => Readonly<Record<string, string>>
  /** The `ONAPPUNINSTALL` event, with `CLEAN` as given. */
  readonly uninstallEvent: (clean: boolean) => Readonly<Record<string, string>>
  /** Posts {@link Portal.installEvent} to the handler (a loopback URL): its answer's status and body. */
  readonly install: (handlerUrl: string) => Promise<{ readonly status: number; readonly body: string }>
  /** Posts {@link Portal.uninstallEvent} to the handler, and revokes the grant. */
  readonly uninstall: (
    handlerUrl: string,
    options?: { readonly clean?: boolean | undefined }
  ) => Promise<{ readonly status: number; readonly body: string }>
  /** What the application set up on the portal (connectors, active lines, bound events). @since 0.3.0 */
  readonly setup: () => Setup
  /**
   * Where the connector's events go, as if `event.bind` had bound all three: a
   * loopback URL. An event no handler is bound to is logged as undelivered.
   */
  readonly bindEvents: (handlerUrl: string) => void
  /**
   * An operator answers in the open line of external chat `chatId`: posts
   * `ONIMCONNECTORMESSAGEADD` (once, never again). The text is signed
   * (`[b]Name:[/b][br]`) unless {@link Portal.setSignature} turned it off.
   */
  readonly operatorSends: (
    chatId: string,
    text: string,
    operator?: { readonly id: number; readonly name: string }
  ) => Operator.OperatorMessage
  /** The operator edits a message: `ONIMCONNECTORMESSAGEUPDATE`, only if it carries the connector's ids. */
  readonly operatorEdits: (imMessageId: number, text: string) => Operator.OperatorMessage
  /** The operator deletes a message: `ONIMCONNECTORMESSAGEDELETE`, only if it carries the connector's ids. */
  readonly operatorDeletes: (imMessageId: number) => Operator.OperatorMessage
  /** An operator's message by Bitrix24's id. */
  readonly operatorMessage: (imMessageId: number) => Operator.OperatorMessage | undefined
  /** Echo mode (older self-hosted modules): `imconnector.update.messages` raises an update event too. Default off. */
  readonly setEcho: (on: boolean) => void
  /** Whether operators' texts are signed with their name (default on, as the connector's `NEED_SIGNATURE`). */
  readonly setSignature: (on: boolean) => void
  /** Every connector event posted, with the handler's answer, oldest first. */
  readonly postedEvents: () => ReadonlyArray<Operator.PostedEvent>
  /** Resolves once every event posted so far was answered (or failed). */
  readonly eventsSettled: () => Promise<void>
}

/**
 * The running server.
 *
 * @since 0.2.0
 */
export interface Portals {
  /** `http://127.0.0.1:<port>`: the OAuth server's address, and the portals' origin. */
  readonly url: string
  readonly clientId: string
  readonly clientSecret: string
  /** The request log and faults, shared by every portal. */
  readonly server: SandboxServer.SandboxServer
  /** Adds a portal. */
  readonly add: (options?: PortalOptions) => Portal
  readonly portal: (memberId: string) => Portal | undefined
  readonly portals: () => ReadonlyArray<Portal>
  readonly stop: () => Promise<void>
}

const hex = () => randomBytes(16).toString("hex")

/** Posts a form to a loopback URL (the application's handler). */
const post = async (handlerUrl: string, fields: Readonly<Record<string, string>>) => {
  const url = new URL(handlerUrl)
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)) {
    throw new TypeError("the sandbox posts events to a loopback address only")
  }
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields as Record<string, string>).toString(),
    signal: AbortSignal.timeout(60_000)
  })
  return { status: response.status, body: await response.text() }
}

interface Entry {
  readonly portal: Portal
  readonly routes: PortalRoutes.Portal
  readonly tokens: Tokens.Tokens
}

/**
 * Starts the server on 127.0.0.1, with no portal yet.
 *
 * @since 0.2.0
 */
export const start = async (options: Options = {}): Promise<Portals> => {
  const app = Resolve.resolve({ clientId: options.clientId, clientSecret: options.clientSecret })
  const entries = new Map<string, Entry>()
  const oauth = (request: SandboxServer.SandboxRequest) => {
    const refresh = textOf({ ...parseForm(request.query.toString()), ...parseForm(request.text) }.refresh_token)
    for (const entry of entries.values()) {
      if (refresh !== undefined && entry.tokens.issuedRefresh(refresh)) return entry.routes.handler(request)
    }
    // No portal holds it: the first portal's route answers (invalid_grant, or the client's error).
    const any = entries.values().next().value
    return any === undefined
      ? PortalRoutes.failure(400, "invalid_grant", "Invalid grant")
      : any.routes.handler({
          ...request,
          query: new URLSearchParams(),
          text: "grant_type=refresh_token&refresh_token=-&client_id=-"
        })
  }
  const router: SandboxServer.Handler = (request) => {
    if (/^\/oauth\/token\/?$/.test(request.path)) return oauth(request)
    const match = /^\/p\/([^/]+)(\/.*)$/.exec(request.path)
    const entry = match === null ? undefined : entries.get(match[1] as string)
    if (match === null || entry === undefined) {
      return PortalRoutes.failure(
        404,
        "NOT_FOUND",
        "No portal at this address: portals are served at /p/<member_id>/rest/<method>"
      )
    }
    return entry.routes.handler({ ...request, path: match[2] as string })
  }
  const { server, stop } = await SandboxServer.host(router, {
    port: options.port,
    logLimit: options.logLimit,
    maxBodyBytes: options.maxBodyBytes,
    internalError: (message) => PortalRoutes.failure(500, "INTERNAL_SERVER_ERROR", message)
  })
  const add = (given: PortalOptions = {}): Portal => {
    const memberId = given.memberId ?? hex()
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(memberId) || entries.has(memberId)) {
      throw new TypeError("memberId must be new, and 1 to 64 letters, digits, _ or -")
    }
    const entry = makePortal(server, memberId, given, options, app)
    entries.set(memberId, entry)
    return entry.portal
  }
  return {
    url: server.url,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    server,
    add,
    portal: (memberId) => entries.get(memberId)?.portal,
    portals: () => [...entries.values()].map((entry) => entry.portal),
    stop
  }
}

const makePortal = (
  server: SandboxServer.SandboxServer,
  memberId: string,
  given: PortalOptions,
  defaults: Options,
  app: { readonly clientId: string; readonly clientSecret: string }
): Entry => {
  const resolved = Resolve.resolve({
    ...given,
    accessTokenTtl: given.accessTokenTtl ?? defaults.accessTokenTtl,
    bucket: given.bucket ?? defaults.bucket,
    operatingLimit: given.operatingLimit ?? defaults.operatingLimit,
    clientId: app.clientId,
    clientSecret: app.clientSecret
  })
  const applicationToken = given.applicationToken ?? hex()
  const url = `${server.url}/p/${memberId}`
  const now = resolved.clock()
  const tokens = Tokens.make({ ...resolved, now })
  const operating = Operating.make(resolved.operating)
  const enforceOperating = (given.operatingLimit ?? defaults.operatingLimit) !== false
  const operator = Operator.make({
    memberId,
    applicationToken,
    domain: new URL(url).host,
    now: resolved.clock
  })
  const routes = PortalRoutes.make({
    operator,
    url: () => url,
    memberId,
    tokens,
    bucket: resolved.bucket === undefined ? undefined : Bucket.make(resolved.bucket, now),
    operating,
    enforceOperating,
    oldLineErrors: false,
    now: resolved.clock,
    takeTime: resolved.takeTime
  })
  if (given.setUp !== false) routes.setLine(resolved.connector, resolved.line, true)
  const sandbox = Handle.sandboxOf({
    resolved,
    url,
    server,
    stop: async () => {},
    portal: routes,
    tokens,
    operating,
    enforceOperating
  })
  const auth = () => ({
    "auth[domain]": new URL(url).host,
    "auth[client_endpoint]": `${url}/rest/`,
    "auth[server_endpoint]": `${server.url}/rest/`,
    "auth[member_id]": memberId,
    "auth[application_token]": applicationToken,
    "auth[status]": "L"
  })
  const installEvent = () => ({
    event: "ONAPPINSTALL",
    "data[VERSION]": "1",
    "data[ACTIVE]": "Y",
    "data[INSTALLED]": "Y",
    "data[LANGUAGE_ID]": "en",
    ts: String(Math.floor(resolved.clock() / 1000)),
    ...auth(),
    "auth[access_token]": tokens.current().accessToken,
    "auth[refresh_token]": tokens.current().refreshToken,
    "auth[expires_in]": "3600",
    "auth[scope]": "imopenlines,imconnector",
    "auth[user_id]": "1"
  })
  const uninstallEvent = (clean: boolean) => ({
    event: "ONAPPUNINSTALL",
    "data[LANGUAGE_ID]": "en",
    "data[CLEAN]": clean ? "1" : "0",
    ts: String(Math.floor(resolved.clock() / 1000)),
    ...auth()
  })
  const portal: Portal = {
    ...sandbox,
    memberId,
    applicationToken,
    revokeRefreshToken: tokens.revoke,
    installEvent,
    uninstallEvent,
    install: (handlerUrl) => post(handlerUrl, installEvent()),
    uninstall: async (handlerUrl, uninstallOptions = {}) => {
      const answer = await post(handlerUrl, uninstallEvent(uninstallOptions.clean === true))
      tokens.revoke()
      return answer
    },
    setup: () => ({
      connectors: [...routes.setup.connectors.values()].map((connector) => ({ ...connector })),
      activeLines: [...routes.lines.values()]
        .filter((line) => line.active)
        .map((line) => ({ connector: line.connector, line: line.line })),
      events: Object.fromEntries([...routes.setup.events].map(([event, handlers]) => [event, [...handlers]]))
    }),
    bindEvents: operator.bind,
    operatorSends: (chatId, text, who = { id: 9, name: "Anna Smith" }) => {
      const known = [...routes.messages.values()].find(
        (message) => message.chatId === chatId && message.connector === resolved.connector
      )
      return operator.send({
        connector: resolved.connector,
        line: resolved.line,
        chatId,
        imChatId: known?.session.chatId ?? 1,
        text,
        operator: who
      })
    },
    operatorEdits: operator.edit,
    operatorDeletes: operator.remove,
    operatorMessage: (imMessageId) => operator.messages.get(imMessageId),
    setEcho: operator.setEcho,
    setSignature: operator.setSignature,
    postedEvents: () => [...operator.posted],
    eventsSettled: operator.settled
  }
  return { portal, routes, tokens }
}
