/**
 * The events Bitrix24 posts to an application's handler, decoded once at the
 * edge: the body (`application/x-www-form-urlencoded` with PHP-style nested
 * keys, or JSON), bounded in size, depth and fields, then the event by its
 * name through a Schema. Unknown fields are ignored; every value Bitrix24
 * sends as a string (numbers, `Y`/`N`) is read as such. Secrets (tokens,
 * `application_token`) come out `Redacted`. A body that is not an event this
 * module knows is an {@link EventRefused} with a reason class.
 *
 * This module decodes the application's lifecycle (`ONAPPINSTALL`,
 * `ONAPPUPDATE`, `ONAPPUNINSTALL`, {@link decode}) and the connector's
 * message events (`ONIMCONNECTORMESSAGEADD`, `...UPDATE`, `...DELETE`,
 * {@link decodeConnectorEvent}), which {@link verifyConnectorEvent} takes
 * from an HTTP request and checks against the portal's stored
 * `application_token` in constant time.
 *
 * @since 0.2.0
 */
import { InboundEvent } from "@reword/core"
import { Data, Effect, Redacted, Result, Schema } from "effect"
import * as Body from "./internal/events/body.ts"
import * as Messages from "./internal/events/messages.ts"

export { listOf } from "./internal/events/body.ts"

/**
 * How large an event body may be: 64 KiB, 8 levels, 2,000 fields by default.
 *
 * @since 0.2.0
 */
export interface Limits {
  readonly maxBytes?: number | undefined
  readonly maxDepth?: number | undefined
  readonly maxFields?: number | undefined
}

/**
 * The default limits.
 *
 * @since 0.2.0
 */
export const DEFAULT_LIMITS = { maxBytes: 65_536, maxDepth: 8, maxFields: 2_000 } as const

/**
 * What refused a body: too large (`TooLarge`), nested too deep (`TooDeep`),
 * not a form or JSON (`Malformed`), or not an event this module knows, or
 * one missing what it must carry (`Unsupported`); for a request, not a
 * `POST` (`WrongMethod`), or not proven to come from the portal: an unknown
 * `member_id`, a wrong `application_token`, another connector (`Forbidden`).
 *
 * @since 0.2.0
 */
export type RefusalReason = "TooLarge" | "TooDeep" | "Malformed" | "Unsupported" | "WrongMethod" | "Forbidden"

/**
 * An event body refused: `reason._tag` says why, `description` what. Never
 * carries a token nor the body.
 *
 * @since 0.2.0
 */
export class EventRefused extends Data.TaggedError("EventRefused")<{
  readonly problem: RefusalReason
  readonly description: string
}> {
  /** What to match on. */
  get reason(): { readonly _tag: RefusalReason } {
    return { _tag: this.problem }
  }
  override get message(): string {
    return `Bitrix24 event refused: ${this.problem}: ${this.description}`
  }
  override toJSON(): {
    readonly _tag: "EventRefused"
    readonly name: "EventRefused"
    readonly message: string
    readonly reason: { readonly _tag: RefusalReason }
  } {
    return { _tag: "EventRefused", name: "EventRefused", message: this.message, reason: this.reason }
  }
}
Object.defineProperty(EventRefused.prototype, "name", { value: "EventRefused" })

const refused = (problem: RefusalReason, description: string) => new EventRefused({ problem, description })

const Text = (max: number) => Schema.String.check(Schema.isMaxLength(max))
const Token = Text(512).check(Schema.isMinLength(1))

/** The `auth` block, as every lifecycle event carries it (tokens only in some). */
const Auth = Schema.Struct({
  member_id: Text(128).check(Schema.isMinLength(1)),
  application_token: Token,
  access_token: Schema.optional(Token),
  refresh_token: Schema.optional(Token),
  expires: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  expires_in: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  scope: Schema.optional(Text(2_048)),
  domain: Schema.optional(Text(255)),
  server_endpoint: Schema.optional(Text(2_048)),
  client_endpoint: Schema.optional(Text(2_048)),
  user_id: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  status: Schema.optional(Text(8))
})

