import { Effect, Exit, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { KeyRing, TenantRegistry } from "../src/index.ts"
import {
  databases,
  type Place,
  placeOn,
  secretsInFiles,
  secretsInTables,
  startPglite,
  stopAll
} from "./support/places.ts"

const k1 = KeyRing.generateKey()
const k2 = KeyRing.generateKey()
const ring1 = { current: "k1", keys: { k1 } }
const ring2 = { current: "k2", keys: { k1, k2 } }
const ring2only = { current: "k2", keys: { k2 } }

beforeAll(startPglite, 120_000)
afterAll(stopAll)

/** Runs `body` with a registry (and its SQL client) on `place`, closing both at the end (a process "restart"). */
const withRegistry = <A>(
  place: Place,
  keys: unknown,
  body: (registry: TenantRegistry.Service, sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>
): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(
          TenantRegistry.layer({ keys, tablePrefix: place.prefix }).pipe(Layer.provideMerge(place.client()))
        )
        const registry = yield* Effect.provide(Effect.service(TenantRegistry.TenantRegistry), context)
        const sql = yield* Effect.provide(Effect.service(SqlClient.SqlClient), context)
        return yield* body(registry, sql)
      })
    ) as Effect.Effect<A, unknown>
  )

const tokensOf = (n: number) => ({
  accessToken: `access-${n}-${"a".repeat(16)}-${Math.random().toString(36).slice(2)}`,
  refreshToken: `refresh-${n}-${"r".repeat(16)}-${Math.random().toString(36).slice(2)}`,
  applicationToken: `app-${n}-${Math.random().toString(36).slice(2)}-token`
})

const failureTag = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  const value = error?._tag === "Fail" ? (error.error as { reason?: { _tag?: string } }) : undefined
  return value?.reason?._tag
}

