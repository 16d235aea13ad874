import { assert, describe, it } from "@effect/vitest"
import { HttpTransport, Secrets } from "@reword/core/adapter"
import { Effect, Redacted } from "effect"
import * as fc from "fast-check"
import { loopbackServer } from "./support/loopbackServer.ts"

// --- encodings a server may echo a secret in, each with the way a reader decodes it back

const unicodeEscape = (text: string, mask: ReadonlyArray<boolean>, upper: boolean): string =>
  text
    .split("")
    .map((unit, index) => {
      const escaped = JSON.stringify(unit).slice(1, -1)
      if (!(mask[index % Math.max(1, mask.length)] ?? true) && escaped === unit) return unit
      const hex = unit.charCodeAt(0).toString(16).padStart(4, "0")
      return `\\u${upper ? hex.toUpperCase() : hex}`
    })
    .join("")

const percentEscape = (text: string, mask: ReadonlyArray<boolean>, lower: boolean): string =>
  [...text]
    .map((char, index) => {
      const plain = /^[A-Za-z0-9_.~-]$/.test(char) && !(mask[index % Math.max(1, mask.length)] ?? true)
      if (plain) return char
      const encoded =
        encodeURIComponent(char) === char
          ? `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`
          : encodeURIComponent(char)
      return lower ? encoded.toLowerCase() : encoded
    })
    .join("")

const htmlEscape = (text: string, mask: ReadonlyArray<boolean>, hex: boolean): string =>
  [...text]
    .map((char, index) => {
      const code = char.codePointAt(0) ?? 0
      const must = /[&<>"']/.test(char)
      if (!must && !(mask[index % Math.max(1, mask.length)] ?? true)) return char
      return hex ? `&#x${code.toString(16)};` : `&#${code};`
    })
    .join("")

const htmlUnescape = (text: string): string =>
  text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_, dec: string) => String.fromCodePoint(Number.parseInt(dec, 10)))

interface Echo {
  readonly name: string
  /** The document the server sends back, with the secret inside. */
  readonly document: string
  /** What a reader gets back from the document. */
  readonly decode: (document: string) => string
}

const echoes = (secret: string, before: string, after: string, mask: ReadonlyArray<boolean>, flag: boolean) => {
  const value = `${before}${secret}${after}`
  const json = (document: string) => String((JSON.parse(document) as { echo: unknown }).echo)
  const list: Array<Echo> = [
    { name: "raw", document: value, decode: (d) => d },
    { name: "JSON.stringify", document: JSON.stringify({ echo: value }), decode: json },
    {
      name: "\\u-escaped (mixed with plain characters)",
      document: `{"echo":"${JSON.stringify(before).slice(1, -1)}${unicodeEscape(secret, mask, flag)}${JSON.stringify(after).slice(1, -1)}"}`,
      decode: json
    },
    {
      name: "PHP's escaped slashes",
      document: JSON.stringify({ echo: value }).replaceAll("/", "\\/"),
      decode: json
    },
    {
      name: "percent-encoded (mixed, either case)",
      document: `token=${encodeURIComponent(before)}${percentEscape(secret, mask, flag)}${encodeURIComponent(after)}`,
      decode: (d) => decodeURIComponent(d.slice("token=".length))
    },
    {
      name: "form-encoded",
      document: new URLSearchParams({ grant_type: "refresh_token", refresh_token: value }).toString(),
      decode: (d) => new URLSearchParams(d).get("refresh_token") ?? ""
    },
    {
      name: "HTML character references",
      document: `<p>${htmlEscape(before, [], flag)}${htmlEscape(secret, mask, flag)}${htmlEscape(after, [], flag)}</p>`,
      decode: (d) => htmlUnescape(d)
    },
    ...[0, 1, 2].flatMap((offset): Array<Echo> => {
      const prefix = "id:".slice(0, offset)
      return [
        {
          name: `base64 at offset ${offset}`,
          document: `Basic ${Buffer.from(`${prefix}${value}`).toString("base64")}`,
          decode: (d) => Buffer.from(d.slice(6), "base64").toString("utf8")
        },
        {
          name: `base64url at offset ${offset}`,
          document: Buffer.from(`${prefix}${value}`).toString("base64url"),
          decode: (d) => Buffer.from(d, "base64url").toString("utf8")
        }
      ]
    }),
    {
      name: "a form inside JSON",
      document: JSON.stringify({ echo: new URLSearchParams({ refresh_token: value }).toString() }),
      decode: (d) => new URLSearchParams(json(d)).get("refresh_token") ?? ""
    },
    {
      name: "JSON inside JSON",
      document: JSON.stringify({ echo: JSON.stringify({ token: value }) }),
      decode: (d) => String((JSON.parse(json(d)) as { token: unknown }).token)
    }
  ]
  return list
}

/** Token-like secrets (what providers issue), and any text at all. */
const tokenChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=:")
const secretArb = fc.oneof(
  fc.string({ unit: tokenChars, minLength: 8, maxLength: 80 }),
  fc.string({ unit: "grapheme", minLength: 6, maxLength: 24 })
)
/** Context around the echo: plain words, so that it cannot itself form an escape with the secret's edges. */
const contextArb = fc.string({ unit: fc.constantFrom(..."abc XYZ,;[]{}"), maxLength: 12 })

