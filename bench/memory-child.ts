/**
 * One memory run, in a fresh process so that nothing else is in its RSS:
 *
 *   node --conditions=@reword/source --expose-gc bench/memory-child.ts <mode> <count>
 *
 * (`memory.ts` adds V8 flags for some rows.) Modes: `many` (`updateMany` over
 * a generator: the outcomes accumulate in the answered array), `stream`
 * (`updateStream` over a generator, outcomes counted as they come),
 * `stream-source` (`updateStream` over an Effect `Stream`), `each` (the
 * Promise API's `updateEach` over an async generator), `ky` (the baseline:
 * the same requests written by hand with ky over the same `fetch`, 16 workers
 * each awaiting its own, as a plain loop at the same concurrency would).
 *
 * The target is the Acquire adapter over a `fetch` that answers in this
 * process (`transport.fetch`): the whole adapter path runs (validation, ky,
 * the body read with its cap, Schema decoding, the neutral result) and the
 * target keeps no state, so the memory is reword's alone. A sandbox would keep
 * every edit (its memory grows with the run), and the InMemoryEditor holds a
 * store of every message and skips HTTP. Prints one line of JSON.
 */

import { getHeapSpaceStatistics } from "node:v8"
import { Acquire } from "@reword/acquire"
import type { MessageEditor } from "@reword/core"
import { createEditor } from "@reword/core/promise"
import { Effect, Redacted, Result, Stream } from "effect"
import ky from "./support/ky.ts"

const [mode = "stream", countText = "100000"] = process.argv.slice(2)
const total = Number(countText)
const CONCURRENCY = 16

/** Requests the target answered: the progress of every mode (`updateMany` shows none until it ends). */
let answered = 0

/**
 * Acquire's answer to an update, small and shaped like the real one (the
 * fields the adapter reads), given on the next turn of the event loop as an
 * answer from the network would be. Answering in the same turn would run the
 * whole benchmark in one chain of microtasks, in which no timer (and so no
 * sample) ever fires.
 */
const fetchAtOnce: typeof globalThis.fetch = async (input, init) => {
  await new Promise<void>((resolve) => setImmediate(resolve))
  answered += 1
  const request = input instanceof Request ? input : new Request(input, init)
  const id = Number(request.url.slice(request.url.lastIndexOf("/") + 1))
  const body = (await request.json()) as { readonly message: { readonly message: string } }
  const answer = {
    data: {
      id,
      caseId: 2069,
      threadId: 2069,
      type: "message",
      senderType: "user",
      message: body.message.message,
      dateCreated: "2026-01-05T10:00:00.000Z",
      dateUpdated: new Date().toISOString()
    }
  }
  return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json" } })
}

const requestOf = (index: number): MessageEditor.RequestInput => ({
  ids: { providerMessageId: index + 1 },
  text: `Edit ${index}: the order ships on Tuesday at 10:00.`
})

function* requests(): Generator<MessageEditor.RequestInput> {
  for (let index = 0; index < total; index++) yield requestOf(index)
}

async function* asyncRequests(): AsyncGenerator<MessageEditor.RequestInput> {
  for (let index = 0; index < total; index++) yield requestOf(index)
}

/** Two full collections a turn apart, so that what the first one finalizes is gone too. */
const collect = async () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise<void>((resolve) => setImmediate(resolve))
  ;(globalThis as { gc?: () => void }).gc?.()
}

const settings = { accountId: "bench", apiKey: Redacted.make("bench_0123456789abcdef") }
const editor = await Effect.runPromise(
  Acquire.make(settings, { transport: { fetch: fetchAtOnce }, concurrency: CONCURRENCY })
)
const promiseEditor = await createEditor({
  providers: Acquire.provider,
  settings: { acquire: { accountId: settings.accountId, apiKey: Redacted.value(settings.apiKey) } },
  transport: { fetch: fetchAtOnce },
  concurrency: CONCURRENCY
})

