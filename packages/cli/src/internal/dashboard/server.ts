/**
 * The dashboard's HTTP server (node:http, no framework): routes the pages,
 * applies `guard.ts` to every request, and runs the journal's reads and the
 * re-drive with a bound on each. Every answer forbids scripts, frames and
 * outside resources (its Content-Security-Policy) and is never cached.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Outbox, OutboxError } from "@reword/outbox"
import { Cause, Effect, Exit, Option, type Scope, Stream } from "effect"
import * as Guard from "./guard.ts"
import type { Clean, Html } from "./html.ts"
import * as Model from "./model.ts"
import { css } from "./style.ts"
import * as Views from "./views.ts"

/** What the server is started with. */
export interface Options {
  readonly journal: Outbox.Journal
  readonly host: string
  readonly port: number
  /** More Host names it answers to (as reached through a proxy or a DNS name). */
  readonly allowHosts: ReadonlyArray<string>
  /** Required on every request when set (the server is bound beyond loopback). */
  readonly accessToken: string | undefined
  readonly redriveToken: string
  readonly clean: Clean
  /** Told of each re-drive (how many, and of what). */
  readonly onRedrive: (count: number, what: string) => void
}

/** A running server: where it listens. */
export interface Started {
  readonly url: string
  readonly port: number
}

const POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
const MAX_FORM = 8_192
const MAX_ID = 512
const DEAD_PAGE = 200

const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
    ...headers
  })
  response.end(response.req.method === "HEAD" ? undefined : body)
}

const page = (response: ServerResponse, status: number, html: Html) => send(response, status, html.markup)
const problem = (response: ServerResponse, status: number, title: string, message: string) =>
  page(response, status, Views.problem(title, message))

/** Runs a read or a re-drive with a bound: its value, or the page that says why not. */
const run = async <A>(
  response: ServerResponse,
  clean: Clean,
  effect: Effect.Effect<A, OutboxError.StorageError>
): Promise<A | undefined> => {
  const exit = await Effect.runPromiseExit(effect.pipe(Effect.timeout("15 seconds")))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Option.getOrUndefined(Cause.findErrorOption(exit.cause))
  const message =
    error !== undefined && error._tag === "StorageError" ? clean(error.message) : "the database did not answer in time"
  problem(response, 503, "The outbox's database failed", message)
  return undefined
}

const readForm = (request: IncomingMessage): Promise<URLSearchParams | undefined> =>
  new Promise((resolve) => {
    let size = 0
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_FORM) {
        resolve(undefined)
        request.destroy()
      } else chunks.push(chunk)
    })
    request.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))))
    request.on("error", () => resolve(undefined))
  })

const windowOf = (value: string | null): Model.WindowName =>
  value !== null && Object.hasOwn(Model.WINDOWS, value) ? (value as Model.WindowName) : "24h"

/** A tenant id as the registry takes one (`default` included); anything else is refused. */
const TENANT = /^[A-Za-z0-9._:-]{1,128}$/

/** The `tenant` parameter: `undefined` when absent or empty, `false` when it is no tenant id. */
const tenantParam = (value: string | null): string | undefined | false =>
  value === null || value.trim() === "" ? undefined : TENANT.test(value.trim()) ? value.trim() : false

const badTenant = (response: ServerResponse) =>
  problem(response, 400, "No such tenant", "a tenant id is 1 to 128 letters, digits, ., _, : or -")

const countOf = (value: string | null): number | undefined =>
  value !== null && /^\d{1,6}$/.test(value) ? Number(value) : undefined

/** The pages: backlog, dead letters, a message. */
const get = async (options: Options, url: URL, response: ServerResponse) => {
  const now = Date.now()
  const context: Views.Page = { clean: options.clean, redriveToken: options.redriveToken, now }
  const tenant = tenantParam(url.searchParams.get("tenant"))
  if (tenant === false) return badTenant(response)
  switch (url.pathname) {
    case "/": {
      const overview = await run(
        response,
        options.clean,
        Model.overview(options.journal, now, windowOf(url.searchParams.get("window")), tenant)
      )
      if (overview !== undefined) page(response, 200, Views.backlog(context, overview))
      return
    }
    case "/dead": {
      const letters = await run(response, options.clean, Model.deadLetters(options.journal, DEAD_PAGE, tenant))
      const count = countOf(url.searchParams.get("redriven"))
      const notice =
        count === undefined
          ? undefined
          : count === 0
            ? "Nothing was re-driven (it was no longer a dead letter)."
            : `${count} dead letter${count === 1 ? "" : "s"} back in the outbox: the app's worker delivers ${count === 1 ? "it" : "them"}.`
      if (letters !== undefined) page(response, 200, Views.dead(context, letters, notice, tenant))
      return
    }
    case "/message": {
      const id = url.searchParams.get("id") ?? ""
      if (id.length === 0 || id.length > MAX_ID) {
        return problem(response, 400, "No such message", `name a message: its external id, 1 to ${MAX_ID} characters`)
      }
      const where = {
        tenant,
        provider: url.searchParams.get("provider") ?? undefined,
        account: url.searchParams.get("account") ?? undefined
      }
      const histories = await run(response, options.clean, options.journal.histories(id, where))
      if (histories !== undefined)
        page(response, histories.length === 0 ? 404 : 200, Views.message(context, id, histories))
      return
    }
    case "/style.css":
      return send(response, 200, css, { "content-type": "text/css; charset=utf-8" })
    default:
      return problem(response, 404, "Not found", "this page does not exist")
  }
}