describe("Secrets.scrub", () => {
  it("removes a secret in every common encoding: what a reader decodes holds no secret (property)", () => {
    fc.assert(
      fc.property(
        secretArb,
        contextArb,
        contextArb,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (secret, before, after, mask, flag) => {
          fc.pre(secret.trim().length >= 6)
          const secrets = Secrets.make([Redacted.make(secret)])
          for (const echo of echoes(secret, before, after, mask, flag)) {
            // The echo really holds the secret (the case is not vacuous).
            assert.include(echo.decode(echo.document), secret, `${echo.name} holds the secret`)
            const scrubbed = secrets.scrub(echo.document)
            assert.notInclude(scrubbed, secret, echo.name)
            assert.include(scrubbed, Secrets.REDACTED, echo.name)
            let decoded: string
            try {
              decoded = echo.decode(scrubbed)
            } catch {
              decoded = ""
            }
            assert.notInclude(decoded, secret, `${echo.name}, decoded`)
          }
        }
      ),
      { numRuns: 200 }
    )
  })

  it("leaves text without a secret as it is, and short secrets alone", () => {
    const secrets = Secrets.make([Redacted.make("never-in-these-texts-0123")])
    fc.assert(
      fc.property(fc.json(), (text) => {
        assert.strictEqual(secrets.scrub(text), text)
      }),
      { numRuns: 300 }
    )
    assert.strictEqual(Secrets.make([Redacted.make("abc")]).scrub("abc abc"), "abc abc")
  })

  it("keeps JSON valid: a secret inside a string literal becomes <redacted> in it", () => {
    const secret = "s3cr3t/TOKEN+value=="
    const secrets = Secrets.make([Redacted.make(secret)])
    const body = `{"error":"invalid_grant","error_description":"bad token ${JSON.stringify(secret).slice(1, -1).replaceAll("/", "\\/")}","u":"${unicodeEscape(secret, [true, false], true)}"}`
    const parsed = JSON.parse(secrets.scrub(body)) as Record<string, string>
    assert.deepStrictEqual(parsed, {
      error: "invalid_grant",
      error_description: "bad token <redacted>",
      u: "<redacted>"
    })
  })

  it("is a live set: a secret added later is scrubbed by every later call", () => {
    const secrets = Secrets.make()
    assert.strictEqual(secrets.scrub("rotated-token-1"), "rotated-token-1")
    secrets.add(Redacted.make("rotated-token-1"))
    secrets.addAll([Redacted.make("rotated-token-2")])
    assert.strictEqual(secrets.scrub("a rotated-token-1 b rotated-token-2"), "a <redacted> b <redacted>")
    assert.strictEqual(secrets.size, 2)
    // The set itself never shows a secret.
    assert.notInclude(`${String(secrets)} ${JSON.stringify(secrets)}`, "rotated")
  })

  it("scrubs every string of a value and of a reason's fields, bounded", () => {
    const secret = "deep-secret-value"
    const secrets = Secrets.make([Redacted.make(secret)])
    const value = { a: [{ b: `x ${secret}` }], [secret]: encodeURIComponent(secret), n: 1 }
    assert.notInclude(JSON.stringify(secrets.scrubDeep(value)), secret)
    // 100,000 levels deep: no stack overflow, nothing beyond the bound kept.
    let deep: unknown = secret
    for (let i = 0; i < 100_000; i++) deep = [deep]
    assert.notInclude(JSON.stringify(secrets.scrubDeep([deep]).flat(40)), secret)
  })

  it("takes at most a moment on a 1 MiB body full of escapes, with several secrets", () => {
    const secrets = Secrets.make(
      Array.from({ length: 6 }, (_, i) => Redacted.make(`secret-token-${i}-${"x".repeat(24)}`))
    )
    const unit = "\\u0041%41&amp;+\\/ab"
    const hostile = unit.repeat(Math.ceil((1024 * 1024) / unit.length))
    const plain = "a".repeat(1024 * 1024)
    // The process's own CPU time, not the wall clock: other processes on a loaded machine do not count.
    const started = process.cpuUsage()
    secrets.scrub(hostile)
    secrets.scrub(plain)
    const used = process.cpuUsage(started)
    assert.isBelow((used.user + used.system) / 1000, 5_000)
  })
})

describe("the transport scrubs what it keeps with a Secrets set, in every encoding", () => {
  it.live("the body, the parsed JSON, a Location header and a network error's text", () =>
    Effect.gen(function* () {
      const token = "refresh/TOKEN+rotated=="
      const echo = JSON.stringify({
        error: "invalid_grant",
        error_description: unicodeEscape(token, [true, false, false], false),
        form: new URLSearchParams({ refresh_token: token }).toString(),
        php: JSON.stringify(token).replaceAll("/", "\\/")
      })
      const server = yield* loopbackServer((request, response) => {
        if (request.url === "/redirect") {
          response.writeHead(302, { location: `https://elsewhere.example/?t=${encodeURIComponent(token)}` })
          response.end()
          return
        }
        response.writeHead(400, { "content-type": "application/json" })
        // The description \u-escaped once more: the raw body holds it only as \\u00xx.
        response.end(echo.replace(/\\\\u/g, "\\u"))
      })
      const secrets = Secrets.make()
      const transport = HttpTransport.make()
      // Added after the request was built, before the answer came: still scrubbed.
      const request = { method: "POST" as const, url: new URL(`${server.url}/token`), secrets }
      secrets.add(Redacted.make(token))
      const answer = yield* transport.send(request)
      assert.notInclude(answer.text, token)
      assert.notInclude(JSON.stringify(answer.json), token)
      assert.notInclude(JSON.stringify(answer.json), encodeURIComponent(token))
      assert.include(answer.text, Secrets.REDACTED)

      const redirected = yield* Effect.flip(transport.send({ ...request, url: new URL(`${server.url}/redirect`) }))
      assert.strictEqual(redirected._tag, "Rejected")
      assert.notInclude(redirected.message, encodeURIComponent(token))
      assert.include(redirected.message, Secrets.REDACTED)

      // An array of secrets works as before.
      const withArray = yield* transport.send({ ...request, secrets: [Redacted.make(token)] })
      assert.notInclude(withArray.text, token)
    })
  )
})
