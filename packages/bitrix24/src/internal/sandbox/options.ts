/**
 * A sandbox's options, checked and completed with their defaults: a token
 * with spaces, a line that is not a positive integer or a bucket that does
 * not drain is refused with a `TypeError` naming the option.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import type { Options } from "../../Bitrix24Sandbox.ts"
import { type Bucket as BucketShape, type Preset, presets } from "../../RateLimiter.ts"
import type * as Operating from "./operating.ts"
import * as Tokens from "./tokens.ts"

/** What a sandbox starts from, every option checked. */
export interface Resolved {
  readonly accessToken: string
  readonly refreshToken: string
  readonly clientId: string
  readonly clientSecret: string
  readonly connector: string
  readonly line: number
  readonly ttlMillis: number | undefined
  readonly bucket: BucketShape | undefined
  readonly operating: Operating.Settings
  /** The portal's clock, Unix millis. */
  readonly clock: () => number
  /** Waits out a call's server time, when the portal answers only once it has passed. */
  readonly takeTime: ((seconds: number) => Promise<void>) | undefined
}

const checkToken = (value: string, option: string): string => {
  if (!/^[\x21-\x7e]{8,}$/.test(value) || /^https?:/i.test(value)) {
    throw new TypeError(`${option} must be at least 8 printable characters without spaces (a token, not a URL)`)
  }
  return value
}

const checkPositive = (value: number, option: string): number => {
  if (!(Number.isFinite(value) && value > 0)) throw new TypeError(`${option} must be a positive number`)
  return value
}

const bucketOf = (option: Options["bucket"]): BucketShape | undefined => {
  if (option === false) return undefined
  const settings: BucketShape | undefined =
    option === undefined
      ? presets.standard
      : typeof option === "string"
        ? Object.hasOwn(presets, option)
          ? presets[option as Preset]
          : undefined
        : option
  if (settings === undefined)
    throw new TypeError(`bucket must be "standard", "enterprise", { drainPerSecond, capacity } or false`)
  checkPositive(settings.drainPerSecond, "bucket.drainPerSecond")
  if (!(settings.capacity >= 1)) throw new TypeError("bucket.capacity must be at least 1")
  return settings
}

const operatingOf = (option: Options["operatingLimit"]): Operating.Settings => {
  const given = option === false || option === undefined ? {} : option
  return {
    limitSeconds: checkPositive(given.limitSeconds ?? 480, "operatingLimit.limitSeconds"),
    windowSeconds: checkPositive(given.windowSeconds ?? 600, "operatingLimit.windowSeconds"),
    costPerCall: given.costPerCall === 0 ? 0 : checkPositive(given.costPerCall ?? 0.01, "operatingLimit.costPerCall"),
    costPerMessage:
      given.costPerMessage === undefined || given.costPerMessage === 0
        ? 0
        : checkPositive(given.costPerMessage, "operatingLimit.costPerMessage")
  }
}

/** The application's credentials: given or random, each a usable token. */
const credentialsOf = (options: Options) => {
  const accessToken = checkToken(options.accessToken ?? Tokens.newToken(), "accessToken")
  const refreshToken = checkToken(options.refreshToken ?? Tokens.newToken(), "refreshToken")
  if (accessToken === refreshToken) throw new TypeError("accessToken and refreshToken must differ")
  const clientId = options.clientId ?? `local.${Tokens.newToken().slice(0, 14)}.sandbox`
  if (!/^[\x21-\x7e]+$/.test(clientId)) throw new TypeError("clientId must be printable characters without spaces")
  const clientSecret = checkToken(options.clientSecret ?? Tokens.newToken(), "clientSecret")
  return { accessToken, refreshToken, clientId, clientSecret }
}

const takeTimeOf = (options: Options): Resolved["takeTime"] => {
  const scale = checkPositive(options.serverTime?.scale ?? 1, "serverTime.scale")
  return options.serverTime?.wait === true
    ? (seconds: number) =>
        new Promise<void>((resolve) => {
          setTimeout(resolve, Math.max(0, (seconds * 1000) / scale))
        })
    : undefined
}

/** Checks every option, in the order a reader meets them, and fills in the defaults. */
export const resolve = (options: Options): Resolved => {
  const credentials = credentialsOf(options)
  const connector = options.connector ?? "reword_sandbox"
  if (!/^[a-z0-9_]+$/.test(connector)) {
    throw new TypeError(`connector "${connector}" is not a connector code (lower-case letters, digits and _)`)
  }
  const line = options.line ?? 1
  if (!Number.isSafeInteger(line) || line <= 0) throw new TypeError("line must be a positive integer")
  const ttlMillis =
    options.accessTokenTtl === undefined
      ? undefined
      : Duration.toMillis(Duration.fromInputUnsafe(options.accessTokenTtl))
  if (ttlMillis !== undefined && !(ttlMillis > 0)) throw new TypeError("accessTokenTtl must be longer than zero")
  const bucket = bucketOf(options.bucket)
  const operating = operatingOf(options.operatingLimit)
  const clock = options.now ?? Date.now
  const takeTime = takeTimeOf(options)
  return { ...credentials, connector, line, ttlMillis, bucket, operating, clock, takeTime }
}
