/**
 * One app instance of the rehearsal, as its own process: an outbox worker on
 * the shared PostgreSQL database (`@reword/outbox`), delivering through a
 * Bitrix24 editor whose token pair and rate limit live in the same database
 * (`@reword/postgres`).
 *
 * Protocol (one line each): it prints `ready` once built; on `go` it submits
 * its edits, printing `ack <json>` as each is stored, then `submitted`; it
 * prints `call` and `answered` around each update call it sends, and
 * `token-request` for each token refresh; on `stop` it closes (the worker is
 * interrupted; claims it held are taken over once their lease runs out) and
 * exits 0.
 */
import { createInterface } from "node:readline"
import { PgClient } from "@effect/sql-pg"
import { Bitrix24 } from "@reword/bitrix24"
import { Outbox } from "@reword/outbox"
import { PgRateLimiter, PgTokenStore } from "@reword/postgres"
import { Effect, Layer, Redacted } from "effect"

/** What the rehearsal gives an instance (as JSON in argv). */
export interface InstanceArgs {
  readonly name: string
  readonly databaseUrl: string
  readonly tablePrefix: string
  readonly account: string
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
  readonly leaseMs: number
  readonly settleMs: number
  readonly timeoutMs: number
  /** Messages per update call; `undefined`: the editor sizes calls from the portal's server time. */
  readonly chunkSize: number | undefined
  /** The edits this instance submits, in order. */
  readonly edits: ReadonlyArray<{ readonly externalMessageId: string; readonly text: string }>
  /** A pause between two edits of this instance, so that deliveries and submits interleave. */
  readonly submitPauseMs: number
}

/** An `ack` line: the edit stored, with the version the database gave it. */
export interface Ack {
  readonly instance: string
  readonly externalMessageId: string
  readonly text: string
  readonly version: number
}

const args = JSON.parse(process.argv[2] ?? "{}") as InstanceArgs
const say = (line: string) => process.stdout.write(`${line}\n`)

const traced: typeof globalThis.fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input)
  if (url.includes("/oauth/token/")) {
    say("token-request")
    return fetch(input, init)
  }
  const update = url.includes("imconnector.update.messages")
  if (update) say("call")
  try {
    return await fetch(input, init)
  } finally {
    if (update) say("answered")
  }
}

const lines = createInterface({ input: process.stdin })
const signal = (word: string) =>
  new Promise<void>((resolve) => {
    lines.on("line", (line) => {
      if (line.trim() === word) resolve()
    })
  })
const go = signal("go")
const stop = signal("stop")

const program = Effect.gen(function* () {
  const database = yield* Layer.build(PgClient.layer({ url: Redacted.make(args.databaseUrl), maxConnections: 6 }))
  const tokenStore = yield* Effect.provide(
    PgTokenStore.make({
      portal: args.settings.portalUrl,
      app: args.settings.clientId,
      table: `${args.tablePrefix}tokens`
    }),
    database
  )
  const rateLimiter = yield* Effect.provide(
    PgRateLimiter.make({ bucket: args.bucket, headroom: args.headroom, table: `${args.tablePrefix}buckets` }),
    database
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
    {
      tokenStore,
      rateLimiter,
      // The outbox retries itself, and must see every attempt that timed out.
      retry: { maxAttempts: 1 },
      ...(args.chunkSize === undefined ? {} : { chunkSize: args.chunkSize }),
      transport: { fetch: traced, timeout: args.timeoutMs }
    }
  )
  const outbox = yield* Effect.provide(
    Outbox.makeWith([{ editor, account: args.account }], {
      tablePrefix: args.tablePrefix,
      workerId: args.name,
      lease: args.leaseMs,
      settleWindow: args.settleMs,
      pollInterval: "100 millis",
      retry: { initialDelay: 50, maxDelay: 500 }
    }),
    database
  )
  say("ready")
  yield* Effect.promise(() => go)
  yield* Effect.forkScoped(
    Effect.gen(function* () {
      for (const edit of args.edits) {
        const receipt = yield* outbox.submit({ ids: { externalMessageId: edit.externalMessageId }, text: edit.text })
        const ack: Ack = { instance: args.name, ...edit, version: receipt.version }
        say(`ack ${JSON.stringify(ack)}`)
        if (args.submitPauseMs > 0) yield* Effect.sleep(args.submitPauseMs)
      }
      say("submitted")
    })
  )
  yield* Effect.promise(() => stop)
}).pipe(Effect.scoped)

await Effect.runPromise(program)
process.exit(0)
