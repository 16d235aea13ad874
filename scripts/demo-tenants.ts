/**
 * `pnpm demo tenants`: one app serving many Bitrix24 portals (@reword/tenants)
 * on the multi-portal sandbox, its registry on a SQLite file in a temporary
 * directory: two portals install the application (ONAPPINSTALL posted to the
 * app's handler, which verifies the token, registers the connector, activates
 * the line and binds the events), an edit lands on each, one portal
 * uninstalls, and its edits are then refused with the reason while the other
 * portal goes on.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { Bitrix24Lifecycle, KeyRing, layerSqlite, TenantEditors, TenantRegistry } from "@reword/tenants"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"

const line = (text = "") => console.log(text)

const listen = (server: ReturnType<typeof createServer>) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : 0)
    })
  )

/** Why an edit failed, in one line: the typed error's reason and message. */
const reasonOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "done"
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  const error = failure?._tag === "Fail" ? (failure.error as { message?: string }) : undefined
  return `refused: ${error?.message ?? "unknown failure"}`
}

export const tenantsTour = async () => {
  const directory = mkdtempSync(join(tmpdir(), "reword-demo-tenants-"))
  const portals = await Bitrix24Portals.start()
  const events = createServer((_request, response) => response.writeHead(200).end("{}"))
  const eventsPort = await listen(events)
  const app = {
    clientId: portals.clientId,
    clientSecret: portals.clientSecret,
    oauthUrl: portals.url,
    connector: "reword_demo",
    connectorName: "reword demo",
    placementHandler: "https://app.example.com/bitrix24/connector-settings",
    eventHandler: `http://127.0.0.1:${eventsPort}/bitrix24/events`,
    allowInsecureLoopback: true
  }
  const keys = { current: "k1", keys: { k1: KeyRing.generateKey() } }
  const runtime = ManagedRuntime.make(
    Bitrix24Lifecycle.layer(app).pipe(
      Layer.provideMerge(TenantEditors.layer({ bitrix24: app, editorOptions: { retry: { maxAttempts: 2 } } })),
      Layer.provideMerge(layerSqlite({ filename: join(directory, "tenants.db"), keys }))
    )
  )
  const lifecycle = await runtime.runPromise(Effect.service(Bitrix24Lifecycle.Bitrix24Lifecycle))
  const route = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      void runtime
        .runPromise(lifecycle.handle(Buffer.concat(chunks), request.headers["content-type"]))
        .then((answer) => response.writeHead(answer.status).end(JSON.stringify(answer.body)))
    })
  })
  const handler = `http://127.0.0.1:${await listen(route)}/bitrix24/app`
  const edit = (portal: Bitrix24Portals.Portal, ids: object, text: string) =>
    runtime.runPromise(
      Effect.exit(
        Effect.flatMap(TenantEditors.TenantEditors, (editors) =>
          editors.update(portal.memberId, { ids: ids as never, text })
        )
      )
    )
  try {
    line(`reword tenants demo: one app, many Bitrix24 portals (sandbox at ${portals.url}), its handler ${handler}`)
    const acme = portals.add({ setUp: false, connector: "reword_demo" })
    const globex = portals.add({ setUp: false, connector: "reword_demo" })
    const named = [
      ["acme", acme],
      ["globex", globex]
    ] as const
    for (const [name, portal] of named) {
      const answer = await portal.install(handler)
      const setup = portal.setup()
      line(`[${name}] ONAPPINSTALL -> HTTP ${answer.status} ${answer.body}`)
      line(
        `[${name}]   connector ${setup.connectors.map((c) => c.id).join(", ")} registered, active on line ${setup.activeLines.map((l) => l.line).join(", ")}, ${Object.keys(setup.events).length} events bound`
      )
    }
    const ids = new Map<string, object>()
    for (const [name, portal] of named) {
      const relayed = await portal.seedMessage(`Meet at 11 (${name}).`)
      ids.set(name, relayed)
      const outcome = await edit(portal, relayed, `Meet at 10 (${name}).`)
      line(`[${name}] edit: ${reasonOf(outcome)}; the portal shows "${portal.inspect(relayed)?.text}"`)
    }
    const gone = await acme.uninstall(handler, { clean: true })
    line(`[acme] ONAPPUNINSTALL -> HTTP ${gone.status} ${gone.body}`)
    line(`[acme] edit after uninstall: ${reasonOf(await edit(acme, ids.get("acme") as object, "Meet at 9 (acme)."))}`)
    const still = await edit(globex, ids.get("globex") as object, "Meet at 9 (globex).")
    line(
      `[globex] edit after acme left: ${reasonOf(still)}; the portal shows "${globex.inspect(ids.get("globex") as never)?.text}"`
    )
    line()
    line("The registry:")
    const tenants = await runtime.runPromise(Effect.flatMap(TenantRegistry.TenantRegistry, (r) => r.list()))
    for (const tenant of tenants) {
      const name = tenant.id === acme.memberId ? "acme" : "globex"
      line(
        `  ${name.padEnd(7)} ${tenant.id} ${tenant.state.padEnd(11)} credentials: ${tenant.hasCredentials ? "sealed" : "destroyed"}`
      )
    }
  } finally {
    await new Promise<void>((resolve) => route.close(() => resolve()))
    await new Promise<void>((resolve) => events.close(() => resolve()))
    await runtime.dispose()
    await portals.stop()
    rmSync(directory, { recursive: true, force: true })
  }
}
