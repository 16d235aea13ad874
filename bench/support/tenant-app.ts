/**
 * A multi-portal app as `tenants.ts` measures it, in this process: the
 * tenant registry, `TenantEditors` (an LRU of per-tenant editors), the
 * Bitrix24 lifecycle route on 127.0.0.1 where the sandbox portals post their
 * install events, and one outbox on PostgreSQL that routes by tenant through
 * `TenantEditors.editorsFor`. Some tenants' deliveries can be watched: the
 * moment their editor's `updateMany` answers, per text.
 */
import { createServer, type Server } from "node:http"
import type { MessageEditor } from "@reword/core"
import type { SandboxServer } from "@reword/core/sandbox"
import { Outbox } from "@reword/outbox"
import { pgClient } from "@reword/outbox/pg"
import { Bitrix24Lifecycle, KeyRing, TenantEditors, TenantRegistry } from "@reword/tenants"
import { Effect, Layer, ManagedRuntime, Redacted, Result } from "effect"

export interface TenantApp {
  /** Where the portals post their lifecycle events. */
  readonly handlerUrl: string
  /** Submits edits (in calls of 1,000); throws on the first refused. */
  readonly submit: (
    edits: ReadonlyArray<{ tenant: string; ids: SandboxServer.RelayedIds; text: string }>
  ) => Promise<void>
  /** Waits until nothing is pending (at most `timeoutMs`); answers the counts. */
  readonly drain: (timeoutMs: number) => Promise<{ readonly pending: number; readonly failed: number }>
  readonly counts: () => Promise<{ readonly pending: number; readonly failed: number }>
  readonly editorStats: () => Promise<TenantEditors.Stats>
  /** Resolves (with whether it landed) once a watched tenant's editor answered the edit of this text. */
  readonly delivered: (text: string) => Promise<boolean>
  readonly close: () => Promise<void>
}

const listen = (server: Server) =>
  new Promise<number>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : 0)
    })
  })

/** Watches one tenant's deliveries: a text's promise resolves when its editor answered it. */
const watcher = () => {
  const waiting = new Map<string, (landed: boolean) => void>()
  const answered = new Map<string, boolean>()
  const wrap = (editor: MessageEditor.Service): MessageEditor.Service => ({
    ...editor,
    updateMany: (requests) => {
      const list = [...requests]
      return Effect.tap(editor.updateMany(list), (outcomes) =>
        Effect.sync(() => {
          list.forEach((request, index) => {
            if (request.text === undefined) return
            const landed = Result.isSuccess(outcomes[index] as MessageEditor.Outcome)
            const resolve = waiting.get(request.text)
            if (resolve === undefined) answered.set(request.text, landed)
            else {
              waiting.delete(request.text)
              resolve(landed)
            }
          })
        })
      )
    }
  })
  const delivered = (text: string) =>
    new Promise<boolean>((resolve) => {
      const done = answered.get(text)
      if (done !== undefined) {
        answered.delete(text)
        resolve(done)
      } else waiting.set(text, resolve)
    })
  return { wrap, delivered }
}

export const startTenantApp = async (options: {
  readonly databaseUrl: string
  readonly portals: { readonly url: string; readonly clientId: string; readonly clientSecret: string }
  readonly maxEditors: number
  readonly watched: (tenant: string) => boolean
}): Promise<TenantApp> => {
  const app = {
    clientId: options.portals.clientId,
    clientSecret: options.portals.clientSecret,
    oauthUrl: options.portals.url,
    connector: "reword_sandbox",
    allowInsecureLoopback: true
  }
  const watch = watcher()
  const keys = { current: "k1", keys: { k1: KeyRing.generateKey() } }
  const outbox = Layer.effect(
    Outbox.Outbox,
    Effect.flatMap(TenantEditors.TenantEditors, (cache) => {
      const ofTenant = TenantEditors.editorsFor(cache)
      return Outbox.makeWith([], {
        unknownMessages: "record",
        editorsFor: (tenant) =>
          options.watched(tenant)
            ? Effect.map(ofTenant(tenant), (found) =>
                Array.isArray(found) ? found : watch.wrap(found as MessageEditor.Service)
              )
            : ofTenant(tenant)
      })
    })
  )
  const layer = Bitrix24Lifecycle.layer(app).pipe(
    Layer.provideMerge(outbox),
    Layer.provideMerge(
      TenantEditors.layer({
        bitrix24: app,
        maxEditors: options.maxEditors,
        editorOptions: { retry: { maxAttempts: 1 } }
      })
    ),
    Layer.provideMerge(TenantRegistry.layer({ keys })),
    Layer.provideMerge(pgClient({ url: Redacted.make(options.databaseUrl), maxConnections: 10 }))
  )
  const runtime = ManagedRuntime.make(layer)
  const lifecycle = await runtime.runPromise(Effect.service(Bitrix24Lifecycle.Bitrix24Lifecycle))
  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      void runtime
        .runPromise(lifecycle.handle(Buffer.concat(chunks), request.headers["content-type"]))
        .then((answer) => {
          response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body))
        })
    })
  })
  const port = await listen(server)
  const withOutbox = <A, E>(use: (outbox: Outbox.Service) => Effect.Effect<A, E>) =>
    runtime.runPromise(Effect.flatMap(Outbox.Outbox, use))
  return {
    handlerUrl: `http://127.0.0.1:${port}/bitrix24/events`,
    submit: async (edits) => {
      for (let from = 0; from < edits.length; from += 1_000) {
        const page = edits.slice(from, from + 1_000).map((edit) => ({ ...edit, provider: "bitrix24" }))
        const settled = await withOutbox((outbox) => outbox.submitMany(page))
        const refused = settled.find(Result.isFailure)
        if (refused !== undefined) throw new Error(`an edit was refused: ${String(refused.failure)}`)
      }
    },
    drain: (timeoutMs) => withOutbox((outbox) => outbox.drain({ timeout: timeoutMs })),
    counts: () => withOutbox((outbox) => outbox.counts),
    editorStats: () => runtime.runPromise(Effect.flatMap(TenantEditors.TenantEditors, (editors) => editors.stats)),
    delivered: watch.delivered,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await runtime.dispose()
    }
  }
}
