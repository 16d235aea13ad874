/**
 * Every error class the packages export serialises, through `JSON.stringify`,
 * with its name, its message and (for an error, not a reason) its reason; and
 * never with a secret. The walk goes over the modules' exports, so an error
 * class added later without a sample here fails the test.
 */
import { Acquire } from "@reword/acquire"
import { TokenStore } from "@reword/bitrix24"
import { EditError } from "@reword/core"
import { HttpTransport, ProviderKit } from "@reword/core/adapter"
import { ConfigurationError, createEditor, DisposedError } from "@reword/core/promise"
import { Duration } from "effect"
import { describe, expect, it } from "vitest"
import { OutboxError } from "../src/index.ts"
import { createOutbox } from "../src/promise.ts"

type AnyClass = abstract new (...args: ReadonlyArray<never>) => Error

const SECRET = "sk-live-very-secret-key-0042"
const detail = { status: 503, code: "E", description: "down", body: "{}" }

/** One sample of every error class, by the name it is exported under (module/name). */
const samples: Readonly<Record<string, () => Error>> = {
  "EditError/InvalidRequest": () =>
    new EditError.InvalidRequest({ problems: [{ path: "text", message: "must not be empty" }] }),
  "EditError/Unauthorized": () => new EditError.Unauthorized(detail),
  "EditError/Forbidden": () => new EditError.Forbidden(detail),
  "EditError/NotFound": () => new EditError.NotFound(detail),
  "EditError/RateLimited": () => new EditError.RateLimited(detail),
  "EditError/Unavailable": () => new EditError.Unavailable(detail),
  "EditError/Network": () => new EditError.Network({ description: "ECONNREFUSED" }),
  "EditError/Timeout": () => new EditError.Timeout({ after: Duration.seconds(10) }),
  "EditError/Rejected": () => new EditError.Rejected(detail),
  "EditError/Unsupported": () => new EditError.Unsupported({ capability: "edit", description: "no edits" }),
  "EditError/EditWindowClosed": () =>
    new EditError.EditWindowClosed({ rule: "48 hours", maxAge: Duration.hours(48), age: Duration.hours(50) }),
  "EditError/EditLimitReached": () => new EditError.EditLimitReached({ maxEdits: 5, editCount: 5 }),
  "EditError/MalformedResponse": () => new EditError.MalformedResponse({ description: "not JSON" }),
  "EditError/EditError": () =>
    EditError.make({
      provider: "acquire",
      operation: "update",
      reason: new EditError.Timeout({ after: Duration.seconds(10) })
    }),
  "OutboxError/Corrupt": () => new OutboxError.Corrupt({ description: "x" }),
  "OutboxError/Foreign": () => new OutboxError.Foreign({ description: "x" }),
  "OutboxError/NewerSchema": () => new OutboxError.NewerSchema({ description: "x" }),
  "OutboxError/ReadOnly": () => new OutboxError.ReadOnly({ description: "x" }),
  "OutboxError/Full": () => new OutboxError.Full({ description: "x" }),
  "OutboxError/Unavailable": () => new OutboxError.Unavailable({ description: "x" }),
  "OutboxError/Missing": () => new OutboxError.Missing({ description: "x" }),
  "OutboxError/Denied": () => new OutboxError.Denied({ description: "x" }),
  "OutboxError/Conflict": () => new OutboxError.Conflict({ description: "x" }),
  "OutboxError/Closed": () => new OutboxError.Closed({ description: "x" }),
  "OutboxError/Failed": () => new OutboxError.Failed({ description: "x" }),
  "OutboxError/StorageError": () => new OutboxError.StorageError({ problem: "Full", description: "disk full" }),
  "OutboxError/NotFound": () =>
    new OutboxError.NotFound({ provider: "acquire", account: "default", externalMessageId: "wa-1" }),
  "TokenStore/TokenStoreError": () =>
    new TokenStore.TokenStoreError({ message: "the store timed out", timedOut: true }),
  "promise/ConfigurationError": () => new ConfigurationError(ProviderKit.configError("retry.maxAttempts must be >= 1")),
  "promise/DisposedError": () => new DisposedError()
}

