/**
 * Starting a provider sandbox in a child process (`sandbox-host.ts`) and
 * driving it: its environment, seeded messages, the limit answers it gave.
 */
import { type ChildProcess, fork } from "node:child_process"
import type { SandboxServer } from "@reword/core/sandbox"

export type ProviderName = "acquire" | "bitrix24" | "telegram"

export interface Bucket {
  readonly drainPerSecond: number
  readonly capacity: number
}

export interface SandboxOptions {
  /** Telegram only: the limits the sandbox enforces (429 past them). */
  readonly telegramLimits?: "faq" | undefined
  /** Bitrix24 only: the portal's leaky bucket, or `false` for none. */
  readonly bucket?: Bucket | false | undefined
  /** Bitrix24 only: `false` never refuses a call for operating time; or the server time a call costs. */
  readonly operatingLimit?: false | { readonly costPerCall: number; readonly costPerMessage: number } | undefined
  /**
   * Bitrix24 only: the portal runs on a scaled clock, `epoch + (now - epoch) × scale`, and answers a call once
   * its server time has passed on that clock.
   */
  readonly clock?: { readonly epoch: number; readonly scale: number } | undefined
}

export type HostRequest =
  | {
      readonly id: number
      readonly op: "start"
      readonly provider: ProviderName
      readonly logLimit: number
      readonly bucket?: Bucket | false | undefined
      readonly operatingLimit?: SandboxOptions["operatingLimit"]
      readonly clock?: SandboxOptions["clock"]
      readonly telegramLimits?: SandboxOptions["telegramLimits"]
    }
  | {
      readonly id: number
      readonly op: "seed"
      readonly count: number
      readonly prefix: string
      readonly chats: number
    }
  | { readonly id: number; readonly op: "stats" }
  | { readonly id: number; readonly op: "stop" }

export type HostReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never

export interface Stats {
  /** Bitrix24: calls refused with `503 QUERY_LIMIT_EXCEEDED`; Telegram: calls refused with 429. */
  readonly limitHits: number
  /** Bitrix24: `imconnector.update.messages` calls received, refused ones included. */
  readonly updateCalls: number
  /** Bitrix24: calls refused with `429 OPERATION_TIME_LIMIT`. */
  readonly operatingHits: number
  /** Bitrix24: the server time `imconnector.update.messages` used in the window, seconds. */
  readonly operating: number
}

export interface RemoteSandbox {
  readonly provider: ProviderName
  /** The environment that points reword at the sandbox (`REWORD_PROVIDER` and the provider's settings). */
  readonly env: Readonly<Record<string, string>>
  readonly url: string
  /** Seeds `count` messages (ids `<prefix>-<i>`, spread over `chats` chats) and answers their ids. */
  readonly seed: (count: number, prefix: string, chats?: number) => Promise<ReadonlyArray<SandboxServer.RelayedIds>>
  readonly stats: () => Promise<Stats>
  readonly stop: () => Promise<void>
}

const HOST = new URL("./sandbox-host.ts", import.meta.url)

/**
 * Starts a sandbox in its own process. Its request log keeps the last 100
 * requests only: the benchmarks do not read it, and a long log costs the
 * server time on every request.
 */
export const startSandbox = async (provider: ProviderName, options: SandboxOptions = {}): Promise<RemoteSandbox> => {
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
  child.on("message", (reply: HostReply) => {
    const pending = waiting.get(reply.id)
    if (pending === undefined) return
    waiting.delete(reply.id)
    if (reply.ok) pending.resolve(reply.result)
    else pending.reject(new Error(`sandbox host: ${reply.error}`))
  })
  child.on("exit", (code) => {
    exited = true
    for (const pending of waiting.values()) pending.reject(new Error(`the sandbox host exited (${code})`))
    waiting.clear()
  })
  const ask = <A>(request: WithoutId<HostRequest>): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      if (exited) return reject(new Error("the sandbox host has exited"))
      const id = next++
      waiting.set(id, { resolve: (value) => resolve(value as A), reject })
      child.send({ ...request, id })
    })
  await ready
  const started = await ask<{ env: Record<string, string>; url: string }>({
    op: "start",
    provider,
    logLimit: 100,
    bucket: options.bucket,
    operatingLimit: options.operatingLimit,
    clock: options.clock,
    telegramLimits: options.telegramLimits
  })
  return {
    provider,
    env: started.env,
    url: started.url,
    seed: (count, prefix, chats = 50) => ask({ op: "seed", count, prefix, chats }),
    stats: () => ask({ op: "stats" }),
    stop: async () => {
      if (exited) return
      await ask({ op: "stop" }).catch(() => undefined)
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.disconnect()
      await gone
    }
  }
}
