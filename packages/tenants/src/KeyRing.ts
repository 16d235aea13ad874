/**
 * Envelope encryption of tenants' credentials, with `node:crypto`'s
 * AES-256-GCM:
 *
 * - the app supplies a **key ring**: the current master key (which encrypts)
 *   and old ones by id (which still decrypt), declared once as a Schema and
 *   held `Redacted`;
 * - each tenant has a **data key** of its own (32 random bytes) that seals its
 *   credentials; the registry stores it only **wrapped** (encrypted) by the
 *   current master key, with that key's id;
 * - **rotation**: a new current key wraps what is written from then on, old
 *   keys unwrap until `rotate` re-wraps every data key under the current one;
 * - **destroying** a tenant's data key (uninstall) leaves any copy of its
 *   ciphertext unreadable for good.
 *
 * Every ciphertext is bound to its tenant (and to its purpose) as GCM
 * additional data: a value copied to another tenant's row fails to open as
 * `Tampered`, as does any changed byte.
 *
 * @since 0.1.0
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { type Config, Predicate, Redacted, Result, Schema } from "effect"
import * as Decode from "./internal/decode.ts"
import * as TenantError from "./TenantError.ts"

/** Key ids: short, printable, no separator of the wrapped form. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

/** A key as text: 32 bytes in base64 (44 characters) or hex (64). */
const keyBytes = (text: string): Buffer | undefined => {
  const trimmed = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex")
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    return bytes.length === 32 ? bytes : undefined
  }
  return undefined
}

const Secret = Schema.Union([Schema.String, Schema.Redacted(Schema.String)]).annotate({
  description: "32 bytes, in base64 or hex"
})

const KeyId = Schema.String.check(
  Schema.makeFilter((id: string) =>
    KEY_ID.test(id) ? undefined : "must be 1 to 32 letters, digits, _ or - (a key's id)"
  )
)

/**
 * The key ring as an app writes it: the id of the current key, and every key
 * by id (the current one among them), each 32 bytes in base64 or hex, as a
 * string or `Redacted`.
 *
 * @since 0.1.0
 */
export const KeyRingInput = Schema.Struct({
  current: KeyId,
  keys: Schema.Record(KeyId, Secret)
})

/**
 * @since 0.1.0
 */
export type KeyRingInput = typeof KeyRingInput.Encoded

/**
 * A key ring, checked: the current key's id, and every key (the bytes held `Redacted`).
 *
 * @since 0.1.0
 */
export interface KeyRing {
  readonly current: string
  readonly keys: ReadonlyMap<string, Redacted.Redacted<Buffer>>
}

const rings = new WeakSet<KeyRing>()

/** Whether a value is a ring this module made. */
const isKeyRing = (value: unknown): value is KeyRing =>
  Predicate.isObject(value) && rings.has(value as unknown as KeyRing)

/**
 * Checks a key ring: the current id names a key of the ring, every key is 32
 * bytes; an unknown field is refused with a "did you mean". A key's value is
 * never repeated in a problem.
 *
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<KeyRing, Config.ConfigError> => {
  if (isKeyRing(input)) return Result.succeed(input)
  const decoded = Decode.decodeStrict(KeyRingInput, input, "the key ring: { current, keys }")
  if (Result.isFailure(decoded)) return Result.fail(Decode.configError(decoded.failure))
  const problems: Array<{ path: string; message: string }> = []
  const keys = new Map<string, Redacted.Redacted<Buffer>>()
  for (const [id, value] of Object.entries(decoded.success.keys)) {
    const bytes = keyBytes(Redacted.isRedacted(value) ? Redacted.value(value) : value)
    if (bytes === undefined) problems.push({ path: `keys.${id}`, message: "must be 32 bytes in base64 or hex" })
    else keys.set(id, Redacted.make(bytes))
  }
  if (!Object.hasOwn(decoded.success.keys, decoded.success.current)) {
    problems.push({ path: "current", message: "must name one of keys (the key that encrypts)" })
  }
  if (problems.length > 0) return Result.fail(Decode.configError(problems))
  const ring: KeyRing = { current: decoded.success.current, keys }
  rings.add(ring)
  return Result.succeed(ring)
}

/**
 * The variables {@link fromEnv} reads: `REWORD_TENANT_KEY` (the current key,
 * `id:key`) and `REWORD_TENANT_OLD_KEYS` (old keys, `id:key,id:key`).
 *
 * @since 0.1.0
 */
export const ENV = { current: "REWORD_TENANT_KEY", old: "REWORD_TENANT_OLD_KEYS" } as const

const pairOf = (text: string, variable: string): readonly [string, Redacted.Redacted<string>] | string => {
  const at = text.indexOf(":")
  if (at <= 0) return `${variable} must be id:key (the key's id, a colon, then 32 bytes in base64 or hex)`
  return [text.slice(0, at).trim(), Redacted.make(text.slice(at + 1).trim())]
}

/**
 * The key ring from environment variables (see {@link ENV}); checked as {@link decode} checks.
 *
 * @example
 * ```ts
 * import { KeyRing } from "@reword/tenants"
 *
 * const ring = KeyRing.fromEnv({ REWORD_TENANT_KEY: `k1:${KeyRing.generateKey()}` })
 * ```
 *
 * @since 0.1.0
 */
