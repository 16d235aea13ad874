/**
 * A multi-portal app as a test runs it: the registry (a SQLite file of its
 * own, or a given SQL client), the editors, the lifecycle, and the handler's
 * HTTP route on 127.0.0.1 where the sandbox portals post their events.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import type { OutboxError } from "@reword/outbox"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { SqlClient } from "effect/sql"
import { type Bitrix24App, Bitrix24Lifecycle, KeyRing, TenantEditors, TenantRegistry } from "../../src/index.ts"

export interface TestApp {
  readonly runtime: ManagedRuntime.ManagedRuntime<
    | TenantRegistry.TenantRegistry
    | TenantEditors.TenantEditors
    | Bitrix24Lifecycle.Bitrix24Lifecycle
    | SqlClient.SqlClient,
    unknown
  >
  /** The handler's URL: where the portals post their lifecycle events. */
  readonly handlerUrl: string
  readonly filename: string | undefined
  readonly run: <A, E>(
    effect: Effect.Effect<
      A,
      E,
      | TenantRegistry.TenantRegistry
      | TenantEditors.TenantEditors
      | Bitrix24Lifecycle.Bitrix24Lifecycle
      | SqlClient.SqlClient
    >
  ) => Promise<A>
  /** Stops the route and closes the database (its file is kept: see `remove`). */
  readonly close: () => Promise<void>
  /** Deletes the database's directory. */
  readonly remove: () => void
}

export const ring = { current: "k1", keys: { k1: KeyRing.generateKey() } }

export const appOf = (portals: Bitrix24Portals.Portals) => ({
  clientId: portals.clientId,
  clientSecret: portals.clientSecret,
  oauthUrl: portals.url,
  connector: "reword_sandbox",
  allowInsecureLoopback: true
})

const listen = (server: Server) =>
  new Promise<number>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : 0)
    })
  })

export const startApp = async (
  portals: Bitrix24Portals.Portals,
  options: {
    readonly editors?: Omit<TenantEditors.Options, "bitrix24"> | undefined
    readonly client?: Layer.Layer<SqlClient.SqlClient, OutboxError.StorageError> | undefined
    readonly prefix?: string | undefined
    /** The SQLite file `client` opens, when it opens one. */
    readonly filename?: string | undefined
    /** An outbox routing by tenant (its worker off: tests run it), given to the lifecycle. */
    readonly outbox?: Outbox.Options | undefined
    /** More of the application's options (the setup's). */
    readonly app?: Partial<Bitrix24App.AppOptions> | undefined
  } = {}
): Promise<TestApp> => {
  const directory = options.client === undefined ? mkdtempSync(join(tmpdir(), "reword-tenants-")) : undefined
  const filename = directory === undefined ? options.filename : join(directory, "reword.db")
  const client = options.client ?? sqliteClient({ filename: filename as string })
  const app = { ...appOf(portals), ...options.app }
  const registry = TenantRegistry.layer({ keys: ring, tablePrefix: options.prefix ?? "reword_" })
  const editors = TenantEditors.layer({
    ...options.editors,
    bitrix24: app,
    editorOptions: { retry: { maxAttempts: 1 } }
  })
  const outbox =
    options.outbox === undefined
      ? Layer.empty
      : Layer.effect(
          Outbox.Outbox,
          Effect.flatMap(TenantEditors.TenantEditors, (cache) =>
            Outbox.makeWith([], { ...options.outbox, editorsFor: TenantEditors.editorsFor(cache) })
          )
        )
  const layer = Bitrix24Lifecycle.layer(app).pipe(
    Layer.provideMerge(outbox),
    Layer.provideMerge(editors),
    Layer.provideMerge(registry),
    Layer.provideMerge(client)
  )
  const runtime = ManagedRuntime.make(layer)
  const lifecycle = await runtime.runPromise(Effect.service(Bitrix24Lifecycle.Bitrix24Lifecycle))
  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= 100_000) chunks.push(chunk)
    })
    request.on("end", () => {
      void runtime
        .runPromise(lifecycle.handle(Buffer.concat(chunks), request.headers["content-type"]))
        .then((answer) => {
          response.writeHead(answer.status, { "content-type": "application/json" })
          response.end(JSON.stringify(answer.body))
        })
    })
  })
  const port = await listen(server)
  return {
    runtime: runtime as TestApp["runtime"],
    handlerUrl: `http://127.0.0.1:${port}/bitrix24/events`,
    filename,
    run: (effect) => runtime.runPromise(effect),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await runtime.dispose()
    },
    remove: () => {
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
    }
  }
}
