/**
 * A database as a multi-tenant app writes it: the tenant registry
 * (@reword/tenants, SQLite) and the outbox (@reword/outbox) in one file.
 * Two Bitrix24 portals (one whose setup failed, its error quoting markup),
 * one Acquire account uninstalled; edits pending for the portals, a dead
 * letter for one, and a backlog of tenant `default` that the registry does
 * not hold. Every credential is a known string, to check none is printed.
 */
import { join } from "node:path"
import { Capabilities, EditedMessage, MessageEditor } from "@reword/core"
import { Outbox, sqliteClient } from "@reword/outbox"
import { KeyRing, TenantRegistry } from "@reword/tenants"
import { Effect, Layer } from "effect"

/** A credential of a tenant: never printed. */
export const TOKEN = "b24-access-token-7f3e9a1c"
/** The master key the app sealed the credentials with: never read by the CLI, never printed. */
export const MASTER_KEY = KeyRing.generateKey()
/** Markup in a setup error: escaped wherever it shows. */
export const HOSTILE_SETUP = `<img src=x onerror="alert(1)"> ERROR_CORE`

const editor = MessageEditor.make({
  provider: "bitrix24",
  capabilities: new Capabilities.Capabilities({
    requiredIds: ["externalMessageId"],
    files: false,
    authorDetails: false,
    chatDetails: false,
    language: false,
    maxMessagesPerCall: 1
  }),
  update: (request) =>
    Effect.succeed(
      new EditedMessage.EditedMessage({
        provider: "bitrix24",
        ids: request.ids,
        text: request.text,
        files: [],
        updatedAt: new Date()
      })
    )
})

const registryOf = Effect.gen(function* () {
  const registry = yield* TenantRegistry.make({ keys: { current: "k1", keys: { k1: MASTER_KEY } } })
  yield* registry.register({
    tenant: "portal-a",
    provider: "bitrix24",
    settings: { domain: "a.bitrix24.example", setup: "done" },
    credentials: { accessToken: TOKEN, refreshToken: `${TOKEN}-refresh` }
  })
  yield* registry.register({
    tenant: "portal-b",
    provider: "bitrix24",
    settings: { domain: "b.bitrix24.example", setup: "failed", setupStep: "bind", setupError: HOSTILE_SETUP },
    credentials: { accessToken: `${TOKEN}-b` }
  })
  yield* registry.register({
    tenant: "acct-9",
    provider: "acquire",
    settings: { accountId: "acct-9" },
    credentials: { apiKey: `${TOKEN}-acquire` }
  })
  yield* registry.destroyKey("acct-9")
})

const outboxOf = Effect.gen(function* () {
  const routes = [{ editor, account: "line-1" }]
  const outbox = yield* Outbox.makeWith(routes, { worker: false, editorsFor: () => Effect.succeed(routes) })
  const submit = (tenant: string | undefined, id: string) => {
    const where = { tenant, provider: "bitrix24", account: "line-1", ids: { externalMessageId: id } }
    return Effect.andThen(outbox.record(where), outbox.submit({ ...where, text: "hi" }))
  }
  yield* Effect.forEach(["a-1", "a-2", "a-3"], (id) => submit("portal-a", id))
  yield* Effect.forEach(["b-1", "b-2"], (id) => submit("portal-b", id))
  yield* outbox.failTenant("portal-b", "the portal refused the token")
  yield* submit("portal-b", "b-3")
  yield* submit(undefined, "d-1")
})

/** Writes the registry and the outbox into `directory`/tenants.db (or only the registry); answers its path. */
export const writeTenants = async (directory: string, options: { readonly outbox?: boolean } = {}) => {
  const filename = join(directory, "tenants.db")
  const steps = options.outbox === false ? registryOf : Effect.andThen(registryOf, outboxOf)
  await Effect.runPromise(steps.pipe(Effect.scoped, Effect.provide(sqliteClient({ filename }).pipe(Layer.orDie))))
  return filename
}
