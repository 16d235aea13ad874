/**
 * Answer decoding: what reading a provider's usual success answer costs, through
 * its Schema and through the adapter's hand-written fast read (each adapter keeps
 * one, property-tested against the Schema: issue 19 asks for the bench figures that
 * justify it). The answers are the sandboxes' own, captured from a real edit; the
 * cost of one hand-written ky call to the same sandbox is measured beside them, as
 * the per-call budget the decode spends (the per-call target is 1.15x ky).
 */
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Telegram } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Result, Schema } from "effect"
import { MessageAnswer as AcquireAnswer } from "../packages/acquire/src/internal/answers.ts"
import * as AcquireEdited from "../packages/acquire/src/internal/edited.ts"
import { readSuccess } from "../packages/bitrix24/src/internal/answers.ts"
import { MessagesSuccess } from "../packages/bitrix24/src/internal/schemas.ts"
import * as TelegramEdited from "../packages/telegram/src/internal/edited.ts"
import { MessageAnswer as TelegramAnswer } from "../packages/telegram/src/TelegramSchemas.ts"
import { ratio } from "./support/format.ts"
import ky from "./support/ky.ts"
import type { Benchmark, BenchResult } from "./support/report.ts"
import { median, round } from "./support/stats.ts"

/** What a fetch saw last: the request it sent (to send again by hand) and the JSON answer. */
interface Seen {
  readonly url: string
  readonly body: string
  readonly headers: Record<string, string>
  readonly answer: unknown
}

/** A fetch that keeps the last request it sent and the JSON answer it got. */
const capturing = () => {
  let last: Seen | undefined
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    const body = await request.clone().text()
    const response = await globalThis.fetch(request)
    const answer = await response
      .clone()
      .json()
      .catch(() => undefined)
    last = { url: request.url, body, headers: Object.fromEntries(request.headers), answer }
    return response
  }
  return {
    fetch,
    last: (): Seen => {
      if (last === undefined) throw new Error("no request was sent")
      return last
    }
  }
}

/** Microseconds per call of `read`, the median of `rounds` rounds of `n` calls. */
const microsPerCall = (read: () => unknown, n: number, rounds = 5): number => {
  for (let i = 0; i < n; i++) read()
  const samples: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    for (let i = 0; i < n; i++) read()
    samples.push(((performance.now() - start) * 1000) / n)
  }
  return median(samples)
}

/** The median time of the same request sent again by hand with ky, in microseconds. */
const kyCall = async (seen: Seen, n: number): Promise<number> => {
  const samples: Array<number> = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await ky.post(seen.url, { body: seen.body, headers: seen.headers, retry: 0, throwHttpErrors: false }).json()
    samples.push((performance.now() - start) * 1000)
  }
  return median(samples)
}

interface Row {
  readonly provider: string
  readonly schemaMicros: number
  readonly fastMicros: number
  readonly kyMicros: number
}

const bitrix24Row = async (n: number, calls: number): Promise<Row> => {
  const sandbox = await Bitrix24Sandbox.start()
  try {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const captured = capturing()
    await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(Bitrix24.make(sandbox.settings, { transport: { fetch: captured.fetch } }), (editor) =>
          editor.update({ ids, text: "Meet at 10." })
        )
      )
    )
    const result = (captured.last().answer as { result: unknown }).result
    const decode = Schema.decodeUnknownResult(MessagesSuccess)
    if (readSuccess(result, 1) === undefined || Result.isFailure(decode(result))) throw new Error("unexpected answer")
    return {
      provider: "Bitrix24 (imconnector.update.messages, 1 message)",
      schemaMicros: microsPerCall(() => decode(result, { onExcessProperty: "ignore" }), n),
      fastMicros: microsPerCall(() => readSuccess(result, 1), n),
      kyMicros: await kyCall(captured.last(), calls)
    }
  } finally {
    await sandbox.stop()
  }
}

