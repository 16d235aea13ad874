import { inspect } from "node:util"
import { Redacted, Result } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Events } from "../src/index.ts"

/** A form body as Bitrix24 posts it: PHP-style nested keys, brackets percent-encoded. */
const form = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join("&")

const FORM = "application/x-www-form-urlencoded"

// The documentation's install, with the `expires` and `user_id` real captures add.
const install = {
  event: "ONAPPINSTALL",
  "data[VERSION]": "1",
  "data[ACTIVE]": "Y",
  "data[INSTALLED]": "Y",
  "data[LANGUAGE_ID]": "de",
  ts: "1696527000",
  "auth[domain]": "some-domain.bitrix24.com",
  "auth[scope]": "imopenlines,imconnector",
  "auth[access_token]": "s6p6eclrvim6da22ft9ch94ekreb52lv",
  "auth[refresh_token]": "4s386p3q0tr8dy89xvmt96234v3dljg8",
  "auth[expires]": "1696530600",
  "auth[expires_in]": "3600",
  "auth[server_endpoint]": "https://oauth.bitrix.info/rest/",
  "auth[status]": "F",
  "auth[client_endpoint]": "https://some-domain.bitrix24.com/rest/",
  "auth[member_id]": "a223c6b3710f85df22e9377d6c4f7553",
  "auth[user_id]": "1",
  "auth[application_token]": "51856fefc120afa4b628cc82d3935cce"
}

const ok = <A>(result: Result.Result<A, Events.EventRefused>): A => {
  if (Result.isFailure(result)) throw new Error(`expected an event, got ${result.failure.message}`)
  return result.success
}
const refusal = (result: Result.Result<unknown, Events.EventRefused>): string | undefined =>
  Result.isFailure(result) ? result.failure.reason._tag : undefined

