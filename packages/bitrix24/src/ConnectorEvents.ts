/**
 * The connector's message events Bitrix24 posts to an application's handler
 * (`ONIMCONNECTORMESSAGEADD`, `...UPDATE`, `...DELETE`), decoded once at the
 * edge (form with PHP-style keys, or JSON; the list under `MESSAGES` or, in
 * older pages, `DATA`; `message.id` as a string or a list) and verified:
 * {@link verifyConnectorEvent} takes an HTTP request, checks the
 * `application_token` stored for its `member_id` in constant time, then
 * reads the event. {@link toInbound} gives core's neutral inbound events.
 * Import it from `@reword/bitrix24/connector-events`.
 *
 * @since 0.3.0
 */
import type { InboundEvent } from "@reword/core"
import { Effect, Redacted, Result } from "effect"
import { EventRefused, type Limits, type Portal, parseBody, type RefusalReason } from "./Events.ts"
import * as Envelope from "./internal/events/envelope.ts"
import * as Messages from "./internal/events/messages.ts"

export type { ConnectorMessage, ExpectedToken } from "./internal/events/messages.ts"

const refused = (problem: RefusalReason, description: string) => new EventRefused({ problem, description })

const envelopeOf = (tree: Parameters<typeof Envelope.envelopeOf>[0]) =>
  Result.mapError(Envelope.envelopeOf(tree), (problem) => refused("Unsupported", problem))

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
const connectorOf = (envelope: Envelope.Envelope): Result.Result<ConnectorEvent, EventRefused> => {
  const name = envelope.event.trim().toUpperCase()
  const kind = Object.hasOwn(Messages.KINDS, name) ? Messages.KINDS[name] : undefined
  if (kind === undefined) {
    return Result.fail(
      refused("Unsupported", `the event ${JSON.stringify(name.slice(0, 60))} is not a connector message event`)
    )
  }
  const data = Messages.dataOf(kind, envelope.data)
  if (typeof data === "string") return Result.fail(refused("Unsupported", data))
  return Result.succeed({ _tag: TAGS[kind], ...Envelope.portalOf(envelope), ...data })
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

const contentTypeOf = (request: InboundEvent.HttpRequest) => Messages.headerOf(request, "content-type")

/**
 * From an HTTP request to a verified connector event, or an
 * {@link EventRefused}: a `POST`, a body within the limits, an event this
 * module knows, a `member_id` the app knows, its `application_token`
 * compared in constant time with the stored one, and (when given) this
 * app's connector. A refusal names neither the token nor the body.
 *
 * @example
 * ```ts
 * import { ConnectorEvents } from "@reword/bitrix24/connector-events"
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
 *   ConnectorEvents.verifyConnectorEvent(request, {
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