const acquireRow = async (n: number, calls: number): Promise<Row> => {
  const sandbox = await AcquireSandbox.start({ apiKey: "bench-answer-decode" })
  try {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const captured = capturing()
    await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(Acquire.make(sandbox.settings, { transport: { fetch: captured.fetch } }), (editor) =>
          editor.update({ ids, text: "Meet at 10." })
        )
      )
    )
    const answer = captured.last().answer
    const decode = Schema.decodeUnknownResult(AcquireAnswer)
    if (AcquireEdited.read(answer) === undefined || Result.isFailure(decode(answer)))
      throw new Error("unexpected answer")
    return {
      provider: "Acquire (POST /crm/messenger/chat/message/{id})",
      schemaMicros: microsPerCall(() => decode(answer, { onExcessProperty: "ignore" }), n),
      fastMicros: microsPerCall(() => AcquireEdited.read(answer), n),
      kyMicros: await kyCall(captured.last(), calls)
    }
  } finally {
    await sandbox.stop()
  }
}

const telegramRow = async (n: number, calls: number): Promise<Row> => {
  const sandbox = await TelegramSandbox.start()
  try {
    const ids = await sandbox.seedMessage("Meet at 11.")
    const captured = capturing()
    await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(
          Telegram.make(sandbox.settings, { limits: false, transport: { fetch: captured.fetch } }),
          (editor) => editor.update({ ids, text: "Meet at 10." })
        )
      )
    )
    const answer = captured.last().answer
    const decode = Schema.decodeUnknownResult(TelegramAnswer)
    if (TelegramEdited.read(answer) === undefined || Result.isFailure(decode(answer)))
      throw new Error("unexpected answer")
    return {
      provider: "Telegram (editMessageText)",
      schemaMicros: microsPerCall(() => decode(answer, { onExcessProperty: "ignore" }), n),
      fastMicros: microsPerCall(() => TelegramEdited.read(answer), n),
      kyMicros: await kyCall(captured.last(), calls)
    }
  } finally {
    await sandbox.stop()
  }
}

const micros = (value: number): string => `${value.toFixed(2)} µs`

export const answerDecode: Benchmark = {
  name: "answer-decode",
  run: async (context): Promise<BenchResult> => {
    const n = context.short ? 2_000 : 20_000
    const calls = context.short ? 50 : 300
    context.log(`  ${n} decodes per path, ${calls} ky calls per provider`)
    const rows = [await bitrix24Row(n, calls), await acquireRow(n, calls), await telegramRow(n, calls)]
    return {
      name: "answer-decode",
      title: "14. Answer decoding: Schema against the fast read",
      method:
        "Each adapter's usual success answer (captured from its sandbox) read through its Schema and through the adapter's hand-written fast read (property-tested against the Schema), median of 5 rounds; beside it the median time of the same request sent again with hand-written ky: the per-call budget the read spends. The sandboxes run in this process here, so the ky figure includes the server's work: the share of a call is, if anything, larger on a real network path's client.",
      parameters: { decodes: n, kyCalls: calls },
      tables: [
        {
          columns: ["answer", "Schema", "fast read", "Schema / fast", "one ky call", "Schema, share of a ky call"],
          rows: rows.map((row) => [
            row.provider,
            micros(row.schemaMicros),
            micros(row.fastMicros),
            ratio(row.schemaMicros / row.fastMicros),
            micros(row.kyMicros),
            `${((row.schemaMicros / row.kyMicros) * 100).toFixed(1)}%`
          ])
        }
      ],
      targets: [],
      notes: [
        "The per-call target allows reword 15% over a ky call for everything it does (checks, limiter, packing, telemetry, reading the answer): a Schema read that takes several percent of a call on its own spends much of that budget, which is what the fast reads keep.",
        "Every other answer (an error, an unusual shape) goes through the Schema, which judges it and names what is wrong."
      ],
      data: rows.map((row) => ({ ...row, schemaMicros: round(row.schemaMicros), fastMicros: round(row.fastMicros) }))
    }
  }
}
