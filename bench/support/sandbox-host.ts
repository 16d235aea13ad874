/**
 * A provider sandbox in a process of its own, driven over IPC by
 * `sandboxes.ts`. The benchmarks run their clients in the main process and the
 * sandbox here, as a real provider is another machine: the server's work then
 * runs on another core instead of on the client's event loop, so it neither
 * slows the client down nor hides the client's own costs.
 *
 * It also keeps connections open as a provider does: core's `SandboxServer`
 * announces a keep-alive of 1 s, and Node's `fetch` (undici) closes any
 * connection whose server announces less than its own 2 s margin, so every
 * request would open a new TCP connection. The host raises the server's
 * keep-alive to Node's default of 5 s.
 */
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import type { SandboxServer } from "@reword/core/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import type { HostReply, HostRequest } from "./sandboxes.ts"

let sandbox: SandboxServer.ProviderSandbox | undefined

let limitHits: () => number = () => 0
let calls: (method: string) => number = () => 0
let errorAnswers: (code: string) => number = () => 0
let operating: () => number = () => 0

const handle = async (request: HostRequest): Promise<unknown> => {
  switch (request.op) {
    case "start": {
      if (request.provider === "acquire") {
        const started = await AcquireSandbox.start({ logLimit: request.logLimit })
        sandbox = started
      } else if (request.provider === "telegram") {
        const started = await TelegramSandbox.start({ logLimit: request.logLimit, limits: request.telegramLimits })
        limitHits = started.refusedByLimits
        sandbox = started
      } else {
        const clock = request.clock
        const started = await Bitrix24Sandbox.start({
          logLimit: request.logLimit,
          bucket: request.bucket,
          operatingLimit: request.operatingLimit,
          ...(clock === undefined
            ? {}
            : {
                now: () => clock.epoch + (Date.now() - clock.epoch) * clock.scale,
                serverTime: { wait: true, scale: clock.scale }
              })
        })
        limitHits = started.limitHits
        calls = started.calls
        errorAnswers = started.errorAnswers
        operating = () => started.operating("imconnector.update.messages").operating
        sandbox = started
      }
      return { env: sandbox.env, url: sandbox.url }
    }
    case "seed": {
      if (sandbox === undefined) throw new Error("no sandbox")
      const ids: Array<SandboxServer.RelayedIds> = []
      for (let index = 0; index < request.count; index++) {
        ids.push(
          await sandbox.seedMessage(`Original text of message ${index}`, {
            externalMessageId: `${request.prefix}-${index}`,
            externalChatId: `chat-${index % request.chats}`,
            externalAuthorId: `author-${index % request.chats}`
          })
        )
      }
      return ids
    }
    case "stats":
      return {
        limitHits: limitHits(),
        updateCalls: calls("imconnector.update.messages"),
        operatingHits: errorAnswers("OPERATION_TIME_LIMIT"),
        operating: operating()
      }
    case "stop":
      await sandbox?.stop()
      sandbox = undefined
      return null
  }
}

process.on("message", (request: HostRequest) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, ok: true, result } satisfies HostReply),
    (error: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error)
      } satisfies HostReply)
  )
})
// The parent went away: so does the sandbox.
process.on("disconnect", () => process.exit(0))
process.send?.({ id: 0, ok: true, result: "ready" } satisfies HostReply)
