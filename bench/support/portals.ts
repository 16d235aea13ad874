/**
 * Driving the multi-portal Bitrix24 sandbox and the statement-counting proxy
 * in their own process (`portals-host.ts`).
 */
import { type ChildProcess, fork } from "node:child_process"
import type { SandboxServer } from "@reword/core/sandbox"
import type { PortalsReply, PortalsRequest } from "./portals-host.ts"

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never

export interface RemotePortals {
  readonly url: string
  readonly clientId: string
  readonly clientSecret: string
  /** Adds `count` portals; answers their `member_id`s. */
  readonly add: (count: number) => Promise<ReadonlyArray<string>>
  /** Posts their ONAPPINSTALL events to the app's handler; answers the refusals. */
  readonly install: (memberIds: ReadonlyArray<string>, handlerUrl: string) => Promise<ReadonlyArray<string>>
  /** Seeds `count` messages on a portal; answers their ids. */
  readonly seed: (memberId: string, count: number) => Promise<ReadonlyArray<SandboxServer.RelayedIds>>
  /** `imconnector.update.messages` calls and `QUERY_LIMIT_EXCEEDED` answers of these portals so far. */
  readonly calls: (memberIds: ReadonlyArray<string>) => Promise<{ readonly calls: number; readonly limitHits: number }>
  /** Starts the counting proxy in front of `url`; answers the proxy's URL. */
  readonly proxy: (url: string) => Promise<string>
  /** Statements sent through the proxy so far. */
  readonly statements: () => Promise<number>
  readonly stop: () => Promise<void>
}

const HOST = new URL("./portals-host.ts", import.meta.url)

export const startPortals = async (): Promise<RemotePortals> => {
  const child: ChildProcess = fork(HOST, [], {
    execArgv: ["--conditions=@reword/source"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let next = 1
  let exited = false
  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject })
  })
  child.on("message", (reply: PortalsReply) => {
    const pending = waiting.get(reply.id)
    if (pending === undefined) return
    waiting.delete(reply.id)
    if (reply.ok) pending.resolve(reply.result)
    else pending.reject(new Error(`portals host: ${reply.error}`))
  })
  child.on("exit", (code) => {
    exited = true
    for (const pending of waiting.values()) pending.reject(new Error(`the portals host exited (${code})`))
    waiting.clear()
  })
  const ask = <A>(request: WithoutId<PortalsRequest>): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      if (exited) return reject(new Error("the portals host has exited"))
      const id = next++
      waiting.set(id, { resolve: (value) => resolve(value as A), reject })
      child.send({ ...request, id })
    })
  await ready
  const app = await ask<{ url: string; clientId: string; clientSecret: string }>({ op: "start" })
  return {
    ...app,
    add: (count) => ask({ op: "add", count }),
    install: (memberIds, handlerUrl) => ask({ op: "install", memberIds, handlerUrl, concurrency: 8 }),
    seed: (memberId, count) => ask({ op: "seed", memberId, count }),
    calls: (memberIds) => ask({ op: "calls", memberIds }),
    proxy: (url) => ask({ op: "proxy", url }),
    statements: () => ask({ op: "statements" }),
    stop: async () => {
      if (exited) return
      await ask({ op: "stop" }).catch(() => undefined)
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.disconnect()
      await gone
    }
  }
}
