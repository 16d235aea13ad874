/**
 * A worker process for the SIGKILL test: opens the outbox described in argv
 * (a database and the Acquire sandbox's settings) and delivers. `mode`:
 * `forever` delivers until killed; `drain` delivers until nothing is pending,
 * prints the counts as JSON and exits.
 */
import { Acquire } from "@reword/acquire"
import { Effect, Layer } from "effect"
import * as Outbox from "../../src/Outbox.ts"
import { clientOf, type PlaceSpec } from "./clients.ts"

interface Args {
  readonly spec: PlaceSpec
  readonly settings: { readonly accountId: string; readonly apiKey: string; readonly baseUrl: string }
  readonly mode: "forever" | "drain"
  readonly delayMs: number
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args
const { Redacted } = await import("effect")

const slow: typeof globalThis.fetch = async (input, init) => {
  await new Promise((resolve) => setTimeout(resolve, args.delayMs))
  return fetch(input, init)
}

const program = Effect.gen(function* () {
  const editor = yield* Effect.orDie(
    Acquire.make(
      { ...args.settings, apiKey: Redacted.make(args.settings.apiKey), allowInsecureLoopback: true },
      { retry: { maxAttempts: 1 }, concurrency: 8, transport: { fetch: slow } }
    )
  )
  const context = yield* Layer.build(clientOf(args.spec))
  const outbox = yield* Effect.provide(
    Outbox.makeWith([{ editor }], {
      tablePrefix: args.spec.prefix,
      lease: "1 second",
      settleWindow: "500 millis",
      pollInterval: "50 millis",
      batchSize: 50,
      retry: { initialDelay: 20, maxDelay: 200 }
    }),
    context
  )
  process.stdout.write("started\n")
  if (args.mode === "forever") return yield* Effect.never
  const left = yield* outbox.drain({ timeout: "90 seconds" })
  process.stdout.write(`${JSON.stringify(left)}\n`)
}).pipe(Effect.scoped)

await Effect.runPromise(program)
process.exit(0)