describe.each(databases)("the tenant registry on $name", (database) => {
  it("registers, reads back, lists, suspends; survives a restart; holds no token in clear", async () => {
    const place = placeOn(database)
    const secrets = [tokensOf(1), tokensOf(2)]
    await withRegistry(place, ring1, (registry) =>
      Effect.gen(function* () {
        for (const [index, credentials] of secrets.entries()) {
          const tenant = yield* registry.register({
            tenant: `member-${index}`,
            provider: "bitrix24",
            settings: { portalUrl: `https://p${index}.bitrix24.com`, plan: "standard" },
            credentials: Redacted.make(credentials)
          })
          expect(tenant.state).toBe("active")
          expect(Redacted.value(tenant.credentials as Redacted.Redacted<object>)).toEqual(credentials)
        }
        yield* registry.setState("member-1", "suspended")
        const active = yield* registry.list({ state: "active" })
        expect(active.map((t) => t.id)).toEqual(["member-0"])
        expect(JSON.stringify(active)).not.toContain("access-")
      })
    )
    // Another process (a new client) reads what the first wrote.
    await withRegistry(place, ring1, (registry, sql) =>
      Effect.gen(function* () {
        const all = yield* registry.list()
        expect(all.map((t) => [t.id, t.state, t.hasCredentials])).toEqual([
          ["member-0", "active", true],
          ["member-1", "suspended", true]
        ])
        const back = yield* registry.get("member-1")
        expect(Redacted.value(back.credentials as Redacted.Redacted<object>)).toEqual(secrets[1])
        expect(back.settings).toEqual({ portalUrl: "https://p1.bitrix24.com", plan: "standard" })
        const flat = secrets.flatMap((s) => Object.values(s))
        if (place.filename === undefined) {
          expect(yield* Effect.provideService(secretsInTables(place.prefix, flat), SqlClient.SqlClient, sql)).toEqual(
            []
          )
        } else {
          yield* sql.unsafe("PRAGMA wal_checkpoint(TRUNCATE)")
        }
      })
    )
    if (place.filename !== undefined) {
      expect(
        secretsInFiles(
          place.filename,
          secrets.flatMap((s) => Object.values(s))
        )
      ).toEqual([])
    }
  })

  it("saves credentials by compare-and-swap on the version; a stale writer gets Conflict", async () => {
    const place = placeOn(database)
    await withRegistry(place, ring1, (registry) =>
      Effect.gen(function* () {
        const tenant = yield* registry.register({ tenant: "cas", provider: "acquire", credentials: { apiKey: "k-1" } })
        const next = yield* registry.saveCredentials("cas", { apiKey: "k-2" }, tenant.version)
        expect(next).toBe(tenant.version + 1)
        const stale = yield* Effect.exit(registry.saveCredentials("cas", { apiKey: "k-3" }, tenant.version))
        expect(failureTag(stale)).toBe("Conflict")
        const back = yield* registry.get("cas")
        expect(Redacted.value(back.credentials as Redacted.Redacted<object>)).toEqual({ apiKey: "k-2" })
      })
    )
  })

  it("destroying a tenant's data key leaves nothing readable; the row stays uninstalled; CLEAN erases settings", async () => {
    const place = placeOn(database)
    const secret = tokensOf(3)
    await withRegistry(place, ring1, (registry, sql) =>
      Effect.gen(function* () {
        yield* registry.register({ tenant: "gone", provider: "bitrix24", settings: { a: 1 }, credentials: secret })
        yield* registry.register({ tenant: "kept", provider: "bitrix24", settings: { b: 2 }, credentials: secret })
        yield* registry.destroyKey("gone")
        yield* registry.destroyKey("kept", { clean: false })
        yield* registry.destroyKey("gone", { clean: true, keep: ["b"] })
        const gone = yield* registry.get("gone")
        expect(gone.state).toBe("uninstalled")
        expect(gone.credentials).toBeUndefined()
        expect(gone.settings).toEqual({})
        expect((yield* registry.get("kept")).settings).toEqual({ b: 2 })
        const save = yield* Effect.exit(registry.saveCredentials("gone", { x: "y" }, gone.version))
        expect(failureTag(save)).toBe("KeyDestroyed")
        if (place.filename === undefined) {
          expect(
            yield* Effect.provideService(secretsInTables(place.prefix, Object.values(secret)), SqlClient.SqlClient, sql)
          ).toEqual([])
        } else {
          yield* sql.unsafe("PRAGMA wal_checkpoint(TRUNCATE)")
        }
      })
    )
    if (place.filename !== undefined) expect(secretsInFiles(place.filename, Object.values(secret))).toEqual([])
  })

  it("key rotation re-wraps every data key without losing a tenant; then the old key can go", async () => {
    const place = placeOn(database)
    const count = 12
    await withRegistry(place, ring1, (registry) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) =>
          registry.register({
            tenant: `t-${String(i).padStart(2, "0")}`,
            provider: "acquire",
            credentials: { apiKey: `key-${i}` }
          })
      )
    )
    // Before rotating, a ring without k1 cannot read them.
    const early = await withRegistry(place, ring2only, (registry) => Effect.exit(registry.get("t-00")))
    expect(failureTag(early)).toBe("KeyMissing")
    const rotated = await withRegistry(place, ring2, (registry) =>
      Effect.gen(function* () {
        const n = yield* registry.rotate
        expect(yield* registry.rotate).toBe(0)
        return n
      })
    )
    expect(rotated).toBe(count)
    await withRegistry(place, ring2only, (registry) =>
      Effect.gen(function* () {
        for (let i = 0; i < count; i++) {
          const tenant = yield* registry.get(`t-${String(i).padStart(2, "0")}`)
          expect(Redacted.value(tenant.credentials as Redacted.Redacted<object>)).toEqual({ apiKey: `key-${i}` })
        }
      })
    )
  })

  it("a changed or swapped ciphertext is Tampered; unknown tenants and fields are typed errors", async () => {
    const place = placeOn(database)
    await withRegistry(place, ring1, (registry, sql) =>
      Effect.gen(function* () {
        yield* registry.register({ tenant: "a", provider: "acquire", credentials: { apiKey: "aaaa" } })
        yield* registry.register({ tenant: "b", provider: "acquire", credentials: { apiKey: "bbbb" } })
        const table = sql(`${place.prefix}tenants`)
        // b's sealed credentials copied into a's row: bound to b, refused for a.
        yield* sql`UPDATE ${table} SET credentials = (SELECT credentials FROM ${table} WHERE tenant_id = 'b') WHERE tenant_id = 'a'`
        expect(failureTag(yield* Effect.exit(registry.get("a")))).toBe("Tampered")
        yield* sql`UPDATE ${table} SET data_key = (SELECT data_key FROM ${table} WHERE tenant_id = 'a') WHERE tenant_id = 'b'`
        expect(failureTag(yield* Effect.exit(registry.get("b")))).toBe("Tampered")
        expect(failureTag(yield* Effect.exit(registry.get("nobody")))).toBe("UnknownTenant")
        expect(Option.isNone(yield* registry.find("nobody"))).toBe(true)
        expect(failureTag(yield* Effect.exit(registry.get("bad id with spaces")))).toBe("Invalid")
        const typo = yield* Effect.exit(
          registry.register({ tenant: "c", provider: "acquire", credential: { apiKey: "x" } } as never)
        )
        expect(failureTag(typo)).toBe("Invalid")
        expect(String(Exit.isFailure(typo) ? typo.cause : "")).toContain("did you mean credentials?")
      })
    )
  })
})

describe("the registry's options", () => {
  it("are checked once: a wrong ring or prefix is a configuration error naming the field", async () => {
    const place = placeOn(databases[0] as (typeof databases)[number])
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Layer.build(
          TenantRegistry.layer({ keys: { current: "k1", keys: {} }, tablePrefix: "Bad-" }).pipe(
            Layer.provide(place.client())
          )
        )
      )
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("tablePrefix")
  })
})
