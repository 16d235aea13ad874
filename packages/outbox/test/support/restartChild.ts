/**
 * An app process for the restart tests: the Promise outbox on a SQLite file,
 * over the Acquire sandbox named in argv, with the default lease. With
 * `hang`, every provider call hangs (a delivery stays in flight); it prints
 * `calling` when one starts. On SIGTERM it closes the outbox, as an app does
 * (`process.once("SIGTERM", () => outbox.close().then(() => process.exit(0)))`).
 */
import { Acquire } from "@reword/acquire"
import { createOutbox } from "../../src/promise.ts"

interface Args {
  readonly filename: string
  readonly env: Readonly<Record<string, string>>
  readonly hang: boolean
  readonly workerId?: string | undefined
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args

const hanging: typeof globalThis.fetch = (input, init) => {
  process.stdout.write("calling\n")
  if (!args.hang) return fetch(input, init)
  return new Promise<Response>((_, reject) =>
    init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
  )
}

const outbox = await createOutbox({
  providers: Acquire.provider,
  env: args.env,
  database: args.filename,
  transport: { fetch: hanging, timeout: 600_000 },
  ...(args.workerId === undefined ? {} : { workerId: args.workerId })
})
process.once("SIGTERM", () => {
  void outbox.close().then(() => process.exit(0))
})
process.stdout.write("started\n")