const Envelope = Schema.Struct({
  event: Text(100),
  data: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  ts: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  auth: Auth
})

/**
 * What every lifecycle event says of the portal.
 *
 * @since 0.2.0
 */
export interface Portal {
  /** The portal's id: the tenant key of a multi-portal app. */
  readonly memberId: string
  /** The only proof the event comes from Bitrix24 (no signature exists). */
  readonly applicationToken: Redacted.Redacted<string>
  /** The portal's address (`acme.bitrix24.com`), where given. */
  readonly domain: string | undefined
  /** The portal's REST base (`https://acme.bitrix24.com/rest/`), where given. */
  readonly clientEndpoint: string | undefined
  /** The OAuth server's REST base, where given. */
  readonly serverEndpoint: string | undefined
  /** The application's status on the portal (`L`, `F`, `D`, `T`, `P`, `S`). */
  readonly status: string | undefined
  /** When the queue sent the event, Unix seconds. */
  readonly ts: number | undefined
}

/**
 * The tokens an install (and an update) carries.
 *
 * @since 0.2.0
 */
export interface Grant {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  /** When the access token expires, Unix seconds (from `expires`, else now + `expires_in`). */
  readonly expiresAt: number | undefined
  /** The scopes granted (comma- or space-separated in the wild). */
  readonly scope: ReadonlyArray<string>
  readonly userId: number | undefined
}

/**
 * `ONAPPINSTALL`: the application was installed on a portal (or again).
 *
 * @since 0.2.0
 */
export interface AppInstall extends Portal {
  readonly _tag: "AppInstall"
  readonly grant: Grant
  readonly version: string | undefined
  readonly languageId: string | undefined
  /** `data.ACTIVE` and `data.INSTALLED` (`Y`/`N`); `INSTALLED: N` until `installFinish`. */
  readonly active: boolean | undefined
  readonly installed: boolean | undefined
}

/**
 * `ONAPPUPDATE`: the application was updated on a portal; may carry new tokens.
 *
 * @since 0.2.0
 */
export interface AppUpdate extends Portal {
  readonly _tag: "AppUpdate"
  readonly grant: Grant | undefined
  readonly version: string | undefined
  readonly previousVersion: string | undefined
}

/**
 * `ONAPPUNINSTALL` (older pages: `ONAPPSUNINSTALL`): the application was
 * removed; `clean` is the administrator's choice to erase its data.
 *
 * @since 0.2.0
 */
export interface AppUninstall extends Portal {
  readonly _tag: "AppUninstall"
  readonly clean: boolean
}

/**
 * A lifecycle event.
 *
 * @since 0.2.0
 */
export type LifecycleEvent = AppInstall | AppUpdate | AppUninstall

type Envelope = typeof Envelope.Type

const textOf = (value: unknown): string | undefined =>
  typeof value === "string" ? value.slice(0, 200) : typeof value === "number" ? String(value) : undefined

const flagOf = (value: unknown): boolean | undefined => {
  const text = textOf(value)?.trim().toUpperCase()
  return text === "Y" || text === "1" || text === "TRUE"
    ? true
    : text === "N" || text === "0" || text === "FALSE"
      ? false
      : undefined
}

