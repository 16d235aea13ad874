import { inspect } from "node:util"
import { Redacted, Result } from "effect"
import { describe, expect, it } from "vitest"
import { KeyRing, type TenantError } from "../src/index.ts"

const k1 = KeyRing.generateKey()
const k2 = KeyRing.generateKey()
const ringOf = (input: unknown) => Result.getOrThrow(KeyRing.decode(input))

const failureOf = <A>(result: Result.Result<A, TenantError.TenantError>): TenantError.TenantError => {
  if (Result.isSuccess(result)) throw new Error("expected a failure")
  return result.failure
}

describe("the key ring", () => {
  it("is declared once: current names a key, every key is 32 bytes, unknown fields get a did-you-mean", () => {
    const wrong = KeyRing.decode({ curent: "k1", keys: { k1: "short" } })
    expect(Result.isFailure(wrong)).toBe(true)
    const message = Result.isFailure(wrong) ? String(wrong.failure) : ""
    expect(message).toContain("did you mean current?")
    const short = KeyRing.decode({ current: "k1", keys: { k1: "short-key-value" } })
    const shortMessage = Result.isFailure(short) ? String(short.failure) : ""
    expect(shortMessage).toContain("keys.k1")
    expect(shortMessage).not.toContain("short-key-value")
    expect(Result.isFailure(KeyRing.decode({ current: "k9", keys: { k1 } }))).toBe(true)
    expect(Result.isFailure(KeyRing.decode({ current: "k 1", keys: { "k 1": k1 } }))).toBe(true)
    expect(Result.isSuccess(KeyRing.decode({ current: "k1", keys: { k1: Redacted.make(k1) } }))).toBe(true)
    // hex is accepted too
    const hex = Buffer.from(k1, "base64").toString("hex")
    expect(Result.isSuccess(KeyRing.decode({ current: "h", keys: { h: hex } }))).toBe(true)
  })

  it("reads the environment: the current key and old keys", () => {
    const ring = Result.getOrThrow(
      KeyRing.fromEnv({ REWORD_TENANT_KEY: `k2:${k2}`, REWORD_TENANT_OLD_KEYS: `k1:${k1}` })
    )
    expect(ring.current).toBe("k2")
    expect([...ring.keys.keys()].sort()).toEqual(["k1", "k2"])
    const missing = KeyRing.fromEnv({})
    expect(Result.isFailure(missing) ? String(missing.failure) : "").toContain("REWORD_TENANT_KEY")
    const bad = KeyRing.fromEnv({ REWORD_TENANT_KEY: `k1:${k1.slice(0, 20)}` })
    expect(Result.isFailure(bad) ? String(bad.failure) : "").not.toContain(k1.slice(0, 20))
  })

  it("never prints a key", () => {
    const ring = ringOf({ current: "k1", keys: { k1 } })
    const printed = `${inspect(ring, { depth: 10 })} ${JSON.stringify(ring)} ${String(ring.keys.get("k1"))}`
    const raw = Buffer.from(k1, "base64")
    expect(printed).not.toContain(k1)
    expect(printed).not.toContain(raw.toString("hex"))
  })
})

describe("envelope encryption", () => {
  const ring1 = ringOf({ current: "k1", keys: { k1 } })
  const ring2 = ringOf({ current: "k2", keys: { k1, k2 } })
  const ring2only = ringOf({ current: "k2", keys: { k2 } })

  it("seals under a tenant's data key, wrapped by the current master key; opens back", () => {
    const dataKey = KeyRing.newDataKey()
    const wrapped = KeyRing.wrap(ring1, "portal-a", dataKey)
    expect(KeyRing.wrappedBy(wrapped)).toBe("k1")
    const sealed = KeyRing.seal(dataKey, "portal-a", '{"accessToken":"secret-access"}')
    expect(sealed).not.toContain("secret-access")
    const unwrapped = Result.getOrThrow(KeyRing.unwrap(ring1, "portal-a", wrapped))
    expect(Result.getOrThrow(KeyRing.open(unwrapped, "portal-a", sealed))).toBe('{"accessToken":"secret-access"}')
    // Every seal differs (a fresh IV), so equal texts give different ciphertexts.
    expect(KeyRing.seal(dataKey, "portal-a", "x")).not.toBe(KeyRing.seal(dataKey, "portal-a", "x"))
  })

  it("rotation: a new current key wraps, old keys still unwrap until re-wrapped, then the old key may go", () => {
    const dataKey = KeyRing.newDataKey()
    const old = KeyRing.wrap(ring1, "t", dataKey)
    const opened = Result.getOrThrow(KeyRing.unwrap(ring2, "t", old))
    const rewrapped = KeyRing.wrap(ring2, "t", opened)
    expect(KeyRing.wrappedBy(rewrapped)).toBe("k2")
    expect(Redacted.value(Result.getOrThrow(KeyRing.unwrap(ring2only, "t", rewrapped)))).toEqual(
      Redacted.value(dataKey)
    )
    const lost = failureOf(KeyRing.unwrap(ring2only, "t", old))
    expect(lost.reason._tag).toBe("KeyMissing")
    expect(lost.message).toContain("k1")
  })

  it("tampering, or another tenant's value, fails authentication as a typed Tampered error", () => {
    const dataKey = KeyRing.newDataKey()
    const wrapped = KeyRing.wrap(ring1, "a", dataKey)
    const sealed = KeyRing.seal(dataKey, "a", "token-value")
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, "base64")
      bytes[at] = (bytes[at] ?? 0) ^ 1
      return bytes.toString("base64")
    }
    const [v, id, body] = wrapped.split(".") as [string, string, string]
    for (const at of [0, 13, 30, 40]) {
      expect(failureOf(KeyRing.unwrap(ring1, "a", `${v}.${id}.${flip(body, at)}`)).reason._tag).toBe("Tampered")
      const [sv, sbody] = sealed.split(".") as [string, string]
      expect(failureOf(KeyRing.open(dataKey, "a", `${sv}.${flip(sbody, at % 20)}`)).reason._tag).toBe("Tampered")
    }
    expect(failureOf(KeyRing.unwrap(ring1, "b", wrapped)).reason._tag).toBe("Tampered")
    expect(failureOf(KeyRing.open(dataKey, "b", sealed)).reason._tag).toBe("Tampered")
    expect(failureOf(KeyRing.open(dataKey, "a", sealed, "settings")).reason._tag).toBe("Tampered")
    expect(failureOf(KeyRing.open(dataKey, "a", "garbage")).reason._tag).toBe("Tampered")
    expect(failureOf(KeyRing.unwrap(ring1, "a", "v1.k1.!!")).reason._tag).toBe("Tampered")
    const error = failureOf(KeyRing.open(KeyRing.newDataKey(), "a", sealed))
    expect(error.reason._tag).toBe("Tampered")
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ _tag: "TenantError", reason: { _tag: "Tampered" } })
    expect(JSON.stringify(error)).not.toContain("token-value")
  })

  it("a destroyed data key leaves the ciphertext unreadable: no other key opens it", () => {
    const dataKey = KeyRing.newDataKey()
    const sealed = KeyRing.seal(dataKey, "gone", "refresh-token-value")
    // The data key is dropped (the registry erases its wrapped form): a new one is another key.
    for (let i = 0; i < 5; i++) {
      expect(Result.isFailure(KeyRing.open(KeyRing.newDataKey(), "gone", sealed))).toBe(true)
    }
  })
})