export const fromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env
): Result.Result<KeyRing, Config.ConfigError> => {
  const current = env[ENV.current]?.trim()
  if (current === undefined || current === "") {
    return Result.fail(Decode.configError([{ path: ENV.current, message: "is required: id:key (32 bytes, base64)" }]))
  }
  const pairs = [
    pairOf(current, ENV.current),
    ...(env[ENV.old] ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "")
      .map((part) => pairOf(part, ENV.old))
  ]
  const wrong = pairs.filter((pair): pair is string => typeof pair === "string")
  if (wrong.length > 0) return Result.fail(Decode.configError(wrong.map((message) => ({ path: "env", message }))))
  const entries = pairs as ReadonlyArray<readonly [string, Redacted.Redacted<string>]>
  return decode({ current: entries[0]?.[0], keys: Object.fromEntries(entries) })
}

/**
 * A new random master key, in base64 (what a key ring takes).
 *
 * @since 0.1.0
 */
export const generateKey = (): string => randomBytes(32).toString("base64")

const IV_BYTES = 12
const TAG_BYTES = 16
const VERSION = "v1"

const gcmSeal = (key: Buffer, plaintext: Buffer, aad: string): string => {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")
}

/** Opens a sealed value; `undefined` when it fails authentication (or is not one). */
const gcmOpen = (key: Buffer, sealed: string, aad: string): Buffer | undefined => {
  const bytes = Buffer.from(sealed, "base64")
  if (bytes.length < IV_BYTES + TAG_BYTES || bytes.toString("base64") !== sealed) return undefined
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(aad, "utf8"))
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
  } catch {
    return undefined
  }
}

const wrapAad = (tenant: string, keyId: string) => `reword.tenants/data-key\u0000${tenant}\u0000${keyId}`
const sealAad = (tenant: string, purpose: string) => `reword.tenants/${purpose}\u0000${tenant}`

/**
 * A tenant's data key, unwrapped: held `Redacted`, never printed.
 *
 * @since 0.1.0
 */
export type DataKey = Redacted.Redacted<Buffer>

/**
 * A new data key for a tenant.
 *
 * @since 0.1.0
 */
export const newDataKey = (): DataKey => Redacted.make(randomBytes(32))

/**
 * Wraps a tenant's data key with the ring's current key: `v1.<key id>.<sealed>`.
 *
 * @since 0.1.0
 */
export const wrap = (ring: KeyRing, tenant: string, dataKey: DataKey): string => {
  const master = ring.keys.get(ring.current) as Redacted.Redacted<Buffer>
  return `${VERSION}.${ring.current}.${gcmSeal(Redacted.value(master), Redacted.value(dataKey), wrapAad(tenant, ring.current))}`
}

/**
 * The id of the master key that wrapped a data key (what rotation looks at).
 *
 * @since 0.1.0
 */
export const wrappedBy = (wrapped: string): string | undefined => wrapped.split(".")[1]

/**
 * Unwraps a tenant's data key with the ring key that wrapped it: `KeyMissing`
 * when the ring no longer holds that key, `Tampered` when it fails
 * authentication (changed, or another tenant's).
 *
 * @since 0.1.0
 */
export const unwrap = (
  ring: KeyRing,
  tenant: string,
  wrapped: string
): Result.Result<DataKey, TenantError.TenantError> => {
  const [version, keyId, sealed] = wrapped.split(".")
  if (version !== VERSION || keyId === undefined || sealed === undefined) {
    return Result.fail(TenantError.make("Tampered", "the wrapped data key is not in reword's format", tenant))
  }
  const master = ring.keys.get(keyId)
  if (master === undefined) {
    return Result.fail(
      TenantError.make(
        "KeyMissing",
        `the data key was wrapped by master key ${JSON.stringify(keyId)}, which the key ring does not hold: add it back as an old key (and rotate before removing it)`,
        tenant
      )
    )
  }
  const opened = gcmOpen(Redacted.value(master), sealed, wrapAad(tenant, keyId))
  if (opened === undefined || opened.length !== 32) {
    return Result.fail(TenantError.make("Tampered", "the wrapped data key failed authentication", tenant))
  }
  return Result.succeed(Redacted.make(opened))
}

/**
 * Seals text (a tenant's credentials, as JSON) with its data key, bound to the tenant and the purpose.
 *
 * @since 0.1.0
 */
export const seal = (dataKey: DataKey, tenant: string, plaintext: string, purpose = "credentials"): string =>
  `${VERSION}.${gcmSeal(Redacted.value(dataKey), Buffer.from(plaintext, "utf8"), sealAad(tenant, purpose))}`

/**
 * Opens what {@link seal} sealed: `Tampered` when any byte changed or it was
 * sealed for another tenant or purpose.
 *
 * @since 0.1.0
 */
export const open = (
  dataKey: DataKey,
  tenant: string,
  sealed: string,
  purpose = "credentials"
): Result.Result<string, TenantError.TenantError> => {
  const [version, body] = sealed.split(".")
  const opened =
    version === VERSION && body !== undefined
      ? gcmOpen(Redacted.value(dataKey), body, sealAad(tenant, purpose))
      : undefined
  return opened === undefined
    ? Result.fail(TenantError.make("Tampered", `the sealed ${purpose} failed authentication`, tenant))
    : Result.succeed(opened.toString("utf8"))
}
