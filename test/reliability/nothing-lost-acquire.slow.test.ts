/**
 * Nothing lost on Acquire: 1,000 updates (500 messages edited twice) through
 * `updateMany` while a seeded 20% of requests meet a fault of mixed kinds,
 * retries on. Every request ends with an outcome; every success is in the
 * sandbox with its text; every failure is a typed, retryable `EditError`; no
 * message ever goes back to an older text, and none holds another's.
 */

import { describe, it } from "@effect/vitest"
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Effect } from "effect"
import {
  acquireFaults,
  injectFaults,
  MESSAGES,
  ORIGINAL,
  type Outcome,
  POLICY,
  ROUNDS,
  recordingFetch,
  report,
  TIMEOUT_MS,
  textOf,
  verify
} from "./nothingLost.ts"

describe("nothing lost under random faults (seeded, 20%, 1,000 updates)", () => {
  it.live(
    "Acquire, through updateMany",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* AcquireSandbox.scoped({ logLimit: 100_000 })
        const seeded = yield* Effect.forEach(
          Array.from({ length: MESSAGES }, (_, n) => n),
          (n) => Effect.promise(() => sandbox.seedMessage(textOf(n, ORIGINAL)))
        )
        const client = recordingFetch()
        const editor = yield* Effect.orDie(
          Acquire.make(sandbox.settings, {
            retry: POLICY,
            concurrency: 128,
            transport: { timeout: TIMEOUT_MS, fetch: client.fetch }
          })
        )
        injectFaults(sandbox.server, acquireFaults)
        const rounds: Array<ReadonlyArray<Outcome>> = []
        const roundStarts: Array<number> = []
        for (let round = 1; round <= ROUNDS; round++) {
          roundStarts.push(Date.now())
          rounds.push(yield* editor.updateMany(seeded.map((ids, n) => ({ ids, text: textOf(n, round) }))))
        }
        sandbox.server.clearFaults()
        const summary = verify(
          "acquire",
          rounds,
          seeded.map((ids) => sandbox.inspect(ids)),
          sandbox.server.requests,
          client.attempts,
          roundStarts
        )
        report(summary)
      }),
    60_000
  )
})
