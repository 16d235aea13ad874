/**
 * Nothing lost on Bitrix24: 1,000 updates (500 messages edited twice) through
 * `updateStream`, packed 4 to a call, while a seeded 20% of requests (token
 * refreshes included) meet a fault of mixed kinds, retries on, access tokens
 * expire every second and the token store fails every second save. Every
 * request ends with an outcome; every success is in the sandbox with its text;
 * every failure is a typed, retryable `EditError`; no message ever goes back to
 * an older text, and none holds another's; and the store ends up holding the
 * pair the OAuth server issued last.
 */

import { assert, describe, it } from "@effect/vitest"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect, Stream } from "effect"
import { LARGE_BUCKET } from "./faultMatrix.ts"
import {
  bitrix24Faults,
  flakyStore,
  injectFaults,
  MESSAGES,
  ORIGINAL,
  type Outcome,
  POLICY,
  ROUNDS,
  recordingFetch,
  report,
  storedPair,
  TIMEOUT_MS,
  textOf,
  verify
} from "./nothingLost.ts"

describe("nothing lost under random faults (seeded, 20%, 1,000 updates)", () => {
  it.live(
    "Bitrix24, through updateStream in chunks, with tokens expiring every second and a token store failing every second save",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Bitrix24Sandbox.scoped({
          bucket: LARGE_BUCKET,
          accessTokenTtl: "1 second",
          logLimit: 100_000
        })
        const seeded = yield* Effect.forEach(
          Array.from({ length: MESSAGES }, (_, n) => n),
          (n) => Effect.promise(() => sandbox.seedMessage(textOf(n, ORIGINAL)))
        )
        const tokens = flakyStore(2)
        const client = recordingFetch()
        const editor = yield* Effect.orDie(
          Bitrix24.make(sandbox.settings, {
            retry: POLICY,
            transport: { timeout: TIMEOUT_MS, fetch: client.fetch },
            concurrency: 16,
            chunkSize: 4,
            rateLimit: { bucket: LARGE_BUCKET, operatingFallback: "300 millis" },
            tokenStore: tokens.store
          })
        )
        // The faults hit the OAuth endpoint too, but for the hang: a hung token request is waited for up to
        // 2 minutes by design (refresh tokens rotate: its answer holds the only valid pair), and every edit in
        // that window fails retryably, which would leave a round without a refresh. CI met that once.
        injectFaults(sandbox.server, bitrix24Faults, { hangOnlyAt: "/rest/" })
        const rounds: Array<ReadonlyArray<Outcome>> = []
        const roundStarts: Array<number> = []
        for (let round = 1; round <= ROUNDS; round++) {
          // Each round starts on an expired token, whatever the machine's speed (a quick run may otherwise end
          // within one token's second): every round refreshes at least once.
          sandbox.expireAccessToken()
          roundStarts.push(Date.now())
          const requests = seeded.map((ids, n) => ({ ids, text: textOf(n, round) }))
          rounds.push(yield* Stream.runCollect(editor.updateStream(requests)))
        }
        sandbox.server.clearFaults()
        const summary = verify(
          "bitrix24",
          rounds,
          seeded.map((ids) => sandbox.inspect(ids)),
          sandbox.server.requests,
          client.attempts,
          roundStarts
        )
        report(summary)

        // Tokens expired and rotated during the run (at least once a round), and so the store failed a save: a run
        // may see as few as two refreshes (with every third save failing, none failed once).
        assert.isAbove(sandbox.refreshes(), 1)
        assert.isAbove(tokens.failed(), 0)
        // The newest pair is never lost: the next call stores it if it is not stored yet, and it works.
        const [first] = seeded
        yield* editor.update({ ids: first as SandboxServer.RelayedIds, text: textOf(0, ROUNDS) })
        assert.deepStrictEqual(yield* storedPair(tokens.store), sandbox.tokens())
        if (process.env.RELIABILITY_SUMMARY === "1") {
          console.info(
            JSON.stringify({ refreshes: sandbox.refreshes(), saves: tokens.saves(), failedSaves: tokens.failed() })
          )
        }
      }),
    60_000
  )
})
