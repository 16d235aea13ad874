/**
 * The envelope every Bitrix24 event has (`event`, `data`, `ts`, `auth`),
 * declared once: what the lifecycle events and the connector's events are
 * decoded from.
 */
import { Redacted, Result, Schema } from "effect"
import type { Portal } from "../../Events.ts"
import type * as Body from "./body.ts"

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

export type Envelope = typeof Envelope.Type

/** A number as Bitrix24 sends it: a number, or its digits as a string. */
export const numberOf = (value: unknown): number | undefined => {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\s*-?\d{1,15}(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN
  return Number.isFinite(n) ? n : undefined
}

export const portalOf = (e: Envelope): Portal => ({
  memberId: e.auth.member_id,
  applicationToken: Redacted.make(e.auth.application_token),
  domain: e.auth.domain,
  clientEndpoint: e.auth.client_endpoint,
  serverEndpoint: e.auth.server_endpoint,
  status: e.auth.status,
  ts: numberOf(e.ts)
})

const decodeEnvelope = Schema.decodeUnknownResult(Envelope)

/** The envelope of a body's tree, or what is missing. */
export const envelopeOf = (tree: Body.Tree): Result.Result<Envelope, string> =>
  Result.mapError(
    decodeEnvelope(tree, { errors: "first" }),
    () => "the body is not a Bitrix24 event (event, auth.member_id, auth.application_token)"
  )