describe("the Bitrix24 event decoder", () => {
  it("decodes ONAPPINSTALL from a form body with PHP-style nested keys; secrets come out Redacted", () => {
    const event = ok(Events.decode(form(install), FORM))
    expect(event._tag).toBe("AppInstall")
    if (event._tag !== "AppInstall") return
    expect(event.memberId).toBe("a223c6b3710f85df22e9377d6c4f7553")
    expect(Redacted.value(event.applicationToken)).toBe("51856fefc120afa4b628cc82d3935cce")
    expect(Redacted.value(event.grant.accessToken)).toBe("s6p6eclrvim6da22ft9ch94ekreb52lv")
    expect(event.grant.expiresAt).toBe(1696530600)
    expect(event.grant.scope).toEqual(["imopenlines", "imconnector"])
    expect(event.grant.userId).toBe(1)
    expect([event.active, event.installed, event.version, event.ts]).toEqual([true, true, "1", 1696527000])
    expect(event.clientEndpoint).toBe("https://some-domain.bitrix24.com/rest/")
    const printed = `${inspect(event, { depth: 5 })} ${JSON.stringify(event)}`
    for (const secret of [
      "s6p6eclrvim6da22ft9ch94ekreb52lv",
      "4s386p3q0tr8dy89xvmt96234v3dljg8",
      "51856fefc120afa4b628cc82d3935cce"
    ]) {
      expect(printed).not.toContain(secret)
    }
  })

  it("decodes the same event from JSON, expires from expires_in when expires is missing", () => {
    const body = JSON.stringify({
      event: "onappinstall",
      data: { VERSION: "2", ACTIVE: "Y", INSTALLED: "N" },
      auth: {
        access_token: "aaaaaaaa",
        refresh_token: "rrrrrrrr",
        expires_in: 3600,
        member_id: "m1",
        application_token: "app-token",
        scope: "imopenlines imconnector"
      }
    })
    const event = ok(Events.decode(body, "application/json; charset=utf-8", { nowSeconds: 1000 }))
    expect(event._tag).toBe("AppInstall")
    if (event._tag !== "AppInstall") return
    expect(event.grant.expiresAt).toBe(4600)
    expect(event.installed).toBe(false)
    expect(event.grant.scope).toEqual(["imopenlines", "imconnector"])
  })

  it("decodes ONAPPUPDATE and ONAPPUNINSTALL (with CLEAN, and the old misspelling)", () => {
    const update = ok(
      Events.decode(
        form({
          event: "ONAPPUPDATE",
          "data[VERSION]": "3",
          "data[PREVIOUS_VERSION]": "2",
          "auth[member_id]": "m",
          "auth[application_token]": "t-new"
        }),
        FORM
      )
    )
    expect(update).toMatchObject({ _tag: "AppUpdate", version: "3", previousVersion: "2", grant: undefined })
    for (const [name, clean, expected] of [
      ["ONAPPUNINSTALL", "1", true],
      ["ONAPPUNINSTALL", "0", false],
      ["ONAPPSUNINSTALL", "1", true]
    ] as const) {
      const event = ok(
        Events.decode(
          form({
            event: name,
            "data[CLEAN]": clean,
            "data[LANGUAGE_ID]": "en",
            "auth[member_id]": "m",
            "auth[application_token]": "t"
          }),
          undefined
        )
      )
      expect(event).toMatchObject({ _tag: "AppUninstall", clean: expected, memberId: "m" })
    }
  })

  it("ignores unknown fields; refuses what is not a known event with a typed reason", () => {
    expect(ok(Events.decode(`${form(install)}&auth%5Bnew_field%5D=x&extra=1`, FORM))._tag).toBe("AppInstall")
    expect(refusal(Events.decode(form({ ...install, event: "ONCRMDEALADD" }), FORM))).toBe("Unsupported")
    const noToken: Record<string, string> = { ...install }
    delete noToken["auth[application_token]"]
    expect(refusal(Events.decode(form(noToken), FORM))).toBe("Unsupported")
    const noGrant: Record<string, string> = { ...install }
    delete noGrant["auth[refresh_token]"]
    expect(refusal(Events.decode(form(noGrant), FORM))).toBe("Unsupported")
    expect(refusal(Events.decode("event=ONAPPINSTALL&auth%5Bmember_id=x", FORM))).toBe("Malformed")
    expect(refusal(Events.decode("a=%E0%A4%A", FORM))).toBe("Malformed")
    expect(refusal(Events.decode("a=1&a%5Bb%5D=2", FORM))).toBe("Malformed")
    expect(refusal(Events.decode("{not json", "application/json"))).toBe("Malformed")
    expect(refusal(Events.decode("<xml/>", "text/xml"))).toBe("Malformed")
  })

  it("bounds size, depth and fields before building anything", () => {
    expect(refusal(Events.decode("a=".padEnd(70_000, "x"), FORM))).toBe("TooLarge")
    expect(refusal(Events.decode(`a${"%5Bx%5D".repeat(20)}=1`, FORM))).toBe("TooDeep")
    expect(refusal(Events.decode(`${"[".repeat(30_000)}${"]".repeat(30_000)}`, "application/json"))).toBe("TooDeep")
    expect(refusal(Events.decode(Array.from({ length: 3_000 }, (_, i) => `f${i}=1`).join("&"), FORM))).toBe("TooLarge")
    expect(refusal(Events.decode("a=1", FORM, { maxBytes: 2 }))).toBe("TooLarge")
  })

  it("a key __proto__ is a key like another: nothing is polluted", () => {
    const result = Events.parseBody("__proto__%5Bpolluted%5D=yes&constructor%5Bprototype%5D%5Bx%5D=1", FORM)
    expect(Result.isSuccess(result)).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const json = Events.parseBody('{"__proto__":{"polluted":"yes"}}', "application/json")
    expect(Result.isSuccess(json)).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it("reads PHP-style lists back as arrays", () => {
    const tree = ok(
      Events.parseBody(
        "data%5BMESSAGES%5D%5B0%5D%5Bid%5D=a&data%5BMESSAGES%5D%5B1%5D%5Bid%5D=b&x%5B%5D=1&x%5B%5D=2",
        FORM
      )
    ) as Record<string, Record<string, unknown>>
    expect(Events.listOf(tree.data?.MESSAGES)?.map((m) => (m as { id: string }).id)).toEqual(["a", "b"])
    expect(Events.listOf((tree as Record<string, unknown>).x)).toEqual(["1", "2"])
    expect(Events.listOf({ a: 1 })).toBeUndefined()
  })

  it("property: any body ends as an event or a typed refusal, never a throw, never carrying the body", () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.string({ unit: "binary", maxLength: 400 }),
      fc.json({ maxDepth: 12 }),
      fc
        .array(
          fc.tuple(
            fc.array(
              fc.oneof(fc.constantFrom("auth", "data", "event", "__proto__", "0", ""), fc.string({ maxLength: 6 })),
              { minLength: 1, maxLength: 12 }
            ),
            fc.string({ maxLength: 20 })
          ),
          { maxLength: 30 }
        )
        .map((pairs) =>
          pairs
            .map(
              ([path, value]) =>
                `${encodeURIComponent(path[0] ?? "")}${path
                  .slice(1)
                  .map((p) => `%5B${encodeURIComponent(p)}%5D`)
                  .join("")}=${encodeURIComponent(value)}`
            )
            .join("&")
        ),
      fc
        .record({
          event: fc.constantFrom("ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL"),
          auth: fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null)))
        })
        .map((v) => JSON.stringify(v))
    )
    fc.assert(
      fc.property(bodies, fc.constantFrom(FORM, "application/json", undefined), (body, type) => {
        const result = Events.decode(body, type)
        if (Result.isFailure(result)) {
          expect(["TooLarge", "TooDeep", "Malformed", "Unsupported"]).toContain(result.failure.reason._tag)
          if (body.length > 12) expect(result.failure.message).not.toContain(body)
        } else {
          expect(["AppInstall", "AppUpdate", "AppUninstall"]).toContain(result.success._tag)
        }
      }),
      { numRuns: 500 }
    )
  })
})
