/**
 * Bad input, generated: whatever an app passes, reword answers a valid edit or
 * an `InvalidRequest` (or `Unsupported`) naming the field, never a defect or an
 * unhandled exception, and no input ever changes a request's host or path.
 * The providers are reached through a `fetch` that records each request and
 * answers as the provider would, so nothing leaves the process.
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24, RateLimiter } from "@reword/bitrix24"
import { type MessageEditor, Provider } from "@reword/core"
import { Cause, Effect, Exit, Redacted } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

interface Sent {
  readonly url: URL
  readonly body: unknown
}

/** A fetch that answers like the provider, and records every request. */
const fakeProvider = (answer: (url: URL, body: unknown) => unknown) => {
  const sent: Array<Sent> = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    const url = new URL(request.url)
    const text = await request.text()
    const body = text.length === 0 ? undefined : JSON.parse(text)
    sent.push({ url, body })
    return new Response(JSON.stringify(answer(url, body)), {
      status: 200,
      headers: { "content-type": "application/json" }
    })
  }
  return { sent, fetch: fetch as typeof globalThis.fetch }
}

const acquireAnswer = (url: URL, body: unknown) => ({
  data: {
    id: Number(url.pathname.split("/").at(-1)),
    message: (body as { message: { message: string } }).message.message,
    dateUpdated: "2026-11-21T12:00:00.000Z"
  }
})

const bitrixAnswer = (_url: URL, body: unknown) => {
  const messages = (body as { MESSAGES: Array<{ message: { id: string; text?: string }; chat: { id: string } }> })
    .MESSAGES
  return {
    result: {
      SUCCESS: true,
      DATA: {
        RESULT: messages.map((m) => ({
          user: "5",
          message: { id: m.message.id, date: {}, text: m.message.text },
          chat: { id: m.chat.id },
          SUCCESS: true
        }))
      }
    },
    time: { start: 1, finish: 1.1, duration: 0.1, processing: 0, date_start: "", date_finish: "" }
  }
}

const editors = [
  {
    name: "acquire",
    host: "acme.acquire.io",
    path: /^\/api\/v1\/crm\/messenger\/chat\/message\/[1-9][0-9]*$/,
    answer: acquireAnswer,
    settings: { acquire: { accountId: "acme", apiKey: "acquire-secret-key-1234" } }
  },
  {
    name: "bitrix24",
    host: "acme.bitrix24.com",
    path: /^\/rest\/imconnector\.update\.messages$/,
    answer: bitrixAnswer,
    settings: {
      bitrix24: {
        portalUrl: "https://acme.bitrix24.com",
        accessToken: "bitrix-access-token-1234",
        refreshToken: "bitrix-refresh-token-1234",
        clientId: "local.app.1",
        clientSecret: "bitrix-client-secret-1234",
        connector: "reword",
        line: 1
      }
    }
  }
] as const

const build = (entry: (typeof editors)[number]) => {
  const provider = fakeProvider(entry.answer)
  const editor = Effect.runSync(
    Effect.scoped(
      Provider.makeEditor([Bitrix24.provider, Acquire.provider], {
        source: Provider.fromObject({ provider: entry.name, ...entry.settings }),
        retry: { maxAttempts: 1 },
        transport: { fetch: provider.fetch }
      })
    ).pipe(
      // The fake portal has no limit: do not pace the thousands of generated calls at 2 per second.
      Effect.provideService(
        RateLimiter.RateLimiter,
        RateLimiter.make({ bucket: { drainPerSecond: 1_000_000, capacity: 1_000_000 } })
      )
    )
  )
  return { editor, sent: provider.sent }
}

/** Anything an app might pass where a value belongs. */
const anything = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "../..",
    "/",
    "?x=1",
    "#frag",
    "%2F",
    "%00",
    "a/b",
    "..",
    "\u0000",
    "\n",
    "\t",
    "😀",
    "🇺🇦",
    "1/../2"
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN, Number.POSITIVE_INFINITY),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })
)

const maybe = <A>(arbitrary: fc.Arbitrary<A>) => fc.option(arbitrary, { nil: undefined })

const requestLike = fc.record(
  {
    ids: fc.oneof(
      fc.record(
        {
          externalMessageId: fc.oneof(anything, fc.constantFrom("wa-1", "m/1", "m?1", "m#1")),
          externalChatId: fc.oneof(anything, fc.constant("chat-1")),
          externalAuthorId: fc.oneof(anything, fc.constant("user-1")),
          providerMessageId: fc.oneof(
            anything,
            fc.integer({ min: 1, max: 10_000 }),
            fc.constantFrom("17", "0017", "1e3", "17/../18")
          )
        },
        { requiredKeys: [] }
      ),
      anything
    ),
    text: fc.oneof(
      anything,
      fc.string({ minLength: 1 }),
      fc.string({ unit: "grapheme", minLength: 50_000, maxLength: 120_000 })
    ),
    files: maybe(
      fc.array(fc.record({ url: fc.oneof(anything, fc.webUrl()), name: maybe(anything) }), { maxLength: 3 })
    ),
    author: maybe(
      fc.record({ firstName: anything, lastName: anything, email: anything, gender: anything }, { requiredKeys: [] })
    ),
    chat: maybe(fc.record({ name: anything, url: anything }, { requiredKeys: [] })),
    language: maybe(anything),
    editedAt: maybe(fc.oneof(fc.date(), anything)),
    extra: maybe(anything)
  },
  { requiredKeys: [] }
)

