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
    "1/../2",
    // Text no provider can store or show as sent: lone surrogates, bidi controls, DEL and C1 controls.
    "\ud800",
    "a\udfffb",
    "\u202eexe.txt",
    "\u200f",
    "\u061c",
    "\u2066x\u2069",
    "\u007f",
    "\u0085",
    "\u009b31m"
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

/** One character no id or name may hold: NUL, C0, DEL, C1, a bidi control, or half a surrogate pair. */
const forbidden = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x7f, max: 0x9f }).map((code) => String.fromCharCode(code)),
  fc.constantFrom("\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"),
  fc.constantFrom("\u2066", "\u2067", "\u2068", "\u2069"),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))
)
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))

/** `value` with `inserted` put at a position chosen by `at` (0 to 1). */
const insert = (value: string, inserted: string, at: number) => {
  const position = Math.floor(at * (value.length + 1))
  return `${value.slice(0, position)}${inserted}${value.slice(position)}`
}

const wellFormedId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/)

/** Where an unsafe character may land, and the field the error must name. */
const fields = [
  { path: "ids.externalMessageId", rule: "id" },
  { path: "ids.externalChatId", rule: "id" },
  { path: "ids.externalAuthorId", rule: "id" },
  { path: "text", rule: "text" },
  { path: "files.0.name", rule: "id" },
  { path: "author.firstName", rule: "id" },
  { path: "chat.name", rule: "id" }
] as const

const baseRequest = (ids: ReadonlyArray<string>, providerMessageId: number) => ({
  ids: {
    externalMessageId: ids[0] as string,
    externalChatId: ids[1] as string,
    externalAuthorId: ids[2] as string,
    providerMessageId
  },
  text: "Corrected text"
})

const withUnsafe = (
  request: ReturnType<typeof baseRequest>,
  field: (typeof fields)[number],
  bad: string,
  at: number
) => {
  switch (field.path) {
    case "ids.externalMessageId":
    case "ids.externalChatId":
    case "ids.externalAuthorId": {
      const key = field.path.slice(4) as "externalMessageId"
      return { ...request, ids: { ...request.ids, [key]: insert(request.ids[key], bad, at) } }
    }
    case "text":
      return { ...request, text: insert(request.text, bad, at) }
    case "files.0.name":
      return { ...request, files: [{ url: "https://cdn.example.com/a.png", name: insert("a.png", bad, at) }] }
    case "author.firstName":
      return { ...request, author: { firstName: insert("Ann", bad, at) } }
    case "chat.name":
      return { ...request, chat: { name: insert("Support", bad, at) } }
  }
}

/** Every string in a JSON value, however deep (bodies are small: the walk is bounded by them). */
const stringsOf = (value: unknown, into: Array<string> = []): Array<string> => {
  if (typeof value === "string") into.push(value)
  else if (Array.isArray(value)) for (const inner of value) stringsOf(inner, into)
  else if (typeof value === "object" && value !== null) for (const inner of Object.values(value)) stringsOf(inner, into)
  return into
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE_IN_IDS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Cs}/u
const LONE = /\p{Cs}/u