// A few edits first, so that the baseline holds the code that the run loads.
await Effect.runPromise(editor.updateMany([requestOf(0), requestOf(1)]))
await collect()

let done = 0
let failed = 0
answered = 0
const samples: Array<
  readonly [
    seconds: number,
    rss: number,
    heapUsed: number,
    external: number,
    answered: number,
    done: number,
    oldSpace: number
  ]
> = []
const started = performance.now()
/** V8's old generation, used: what survived young collections (promoted), until a full GC. */
const oldSpaceUsed = () =>
  getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ?? 0
const sample = () => {
  const usage = process.memoryUsage()
  samples.push([
    (performance.now() - started) / 1000,
    usage.rss,
    usage.heapUsed,
    usage.external,
    answered,
    done,
    oldSpaceUsed()
  ])
}
sample()
const baseline = { rss: samples[0]?.[1] ?? 0, heapUsed: samples[0]?.[2] ?? 0 }
const timer = setInterval(sample, 100)

const counted = (outcome: Result.Result<unknown, unknown>) =>
  Effect.sync(() => {
    done += 1
    if (Result.isFailure(outcome)) failed += 1
  })

let kept: unknown
switch (mode) {
  case "many": {
    const outcomes = await Effect.runPromise(editor.updateMany(requests()))
    done = outcomes.length
    failed = outcomes.filter(Result.isFailure).length
    sample()
    kept = outcomes
    break
  }
  case "stream":
    await Effect.runPromise(Stream.runForEach(editor.updateStream(requests()), counted))
    break
  case "stream-source":
    await Effect.runPromise(
      Stream.runForEach(editor.updateStream(Stream.range(0, total - 1).pipe(Stream.map(requestOf))), counted)
    )
    break
  case "ky": {
    // The baseline: the same requests by hand, ky over the same fetch, at the same concurrency.
    const client = ky.create({ fetch: fetchAtOnce, retry: 0 })
    const headers = { authorization: `Bearer ${Redacted.value(settings.apiKey)}`, accept: "application/json" }
    let next = 0
    const worker = async () => {
      while (next < total) {
        const request = requestOf(next++)
        try {
          const answer = await client
            .post(`https://acquire.example/crm/messenger/chat/message/${request.ids.providerMessageId}`, {
              headers,
              json: { message: { type: "message", message: request.text } }
            })
            .json<{ readonly data?: { readonly id?: unknown } }>()
          if (answer.data?.id === undefined) failed += 1
        } catch {
          failed += 1
        }
        done += 1
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    break
  }
  case "each":
    for await (const settled of promiseEditor.updateEach(asyncRequests())) {
      done += 1
      if (settled.status === "rejected") failed += 1
    }
    break
  default:
    throw new Error(`unknown mode ${mode}`)
}
sample()
clearInterval(timer)
const seconds = (performance.now() - started) / 1000
// What the run keeps once its garbage is collected (`updateMany`'s outcomes are still referenced here).
await collect()
const retained = process.memoryUsage().heapUsed
const peak = samples.reduce(
  (highest, [, rss, heapUsed, , , , oldSpace]) => ({
    rss: Math.max(highest.rss, rss),
    heapUsed: Math.max(highest.heapUsed, heapUsed),
    oldSpace: Math.max(highest.oldSpace, oldSpace)
  }),
  { rss: 0, heapUsed: 0, oldSpace: 0 }
)
process.stdout.write(
  `${JSON.stringify({
    mode,
    total,
    done,
    failed,
    seconds,
    baseline,
    peak,
    retained,
    // The kernel's high-water mark for the whole process (bytes), whatever the sampling missed.
    maxRss: process.resourceUsage().maxRSS * 1024,
    samples,
    kept: Array.isArray(kept) ? kept.length : undefined,
    flags: process.execArgv
  })}\n`
)
await promiseEditor.dispose()
process.exit(0)
