/**
 * The bot token travels in the URL path of every call, so every place a URL
 * or a failure can show up is a place it could leak: error messages and their
 * JSON, `inspect`, logs (debug included), spans, the sandbox's request log.
 * It never shows there, raw, URL-encoded or base64.
 */
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import type { EditError } from "@reword/core"
import { Telegram, TelegramConfig } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Effect, Logger, Redacted, References, Result, Tracer } from "effect"
import {
  answering,
  errorAnswer,
  ids,
  makeEditor,
  SECRET_PART,
  settings,
  TOKEN,
  tokenForms
} from "./support/telegram.ts"

const assertClean = (text: string, token: string = TOKEN): void => {
  for (const form of tokenForms(token)) assert.notInclude(text, form)
}

/** Every way an app may print or log an error. */
const printed = (error: EditError.EditError): string =>
  [
    error.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    error.reason.message,
    JSON.stringify(error.reason),
    error.stack ?? ""
  ].join("\n")

/** Logs at every level, and spans, of what runs under it. */
const observed = () => {
  const lines: Array<string> = []
  const spans: Array<Tracer.NativeSpan> = []
  const logger = Logger.make((options) => {
    lines.push(inspect(options.message, { depth: 8 }), inspect(options.cause, { depth: 8 }))
  })
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const within = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.withTracer(tracer),
      Effect.provide(Logger.layer([logger])),
      Effect.provideService(References.MinimumLogLevel, "All")
    )
  const rendered = () => [...lines, ...spans.map((span) => inspect(span, { depth: 8 }))].join("\n")
  return { within, rendered, lines, spans }
}

/** Answers that echo the URL (with the token) back, as proxies and servers do. */
const echoing = [
  errorAnswer(401, `Unauthorized: token ${TOKEN} is not valid`),
  errorAnswer(400, `Bad Request: can't parse URL /bot${encodeURIComponent(TOKEN)}/editMessageText`),
  {
    status: 502,
    body: `<html><head><title>502 Bad Gateway</title></head><body>upstream https://api.telegram.org/bot${TOKEN}/editMessageText (${Buffer.from(TOKEN).toString("base64")})</body></html>`
  },
  errorAnswer(500, `Internal Server Error: ${SECRET_PART}`)
]

describe("the bot token", () => {
  it.effect("is scrubbed from every error an answer echoing it makes, and from their logs and spans", () =>
    Effect.gen(function* () {
      for (const answer of echoing) {
        const { fetch } = answering(answer)
        const { within, rendered } = observed()
        const editor = yield* makeEditor(fetch)
        const error = yield* within(Effect.flip(editor.update({ ids, text: "x" })))
        assert.include(printed(error), "<redacted>")
        assertClean(printed(error))
        assertClean(rendered())
      }
    })
  )

  it.live("is scrubbed from a network failure, its logs and its spans (debug logs name the URL's path)", () =>
    Effect.gen(function* () {
      const { within, rendered, lines } = observed()
      const failing = (async (input: RequestInfo | URL) => {
        throw new TypeError(
          `fetch failed: connect ECONNREFUSED for ${input instanceof Request ? input.url : String(input)}`
        )
      }) as typeof fetch
      const editor = yield* makeEditor(failing, { retry: { maxAttempts: 2, initialDelay: "1 millis" } })
      const error = yield* within(Effect.flip(editor.update({ ids, text: "x" })))
      assert.strictEqual(error.reason._tag, "Network")
      assert.include(error.message, "<redacted>")
      assertClean(printed(error))
      assert.isAbove(lines.length, 0)
      assertClean(rendered())

      const sandbox = yield* TelegramSandbox.scoped({ botToken: TOKEN })
      const seeded = yield* Effect.promise(() => sandbox.seedMessage("hello"))
      const logged = observed()
      const onSandbox = yield* Telegram.make(sandbox.settings, { limits: false })
      yield* logged.within(onSandbox.update({ ids: seeded, text: "hello again" }))
      const debug = logged.lines.find((line) => line.includes("editMessageText"))
      assert.include(debug, "/bot<redacted>/editMessageText answered 200")
      assertClean(logged.rendered())
    })
  )

  it.live("never shows in the sandbox's request log, whatever the request", () =>
    Effect.gen(function* () {
      const sandbox = yield* TelegramSandbox.scoped({ botToken: TOKEN })
      const seeded = yield* Effect.promise(() => sandbox.seedMessage("hello"))
      const editor = yield* Telegram.make(sandbox.settings, { limits: false })
      yield* editor.update({ ids: seeded, text: "hello again" })
      // By hand: GET with a query string, an encoded token, a wrong token, a body that names the token.
      yield* Effect.promise(() =>
        Promise.all([
          fetch(`${sandbox.url}/bot${TOKEN}/getMe?note=${encodeURIComponent(TOKEN)}`),
          fetch(`${sandbox.url}/bot${encodeURIComponent(TOKEN)}/getMe`),
          fetch(`${sandbox.url}/bot${TOKEN}/sendMessage`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ chat_id: seeded.providerChatId, text: `my token is ${TOKEN}` })
          })
        ])
      )
      const log = JSON.stringify(sandbox.server.requests)
      assert.include(log, "/bot<redacted>/getMe")
      assertClean(log)
      assertClean(inspect(sandbox.server.requests, { depth: 10 }))
    })
  )

  it("is refused with a message that never repeats it, whatever setting it was given in", () => {
    const wrongShape = TelegramConfig.check({ botToken: Redacted.make(`${TOKEN} `), apiUrl: `https://x/?t=${TOKEN}` })
    assert.isTrue(Result.isFailure(wrongShape))
    const malformed = TelegramConfig.check({ botToken: Redacted.make(`bot${TOKEN}`) })
    assert.isTrue(Result.isFailure(malformed))
    for (const result of [wrongShape, malformed]) {
      if (Result.isFailure(result)) assertClean(`${result.failure.message} ${inspect(result.failure)}`)
    }
  })

  it.live("prints as <redacted> in the settings an app holds, and is not visible on the editor", () =>
    Effect.gen(function* () {
      assertClean(`${String(settings.botToken)} ${JSON.stringify(settings)} ${inspect(settings, { depth: 10 })}`)
      const checked = TelegramConfig.check(settings)
      assert.isTrue(Result.isSuccess(checked))
      if (Result.isSuccess(checked)) assertClean(`${JSON.stringify(checked.success)} ${inspect(checked.success)}`)
      const { fetch } = answering(errorAnswer(400, "x"))
      const editor = yield* makeEditor(fetch)
      assertClean(inspect(editor, { depth: 10 }))
    })
  )
})