describe.each(editors)("text a provider cannot store, on $name", (entry) => {
  it("an id, name or file name holding a control, bidi or lone-surrogate character, or text holding a lone surrogate, is InvalidRequest naming that field, and nothing is sent", async () => {
    const { editor, sent } = build(entry)
    await fc.assert(
      fc.asyncProperty(
        fc.array(wellFormedId, { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom(...fields),
        forbidden,
        loneSurrogate,
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (ids, providerMessageId, field, bad, lone, at) => {
          const before = sent.length
          const request = withUnsafe(baseRequest(ids, providerMessageId), field, field.rule === "text" ? lone : bad, at)
          const exit = await Effect.runPromiseExit((editor as MessageEditor.Service).update(request as never))
          expect(Exit.isFailure(exit)).toBe(true)
          const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as {
            reason: { _tag: string; problems?: ReadonlyArray<{ path: string }> }
          }
          expect(error.reason._tag).toBe("InvalidRequest")
          expect(error.reason.problems?.map((problem) => problem.path)).toContain(field.path)
          expect(sent.length).toBe(before)
        }
      ),
      { numRuns: 150, seed: 20261121 }
    )
  }, 120_000)

  it("whatever reaches the provider is well-formed Unicode, with no control or bidi character in an id", async () => {
    const { editor, sent } = build(entry)
    await fc.assert(
      fc.asyncProperty(anyRequest, async (input) => {
        const before = sent.length
        await Effect.runPromiseExit((editor as MessageEditor.Service).update(input as never))
        for (const request of sent.slice(before)) {
          for (const text of [...stringsOf(request.body), request.url.pathname]) expect(LONE.test(text)).toBe(false)
          expect(UNSAFE_IN_IDS.test(decodeURIComponent(request.url.pathname))).toBe(false)
          const items = (request.body as { MESSAGES?: ReadonlyArray<Record<string, { id?: unknown }>> }).MESSAGES ?? []
          for (const item of items) {
            for (const part of ["user", "message", "chat"]) {
              expect(UNSAFE_IN_IDS.test(String(item[part]?.id ?? ""))).toBe(false)
            }
          }
        }
      }),
      { numRuns: 150, seed: 20261121 }
    )
  }, 120_000)

  it("in updateMany, a request with unsafe text is that request's InvalidRequest; the others still go", async () => {
    const { editor, sent } = build(entry)
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ids: fc.array(wellFormedId, { minLength: 3, maxLength: 3 }),
            id: fc.integer({ min: 1, max: 10_000 }),
            unsafe: fc.option(fc.record({ field: fc.constantFrom(...fields), bad: forbidden, lone: loneSurrogate }), {
              nil: undefined
            })
          }),
          { minLength: 1, maxLength: 12 }
        ),
        async (specs) => {
          const before = sent.length
          const requests = specs.map(({ ids, id, unsafe }) => {
            const request = baseRequest(ids, id)
            return unsafe === undefined
              ? request
              : withUnsafe(request, unsafe.field, unsafe.field.rule === "text" ? unsafe.lone : unsafe.bad, 0.5)
          })
          const exit = await Effect.runPromiseExit((editor as MessageEditor.Service).updateMany(requests as never))
          expect(Exit.isSuccess(exit)).toBe(true)
          const outcomes = Exit.isSuccess(exit) ? exit.value : []
          expect(outcomes.length).toBe(specs.length)
          specs.forEach((spec, index) => {
            const outcome = outcomes[index]
            if (spec.unsafe === undefined) {
              expect(outcome?._tag).toBe("Success")
            } else {
              expect(outcome?._tag).toBe("Failure")
              const reason = (outcome as { failure: { reason: { _tag: string; problems?: Array<{ path: string }> } } })
                .failure.reason
              expect(reason._tag).toBe("InvalidRequest")
              expect(reason.problems?.map((problem) => problem.path)).toContain(spec.unsafe.field.path)
            }
          })
          // Only the safe requests were sent (one message per call on Acquire, packed in chunks on Bitrix24).
          const delivered = sent
            .slice(before)
            .reduce(
              (count, request) => count + ((request.body as { MESSAGES?: Array<unknown> }).MESSAGES?.length ?? 1),
              0
            )
          expect(delivered).toBe(specs.filter((spec) => spec.unsafe === undefined).length)
        }
      ),
      { numRuns: 60, seed: 20261121 }
    )
  }, 120_000)
})

