/**
 * The sandbox's OAuth state: the application's client id and secret, the
 * access tokens it issued (each expiring after a set time, or on command), and
 * the one refresh token that works, once: a refresh answers a new pair and
 * the used refresh token is refused from then on (`invalid_grant`).
 */
import { randomBytes } from "node:crypto"

/** A token as Bitrix24 shapes them: 32 lower-case letters and digits. */
export const newToken = (): string => randomBytes(16).toString("hex")

interface Issued {
  readonly expiresAt: number | undefined
  expired: boolean
}

/** What a REST call's access token is worth. */
export type Check = "valid" | "expired" | "unknown"

export interface Pair {
  readonly accessToken: string
  readonly refreshToken: string
}

export interface Tokens {
  readonly clientId: string
  readonly clientSecret: string
  /** The lifetime of new access tokens, in milliseconds (`undefined`: they never expire by time). */
  readonly ttlMillis: number | undefined
  /** The pair issued last. */
  readonly current: () => Pair
  readonly check: (accessToken: string, now: number) => Check
  /** Makes every access token issued so far expire. */
  readonly expireAll: () => void
  /** Exchanges the current refresh token for a new pair; `undefined` when it is not the current one. */
  readonly refresh: (refreshToken: string, now: number) => Pair | undefined
  readonly refreshes: () => number
  /** Revokes the application's grant: every access token expires, and the refresh token is refused (`invalid_grant`). */
  readonly revoke: () => void
  /** Whether this portal ever issued `refreshToken` (the one OAuth server of many portals routes by it). */
  readonly issuedRefresh: (refreshToken: string) => boolean
}

export const make = (options: {
  readonly clientId: string
  readonly clientSecret: string
  readonly accessToken: string
  readonly refreshToken: string
  readonly ttlMillis: number | undefined
  readonly now: number
}): Tokens => {
  const issued = new Map<string, Issued>()
  let current: Pair = { accessToken: options.accessToken, refreshToken: options.refreshToken }
  let refreshes = 0
  const refreshTokens = new Set([options.refreshToken])
  const issue = (accessToken: string, now: number) => {
    issued.set(accessToken, {
      expiresAt: options.ttlMillis === undefined ? undefined : now + options.ttlMillis,
      expired: false
    })
  }
  issue(options.accessToken, options.now)

  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    ttlMillis: options.ttlMillis,
    current: () => current,
    check: (accessToken, now) => {
      const found = issued.get(accessToken)
      if (found === undefined) return "unknown"
      return found.expired || (found.expiresAt !== undefined && now >= found.expiresAt) ? "expired" : "valid"
    },
    expireAll: () => {
      for (const token of issued.values()) token.expired = true
    },
    refresh: (refreshToken, now) => {
      if (refreshToken !== current.refreshToken) return undefined
      current = { accessToken: newToken(), refreshToken: newToken() }
      refreshTokens.add(current.refreshToken)
      issue(current.accessToken, now)
      refreshes += 1
      return current
    },
    refreshes: () => refreshes,
    issuedRefresh: (refreshToken) => refreshTokens.has(refreshToken),
    revoke: () => {
      for (const token of issued.values()) token.expired = true
      current = { accessToken: current.accessToken, refreshToken: `revoked-${newToken()}` }
    }
  }
}
