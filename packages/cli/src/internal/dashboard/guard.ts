/**
 * Who may use the dashboard: the Host a request names must be one the server
 * answers as (a DNS-rebinding host name is refused, on 127.0.0.1 too); when
 * bound beyond loopback, every request carries the per-run access token (from
 * the printed link, then a same-site cookie); and the one write, a re-drive,
 * comes from the page itself: a POST whose Origin is the page's own, with the
 * per-run re-drive token the page's forms carry.
 */
import { randomBytes, timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"
import { networkInterfaces } from "node:os"

/** The cookie that carries the access token once the printed link was opened. */
export const COOKIE = "reword_dashboard"

/** A fresh random token (32 bytes, base64url). */
export const token = (): string => randomBytes(32).toString("base64url")

/** Whether two tokens are equal, in constant time. */
export const sameToken = (given: string | undefined, expected: string): boolean => {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Whether the server is bound to this machine's own loopback address (where
 * the page needs no access token): 127.0.0.1, localhost or ::1. Any other
 * address, 127.0.0.2 included, is "elsewhere".
 */
export const isLoopback = (host: string): boolean =>
  host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]"

const hostPort = (host: string, port: number): string =>
  `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`.toLowerCase()

/**
 * The Host headers the server answers to: its bound address and port (with
 * `localhost` and `[::1]` when bound to loopback; every address of the
 * machine when bound to all), and the names given with `--allow-host`.
 */
export const allowedHosts = (bound: string, port: number, extra: ReadonlyArray<string>): ReadonlySet<string> => {
  const hosts = new Set<string>([hostPort(bound, port)])
  if (isLoopback(bound)) for (const name of ["localhost", "127.0.0.1", "::1"]) hosts.add(hostPort(name, port))
  if (bound === "0.0.0.0" || bound === "::") {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) hosts.add(hostPort(address.address, port))
    }
  }
  for (const name of extra) hosts.add(hostPort(name, port))
  return hosts
}

/** The request's Host, when it is one the server answers to. */
export const hostOf = (request: IncomingMessage, allowed: ReadonlySet<string>): string | undefined => {
  const host = request.headers.host?.toLowerCase()
  return host !== undefined && allowed.has(host) ? host : undefined
}

/** The cookie's value in a request, if any. */
export const cookieOf = (request: IncomingMessage): string | undefined => {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=")
    if (name === COOKIE) return value.join("=")
  }
  return undefined
}

/**
 * Why a re-drive request is refused, if it is: its Origin is not the page's
 * own (a cross-origin form, or none: a script or a tool that is not the
 * page), a browser says it comes from another site, or it lacks the token.
 */
export const refusal = (request: IncomingMessage, host: string, form: URLSearchParams, redriveToken: string) => {
  const origin = request.headers.origin
  if (origin === undefined || origin.toLowerCase() !== `http://${host}`) {
    return "a re-drive must come from this page (its Origin is not this page's)"
  }
  const site = request.headers["sec-fetch-site"]
  if (site !== undefined && site !== "same-origin") return "a re-drive must come from this page (another site sent it)"
  if (!sameToken(form.get("token") ?? undefined, redriveToken)) {
    return "a re-drive needs this run's token (reload the page: the dashboard was restarted)"
  }
  return undefined
}