/** The one write: re-drives one dead letter (`id`, with `provider` and `account`) or all (`all=1`). */
const redrive = async (options: Options, request: IncomingMessage, host: string, response: ServerResponse) => {
  if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    return problem(response, 415, "Refused", "a re-drive is a form")
  }
  const form = await readForm(request)
  if (form === undefined) return problem(response, 413, "Refused", "the form is too large")
  const refused = Guard.refusal(request, host, form, options.redriveToken)
  if (refused !== undefined) return problem(response, 403, "Refused", refused)
  const id = form.get("id")
  const tenant = tenantParam(form.get("tenant"))
  if (tenant === false) return badTenant(response)
  const journal = options.journal
  const count =
    form.get("all") === "1"
      ? await run(
          response,
          options.clean,
          tenant === undefined
            ? journal.redrive()
            : Effect.flatMap(
                journal
                  .stream("failed", { tenant, limit: 1_000 })
                  .pipe(Stream.take(Model.CAP), Stream.runCollect, Effect.catchTag("EditError", Effect.die)),
                (entries) => (entries.length === 0 ? Effect.succeed(0) : journal.redrive(entries))
              )
        )
      : id !== null && id.length > 0 && id.length <= MAX_ID
        ? await run(
            response,
            options.clean,
            Effect.flatMap(
              journal.histories(id, {
                tenant,
                provider: form.get("provider") ?? undefined,
                account: form.get("account") ?? undefined
              }),
              (histories) => {
                const dead = histories.filter((history) => history.state === "failed")
                return dead.length === 0 ? Effect.succeed(0) : journal.redrive(dead)
              }
            )
          )
        : -1
  if (count === -1) return problem(response, 400, "Refused", "name a dead letter (id, provider, account) or all")
  if (count === undefined) return
  const of = tenant === undefined ? "" : ` of tenant ${tenant}`
  options.onRedrive(count, form.get("all") === "1" ? `every dead letter${of}` : `${JSON.stringify(id)}${of}`)
  send(response, 303, "", {
    location: `/dead?${new URLSearchParams({ redriven: String(count), ...(tenant === undefined || form.get("all") !== "1" ? {} : { tenant }) })}`
  })
}

const handle =
  (options: Options, allowed: ReadonlySet<string>) => async (request: IncomingMessage, response: ServerResponse) => {
    const host = Guard.hostOf(request, allowed)
    if (host === undefined) {
      return problem(
        response,
        421,
        "Wrong host",
        "this dashboard answers only to its own address (the Host named is another)"
      )
    }
    const url = new URL(request.url ?? "/", `http://${host}`)
    if (options.accessToken !== undefined) {
      const given = url.searchParams.get("token")
      if (given !== null && Guard.sameToken(given, options.accessToken) && request.method === "GET") {
        url.searchParams.delete("token")
        return send(response, 303, "", {
          location: `${url.pathname}${url.search}`,
          "set-cookie": `${Guard.COOKIE}=${options.accessToken}; HttpOnly; SameSite=Strict; Path=/`
        })
      }
      if (!Guard.sameToken(Guard.cookieOf(request), options.accessToken)) {
        return problem(
          response,
          401,
          "Token needed",
          "open the link the dashboard printed when it started (it carries its token)"
        )
      }
    }
    if (request.method === "POST" && url.pathname === "/redrive") return redrive(options, request, host, response)
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(response, 405, "Refused", "this page only reads (its one write is the re-drive button)")
    }
    return get(options, url, response)
  }

const listen = (server: Server, host: string, port: number) =>
  Effect.callback<number, Error>((resume) => {
    const failed = (error: Error) => resume(Effect.fail(error))
    server.once("error", failed)
    server.listen(port, host, () => {
      server.off("error", failed)
      resume(Effect.succeed((server.address() as AddressInfo).port))
    })
  })

/** Starts the server in the scope (closed with it). */
export const start = (options: Options): Effect.Effect<Started, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 })
    const port = yield* Effect.acquireRelease(listen(server, options.host, options.port), () =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    const allowed = Guard.allowedHosts(options.host, port, options.allowHosts)
    const handler = handle(options, allowed)
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      handler(request, response).catch(() => {
        if (!response.headersSent) problem(response, 500, "Unexpected", "an unexpected error, a bug in reword")
        else response.destroy()
      })
    })
    const shown = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host
    return { port, url: `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}/` }
  })