/** Requests that must succeed on both providers: any text (unicode, emoji, up to 100,000 characters), all ids. */
const validRequest = fc.record({
  ids: fc.record({
    externalMessageId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
    externalChatId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
    externalAuthorId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
    providerMessageId: fc.integer({ min: 1, max: 2 ** 31 })
  }),
  text: fc.oneof(
    fc.string({ minLength: 1 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 2_000 }),
    fc.constant("😀".repeat(50_000))
  )
})

const anyRequest = fc.oneof(validRequest, requestLike)

const accepted = new Set(["InvalidRequest", "Unsupported"])

const judge = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return "success"
  expect(Cause.hasDies(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`).toBe(false)
  const error = Cause.squash(exit.cause) as { reason: { _tag: string; problems?: ReadonlyArray<{ path: string }> } }
  expect(accepted.has(error.reason._tag), `unexpected reason ${error.reason._tag}`).toBe(true)
  if (error.reason._tag === "InvalidRequest") {
    expect(error.reason.problems?.length).toBeGreaterThan(0)
    for (const problem of error.reason.problems ?? []) expect(problem.path.length).toBeGreaterThan(0)
  }
  return error.reason._tag
}

describe.each(editors)("bad input on $name", (entry) => {
  it("is a valid edit or InvalidRequest/Unsupported naming the field; never a defect; never another host or path", async () => {
    const { editor, sent } = build(entry)
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(anyRequest, async (input) => {
        const before = sent.length
        const exit = await Effect.runPromiseExit((editor as MessageEditor.Service).update(input as never))
        seen.add(judge(exit))
        for (const request of sent.slice(before)) {
          expect(request.url.host).toBe(entry.host)
          expect(request.url.pathname).toMatch(entry.path)
          expect(request.url.search).toBe("")
        }
        if (Exit.isFailure(exit)) expect(sent.length).toBe(before)
      }),
      { numRuns: 300, seed: 20261121 }
    )
    // The generator reaches both sides of the line.
    expect(seen.has("success")).toBe(true)
    expect(seen.has("InvalidRequest")).toBe(true)
  }, 120_000)

  it("updateMany answers exactly one outcome per request for any mix", async () => {
    const { editor } = build(entry)
    await fc.assert(
      fc.asyncProperty(fc.array(anyRequest, { maxLength: 30 }), async (inputs) => {
        const exit = await Effect.runPromiseExit((editor as MessageEditor.Service).updateMany(inputs as never))
        expect(Exit.isSuccess(exit)).toBe(true)
        if (Exit.isSuccess(exit)) {
          expect(exit.value.length).toBe(inputs.length)
          for (const outcome of exit.value)
            judge(outcome._tag === "Success" ? Exit.succeed(1) : Exit.fail(outcome.failure))
        }
      }),
      { numRuns: 60, seed: 20261121 }
    )
  }, 120_000)
})

describe("bad configuration", () => {
  const setting = fc.oneof(anything, fc.constantFrom("https://acme.bitrix24.com", "http://127.0.0.1:1", "acme", "7"))
  // Secrets that can be told apart from any other text of a message.
  const secret = fc.oneof(fc.stringMatching(/^tok_[a-z0-9]{16}$/), setting)
  const configuration = fc.record(
    {
      provider: fc.oneof(fc.constantFrom("bitrix24", "acquire", "Bitrix24", " acquire", "zendesk"), anything),
      acquire: maybe(
        fc.record(
          { accountId: setting, apiKey: secret, baseUrl: setting, allowInsecureLoopback: setting },
          { requiredKeys: [] }
        )
      ),
      bitrix24: maybe(
        fc.record(
          {
            portalUrl: setting,
            accessToken: secret,
            refreshToken: secret,
            clientId: setting,
            clientSecret: secret,
            oauthUrl: setting,
            connector: setting,
            line: setting
          },
          { requiredKeys: [] }
        )
      )
    },
    { requiredKeys: [] }
  )

  it("is a usable editor or a ConfigError that never repeats a secret; never a defect", async () => {
    await fc.assert(
      fc.asyncProperty(configuration, async (settings) => {
        const exit = await Effect.runPromiseExit(
          Effect.scoped(
            Provider.makeEditor([Bitrix24.provider, Acquire.provider], {
              source: Provider.fromObject(settings as never)
            })
          )
        )
        if (Exit.isSuccess(exit)) return
        expect(Cause.hasDies(exit.cause), Cause.pretty(exit.cause)).toBe(false)
        const error = Cause.squash(exit.cause) as { _tag: string; message: string }
        expect(error._tag).toBe("ConfigError")
        const secrets = [
          settings.acquire?.apiKey,
          settings.bitrix24?.accessToken,
          settings.bitrix24?.refreshToken,
          settings.bitrix24?.clientSecret
        ]
        for (const secret of secrets) {
          if (typeof secret === "string" && secret.startsWith("tok_")) expect(error.message).not.toContain(secret)
        }
      }),
      { numRuns: 300, seed: 20261121 }
    )
  }, 120_000)

  it("keeps secrets Redacted once read", async () => {
    const { settings } = await Effect.runPromise(
      Provider.select(
        [Acquire.provider],
        Provider.fromObject({ provider: "acquire", acquire: { accountId: "acme", apiKey: "acquire-secret-key-1234" } })
      )
    )
    expect(Redacted.isRedacted((settings as { apiKey: unknown }).apiKey)).toBe(true)
    expect(JSON.stringify(settings)).not.toContain("acquire-secret-key-1234")
  })
})
