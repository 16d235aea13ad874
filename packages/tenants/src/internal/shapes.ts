/**
 * What the registry keeps of each provider's tenant, declared once: the
 * settings (not secret) and the credentials (sealed), read back through
 * these Schemas wherever they are used.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Redacted, Schema } from "effect"

/** The plans whose buckets Bitrix24 documents. */
export const Plan = Schema.Literals(["standard", "enterprise"])
export type Plan = typeof Plan.Type

/** A Bitrix24 portal's settings in the registry. */
export const Bitrix24Settings = Schema.Struct({
  portalUrl: Schema.String,
  oauthUrl: Schema.String,
  connector: Schema.String,
  line: Schema.Number,
  plan: Plan,
  domain: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.String),
  scope: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String),
  /** SHA-256 of the portal's `application_token` (hex): what events are checked against, in constant time. */
  applicationTokenSha256: Schema.String,
  /** How the last setup on the portal ended (connector, line, events): `done` or `failed`. */
  setup: Schema.optionalKey(Schema.Literals(["done", "failed"])),
  /** The step that failed: `register`, `activate` or `bind`. */
  setupStep: Schema.optionalKey(Schema.String),
  /** What the portal said (no secret). */
  setupError: Schema.optionalKey(Schema.String),
  /** When it ended, in Unix milliseconds. */
  setupAt: Schema.optionalKey(Schema.Number)
})
export type Bitrix24Settings = typeof Bitrix24Settings.Type

/** A Bitrix24 portal's credentials (sealed): the OAuth pair as the token store keeps it. */
export const Bitrix24Credentials = Schema.Struct({
  accessToken: Schema.String,
  refreshToken: Schema.String,
  expiresAt: Schema.optionalKey(Schema.Number),
  oauthUrl: Schema.optionalKey(Schema.String)
})
export type Bitrix24Credentials = typeof Bitrix24Credentials.Type

/** An Acquire account's settings. */
export const AcquireSettings = Schema.Struct({
  accountId: Schema.String,
  baseUrl: Schema.optionalKey(Schema.String)
})

/** An Acquire account's credentials. */
export const AcquireCredentials = Schema.Struct({ apiKey: Schema.String })

/** The hex SHA-256 of a token. */
export const sha256 = (token: Redacted.Redacted<string>): string =>
  createHash("sha256").update(Redacted.value(token), "utf8").digest("hex")

/** Whether `token` hashes to `expectedHex`, compared in constant time (both digests are 32 bytes). */
export const tokenMatches = (token: Redacted.Redacted<string>, expectedHex: string | undefined): boolean => {
  if (expectedHex === undefined || !/^[0-9a-f]{64}$/.test(expectedHex)) return false
  const given = createHash("sha256").update(Redacted.value(token), "utf8").digest()
  return timingSafeEqual(given, Buffer.from(expectedHex, "hex"))
}