/** Reasons are matched on by `_tag`; the errors that carry them also carry `reason`. */
const isReason = (name: string) =>
  (name.startsWith("EditError/") && name !== "EditError/EditError") ||
  (name.startsWith("OutboxError/") && name !== "OutboxError/StorageError" && name !== "OutboxError/NotFound")

const isErrorClass = (value: unknown): value is AnyClass =>
  typeof value === "function" && value.prototype instanceof Error

const modules: Readonly<Record<string, object>> = {
  EditError,
  OutboxError,
  TokenStore,
  promise: { ConfigurationError, DisposedError }
}

const serialised = (error: unknown) => JSON.parse(JSON.stringify(error)) as Record<string, unknown>

describe("every error serialises with its name, message and reason", () => {
  const exported = Object.entries(modules).flatMap(([module, exports]) =>
    Object.entries(exports)
      .filter(([, value]) => isErrorClass(value))
      .map(([name]) => `${module}/${name}`)
  )

  it("every exported error class has a sample here", () => {
    expect(exported.filter((name) => !(name in samples))).toEqual([])
  })

  it.each(Object.keys(samples))("%s", (name) => {
    const error = samples[name]?.()
    if (error === undefined) return expect.fail(`no sample for ${name}`)
    expect(error).toBeInstanceOf(Error)
    const json = serialised(error)
    expect(json.name).toBe(error.name)
    expect(json.name).toBe(name.split("/")[1])
    expect(json.message).toBe(error.message)
    expect(String(json.message).length).toBeGreaterThan(0)
    expect(json).not.toHaveProperty("stack")
    if (!isReason(name)) {
      // The reason to match on: a tag, or an object with one.
      const reason = json.reason as string | { _tag?: unknown } | undefined
      const tag = typeof reason === "string" ? reason : reason?._tag
      expect(tag).toEqual(expect.any(String))
      const own = (error as Error & { reason: string | { _tag: string } }).reason
      expect(typeof own === "string" ? own : own._tag).toBe(tag)
    }
  })

  it("createEditor's ConfigurationError serialises with its message, and without the secret it was given", async () => {
    const error = await createEditor({
      providers: Acquire.provider,
      settings: { acquire: { accountId: "not an account!", apiKey: SECRET } }
    }).then(
      () => expect.fail("createEditor was expected to reject"),
      (error: unknown) => error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    const text = JSON.stringify(error)
    expect(serialised(error)).toMatchObject({ name: "ConfigurationError", reason: { _tag: "InvalidConfiguration" } })
    expect(serialised(error).message).toContain("accountId")
    expect(text).not.toContain(SECRET)
  })

  it("a disposed editor's call rejects with a DisposedError that serialises", async () => {
    const editor = await createEditor({
      providers: Acquire.provider,
      settings: { acquire: { accountId: "acme", apiKey: SECRET } }
    })
    await editor.dispose()
    const error = await editor.update({ ids: { providerMessageId: 1 }, text: "x" }).then(
      () => expect.fail("the call was expected to reject"),
      (error: unknown) => error
    )
    expect(error).toBeInstanceOf(DisposedError)
    expect(serialised(error)).toMatchObject({ name: "DisposedError", reason: "Disposed" })
    expect(String(serialised(error).message)).toContain("disposed")
  })

  it("createOutbox's ConfigurationError serialises with the field it names", async () => {
    const error = await createOutbox({
      providers: Acquire.provider,
      database: ":memory:",
      leaseTimeot: 5
    } as never).then(
      () => expect.fail("createOutbox was expected to reject"),
      (error: unknown) => error
    )
    expect(serialised(error)).toMatchObject({ name: "ConfigurationError", reason: { _tag: "InvalidConfiguration" } })
    expect(serialised(error).message).toContain("leaseTimeot")
  })

  it("an option a constructor refuses (HttpTransport.make) serialises with its problems", () => {
    const error = (() => {
      try {
        HttpTransport.make({ timeout: "-1 seconds" } as never)
        return undefined
      } catch (error) {
        return error
      }
    })()
    expect(error).toBeInstanceOf(Error)
    expect(serialised(error)).toMatchObject({ name: "InvalidOptions", reason: { _tag: "InvalidOptions" } })
  })
})
