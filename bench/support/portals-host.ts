/**
 * The multi-portal Bitrix24 sandbox (`Bitrix24Portals`: one server, many
 * portals) in a process of its own, driven over IPC by `portals.ts`, and the
 * statement-counting PostgreSQL proxy beside it: the benchmarked process then
 * holds only the app, and its RSS and CPU time are the app's alone.
 */
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { statementCounter } from "./pg-meter.ts"

export type PortalsRequest =
  | { readonly id: number; readonly op: "start" }
  | { readonly id: number; readonly op: "add"; readonly count: number }
  | {
      readonly id: number
      readonly op: "install"
      readonly memberIds: ReadonlyArray<string>
      readonly handlerUrl: string
      readonly concurrency: number
    }
  | { readonly id: number; readonly op: "seed"; readonly memberId: string; readonly count: number }
  | { readonly id: number; readonly op: "calls"; readonly memberIds: ReadonlyArray<string> }
  | { readonly id: number; readonly op: "proxy"; readonly url: string }
  | { readonly id: number; readonly op: "statements" }
  | { readonly id: number; readonly op: "stop" }

export type PortalsReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

let portals: Bitrix24Portals.Portals | undefined
let proxy: Awaited<ReturnType<typeof statementCounter>> | undefined
/** Messages seeded so far on each portal: the next seed's ids follow them. */
const seededOn = new Map<string, number>()

const started = (): Bitrix24Portals.Portals => {
  if (portals === undefined) throw new Error("the portals' server is not started")
  return portals
}

const portalOf = (memberId: string): Bitrix24Portals.Portal => {
  const portal = started().portal(memberId)
  if (portal === undefined) throw new Error(`no portal ${memberId}`)
  return portal
}

/** Posts each portal's ONAPPINSTALL to the app, `concurrency` at once; answers the ones not answered 200. */
const install = async (memberIds: ReadonlyArray<string>, handlerUrl: string, concurrency: number) => {
  const refused: Array<string> = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < memberIds.length; index = next++) {
        const memberId = memberIds[index] as string
        const answer = await portalOf(memberId).install(handlerUrl)
        if (answer.status !== 200) refused.push(`${memberId}: ${answer.status} ${answer.body.slice(0, 200)}`)
      }
    })
  )
  return refused
}

const handle = async (request: PortalsRequest): Promise<unknown> => {
  switch (request.op) {
    case "start": {
      // Every portal on Bitrix24's real bucket (2 calls/s after a burst of 50), as its editor's plan says.
      portals = await Bitrix24Portals.start({ logLimit: 100, bucket: "standard" })
      return { url: portals.url, clientId: portals.clientId, clientSecret: portals.clientSecret }
    }
    case "add":
      return Array.from({ length: request.count }, () => started().add().memberId)
    case "install":
      return install(request.memberIds, request.handlerUrl, request.concurrency)
    case "seed": {
      const portal = portalOf(request.memberId)
      const ids = []
      const first = seededOn.get(request.memberId) ?? 0
      seededOn.set(request.memberId, first + request.count)
      for (let index = first; index < first + request.count; index++) {
        ids.push(
          await portal.seedMessage(`Original text ${index}`, {
            externalMessageId: `${request.memberId.slice(0, 8)}-${index}`,
            externalChatId: `chat-${index % 20}`,
            externalAuthorId: `author-${index % 20}`
          })
        )
      }
      return ids
    }
    case "calls": {
      let calls = 0
      let limitHits = 0
      for (const memberId of request.memberIds) {
        const portal = portalOf(memberId)
        calls += portal.calls("imconnector.update.messages")
        limitHits += portal.limitHits()
      }
      return { calls, limitHits }
    }
    case "proxy":
      proxy = await statementCounter(request.url)
      return proxy.url
    case "statements":
      return proxy?.statements() ?? 0
    case "stop":
      await proxy?.close()
      await portals?.stop()
      proxy = undefined
      portals = undefined
      return null
  }
}

process.on("message", (request: PortalsRequest) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, ok: true, result } satisfies PortalsReply),
    (error: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error)
      } satisfies PortalsReply)
  )
})
// The parent went away: so does the sandbox.
process.on("disconnect", () => process.exit(0))
process.send?.({ id: 0, ok: true, result: "ready" } satisfies PortalsReply)
