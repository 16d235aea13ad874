import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TextMapping } from "../src/index.ts"

describe("the text mapping between Bitrix24 and Telegram", () => {
  it("reads a signed BB-code text: the name apart, breaks as newlines, formatting dropped, links kept", () => {
    expect(
      TextMapping.fromBitrix24(
        "[b]Anna Smith:[/b][br]Open [i]until[/i] 8 pm.[br]See [url=https://shop.example]our hours[/url] &amp; more"
      )
    ).toEqual({ text: "Open until 8 pm.\nSee our hours (https://shop.example) & more", operator: "Anna Smith" })
    expect(TextMapping.fromBitrix24("[url]https://a.example[/url]")).toEqual({ text: "https://a.example" })
    expect(TextMapping.fromBitrix24("no markup")).toEqual({ text: "no markup" })
  })

  it("writes back: the signature in front, the text as it is", () => {
    expect(TextMapping.toBitrix24({ text: "Hi\nthere", operator: "Anna" })).toBe("[b]Anna:[/b][br]Hi\nthere")
    expect(TextMapping.toBitrix24({ text: "Hi" })).toBe("Hi")
    expect(TextMapping.toTelegram({ text: "Hi", operator: "Anna" })).toBe("Anna:\nHi")
    expect(TextMapping.toTelegram({ text: "Hi", operator: "Anna" }, { sign: false })).toBe("Hi")
  })

  it("property: both ways are inverse for plain texts and plain names", () => {
    const plain = fc.string({ maxLength: 200 }).filter((text) => !/[[\]&]/.test(text))
    const name = fc.option(
      fc.string({ minLength: 1, maxLength: 40 }).filter((n) => !/[[\]:\n]/.test(n) && n.trim() === n && n !== ""),
      { nil: undefined }
    )
    fc.assert(
      fc.property(plain, name, (text, operator) => {
        const mapped = operator === undefined ? { text } : { text, operator }
        expect(TextMapping.fromBitrix24(TextMapping.toBitrix24(mapped))).toEqual(mapped)
      }),
      { numRuns: 500 }
    )
  })

  it("property: any Bitrix24 text maps to a text without BB tags, and mapping it again changes nothing", () => {
    const tags = fc.constantFrom("[b]", "[/b]", "[br]", "[i]", "[/i]", "[url=https://x.example]", "[/url]", "&amp;")
    const bb = fc.array(fc.oneof(tags, fc.string({ maxLength: 8 })), { maxLength: 30 }).map((parts) => parts.join(""))
    fc.assert(
      fc.property(bb, (text) => {
        const once = TextMapping.fromBitrix24(text)
        expect(once.text).not.toMatch(/\[(?:\/?b|br|\/?i)\]/)
        expect(TextMapping.fromBitrix24(TextMapping.toBitrix24(once)).operator).toBe(once.operator)
      }),
      { numRuns: 500 }
    )
  })
})