/** A number as Bitrix24 sends it: a number, or its digits as a string. */
const numberOf = (value: unknown): number | undefined => {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\s*-?\d{1,15}(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN
  return Number.isFinite(n) ? n : undefined
}

const portalOf = (e: Envelope): Portal => ({
  memberId: e.auth.member_id,
  applicationToken: Redacted.make(e.auth.application_token),
  domain: e.auth.domain,
  clientEndpoint: e.auth.client_endpoint,
  serverEndpoint: e.auth.server_endpoint,
  status: e.auth.status,
  ts: numberOf(e.ts)
})

const grantOf = (e: Envelope, nowSeconds: number): Grant | undefined => {
  const { access_token: access, refresh_token: refresh } = e.auth
  if (access === undefined || refresh === undefined) return undefined
  const expires = numberOf(e.auth.expires)
  const expiresIn = numberOf(e.auth.expires_in)
  return {
    accessToken: Redacted.make(access),
    refreshToken: Redacted.make(refresh),
    expiresAt: expires ?? (expiresIn === undefined ? undefined : nowSeconds + expiresIn),
    scope: (e.auth.scope ?? "").split(/[\s,]+/).filter((part) => part !== ""),
    userId: numberOf(e.auth.user_id)
  }
}

/**
 * The decoder of each event name this module knows (upper case), from its
 * decoded envelope. The connector's message events join here.
 *
 * @since 0.2.0
 */
export const decoders: Readonly<
  Record<string, (e: Envelope, nowSeconds: number) => Result.Result<LifecycleEvent, EventRefused>>
> = {
  ONAPPINSTALL: (e, now) => {
    const grant = grantOf(e, now)
    if (grant === undefined)
      return Result.fail(refused("Unsupported", "ONAPPINSTALL without access_token and refresh_token"))
    return Result.succeed({
      _tag: "AppInstall",
      ...portalOf(e),
      grant,
      version: textOf(e.data?.VERSION),
      languageId: textOf(e.data?.LANGUAGE_ID),
      active: flagOf(e.data?.ACTIVE),
      installed: flagOf(e.data?.INSTALLED)
    })
  },
  ONAPPUPDATE: (e, now) =>
    Result.succeed({
      _tag: "AppUpdate",
      ...portalOf(e),
      grant: grantOf(e, now),
      version: textOf(e.data?.VERSION),
      previousVersion: textOf(e.data?.PREVIOUS_VERSION)
    }),
  ONAPPUNINSTALL: (e) =>
    Result.succeed({ _tag: "AppUninstall", ...portalOf(e), clean: flagOf(e.data?.CLEAN) === true }),
  ONAPPSUNINSTALL: (e) =>
    Result.succeed({ _tag: "AppUninstall", ...portalOf(e), clean: flagOf(e.data?.CLEAN) === true })
}

const decodeEnvelope = Schema.decodeUnknownResult(Envelope)

const envelopeOf = (tree: Body.Tree): Result.Result<Envelope, EventRefused> => {
  const envelope = decodeEnvelope(tree, { errors: "first" })
  return Result.isFailure(envelope)
    ? Result.fail(
        refused("Unsupported", "the body is not a Bitrix24 event (event, auth.member_id, auth.application_token)")
      )
    : Result.succeed(envelope.success)
}

/**
 * A body as a tree of values (no event checked): the form or JSON parsed,
 * within the limits. What {@link decode} starts from.
 *
 * @since 0.2.0
 */
export const parseBody = (
  body: string | Uint8Array,
  contentType: string | undefined,
  limits: Limits = {}
): Result.Result<Body.Tree, EventRefused> => {
  const bounds = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) }
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength
  if (size > bounds.maxBytes)
    return Result.fail(refused("TooLarge", `the body is larger than ${bounds.maxBytes} bytes`))
  const text = typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: false }).decode(body)
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? ""
  const json = type === "application/json" || (type === "" && /^\s*[{[]/.test(text))
  if (!json && type !== "" && type !== "application/x-www-form-urlencoded") {
    return Result.fail(refused("Malformed", "the body must be application/x-www-form-urlencoded or application/json"))
  }
  const tree = json ? Body.parseJson(text, bounds) : Body.parseForm(text, bounds)
  return Body.isProblem(tree) ? Result.fail(refused(tree._tag, tree.description)) : Result.succeed(tree)
}

/**
 * Decodes an event body into a typed {@link LifecycleEvent}, or refuses it.
 * `nowSeconds` places `expires_in` in time when `expires` is missing.
 *
 * @example
 * ```ts
 * import { Events } from "@reword/bitrix24"
 * import { Result } from "effect"
 *
 * const body =
 *   "event=ONAPPUNINSTALL&data%5BCLEAN%5D=1&auth%5Bmember_id%5D=a223c6b3&auth%5Bapplication_token%5D=51856fef"
 * const event = Events.decode(body, "application/x-www-form-urlencoded")
 * if (Result.isSuccess(event)) console.log(event.success._tag, event.success.memberId) // AppUninstall a223c6b3
 * ```
 *
 * @since 0.2.0
 */
export const decode = (
  body: string | Uint8Array,
  contentType: string | undefined,
  options: Limits & { readonly nowSeconds?: number | undefined } = {}
): Result.Result<LifecycleEvent, EventRefused> =>
  Result.flatMap(Result.flatMap(parseBody(body, contentType, options), envelopeOf), (envelope) => {
    const name = envelope.event.trim().toUpperCase()
    const decoder = Object.hasOwn(decoders, name) ? decoders[name] : undefined
    if (decoder === undefined)
      return Result.fail(
        refused("Unsupported", `the event ${JSON.stringify(name.slice(0, 60))} is not one this handler takes`)
      )
    return decoder(envelope, options.nowSeconds ?? Math.floor(Date.now() / 1000))
  })

export type { ConnectorMessage, ExpectedToken } from "./internal/events/messages.ts"

/**
 * A connector's message event: `ONIMCONNECTORMESSAGEADD` (an operator wrote
 * in the open line: deliver it, then confirm with
 * `imconnector.send.status.delivery`), `...UPDATE` (the operator edited it),
 * `...DELETE` (the operator deleted it). `messages` are the `MESSAGES` (or,
 * in older pages, `DATA`) list, each `message.id` as a list.
 *
 * @since 0.3.0
 */
export interface ConnectorEvent extends Portal {
  readonly _tag: "ConnectorMessageAdd" | "ConnectorMessageUpdate" | "ConnectorMessageDelete"
  readonly connector: string
  readonly line: number
  readonly messages: ReadonlyArray<Messages.ConnectorMessage>
}

const TAGS = {
  add: "ConnectorMessageAdd",
  update: "ConnectorMessageUpdate",
  delete: "ConnectorMessageDelete"
} as const

/**
 * Decodes a connector message event body (form or JSON), or refuses it. The
 * token is not checked here: {@link verifyConnectorEvent} does.
 *
 * @since 0.3.0
 */
export const decodeConnectorEvent = (
  body: string | Uint8Array,
  contentType: string | undefined,
  limits: Limits = {}
): Result.Result<ConnectorEvent, EventRefused> =>
  Result.flatMap(Result.flatMap(parseBody(body, contentType, limits), envelopeOf), connectorOf)

/** A connector event from its envelope. */
const connectorOf = (envelope: Envelope): Result.Result<ConnectorEvent, EventRefused> => {
  const name = envelope.event.trim().toUpperCase()
  const kind = Object.hasOwn(Messages.KINDS, name) ? Messages.KINDS[name] : undefined
  if (kind === undefined) {
    return Result.fail(
      refused("Unsupported", `the event ${JSON.stringify(name.slice(0, 60))} is not a connector message event`)
    )
  }
  const data = Messages.dataOf(kind, envelope.data)
  if (typeof data === "string") return Result.fail(refused("Unsupported", data))
  return Result.succeed({ _tag: TAGS[kind], ...portalOf(envelope), ...data })
}

/**
 * Whether a presented `application_token` is the stored one, in constant
 * time (both sides hashed to SHA-256 first, so their lengths never differ).
 *
 * @since 0.3.0
 */
export const tokenMatches: (given: Redacted.Redacted<string>, expected: Messages.ExpectedToken | undefined) => boolean =
  Messages.tokenMatches

/**
 * What {@link verifyConnectorEvent} checks an event against: the stored
 * token of a portal (`undefined`: not a portal of this app), and the
 * connector this app registered (any when omitted).
 *
 * @since 0.3.0
 */
export interface Verification<E, R> {
  readonly expectedToken: (memberId: string) => Effect.Effect<Messages.ExpectedToken | undefined, E, R>
  readonly connector?: string | undefined
  readonly limits?: Limits | undefined
}

const contentTypeOf = (request: InboundEvent.HttpRequest) => InboundEvent.header(request, "content-type")

/**
 * From an HTTP request to a verified connector event, or an
 * {@link EventRefused}: a `POST`, a body within the limits, an event this
 * module knows, a `member_id` the app knows, its `application_token`
 * compared in constant time with the stored one, and (when given) this
 * app's connector. A refusal names neither the token nor the body.
 *
 * @example
 * ```ts
 * import { Events } from "@reword/bitrix24"
 * import { Effect, Redacted } from "effect"
 *
 * const body = new URLSearchParams({
 *   event: "ONIMCONNECTORMESSAGEUPDATE",
 *   "data[CONNECTOR]": "reword",
 *   "data[LINE]": "7",
 *   "data[MESSAGES][0][im][chat_id]": "1807",
 *   "data[MESSAGES][0][im][message_id]": "86501",
 *   "data[MESSAGES][0][message][id][0]": "512",
 *   "data[MESSAGES][0][message][text]": "[b]Anna:[/b][br]See you at 10.",
 *   "data[MESSAGES][0][chat][id]": "tg:42",
 *   "auth[member_id]": "a223c6b3",
 *   "auth[application_token]": "51856fef"
 * }).toString()
 * const request = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }
 * const event = await Effect.runPromise(
 *   Events.verifyConnectorEvent(request, {
 *     expectedToken: (memberId) => Effect.succeed(memberId === "a223c6b3" ? { token: Redacted.make("51856fef") } : undefined)
 *   })
 * )
 * console.log(event._tag, event.messages[0]?.externalIds) // ConnectorMessageUpdate [ '512' ]
 * ```
 *
 * @since 0.3.0
 */
export const verifyConnectorEvent = <E, R>(
  request: InboundEvent.HttpRequest,
  verification: Verification<E, R>
): Effect.Effect<ConnectorEvent, EventRefused | E, R> =>
  Effect.gen(function* () {
    if (request.method.toUpperCase() !== "POST") {
      return yield* Effect.fail(refused("WrongMethod", "Bitrix24 posts events: the method must be POST"))
    }
    // The proof first (the auth block), then what the event says.
    const envelope = yield* Effect.fromResult(
      Result.flatMap(parseBody(request.body, contentTypeOf(request), verification.limits), envelopeOf)
    )
    const expected = yield* verification.expectedToken(envelope.auth.member_id)
    if (!Messages.tokenMatches(Redacted.make(envelope.auth.application_token), expected)) {
      return yield* Effect.fail(
        refused("Forbidden", "the member_id is not a portal of this application, or its application_token is wrong")
      )
    }
    const event = yield* Effect.fromResult(connectorOf(envelope))
    if (verification.connector !== undefined && verification.connector !== event.connector) {
      return yield* Effect.fail(refused("Forbidden", "the event is for another connector"))
    }
    return event
  })

/**
 * The neutral inbound events of a connector event, one per message (a
 * deletion: one per external id). An added message has no external id yet:
 * its `externalMessageId` is Bitrix24's `im.message_id`. `eventId` is
 * `bitrix24:<member_id>:<kind>:<message id>:<SHA-256 of the text>`, since
 * Bitrix24 gives events no id: the same edit posted twice has the same key.
 *
 * @since 0.3.0
 */
export const toInbound: (event: ConnectorEvent) => ReadonlyArray<InboundEvent.InboundEvent> = Messages.inboundOf