describe("bad options", () => {
  const numberish = fc.oneof(
    fc.integer({ min: -5, max: 100 }),
    fc.double(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 1.5, 2 ** 31 - 1, 2 ** 31),
    fc.constantFrom("5", "", null, true)
  )
  const durationish = fc.oneof(
    numberish,
    fc.constantFrom("1 second", "0 millis", "Infinity", "-1 millis", "soon", "24 days", "25 days"),
    fc.tuple(fc.double(), fc.double())
  )
  const options = fc.record(
    {
      retry: maybe(
        fc.record(
          { maxAttempts: numberish, initialDelay: durationish, maxDelay: durationish, maxElapsed: durationish },
          { requiredKeys: [] }
        )
      ),
      concurrency: maybe(numberish),
      transport: maybe(
        fc.record(
          { timeout: durationish, maxResponseBytes: numberish, maxConnectionsPerHost: numberish },
          { requiredKeys: [] }
        )
      ),
      chunkSize: maybe(numberish),
      headroom: maybe(numberish),
      drainPerSecond: maybe(numberish)
    },
    { requiredKeys: [] }
  )

  const millisOf = (input: unknown): number | undefined => {
    if (typeof input === "number") return input
    if (typeof input === "string") {
      const match = /^(-?[0-9.]+) (millis|second|days)$/.exec(input)
      if (match === null) return Number.NaN
      const unit = { millis: 1, second: 1000, days: 86_400_000 }[match[2] as "millis"]
      return Number(match[1]) * unit
    }
    if (Array.isArray(input)) return (input[0] as number) * 1000 + (input[1] as number) / 1e6
    return Number.NaN
  }
  const isCount = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) =>
    value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max)
  const isDelay = (value: unknown, positive: boolean) => {
    if (value === undefined) return true
    const millis = millisOf(value)
    return (
      millis !== undefined && Number.isFinite(millis) && (positive ? millis > 0 : millis >= 0) && millis <= 2 ** 31 - 1
    )
  }

  it("any option value gives an editor only when it is in its documented range, else a ConfigError naming it; never a defect", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...editors), options, async (entry, given) => {
        const { chunkSize, headroom, drainPerSecond, ...common } = given
        const own =
          entry.name === "bitrix24"
            ? {
                providerOptions: {
                  bitrix24: {
                    ...(chunkSize === undefined ? {} : { chunkSize }),
                    ...(headroom === undefined && drainPerSecond === undefined
                      ? {}
                      : {
                          rateLimit: {
                            ...(headroom === undefined ? {} : { headroom }),
                            ...(drainPerSecond === undefined ? {} : { bucket: { drainPerSecond, capacity: 50 } })
                          }
                        })
                  }
                }
              }
            : {}
        const exit = await Effect.runPromiseExit(
          Effect.scoped(
            Provider.makeEditor([Bitrix24.provider, Acquire.provider], {
              source: Provider.fromObject({ provider: entry.name, ...entry.settings }),
              ...(common as object),
              ...(own as object)
            })
          )
        )
        const inRange =
          isCount(common.retry?.maxAttempts, 1) &&
          isDelay(common.retry?.initialDelay, false) &&
          isDelay(common.retry?.maxDelay, false) &&
          isDelay(common.retry?.maxElapsed, false) &&
          isCount(common.concurrency, 1) &&
          isDelay(common.transport?.timeout, true) &&
          isCount(common.transport?.maxResponseBytes, 1) &&
          isCount(common.transport?.maxConnectionsPerHost, 1) &&
          (entry.name !== "bitrix24" ||
            (isCount(chunkSize, 1, 50) &&
              isCount(headroom, 0) &&
              (drainPerSecond === undefined ||
                (typeof drainPerSecond === "number" && Number.isFinite(drainPerSecond) && drainPerSecond > 0))))
        seen.add(Exit.isSuccess(exit) ? "built" : "refused")
        if (Exit.isSuccess(exit)) {
          expect(inRange, `built with ${JSON.stringify(given)}`).toBe(true)
          return
        }
        expect(Cause.hasDies(exit.cause), Cause.pretty(exit.cause)).toBe(false)
        const error = Cause.squash(exit.cause) as { _tag: string; message: string }
        expect(error._tag).toBe("ConfigError")
        expect(inRange, `refused ${JSON.stringify(given)}: ${error.message}`).toBe(false)
        expect(error.message).toMatch(/retry\.|concurrency|transport\.|chunkSize|rateLimit\./)
      }),
      { numRuns: 300, seed: 20261121 }
    )
    // The generator reaches both sides of the line.
    expect([...seen].sort()).toEqual(["built", "refused"])
  }, 120_000)
})
