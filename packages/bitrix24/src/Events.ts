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
 * `ONAPPUPDATE`, `ONAPPUNINSTALL`); the connector's message events are in
 * `ConnectorEvents` (`@reword/bitrix24/connector-events`).
 *
 * @since 0.2.0
 */
import { Refusal } from "@reword/core/adapter"
import { Redacted, Result } from "effect"
import * as Body from "./internal/events/body.ts"
import * as Envelope from "./internal/events/envelope.ts"

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
export type RefusalReason = Refusal.Reason

/**
 * An event body refused: `reason._tag` says why, `description` what. Never
 * carries a token nor the body.
 *
 * @since 0.2.0
 */
export class EventRefused extends Refusal.Class("EventRefused", "Bitrix24 event") {}

const refused = (problem: RefusalReason, description: string) => new EventRefused({ problem, description })

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

const grantOf = (e: Envelope.Envelope, nowSeconds: number): Grant | undefined => {
  const { access_token: access, refresh_token: refresh } = e.auth
  if (access === undefined || refresh === undefined) return undefined
  const expires = Envelope.numberOf(e.auth.expires)
  const expiresIn = Envelope.numberOf(e.auth.expires_in)
  return {
    accessToken: Redacted.make(access),
    refreshToken: Redacted.make(refresh),
    expiresAt: expires ?? (expiresIn === undefined ? undefined : nowSeconds + expiresIn),
    scope: (e.auth.scope ?? "").split(/[\s,]+/).filter((part) => part !== ""),
    userId: Envelope.numberOf(e.auth.user_id)
  }
}

/**
 * The decoder of each event name this module knows (upper case), from its
 * decoded envelope. The connector's message events join here.
 *
 * @since 0.2.0
 */
export const decoders: Readonly<
  Record<string, (e: Envelope.Envelope, nowSeconds: number) => Result.Result<LifecycleEvent, EventRefused>>
> = {
  ONAPPINSTALL: (e, now) => {
    const grant = grantOf(e, now)
    if (grant === undefined)
      return Result.fail(refused("Unsupported", "ONAPPINSTALL without access_token and refresh_token"))
    return Result.succeed({
      _tag: "AppInstall",
      ...Envelope.portalOf(e),
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
      ...Envelope.portalOf(e),
      grant: grantOf(e, now),
      version: textOf(e.data?.VERSION),
      previousVersion: textOf(e.data?.PREVIOUS_VERSION)
    }),
  ONAPPUNINSTALL: (e) =>
    Result.succeed({ _tag: "AppUninstall", ...Envelope.portalOf(e), clean: flagOf(e.data?.CLEAN) === true }),
  ONAPPSUNINSTALL: (e) =>
    Result.succeed({ _tag: "AppUninstall", ...Envelope.portalOf(e), clean: flagOf(e.data?.CLEAN) === true })
}

const envelopeOf = (tree: Body.Tree): Result.Result<Envelope.Envelope, EventRefused> =>
  Result.mapError(Envelope.envelopeOf(tree), (problem) => refused("Unsupported", problem))

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
