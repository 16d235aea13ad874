/**
 * One app instance for the multi-process tests: a Bitrix24 editor on the
 * sandbox whose tokens and rate limit live in PostgreSQL (`@reword/postgres`).
 * It prints `ready` once built, waits for `go` on stdin, then edits its
 * messages with `concurrency` fibers for `durationMs`, prints `token-request`
 * whenever it sends a token refresh, and ends with one JSON line: how many
 * updates succeeded (in all, and in each phase: a `mark` line on stdin starts
 * the next), and the failures by reason.
 */
import { createInterface } from "node:readline"
import { PgClient } from "@effect/sql-pg"
import { Bitrix24 } from "@reword/bitrix24"
import { Effect, Layer, Redacted } from "effect"
import * as PgRateLimiter from "../../src/PgRateLimiter.ts"
import * as PgTokenStore from "../../src/PgTokenStore.ts"

export interface Args {
  readonly name: string
  readonly url: string
  readonly tokenTable: string
  readonly bucketTable: string
  readonly settings: {
    readonly portalUrl: string
    readonly accessToken: string
    readonly refreshToken: string
    readonly clientId: string
    readonly clientSecret: string
    readonly connector: string
    readonly line: number
  }
  readonly bucket: { readonly drainPerSecond: number; readonly capacity: number }
  readonly headroom: number
  readonly concurrency: number
  readonly durationMs: number
  readonly messages: ReadonlyArray<{
    readonly externalMessageId: string
    readonly externalChatId: string
    readonly externalAuthorId: string
  }>
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args
const say = (line: string) => process.stdout.write(`${line}\n`)

const tracing: typeof globalThis.fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input)
  if (url.includes("/oauth/token/")) say("token-request")
  return fetch(input, init)
}

/** `go` starts; each `mark` starts a new phase (the test's events: an expiry, a kill). */
let phase = 0
const go = new Promise<void>((resolve) => {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "go") resolve()
    if (line.trim() === "mark") phase += 1
  })
})

const program = Effect.gen(function* () {
  const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(args.url), maxConnections: 4 }))
  const tokenStore = yield* Effect.provide(
    PgTokenStore.make({ portal: args.settings.portalUrl, app: args.settings.clientId, table: args.tokenTable }),
    context
  )
  const rateLimiter = yield* Effect.provide(
    PgRateLimiter.make({ bucket: args.bucket, headroom: args.headroom, table: args.bucketTable }),
    context
  )
  const editor = yield* Bitrix24.make(
    {
      portalUrl: new URL(args.settings.portalUrl),
      accessToken: Redacted.make(args.settings.accessToken),
      refreshToken: Redacted.make(args.settings.refreshToken),
      clientId: args.settings.clientId,
      clientSecret: Redacted.make(args.settings.clientSecret),
      oauthUrl: new URL(args.settings.portalUrl),
      connector: args.settings.connector,
      line: args.settings.line,
      allowInsecureLoopback: true
    },
    { tokenStore, rateLimiter, retry: { maxAttempts: 1 }, transport: { fetch: tracing, timeout: "20 seconds" } }
  )
  say("ready")
  yield* Effect.promise(() => go)
  const stopAt = Date.now() + args.durationMs
  let ok = 0
  const okByPhase: Array<number> = []
  let next = 0
  const failed: Record<string, number> = {}
  const worker = Effect.gen(function* () {
    while (Date.now() < stopAt) {
      const n = next++
      const ids = args.messages[n % args.messages.length]
      if (ids === undefined) return
      const outcome = yield* Effect.result(editor.update({ ids, text: `${args.name} edit ${n}` }))
      if (outcome._tag === "Success") {
        ok += 1
        okByPhase[phase] = (okByPhase[phase] ?? 0) + 1
      } else {
        const reason = outcome.failure.reason
        const key = `${reason._tag}${"code" in reason && reason.code !== undefined ? ` ${reason.code}` : ""}`
        failed[key] = (failed[key] ?? 0) + 1
      }
    }
  })
  yield* Effect.all(
    Array.from({ length: args.concurrency }, () => worker),
    { concurrency: "unbounded" }
  )
  say(JSON.stringify({ name: args.name, ok, okByPhase: Array.from(okByPhase, (n) => n ?? 0), failed }))
}).pipe(Effect.scoped)

await Effect.runPromise(program)
process.exit(0)
